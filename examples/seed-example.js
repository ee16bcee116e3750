// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The Python task pool's first example, written against libtaskpool through GObject
// introspection in GJS: an async job that returns "ok:e done", then scale(3).
//
// From the build tree (meson devenv sets GI_TYPELIB_PATH, LD_LIBRARY_PATH and
// TASKPOOL_PLUGIN_PATH):
//
//   meson devenv -C _build gjs ../examples/seed-example.js

imports.gi.versions.GLib = '2.0';
imports.gi.versions.TaskPool = '1.0';
const {GLib, TaskPool} = imports.gi;

const TICK_MS = 100; // the seed sleeps 1 s five times; a tenth of that keeps the example short

// An async job: runs on the main context and completes its task five ticks later. GJS passes
// no job data: the name reaches the job through the closure.
function test(name) {
    return (task, _pool, _cancellable) => {
        print(`${name} start`);
        let ticks = 0;
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, TICK_MS, () => {
            if (++ticks < 5)
                return GLib.SOURCE_CONTINUE;
            const result = `${name} done`;
            print(result);
            task.return_value(`ok:${result}`);
            return GLib.SOURCE_REMOVE;
        });
    };
}

const loop = new GLib.MainLoop(null, false);
const taskPool = TaskPool.Pool.new('fixed-simple');
taskPool.start();
print(`test pool size ${taskPool.size}`);

print('test await blocking submit');
taskPool.submit_async(test('e'), null, (pool, result) => {
    const r = pool.submit_value_finish(result);
    if (r !== 'ok:e done')
        throw new Error(`unexpected result ${r}`);
    print('scale 3');
    pool.scale(3);
    print(`test pool size ${pool.size}`);
    pool.close_async(TaskPool.CloseFlags.DRAIN, null, (p, res) => {
        p.close_finish(res);
        loop.quit();
    });
});
loop.run();

// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The Python task pool's first example in GJS, on the taskpool.js module: a job that returns
// "ok:e done", then scale(3); a job that throws rejects its Promise with what it threw.
//
// An ES module: run it with `gjs -m`. Installed, import the module from
// file:///usr/share/taskpool-1/gjs/taskpool.js (or the prefix's datadir); from the build tree:
//
//   meson devenv -C _build gjs -m ../examples/seed-example.js

import GLib from 'gi://GLib';

import {Pool} from '../bindings/gjs/taskpool.js';

const TICK_MS = 100; // the seed sleeps 1 s five times; a tenth of that keeps the example short

function sleep(ms) {
    return new Promise(resolve => GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
        resolve();
        return GLib.SOURCE_REMOVE;
    }));
}

async function test(name) {
    print(`${name} start`);
    for (let i = 0; i < 5; i++)
        await sleep(TICK_MS);
    const result = `${name} done`;
    print(result);
    return `ok:${result}`;
}

const pool = new Pool('fixed-simple');
pool.start();
print(`test pool size ${pool.size}`);
const r = await pool.submit(() => test('e'));
if (r !== 'ok:e done')
    throw new Error(`unexpected result ${r}`);
await pool.scale(3);
print(`test pool size ${pool.size}`);

try {
    await pool.submit(() => {
        throw new RangeError('no such file');
    });
} catch (error) {
    print(`the job threw ${error}`);
}
await pool.close();

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Python task pool's first example, written against libtaskpool through GObject
# introspection: an async job that returns "ok:e done", then scale(3).
#
# From the build tree (meson devenv sets GI_TYPELIB_PATH, LD_LIBRARY_PATH and
# TASKPOOL_PLUGIN_PATH):
#
#   meson devenv -C _build /usr/bin/python3 ../examples/seed-example.py
#
# (/usr/bin/python3: the interpreter that has PyGObject, python3-gi on Debian.)

import gi

gi.require_version('GLib', '2.0')
gi.require_version('TaskPool', '1.0')
from gi.repository import GLib, TaskPool  # noqa: E402

TICK_MS = 100  # the seed sleeps 1 s five times; a tenth of that keeps the example short


def test(task, pool, name, cancellable):
    """An async job: runs on the main context and completes its task five ticks later."""
    print(f'{name} start')
    ticks = [0]

    def tick():
        ticks[0] += 1
        if ticks[0] < 5:
            return GLib.SOURCE_CONTINUE
        result = f'{name} done'
        print(result)
        task.return_value('ok:' + result)
        return GLib.SOURCE_REMOVE

    GLib.timeout_add(TICK_MS, tick)


def main():
    loop = GLib.MainLoop()
    task_pool = TaskPool.Pool.new('fixed-simple')
    task_pool.start()
    print(f'test pool size {task_pool.props.size}')

    def closed(pool, result):
        pool.close_finish(result)
        loop.quit()

    def done(pool, result):
        r = pool.submit_value_finish(result)
        assert r == 'ok:e done', r
        print('scale 3')
        pool.scale(3)
        print(f'test pool size {pool.props.size}')
        pool.close_async(TaskPool.CloseFlags.DRAIN, None, closed)

    print('test await blocking submit')
    task_pool.submit_async(test, ('e',), None, done)
    loop.run()


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Python task pool's examples on the taskpool package: the seed's code with its import
# changed, and what moving gains: blocking functions on the pool's threads, a job's exception
# as it was raised, a priority order.
#
# Installed (meson install), run it with the Python that has PyGObject and gbulb:
#
#   /usr/bin/python3 examples/seed-example.py
#
# From the build tree:
#
#   meson devenv -C _build env PYTHONPATH=../bindings/python \
#     /usr/bin/python3 ../examples/seed-example.py

import asyncio
import time

from taskpool import AioFixedTaskPoolPriority, AioFixedTaskPoolSimple

TICK = 0.1  # the seed sleeps 1 s five times; a tenth of that keeps the example short


async def test(name):
    print(f"{name} start")
    for i in range(5):
        await asyncio.sleep(TICK)
    result = f"{name} done"
    print(result)
    return "ok:" + result


def blocking(name):
    """A plain function: it runs on one of the pool's threads, never on the event loop."""
    time.sleep(TICK)
    return f"{name} blocked {TICK} s"


async def fails():
    raise LookupError("no such file")


async def main():
    # The seed's first example
    async with AioFixedTaskPoolSimple() as task_pool:
        print(f"test pool size {task_pool.size}")
        r = await task_pool.submit(test, func_args=["e"])
        assert r == "ok:e done"
        await task_pool.scale(3)
        print(f"test pool size {task_pool.size}")

        # Four blocking jobs on the pool's threads, three at once
        print(await asyncio.gather(*(task_pool.submit(blocking, func_args=[name])
                                     for name in "cbad")))

        # The job's exception, the very object, as soon as the job raised it
        try:
            await task_pool.submit(fails)
        except LookupError as error:
            print(f"the job raised {error!r}")

    # One worker, smallest weight first: the queued jobs run in the order of their weights
    async with AioFixedTaskPoolPriority(size=1) as task_pool:
        order = []
        busy = asyncio.Event()

        async def record(name):
            order.append(name)

        holder = task_pool.submit(busy.wait)  # keeps the worker while the others queue
        jobs = [task_pool.submit(record, func_args=[name], weight=weight)
                for name, weight in [("backup", 10), ("click", 0), ("thumbnail", 4)]]
        busy.set()
        await asyncio.gather(holder, *jobs)
        print(f"ran {order}")


if __name__ == "__main__":
    asyncio.run(main())

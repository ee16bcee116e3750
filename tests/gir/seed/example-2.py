# SPDX-License-Identifier: LGPL-2.1-or-later
# The Python task pool's second example, as its README gives it; only the import changed.
import asyncio
import concurrent.futures
import time
from taskpool import AioFixedTaskPoolSimple


def test(name):
    print(f"{name} start")
    for i in range(5):
        time.sleep(1)
    result = f"{name} done"
    print(result)
    return "ok:" + result


async def main():
    executor = concurrent.futures.ProcessPoolExecutor()
    async with AioFixedTaskPoolSimple(executor=executor) as task_pool:
        async with AioFixedTaskPoolSimple() as task_pool:
            print(f"test pool size {task_pool.size}")
            print("test 4 task with pool size 3")
            await asyncio.gather(
                task_pool.submit(test, func_args=["c"]),
                task_pool.submit(test, func_args=["b"]),
                task_pool.submit(test, func_args=["a"]),
                task_pool.submit(test, func_args=["d"])
            )


if __name__ == "__main__":
    asyncio.run(main())

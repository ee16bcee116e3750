#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# python-w1.py: the W1 workload from Python — await 100 000 no-op coroutine jobs, 16 at once —
# on the taskpool package, beside the pool a Python program writes without it: an
# asyncio.Semaphore(16) around each job and asyncio.gather() of them all, as the seed's users
# did. Both run in the same process and the same event loop (gbulb's, on GLib's main loop, which
# taskpool needs), one run of each in turn, the order swapped every round after a warm-up; the
# figures are medians of jobs per second and their ratio. On a shared machine only the ratio
# means something.
#
# For reference it also times the semaphore pool on asyncio's own event loop, in another
# thread of the same process: that loop schedules a callback for a fraction of what gbulb's,
# which makes a GLib source per callback, costs.
#
# A benchmark never fails on speed: the program exits 0 whatever the figures, and fails only
# when a job went wrong.
#
#   meson devenv -C _build env PYTHONPATH=../bindings/python /usr/bin/python3 ../bench/python-w1.py
#
# Options: --jobs N (100 000), --at-once N (16), --runs N (5), --kind KIND (fixed-simple),
# --quick (2000 jobs, 1 run: a smoke run), --gi-cost (also time a job's crossings into GLib
# through PyGObject, without the package: a submission with its two closures, and without the
# callback's).

import argparse
import asyncio
import statistics
import threading
import time

import taskpool
from gi.repository import GLib, TaskPool


async def noop():
    return None


async def semaphore_pool(jobs, at_once):
    """The seed-like pool: a semaphore around each job, all gathered."""
    semaphore = asyncio.Semaphore(at_once)

    async def limited():
        async with semaphore:
            return await noop()

    started = time.perf_counter()
    results = await asyncio.gather(*(limited() for _ in range(jobs)))
    elapsed = time.perf_counter() - started
    assert results == [None] * jobs
    return jobs / elapsed


async def taskpool_pool(pool, jobs):
    started = time.perf_counter()
    results = await asyncio.gather(*(pool.submit(noop) for _ in range(jobs)))
    elapsed = time.perf_counter() - started
    assert results == [None] * jobs
    assert (pool.running, pool.waiting) == (0, 0)
    return jobs / elapsed


def options_for(kind, at_once):
    if kind.startswith('fixed-'):
        return {'size': at_once}
    return {'min_size': at_once, 'max_size': at_once}


async def measure(options):
    rates = {'taskpool': [], 'semaphore': []}
    async with taskpool.Pool(options.kind, **options_for(options.kind, options.at_once)) as pool:
        for run in range(options.runs + 1):  # the first round warms up
            order = ['taskpool', 'semaphore'] if run % 2 else ['semaphore', 'taskpool']
            for name in order:
                if name == 'taskpool':
                    rate = await taskpool_pool(pool, options.jobs)
                else:
                    rate = await semaphore_pool(options.jobs, options.at_once)
                if run > 0:
                    rates[name].append(rate)
    return rates


def semaphore_on_asyncio_loop(options):
    """The semaphore pool on asyncio's own loop, in a thread of its own."""
    rates = []

    def run():
        loop = asyncio.SelectorEventLoop()
        try:
            for run in range(options.runs + 1):
                rate = loop.run_until_complete(semaphore_pool(options.jobs, options.at_once))
                if run > 0:
                    rates.append(rate)
        finally:
            loop.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return rates


def gi_cost(jobs):
    """Microseconds per job of the bare GObject API from Python, on GLib's default context."""
    keyfile = GLib.KeyFile()
    keyfile.set_value('pool', 'size', '16')
    pool = TaskPool.Pool.new_from_keyfile(keyfile, 'pool')
    pool.start()
    context = GLib.MainContext.default()
    ran = [0]

    def job(task, pool, cancellable):
        ran[0] += 1
        task.return_boolean(True)

    def callback(pool, result, *user_data):
        pass

    costs = {}
    for name, done in (('job and callback', callback), ('job only', None)):
        ran[0] = 0
        started = time.perf_counter()
        for _ in range(jobs):
            pool.submit_full_async(TaskPool.SubmitFlags.DEFAULT, 4, job, (), None, done)
        submitted = time.perf_counter()
        while ran[0] < jobs:
            context.iteration(True)
        while context.iteration(False):
            pass
        finished = time.perf_counter()
        costs[name] = ((submitted - started) / jobs * 1e6, (finished - submitted) / jobs * 1e6)
    closed = []
    pool.close_async(TaskPool.CloseFlags.DRAIN, None, lambda pool, result: closed.append(1))
    while not closed:
        context.iteration(True)
    return costs


def rate_text(rate):
    return f'{rate / 1000:8.1f} k/s'


def main():
    parser = argparse.ArgumentParser(
        description='W1 from Python: taskpool beside an asyncio.Semaphore pool')
    parser.add_argument('--jobs', type=int, default=100_000)
    parser.add_argument('--at-once', type=int, default=16)
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--kind', default='fixed-simple')
    parser.add_argument('--quick', action='store_true', help='a smoke run: 2000 jobs, 1 run')
    parser.add_argument('--gi-cost', action='store_true',
                        help='also time the crossings of a job into GLib through PyGObject')
    options = parser.parse_args()
    if options.quick:
        options.jobs, options.runs = 2000, 1

    rates = asyncio.run(measure(options))
    reference = semaphore_on_asyncio_loop(options)
    ours = statistics.median(rates['taskpool'])
    theirs = statistics.median(rates['semaphore'])
    print(f'W1 from Python: {options.jobs} no-op coroutine jobs, {options.at_once} at once, '
          f'median of {options.runs} runs (jobs per second)')
    rows = [
        (f'taskpool.Pool({options.kind!r}), gbulb loop', ours, rates['taskpool']),
        ('asyncio.Semaphore + gather, same gbulb loop', theirs, rates['semaphore']),
    ]
    for label, median, runs in rows:
        print(f'  {label:<48} {rate_text(median)}   runs: '
              f'{", ".join(f"{rate / 1000:.1f}" for rate in runs)}')
    print(f'  {"ratio taskpool / semaphore":<48} {ours / theirs:8.2f}')
    label = "for reference: the semaphore, asyncio's loop"
    print(f'  {label:<48} {rate_text(statistics.median(reference))}')
    if options.gi_cost:
        print('A job through the GObject API from PyGObject, microseconds per job '
              '(submission; the job and its callback called back):')
        for name, (submit, run) in gi_cost(min(options.jobs, 50_000)).items():
            print(f'  {name:<48} {submit:6.2f} {run:6.2f}')

if __name__ == '__main__':
    main()

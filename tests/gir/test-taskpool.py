#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Python package `taskpool` (suite `python`): the seed's pools on libtaskpool for asyncio.
#
# Every test runs in an event loop on GLib's main loop (gbulb, which `import taskpool`
# installs): the first on GLib's global default context, the others each on a context of their
# own, as asyncio.run() makes them. Nothing sleeps to wait: tests await futures and events, and
# assert order and counts, never durations.

import asyncio
import concurrent.futures
import contextvars
import fractions
import functools
import gc
import os
import sys
import threading
import unittest
import warnings

import taskpool
from taskpool import _jobs

from gi.repository import Gio, GLib, TaskPool  # noqa: E402 - taskpool required the versions

KINDS = ['fixed-simple', 'fixed-lifo', 'fixed-priority',
         'autoscale-simple', 'autoscale-lifo', 'autoscale-priority']
SEED_CLASSES = {
    'AioFixedTaskPoolSimple': 'fixed-simple',
    'AioFixedTaskPoolLifo': 'fixed-lifo',
    'AioFixedTaskPoolPriority': 'fixed-priority',
    'AioAutoScaleTaskPoolSimple': 'autoscale-simple',
    'AioAutoScaleTaskPoolLifo': 'autoscale-lifo',
    'AioAutoScaleTaskPoolPriority': 'autoscale-priority',
}
# A guard against a broken bound, never a wait: a barrier that breaks fails the test
BARRIER_TIMEOUT = 60


def sized(kind, size):
    """Options for a pool of `kind` that runs at most `size` jobs at once."""
    if kind.startswith('fixed-'):
        return {'size': size}
    return {'min_size': 1, 'max_size': size}


async def answer():
    return 42


def add(a, b=0):
    return a + b


async def echo(value):
    return value


def thread_name():
    return threading.current_thread().name


class PoolTestCase(unittest.IsolatedAsyncioTestCase):
    """Each test gets a fresh event loop; a pool it starts is closed by the test."""

    async def asyncSetUp(self):
        self.loop = asyncio.get_running_loop()

    @staticmethod
    async def holding(pool):
        """Submits a job that holds a worker until released; returns once it runs."""
        started = asyncio.Event()
        release = asyncio.Event()

        async def hold():
            started.set()
            await release.wait()
            return 'held'

        job = pool.submit(hold)
        await started.wait()
        return job, release


class SeedApiTest(PoolTestCase):
    async def test_seed_classes(self):
        """The seed's six classes make the six kinds and run the seed's operations"""
        for name, kind in SEED_CLASSES.items():
            with self.subTest(name=name):
                cls = getattr(taskpool, name)
                self.assertTrue(issubclass(cls, taskpool.Pool))
                async with cls() as pool:
                    self.assertEqual(pool.kind, kind)
                    self.assertEqual(pool.size, 3)
                    self.assertFalse(pool.paused)
                    self.assertEqual(await pool.submit(echo, func_args=['ok:e done']), 'ok:e done')
                    self.assertEqual(await pool.submit(add, func_args=[1], func_kwargs={'b': 2}), 3)
                    self.assertEqual(await pool.scale(3), 6)
                    self.assertEqual(pool.size, 6)
                self.assertTrue(pool.closed)
                self.assertTrue(pool.paused)

    async def test_pool_by_kind(self):
        """taskpool.Pool(kind, **options) makes any kind; the default is fixed-simple"""
        for kind in KINDS:
            with self.subTest(kind=kind):
                pool = taskpool.Pool(kind, **sized(kind, 2))
                self.assertEqual(pool.kind, kind)
                self.assertEqual(pool.size, 2 if kind.startswith('fixed') else 1)
                await pool.start()
                self.assertEqual(await pool.submit(answer), 42)
                await pool.close()
        self.assertEqual(taskpool.Pool().kind, 'fixed-simple')

    async def test_start_close_life_cycle(self):
        """start() and close() without `async with`, as the seed's third example"""
        pool = taskpool.AioFixedTaskPoolSimple()
        self.assertTrue(pool.paused)
        with self.assertRaises(taskpool.NotAvailable):
            pool.submit(answer)
        self.assertEqual(pool.size, 3)  # the size it starts with
        await pool.start()
        await pool.start()  # starting a started pool does nothing
        self.assertFalse(pool.paused)
        self.assertEqual(await pool.submit(answer), 42)
        await pool.close()
        await pool.close()  # closing a closed pool does nothing
        self.assertTrue(pool.closed)
        with self.assertRaises(taskpool.NotAvailable):
            pool.submit(answer)
        with self.assertRaises(taskpool.NotAvailable):
            pool.start()

    async def test_seed_options(self):
        """The seed's option names map to the pool's keys"""
        async with taskpool.AioFixedTaskPoolSimple(init_size=2, queue_maxsize=5) as pool:
            self.assertEqual(pool.size, 2)
            self.assertEqual(pool.queue_capacity, 5)
            self.assertEqual(pool.max_tasks_number, 5)
            self.assertEqual(pool.waiting_tasks_number, 0)
        pool = taskpool.AioAutoScaleTaskPoolSimple(min_size=2, max_size=4, auto_scale_interval=0.25,
                                                   idle_timeout=1.5)
        self.assertEqual((pool.min_size, pool.max_size), (2, 4))
        pool = taskpool.AioFixedTaskPoolPriority(default_weight=1, executor='gtask', loop=self.loop)
        self.assertIs(pool.loop, self.loop)
        self.assertIsNone(pool.executor)

    async def test_scale(self):
        """scale() gives the new size once reached; before start() it sets the starting size"""
        pool = taskpool.AioFixedTaskPoolLifo()
        self.assertEqual(await pool.scale(2), 5)
        self.assertEqual(pool.size, 5)
        async with pool:
            self.assertEqual(pool.size, 5)
            self.assertEqual(await pool.scale(-4), 1)
            self.assertEqual(pool.size, 1)
            self.assertEqual(await pool.scale(-5), 0)  # fixed pools go down to min_size 0
            self.assertEqual(await pool.scale(3), 3)
            with self.assertRaises(TypeError):
                pool.scale(1.5)
        async with taskpool.AioAutoScaleTaskPoolSimple(min_size=2, max_size=4) as pool:
            self.assertEqual(await pool.scale(10), 4)  # clamped to max_size
            self.assertEqual(await pool.scale(-10), 2)  # and to min_size
        with self.assertRaises(taskpool.NotAvailable):
            pool.scale(1)

    async def test_pause_toggles(self):
        """pause() toggles, as in the seed: a paused pool refuses jobs and runs its queue"""
        async with taskpool.AioFixedTaskPoolSimple(size=1) as pool:
            release = asyncio.Event()
            running = pool.submit(release.wait)
            queued = pool.submit(answer)
            self.assertIs(await pool.pause(), True)
            self.assertTrue(pool.paused)
            with self.assertRaises(taskpool.NotAvailable):
                pool.submit(answer)
            with self.assertRaises(taskpool.NotAvailable):
                pool.submit_nowait(answer)
            release.set()
            self.assertEqual(await queued, 42)  # the queue goes on while paused
            self.assertIs(await running, True)
            self.assertIs(await pool.pause(), False)
            self.assertFalse(pool.paused)
            self.assertEqual(await pool.submit(answer), 42)
        with self.assertRaises(taskpool.NotAvailable):
            pool.pause()
        with self.assertRaises(taskpool.NotAvailable):
            taskpool.Pool().pause()

    async def test_blocking_false(self):
        """submit(…, blocking=False) gives the job's future, as in the seed"""
        async with taskpool.Pool() as pool:
            job = await pool.submit(answer, blocking=False)
            self.assertIsInstance(job, taskpool.Job)
            self.assertIsInstance(job, asyncio.Future)
            self.assertEqual(await job, 42)

    async def test_job_future(self):
        """A Job is an asyncio future whose result only its job sets; its done callbacks run
        in their contexts, in order, and one that raises goes to the loop's handler"""
        var = contextvars.ContextVar('var', default='unset')
        calls = []
        handled = []
        self.loop.set_exception_handler(lambda loop, context: handled.append(context))

        def callback(name):
            def done(job):
                calls.append((name, var.get(), job.result()))
                if name == 'raises':
                    raise ValueError('in a callback')
            return done

        async with taskpool.Pool() as pool:
            release = asyncio.Event()
            job = pool.submit(release.wait)
            with self.assertRaises(RuntimeError):
                job.set_result(1)
            with self.assertRaises(RuntimeError):
                job.set_exception(ValueError())
            removed = callback('removed')
            for name in ('first', 'raises', 'third'):
                var.set(name)
                job.add_done_callback(callback(name))
            job.add_done_callback(removed)
            job.add_done_callback(removed)
            self.assertEqual(job.remove_done_callback(removed), 2)
            self.assertEqual(job.remove_done_callback(removed), 0)
            release.set()
            self.assertIs(await job, True)
            late = self.loop.create_future()
            job.add_done_callback(late.set_result)  # on a done job: soon
            self.assertIs(await late, job)
        self.assertEqual(calls, [('first', 'first', True), ('raises', 'raises', True),
                                 ('third', 'third', True)])
        self.assertEqual(len(handled), 1)
        self.assertIs(handled[0]['future'], job)
        self.assertIsInstance(handled[0]['exception'], ValueError)

    async def test_repr(self):
        """A pool's repr says its kind, state and counts"""
        pool = taskpool.AioFixedTaskPoolPriority(size=2)
        self.assertEqual(repr(pool), '<AioFixedTaskPoolPriority fixed-priority new size=2 '
                                     'running=0 waiting=0>')
        async with pool:
            await pool.pause()
            self.assertIn(' paused ', repr(pool))


class JobTest(PoolTestCase):
    async def test_coroutine_and_plain_functions(self):
        """Coroutine functions run on the loop's thread, plain functions on the pool's threads"""
        main = threading.get_ident()

        async def where_async():
            return threading.get_ident()

        def where_plain():
            return threading.get_ident()

        async with taskpool.Pool(size=2) as pool:
            self.assertEqual(await pool.submit(where_async), main)
            self.assertNotEqual(await pool.submit(where_plain), main)
            self.assertEqual(await pool.submit(add, func_args=(2,), func_kwargs={'b': 3}), 5)
            self.assertEqual(await pool.submit(asyncio.sleep, func_args=[0, 'slept']), 'slept')

    async def test_every_kind_of_coroutine_function_is_awaited(self):
        """Every kind of coroutine function is awaited: no "never awaited" warning, ever"""
        class Caller:
            async def __call__(self, value):
                return ('called', value)

            async def method(self, value):
                return ('method', value)

        async def pair(a, b):
            return (a, b)

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            async with taskpool.Pool() as pool:
                self.assertEqual(await pool.submit(Caller(), func_args=[1]), ('called', 1))
                self.assertEqual(await pool.submit(Caller().method, func_args=[2]), ('method', 2))
                self.assertEqual(await pool.submit(functools.partial(pair, 3), func_args=[4]),
                                 (3, 4))
                # A plain function that returns a coroutine: refused, and the coroutine closed
                with self.assertRaisesRegex(TypeError, 'declare it with async def'):
                    await pool.submit(lambda: pair(5, 6))
                # A coroutine instead of a function: refused at submission, and closed
                with self.assertRaisesRegex(TypeError, 'not a coroutine'):
                    pool.submit(pair(7, 8))
            gc.collect()
        self.assertEqual([str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)],
                         [])

    async def test_arguments_refused_at_submission(self):
        """Arguments a job cannot take, and what is not a job, raise at submission"""
        calls = []

        def two(a, b):
            calls.append((a, b))

        async def one(a):
            calls.append(a)

        def generator():
            yield 1

        async def async_generator():
            yield 1

        async with taskpool.Pool() as pool:
            refused = [
                lambda: pool.submit(two, func_args=[1]),
                lambda: pool.submit(two, func_args=[1, 2, 3]),
                lambda: pool.submit(two, func_args='ab'),
                lambda: pool.submit(two, func_args={1, 2}),
                lambda: pool.submit(two, func_args=[1], func_kwargs={'c': 2}),
                lambda: pool.submit(two, func_args=[1], func_kwargs=[('b', 2)]),
                lambda: pool.submit(two, func_kwargs={1: 2}),
                lambda: pool.submit(one),
                lambda: pool.submit(one, func_args=None),
                lambda: pool.submit(42),
                lambda: pool.submit(None),
                lambda: pool.submit(generator),
                lambda: pool.submit(async_generator),
                lambda: pool.submit(answer, weight='1'),
                lambda: pool.submit(answer, weight=True),
                lambda: pool.submit(answer, weight=1.0),
            ]
            for index, submit in enumerate(refused):
                with self.subTest(index=index):
                    with self.assertRaises(TypeError):
                        submit()
            with self.assertRaises(ValueError):
                pool.submit(answer, weight=2**40)
            self.assertEqual((pool.waiting, pool.running), (0, 0))
            # The same functions run with arguments they take
            await pool.submit(two, func_args=[1], func_kwargs={'b': 2})
            await pool.submit(one, func_kwargs={'a': 3})
        self.assertEqual(calls, [(1, 2), 3])

    async def test_contextvars(self):
        """A coroutine job runs in a copy of its submitter's context, as asyncio.create_task()"""
        var = contextvars.ContextVar('var', default='unset')

        async def read_and_set(value):
            seen = var.get()
            var.set(value)
            return seen, var.get()

        def read_in_thread():
            return var.get()

        async with taskpool.Pool(size=1) as pool:
            var.set('submitter')
            first = pool.submit(read_and_set, func_args=['first'])
            second = pool.submit(read_and_set, func_args=['second'])
            in_thread = pool.submit(read_in_thread)
            self.assertEqual(await first, ('submitter', 'first'))
            self.assertEqual(await second, ('submitter', 'second'))
            self.assertEqual(await in_thread, 'submitter')
            self.assertEqual(var.get(), 'submitter')

    async def test_asyncio_in_jobs(self):
        """Jobs run in a Task: current_task(), asyncio.timeout() and TaskGroup work in them"""
        async def timeout_then_group():
            task = asyncio.current_task()
            self.assertIsNotNone(task)
            try:
                async with asyncio.timeout(0):
                    await asyncio.Event().wait()
            except TimeoutError:
                timed_out = True
            async with asyncio.TaskGroup() as group:
                children = [group.create_task(echo(i)) for i in range(3)]
            return timed_out, [child.result() for child in children], task.cancelling()

        async with taskpool.Pool(size=2) as pool:
            results = await asyncio.gather(*(pool.submit(timeout_then_group) for _ in range(6)))
        self.assertEqual(results, [(True, [0, 1, 2], 0)] * 6)


class JobOptionsTest(PoolTestCase):
    """key=, weight=, queue_timeout=, run_timeout= and label= through TaskPool.JobOptions"""

    @staticmethod
    async def order_of(pool, submissions):
        """Runs `submissions` (name, options) on a pool of one worker, queued behind a job
        that holds it; returns the order in which they ran"""
        ran = []

        async def record(name):
            ran.append(name)

        blocker, release = await PoolTestCase.holding(pool)
        jobs = [pool.submit(record, func_args=[name], **options) for name, options in submissions]
        release.set()
        await asyncio.gather(blocker, *jobs)
        return ran

    async def test_key_per_key_gate(self):
        """Jobs of one key run one at a time under a per-key gate; other keys do not wait"""
        running = {'a': 0, 'b': 0}
        most = {'a': 0, 'b': 0}
        release = asyncio.Event()
        started_b = asyncio.Event()

        async def job(key):
            running[key] += 1
            most[key] = max(most[key], running[key])
            if key == 'b':
                started_b.set()
            await release.wait()
            running[key] -= 1
            return key

        async with taskpool.Pool(size=4, gates=['per-key'], per_key_limit=1) as pool:
            jobs = [pool.submit(job, func_args=['a'], key='a') for _ in range(3)]
            jobs.append(pool.submit(job, func_args=['b'], key='b'))
            await started_b.wait()  # behind two waiting jobs of key a
            self.assertEqual(running, {'a': 1, 'b': 1})
            self.assertEqual(pool.waiting, 2)
            release.set()
            self.assertEqual(await asyncio.gather(*jobs), ['a', 'a', 'a', 'b'])
        self.assertEqual(most, {'a': 1, 'b': 1})

    async def test_key_fair_queue(self):
        """The fair queue takes keys in turn, each key in submission order"""
        async with taskpool.Pool('fixed-fair', size=1) as pool:
            order = await self.order_of(pool, [
                ('a1', {'key': 'a'}), ('a2', {'key': 'a'}), ('a3', {'key': 'a'}),
                ('b1', {'key': 'b'}), ('b2', {'key': 'b'})])
        self.assertEqual(order[:2], ['a1', 'b1'])
        self.assertEqual([name for name in order if name[0] == 'a'], ['a1', 'a2', 'a3'])
        self.assertEqual([name for name in order if name[0] == 'b'], ['b1', 'b2'])

    async def test_weight_with_options(self):
        """A weight given with other options orders a priority pool as without them"""
        async with taskpool.AioFixedTaskPoolPriority(size=1) as pool:
            order = await self.order_of(pool, [
                ('5', {'weight': 5, 'key': 'x'}), ('1', {'weight': 1, 'queue_timeout': 60}),
                ('default', {'label': 'default weight'}), ('2', {'weight': 2})])
        self.assertEqual(order, ['1', '2', 'default', '5'])  # default_weight is 4

    async def test_queue_timeout(self):
        """A job not started within its queue timeout fails with QueueTimeout and never runs"""
        ran = []

        async def record():
            ran.append('ran')

        async with taskpool.Pool(size=1) as pool:
            blocker, release = await self.holding(pool)
            late = pool.submit(record, queue_timeout=0.005)
            late_thread = pool.submit(ran.append, func_args=['thread'], queue_timeout=0.001)
            patient = pool.submit(record, queue_timeout=3600)
            for job in (late, late_thread):
                with self.assertRaises(taskpool.QueueTimeout) as raised:
                    await job
                error = raised.exception
                self.assertIsInstance(error, TimeoutError)
                self.assertIsInstance(error, asyncio.TimeoutError)
                self.assertIsInstance(error, taskpool.PoolError)
                self.assertEqual(error.code, TaskPool.PoolError.TIMED_OUT)
                self.assertIsInstance(error.__cause__, GLib.Error)
                self.assertTrue(error.__cause__.matches(TaskPool.PoolError.quark(),
                                                        TaskPool.PoolError.TIMED_OUT))
            self.assertEqual(pool.waiting, 1)
            release.set()
            await asyncio.gather(blocker, patient)
            self.assertEqual(ran, ['ran'])  # only the patient job
            self.assertEqual(pool.pool.props.timed_out, 2)

    # A run timeout starts when the job gets its worker, a moment before the worker first
    # steps it: a timeout that passes in between fails the job before it ran a step. The tests
    # of what a running job sees try longer timeouts until the job ran before its deadline.
    RUN_TIMEOUTS = (0.002, 0.02, 0.2, 2, 20)

    async def test_run_timeout_coroutine(self):
        """A coroutine job past its run timeout gets CancelledError where it awaits; letting it
        through fails the job with RunTimeout, and frees the worker"""
        async def cancelling():
            return asyncio.current_task().cancelling()

        async with taskpool.Pool(size=1) as pool:
            for timeout in self.RUN_TIMEOUTS:
                seen = []

                async def forever():
                    seen.append('started')
                    try:
                        await asyncio.Event().wait()
                    except asyncio.CancelledError:
                        seen.append(asyncio.current_task().cancelling())
                        raise

                job = pool.submit(forever, run_timeout=timeout)
                after = pool.submit(cancelling)
                with self.assertRaises(taskpool.RunTimeout) as raised:
                    await job
                error = raised.exception
                self.assertIsInstance(error, TimeoutError)
                self.assertIsInstance(error, asyncio.TimeoutError)
                self.assertNotIsInstance(error, taskpool.PoolError)
                self.assertIsInstance(error.__cause__, GLib.Error)
                self.assertTrue(error.__cause__.matches(Gio.io_error_quark(),
                                                        Gio.IOErrorEnum.TIMED_OUT))
                self.assertIsInstance(error.__context__, asyncio.CancelledError)
                self.assertEqual(await after, 0)  # the worker's Task is not left cancelling
                self.assertIn(seen, ([], ['started', 1]))
                if seen:
                    break
            self.assertEqual(seen, ['started', 1])
            self.assertEqual(await pool.submit(answer, run_timeout=60), 42)
            attempts = self.RUN_TIMEOUTS.index(timeout) + 1
            counts = [pool.pool.get_property(name) for name in ('timed-out', 'succeeded')]
            self.assertEqual(counts, [attempts, attempts + 1])

    async def test_run_timeout_job_decides(self):
        """A coroutine job that catches the cancellation of its run timeout ends as it will,
        as under asyncio.timeout()"""
        async def partial(started):
            started.append(True)
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                return 'partial'

        async def other_error(started):
            started.append(True)
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                raise LookupError('cleaning up failed')

        async with taskpool.Pool(size=2) as pool:
            for job, expected in ((partial, 'partial'), (other_error, LookupError)):
                for timeout in self.RUN_TIMEOUTS:
                    started = []
                    try:
                        result = await pool.submit(job, func_args=[started], run_timeout=timeout)
                    except Exception as error:
                        result = error
                    if started:
                        break
                    self.assertIsInstance(result, taskpool.RunTimeout)
                self.assertEqual(started, [True])
                if isinstance(expected, str):
                    self.assertEqual(result, expected)
                else:
                    self.assertIsInstance(result, expected)

    async def test_cancelled_before_the_first_step(self):
        """A coroutine job that the pool cancels once it has a worker, before its first step,
        never runs: its cancellable is cancelled when the package gets it"""
        ran = []

        async def record():
            ran.append('ran')

        async def scale_and_cancel():
            while pool.jobs.get_n_items() == 0:  # the list shows the job once it dispatched
                await asyncio.sleep(0)
            info = pool.jobs.get_item(0)
            self.assertEqual(info.props.state, TaskPool.JobState.QUEUED)
            # A new worker takes the job inside scale(); the pool calls the job on its
            # context, once this step ends
            pool.pool.scale(1)
            self.assertEqual(pool.running, 2)
            info.cancel()

        async with taskpool.Pool(size=1) as pool:
            first = pool.submit(scale_and_cancel)
            job = pool.submit(record, label='cancelled at once')
            await first
            with self.assertRaises(asyncio.CancelledError):
                await job
        self.assertEqual(ran, [])
        self.assertEqual(pool.pool.props.cancelled, 1)

    async def test_run_timeout_thread(self):
        """A thread job cannot be interrupted: one that ends after its run timeout has what it
        returned or raised dropped, and its awaiter gets RunTimeout"""
        async with taskpool.Pool(size=2) as pool:
            started = asyncio.Event()
            release = threading.Event()

            def slow(result):
                self.loop.call_soon_threadsafe(started.set)
                release.wait(BARRIER_TIMEOUT)
                if isinstance(result, Exception):
                    raise result
                return result

            async def forever():
                await asyncio.Event().wait()

            for result in ('too late', ValueError('too late')):
                with self.subTest(result=result):
                    started.clear()
                    release.clear()
                    thread_job = pool.submit(slow, func_args=[result], run_timeout=0.01)
                    await started.wait()
                    # A job started later with the same timeout times out later: once it has,
                    # the thread job's deadline has passed too
                    with self.assertRaises(taskpool.RunTimeout):
                        await pool.submit(forever, run_timeout=0.01)
                    release.set()
                    with self.assertRaises(taskpool.RunTimeout) as raised:
                        await thread_job
                    self.assertIsInstance(raised.exception.__context__, asyncio.CancelledError)
                    self.assertIs(raised.exception.__context__.__context__,
                                  result if isinstance(result, Exception) else None)
            self.assertEqual(await pool.submit(add, func_args=[1, 2], run_timeout=60), 3)
            self.assertEqual(pool.pool.props.timed_out, 4)

    async def test_pool_timeouts(self):
        """queue_timeout= and run_timeout= of the pool apply to every job without its own"""
        async def forever():
            await asyncio.Event().wait()

        async with taskpool.Pool(size=1, run_timeout=0.005, queue_timeout=3600) as pool:
            self.assertEqual(pool.pool.props.run_timeout, 5)
            self.assertEqual(pool.pool.props.queue_timeout, 3600000)
            with self.assertRaises(taskpool.RunTimeout):
                await pool.submit(forever)
            with self.assertRaises(taskpool.RunTimeout):
                await pool.submit(forever, key='k')
            self.assertEqual(await pool.submit(answer, run_timeout=3600), 42)

    async def test_held(self):
        """A pool made with held=True queues jobs and starts none until unheld"""
        async with taskpool.Pool(size=2, held=True) as pool:
            self.assertTrue(pool.pool.props.held)
            jobs = [pool.submit(echo, func_args=[i]) for i in range(3)]
            await asyncio.sleep(0)  # a turn of the loop: nothing starts
            self.assertEqual((pool.running, pool.waiting), (0, 3))
            pool.pool.unhold()
            self.assertEqual(await asyncio.gather(*jobs), [0, 1, 2])

    async def test_options_checked_at_submission(self):
        """Options of the wrong type raise TypeError, values out of range ValueError, at once"""
        async with taskpool.Pool() as pool:
            for name in ('queue_timeout', 'run_timeout'):
                for value in ('1', b'1', True, [1], 1j):
                    with self.subTest(name=name, value=value):
                        with self.assertRaises(TypeError):
                            pool.submit(answer, **{name: value})
                        with self.assertRaises(TypeError):
                            pool.submit_nowait(answer, **{name: value})
                for value in (0, 0.0, -1, -0.5, float('nan'), float('inf'), -float('inf'),
                              2**32 / 1000, 10**400):
                    with self.subTest(name=name, value=value):
                        with self.assertRaisesRegex(ValueError, name):
                            pool.submit(answer, **{name: value})
                        with self.assertRaisesRegex(ValueError, name):
                            pool.submit_nowait(answer, **{name: value})
                with self.assertRaisesRegex(ValueError, name):
                    taskpool.Pool(**{name: -1})
                with self.assertRaises(TypeError):
                    taskpool.Pool(**{name: '1'})
            for name in ('key', 'label'):
                for value in (1, b'host', ['a']):
                    with self.subTest(name=name, value=value):
                        with self.assertRaisesRegex(TypeError, name):
                            pool.submit(answer, **{name: value})
                with self.assertRaisesRegex(ValueError, name):
                    pool.submit(answer, **{name: 'a\0b'})
            with self.assertRaises(TypeError):
                pool.submit(answer, key='a', weight=1.5)
            self.assertEqual((pool.waiting, pool.running), (0, 0))
            self.assertEqual(pool.pool.props.submitted, 0)
            # The smallest and largest timeouts are taken: a sub-millisecond one is 1 ms
            self.assertEqual(await pool.submit(answer, queue_timeout=2**32 / 1000 - 0.001,
                                               run_timeout=4294967), 42)
            self.assertEqual(await pool.submit(answer, key='', queue_timeout=3600,
                                               run_timeout=fractions.Fraction(7200, 2)), 42)
            tiny = pool.submit(answer, queue_timeout=1e-9)
            try:
                self.assertEqual(await tiny, 42)
            except taskpool.QueueTimeout:  # 1 ms may pass before the job starts
                pass

    async def test_label(self):
        """label= lists the job in pool.jobs while it is in the pool; JobInfo.cancel() cancels
        it, running or queued, from any thread"""
        seen = []

        async def forever():
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                seen.append('cancelled')
                raise

        async with taskpool.Pool(size=1) as pool:
            self.assertEqual(pool.jobs.get_n_items(), 0)
            started = asyncio.Event()

            async def first():
                started.set()
                await forever()

            running = pool.submit(first, label='first.iso', key='mirror')
            queued = pool.submit(answer, label='second.iso', weight=2)
            unlabelled = pool.submit(answer)
            await started.wait()
            jobs = pool.jobs
            infos = [jobs.get_item(i) for i in range(jobs.get_n_items())]
            self.assertEqual([(info.props.label, info.props.key) for info in infos],
                             [('first.iso', 'mirror'), ('second.iso', None)])
            self.assertEqual([info.props.state for info in infos],
                             [TaskPool.JobState.RUNNING, TaskPool.JobState.QUEUED])
            infos[1].cancel()
            with self.assertRaises(asyncio.CancelledError):
                await queued
            # From another thread: the job is interrupted on its loop
            await self.loop.run_in_executor(None, infos[0].cancel)
            with self.assertRaises(asyncio.CancelledError):
                await running
            self.assertEqual(seen, ['cancelled'])
            self.assertEqual(await unlabelled, 42)
            self.assertEqual(pool.pool.props.cancelled, 2)
        self.assertEqual(pool.jobs.get_n_items(), 0)


class ExceptionTest(PoolTestCase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        # An exception that only the garbage collector could deliver would never arrive
        gc.disable()
        self.addCleanup(gc.enable)

    async def check_delivered_at_once(self, pool, failing, error, counted=True):
        """The failing job's exception reaches its awaiter while another job holds a worker,
        and the failed job's worker is free: another job runs on it meanwhile"""
        holder, release = await self.holding(pool)
        with self.assertRaises(type(error)) as raised:
            await pool.submit(failing)
        self.assertIs(raised.exception, error)
        self.assertFalse(holder.done())
        if counted:
            # The worker of a thread job leaves it on its thread once the job has returned,
            # which may be a moment after the awaiter has its exception
            self.assertEqual(pool.running, 1)
        self.assertEqual(await pool.submit(answer), 42)  # on the freed worker
        self.assertFalse(holder.done())
        release.set()
        self.assertEqual(await holder, 'held')

    async def test_coroutine_job(self):
        """A coroutine job's exception is the awaiter's, that object, at once"""
        error = ValueError('boom')

        async def failing():
            await asyncio.sleep(0)  # fails after a step, not at once
            raise error

        async with taskpool.Pool(size=2) as pool:
            await self.check_delivered_at_once(pool, failing, error)

    async def test_coroutine_job_failing_at_once(self):
        """A coroutine job that raises before it awaits anything"""
        error = KeyError('at once')

        async def failing():
            raise error

        async with taskpool.Pool(size=2) as pool:
            await self.check_delivered_at_once(pool, failing, error)

    async def test_thread_job(self):
        """A thread job's exception is the awaiter's, that object, at once"""
        error = OSError(5, 'disk')

        def failing():
            raise error

        async with taskpool.Pool(size=2) as pool:
            await self.check_delivered_at_once(pool, failing, error, counted=False)

    async def test_executor_job(self):
        """A job run in the pool's executor: its exception too"""
        error = ZeroDivisionError('executor')

        def failing():
            raise error

        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as executor:
            async with taskpool.Pool(size=2, executor=executor) as pool:
                await self.check_delivered_at_once(pool, failing, error)

    async def test_stop_iteration(self):
        """A plain function raising StopIteration, which a future cannot hold"""
        def stop():
            raise StopIteration('stop')

        async with taskpool.Pool() as pool:
            with self.assertRaisesRegex(RuntimeError, 'StopIteration') as raised:
                await pool.submit(stop)
            self.assertIsInstance(raised.exception.__cause__, StopIteration)


class OrderAndBoundTest(PoolTestCase):
    async def test_bound(self):
        """At no instant do more jobs run than the pool's size, on every kind"""
        for kind in KINDS:
            with self.subTest(kind=kind):
                running = peak = 0
                release = asyncio.Event()
                reached = asyncio.Event()

                async def job(index):
                    nonlocal running, peak
                    running += 1
                    peak = max(peak, running)
                    if running == 3:
                        reached.set()
                    await release.wait()
                    running -= 1
                    return index

                async with taskpool.Pool(kind, **sized(kind, 3)) as pool:
                    jobs = [pool.submit(job, func_args=[index]) for index in range(10)]
                    await reached.wait()
                    self.assertEqual((pool.running, pool.waiting), (3, 7))
                    release.set()
                    self.assertCountEqual(await asyncio.gather(*jobs), range(10))
                self.assertEqual(peak, 3)

    async def test_thread_jobs_run_at_once(self):
        """size thread jobs run at once, on as many threads"""
        barrier = threading.Barrier(4)

        def meet():
            barrier.wait(BARRIER_TIMEOUT)
            return threading.get_ident()

        async with taskpool.Pool(size=4) as pool:
            threads = await asyncio.gather(*(pool.submit(meet) for _ in range(8)))
        self.assertGreaterEqual(len(set(threads)), 4)

    async def check_order(self, kind, weights, expected):
        order = []
        release = asyncio.Event()

        async def record(index):
            order.append(index)

        async with taskpool.Pool(kind, **sized(kind, 1)) as pool:
            blocker = pool.submit(release.wait)
            jobs = [pool.submit(record, func_args=[index], weight=weight)
                    for index, weight in enumerate(weights)]
            self.assertEqual(pool.waiting, len(weights))
            release.set()
            await asyncio.gather(blocker, *jobs)
        self.assertEqual(order, expected)

    async def test_orders(self):
        """FIFO, LIFO, and smallest weight first with ties in submission order"""
        weights = [5, 1, 4, 1, 3, 2]
        for scaler in ('fixed', 'autoscale'):
            with self.subTest(scaler=scaler):
                await self.check_order(f'{scaler}-simple', weights, [0, 1, 2, 3, 4, 5])
                await self.check_order(f'{scaler}-lifo', weights, [5, 4, 3, 2, 1, 0])
                await self.check_order(f'{scaler}-priority', weights, [1, 3, 5, 4, 2, 0])

    async def test_default_weight(self):
        """A job without a weight gets the pool's default_weight"""
        order = []

        async def record(name):
            order.append(name)

        async with taskpool.AioFixedTaskPoolPriority(size=1, default_weight=2) as pool:
            release = asyncio.Event()
            blocker = pool.submit(release.wait)
            jobs = [pool.submit(record, func_args=['three'], weight=3),
                    pool.submit(record, func_args=['default']),
                    pool.submit(record, func_args=['one'], weight=1)]
            release.set()
            await asyncio.gather(blocker, *jobs)
        self.assertEqual(order, ['one', 'default', 'three'])

    async def test_queue_capacity(self):
        """A full queue: submit() waits for room, submit_nowait() fails with PoolFull"""
        async with taskpool.Pool(size=1, queue_maxsize=1) as pool:
            blocker, release = await self.holding(pool)
            queued = pool.submit(echo, func_args=['queued'])
            full = pool.submit_nowait(answer)
            with self.assertRaises(taskpool.PoolFull) as raised:
                await full
            self.assertIsInstance(raised.exception, taskpool.NotAvailable)
            self.assertIsInstance(raised.exception, asyncio.QueueFull)
            self.assertIsInstance(raised.exception.__cause__, GLib.Error)
            self.assertEqual(raised.exception.code, TaskPool.PoolError.FULL)
            waits = pool.submit(echo, func_args=['waited'])  # back-pressure: waits for room
            self.assertEqual(pool.waiting, 1)
            release.set()
            self.assertEqual(await asyncio.gather(blocker, queued, waits),
                             ['held', 'queued', 'waited'])
            self.assertEqual(await pool.submit_nowait(answer), 42)

    async def test_workers_yield_to_the_loop(self):
        """A stream of jobs that never await lets the loop run its other callbacks"""
        budget = _jobs.STEP_BUDGET
        _jobs.STEP_BUDGET = -1  # yield after every job
        self.addCleanup(setattr, _jobs, 'STEP_BUDGET', budget)
        done = []

        async def quick(index):
            done.append(index)

        async with taskpool.Pool(size=1) as pool:
            jobs = [pool.submit(quick, func_args=[index]) for index in range(50)]
            seen = self.loop.create_future()
            self.loop.call_soon(lambda: seen.set_result(len(done)))
            await asyncio.gather(*jobs)
            self.assertLess(await seen, 50)
        self.assertEqual(done, list(range(50)))


class CancelAndCloseTest(PoolTestCase):
    async def test_cancel_queued(self):
        """A job cancelled while queued never runs"""
        ran = []

        async def record(name):
            ran.append(name)

        async with taskpool.Pool(size=1) as pool:
            release = asyncio.Event()
            blocker = pool.submit(release.wait)
            cancelled = pool.submit(record, func_args=['cancelled'])
            thread_cancelled = pool.submit(ran.append, func_args=['thread'])
            after = pool.submit(record, func_args=['after'])
            self.assertTrue(cancelled.cancel())
            self.assertTrue(thread_cancelled.cancel())
            release.set()
            await asyncio.gather(blocker, after)
            with self.assertRaises(asyncio.CancelledError):
                await cancelled
        self.assertEqual(ran, ['after'])

    async def test_cancel_running(self):
        """A running coroutine job cancelled through its future gets CancelledError where it
        awaits; its worker goes on with the next job, its Task not left cancelling"""
        started = asyncio.Event()
        seen = []

        async def forever():
            started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                seen.append('cancelled')
                raise

        async def cancelling():
            return asyncio.current_task().cancelling()

        async with taskpool.Pool(size=1) as pool:
            running = pool.submit(forever)
            next_job = pool.submit(cancelling)
            await started.wait()
            self.assertTrue(running.cancel())
            self.assertEqual(await next_job, 0)
            with self.assertRaises(asyncio.CancelledError):
                await running
        self.assertEqual(seen, ['cancelled'])

    async def test_cancel_awaiting_task(self):
        """Cancelling the Task that awaits a job cancels the job"""
        started = asyncio.Event()
        seen = []

        async def forever():
            started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                seen.append('cancelled')
                raise

        async with taskpool.Pool(size=1) as pool:
            waiter = asyncio.create_task(self.await_job(pool.submit(forever)))
            await started.wait()
            waiter.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await waiter
            self.assertEqual(await pool.submit(answer), 42)
        self.assertEqual(seen, ['cancelled'])

    @staticmethod
    async def await_job(job):
        return await job

    async def test_job_cancelling_itself(self):
        """A job that cancels its own future and returns: the next job is not cancelled"""
        jobs = []

        async def cancel_self():
            jobs[0].cancel()
            return 'returned'

        async with taskpool.Pool(size=1) as pool:
            jobs.append(pool.submit(cancel_self))
            after = pool.submit(echo, func_args=['after'])
            self.assertEqual(await after, 'after')
            with self.assertRaises(asyncio.CancelledError):
                await jobs[0]

    async def test_worker_task_cancelled(self):
        """A cancellation of a worker's Task itself (asyncio.run() cancels every Task as it
        ends) reaches the running job, and ends that Task; the next jobs run on another worker"""
        started = asyncio.Event()
        tasks = []

        async def forever():
            tasks.append(asyncio.current_task())
            started.set()
            await asyncio.Event().wait()

        async def which_task():
            return asyncio.current_task()

        async with taskpool.Pool(size=1) as pool:
            running = pool.submit(forever)
            later = [pool.submit(which_task) for _ in range(3)]
            await started.wait()
            tasks[0].cancel()
            with self.assertRaises(asyncio.CancelledError):
                await running
            others = await asyncio.gather(*later)
            self.assertTrue(tasks[0].cancelled())
            self.assertNotIn(tasks[0], others)

    async def test_worker_task_cancelled_between_jobs(self):
        """A cancellation of a worker's Task that arrives between two jobs ends that Task and
        cancels no job"""
        budget = _jobs.STEP_BUDGET
        _jobs.STEP_BUDGET = -1  # a worker lets the loop run between any two jobs
        self.addCleanup(setattr, _jobs, 'STEP_BUDGET', budget)

        async def which_task():
            return asyncio.current_task()

        async with taskpool.Pool(size=1) as pool:
            first = pool.submit(which_task)
            rest = [pool.submit(which_task) for _ in range(3)]
            worker = await first
            worker.cancel()  # the worker yielded after the first job, before the second
            others = await asyncio.gather(*rest)
            self.assertTrue(worker.cancelled())
            self.assertNotIn(worker, others)

    async def test_job_cancelling_its_task(self):
        """A job that cancels its Task, and returns or takes the cancellation back, ends its
        worker's Task: the next job, on another worker, is not cancelled"""
        started = asyncio.Event()
        tasks = []

        async def cancel_own_task():
            asyncio.current_task().cancel()
            return asyncio.current_task()

        async def swallow():
            tasks.append(asyncio.current_task())
            started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                return asyncio.current_task()

        async def awaits_then_returns():
            await asyncio.sleep(0)
            return asyncio.current_task()

        async with taskpool.Pool(size=1) as pool:
            for job in (cancel_own_task, swallow):
                with self.subTest(job=job.__name__):
                    ended = pool.submit(job)
                    after = pool.submit(awaits_then_returns)
                    if job is swallow:
                        await started.wait()
                        tasks[0].cancel()
                    worker = await ended
                    self.assertNotEqual(await after, worker)
                    self.assertTrue(worker.cancelled())

    async def test_close_drains(self):
        """close() stops accepting at once and runs every queued job first"""
        pool = taskpool.Pool(size=1)
        await pool.start()
        release = asyncio.Event()
        jobs = [pool.submit(release.wait)] + [pool.submit(echo, func_args=[i]) for i in range(3)]
        closed = pool.close()
        self.assertTrue(pool.closed)
        with self.assertRaises(taskpool.NotAvailable):
            pool.submit(answer)
        release.set()
        await closed
        self.assertEqual([job.result() for job in jobs], [True, 0, 1, 2])

    async def test_close_discards_queued(self):
        """close(discard_queued=True) fails queued jobs with PoolClosed; the running one ends"""
        pool = taskpool.Pool(size=1)
        await pool.start()
        running, release = await self.holding(pool)
        queued = [pool.submit(answer), pool.submit(add, func_args=[1])]
        closed = pool.close(discard_queued=True)
        for job in queued:
            with self.assertRaises(taskpool.PoolClosed):
                await job
        self.assertFalse(running.done())
        release.set()
        await closed
        self.assertEqual(running.result(), 'held')

    async def test_close_cancels_running(self):
        """close(cancel_running=True) cancels running coroutine jobs too, and drops what running
        thread jobs return"""
        pool = taskpool.Pool(size=2)
        await pool.start()
        started = asyncio.Event()

        async def forever():
            started.set()
            await asyncio.Event().wait()

        thread_started = asyncio.Event()
        release = threading.Event()

        def blocking():
            self.loop.call_soon_threadsafe(thread_started.set)
            release.wait(BARRIER_TIMEOUT)
            return 'too late'

        running = pool.submit(forever)
        in_thread = pool.submit(blocking)
        await asyncio.gather(started.wait(), thread_started.wait())
        closed = pool.close(cancel_running=True)
        with self.assertRaises(asyncio.CancelledError):
            await running
        # A thread cannot be interrupted: it runs to its end, and what it returned is dropped
        self.assertFalse(in_thread.done())
        release.set()
        with self.assertRaises(asyncio.CancelledError):
            await in_thread
        await closed
        self.assertEqual(pool.running, 0)
        self.assertEqual(pool.pool.props.cancelled, 2)

    async def test_exception_in_block(self):
        """A block of `async with` that raises discards the queued jobs and cancels the running
        ones, as a TaskGroup does; one that ends well drains"""
        with self.assertRaises(KeyError):
            async with taskpool.Pool(size=1) as pool:
                running, release = await self.holding(pool)
                queued = pool.submit(answer)
                raise KeyError('in the block')
        with self.assertRaises(asyncio.CancelledError):
            await running
        with self.assertRaises(taskpool.PoolClosed):
            await queued
        self.assertTrue(pool.closed)

    async def test_exactly_once(self):
        """Every job of a mix of results, failures and cancellations ends exactly once"""
        outcomes = []
        release = asyncio.Event()

        async def succeed(index):
            await asyncio.sleep(0)
            return index

        async def fail(index):
            await release.wait()
            raise ValueError(index)

        def in_thread(index):
            if index % 2:
                raise ValueError(index)
            return index

        kinds = [succeed, fail, in_thread]
        async with taskpool.Pool(size=4) as pool:
            jobs = [pool.submit(kinds[index % 3], func_args=[index]) for index in range(600)]
            for job in jobs[::7]:
                job.cancel()
            for job in jobs:
                job.add_done_callback(outcomes.append)
            release.set()
            results = await asyncio.gather(*jobs, return_exceptions=True)
        self.assertEqual(len(outcomes), 600)
        self.assertEqual(len(set(map(id, outcomes))), 600)
        for index, (job, result) in enumerate(zip(jobs, results)):
            if index % 7 == 0:
                self.assertIsInstance(result, asyncio.CancelledError)
            elif index % 3 == 1 or (index % 3 == 2 and index % 2):
                self.assertIsInstance(result, ValueError)
                self.assertEqual(result.args, (index,))
            else:
                self.assertEqual(result, index)
        self.assertEqual((pool.running, pool.waiting), (0, 0))


class ConfigTest(PoolTestCase):
    async def test_invalid_options(self):
        """Options the kind does not take, and invalid values, raise at construction"""
        with self.assertRaisesRegex(taskpool.ConfigError, 'bogus-key'):
            taskpool.Pool(bogus_key=1)
        with self.assertRaisesRegex(taskpool.ConfigError, 'default-weight'):
            taskpool.Pool('fixed-simple', default_weight=1)
        with self.assertRaisesRegex(taskpool.ConfigError, 'fixed-nothing'):
            taskpool.Pool('fixed-nothing')
        with self.assertRaisesRegex(taskpool.ConfigError, 'min-size'):
            taskpool.Pool(min_size=5, max_size=2)
        with self.assertRaises(ValueError):  # a ConfigError is a ValueError
            taskpool.Pool(size='three')
        for options in ({'queue': asyncio.Queue()}, {'auto_scale_cache_len': 20},
                        {'size': 2, 'init_size': 3}, {'size': 1.5}, {'scale_interval': 'soon'},
                        {'executor': object()}):
            with self.subTest(options=list(options)):
                with self.assertRaises(TypeError):
                    taskpool.AioAutoScaleTaskPoolSimple(**options)
        with self.assertRaises(TypeError):
            taskpool.Pool(3)
        with self.assertRaises(ValueError):
            taskpool.AioAutoScaleTaskPoolSimple(idle_timeout=-1)
        with self.assertRaises(TypeError):
            taskpool.AioFixedTaskPoolSimple(kind='fixed-lifo')

    async def test_other_loop(self):
        """A pool is used in its own event loop, which must run on GLib"""
        pool = taskpool.Pool()
        await pool.start()

        def in_other_loop(call):
            loop = asyncio.SelectorEventLoop()  # asyncio's own loop, in another thread
            try:
                async def run():
                    return call()
                return loop.run_until_complete(run())
            finally:
                loop.close()

        with self.assertRaisesRegex(RuntimeError, 'GLib'):
            await self.loop.run_in_executor(None, in_other_loop, taskpool.Pool)
        with self.assertRaisesRegex(RuntimeError, 'GLib'):
            await self.loop.run_in_executor(None, in_other_loop, lambda: pool.submit(answer))
        with self.assertRaisesRegex(RuntimeError, 'coroutine'):
            await self.loop.run_in_executor(None, pool.close)
        await pool.close()


class LoopTest(unittest.TestCase):
    def test_made_outside_a_loop(self):
        """A pool made outside a loop belongs to GLib's default context, and runs in a loop
        of it; another loop refuses it"""
        from gbulb.glib_events import GLibEventLoop

        pool = taskpool.Pool(size=2)
        self.assertIsNone(pool.loop)

        async def use():
            async with pool:
                return await pool.submit(answer), await pool.submit(add, func_args=[1, 2])

        other = GLibEventLoop(context=GLib.MainContext())
        try:
            with self.assertRaisesRegex(RuntimeError, 'default main context'):
                other.run_until_complete(use())
        finally:
            other.close()
        loop = GLibEventLoop(context=GLib.MainContext.default())
        try:
            self.assertEqual(loop.run_until_complete(use()), (42, 3))
            self.assertIs(pool.loop, loop)
        finally:
            loop.close()

    def test_asyncio_runs_on_glib(self):
        """Importing taskpool makes asyncio.run() run on GLib's main loop"""
        async def loop_type():
            return type(asyncio.get_running_loop()).__name__

        self.assertEqual(asyncio.run(loop_type()), 'GLibEventLoop')
        taskpool.install()  # again: nothing changes
        self.assertEqual(asyncio.run(loop_type()), 'GLibEventLoop')


def in_other_process():
    return os.getpid()


class ExecutorTest(PoolTestCase):
    async def test_thread_executor(self):
        """Plain functions run in the pool's executor when it has one, as in the seed"""
        with concurrent.futures.ThreadPoolExecutor(thread_name_prefix='seed-executor') as executor:
            async with taskpool.Pool(executor=executor) as pool:
                self.assertIs(pool.executor, executor)
                names = await asyncio.gather(*(pool.submit(thread_name) for _ in range(4)))
                self.assertTrue(all(name.startswith('seed-executor') for name in names), names)
                self.assertEqual(await pool.submit(add, func_args=[2], func_kwargs={'b': 5}), 7)
                self.assertEqual(await pool.submit(answer), 42)  # coroutines stay on the loop

    async def test_process_executor(self):
        """A ProcessPoolExecutor, as in the seed's second example"""
        with concurrent.futures.ProcessPoolExecutor(max_workers=2) as executor:
            async with taskpool.AioFixedTaskPoolSimple(executor=executor) as pool:
                pids = await asyncio.gather(*(pool.submit(in_other_process) for _ in range(3)))
        self.assertNotIn(os.getpid(), pids)


if __name__ == '__main__':
    unittest.main(argv=sys.argv, verbosity=2)

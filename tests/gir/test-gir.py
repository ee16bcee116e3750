#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# libtaskpool through GObject introspection, from PyGObject: the six kinds, async jobs written
# in Python (completing their Gio.Task later from a timeout) and thread jobs (run on the pool's
# worker threads), weights, scale, pause, close, and the order of a one-worker priority pool.
#
# PyGObject notes: `job_data` is a tuple whose items PyGObject passes in the place of the
# job's task_data argument: job(task, pool, *job_data, cancellable) (pass () for none); a job completes its task with task.return_value(…) (or return_error)
# and the submitter reads the value with submit_value_finish(), which returns it.

import sys
import unittest

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Gio', '2.0')
gi.require_version('TaskPool', '1.0')
from gi.repository import GLib, TaskPool  # noqa: E402

KINDS = ['fixed-simple', 'fixed-lifo', 'fixed-priority',
         'autoscale-simple', 'autoscale-lifo', 'autoscale-priority']


def iterate_until(condition):
    """Runs the default main context until condition() holds; never sleeps."""
    context = GLib.MainContext.default()
    while not condition():
        context.iteration(True)


def async_job(task, pool, text, cancellable):
    """An async job: runs on the pool's context and completes its task later."""
    def complete():
        task.return_value(text)
        return GLib.SOURCE_REMOVE
    GLib.timeout_add(5, complete)


def thread_job(task, pool, number, cancellable):
    """A thread job: runs on a worker thread and completes its task before it returns."""
    task.return_value(number * 2)


class Results:
    """Collects what each submission's callback received, in arrival order."""

    def __init__(self):
        self.values = []
        self.errors = []

    def callback(self, pool, result, *user_data):
        try:
            self.values.append(pool.submit_value_finish(result))
        except GLib.Error as error:
            self.errors.append(error)

    def count(self):
        return len(self.values) + len(self.errors)


class PoolTest(unittest.TestCase):
    def new_pool(self, kind):
        pool = TaskPool.Pool.new(kind)
        self.assertEqual(pool.get_kind(), kind)
        self.assertTrue(pool.start())
        return pool

    def close(self, pool, flags=TaskPool.CloseFlags.DRAIN):
        closed = []
        pool.close_async(flags, None, lambda p, res: closed.append(p.close_finish(res)))
        iterate_until(lambda: closed)
        self.assertEqual(closed, [True])
        self.assertTrue(pool.get_closed())
        self.assertTrue(pool.props.closed)

    def test_kinds_jobs_and_weights(self):
        for kind in KINDS:
            with self.subTest(kind=kind):
                pool = self.new_pool(kind)
                results = Results()
                pool.submit_async(async_job, ('ok:e done',), None, results.callback)
                pool.submit_in_thread_async(thread_job, (21,), None, results.callback)
                pool.submit_full_async(TaskPool.SubmitFlags.DEFAULT, 1, async_job,
                                       ('weighted',), None, results.callback)
                pool.submit_full_async(TaskPool.SubmitFlags.IN_THREAD, 9, thread_job,
                                       (50,), None, results.callback, 'user data')
                iterate_until(lambda: results.count() == 4)
                self.assertEqual(results.errors, [])
                self.assertCountEqual(results.values, ['ok:e done', 42, 'weighted', 100])
                self.close(pool)

    def test_scale(self):
        for kind in KINDS:
            with self.subTest(kind=kind):
                pool = self.new_pool(kind)
                self.assertEqual(pool.get_size(), 3)
                self.assertEqual(pool.scale(3), 6)
                iterate_until(lambda: pool.get_size() == 6)
                self.assertEqual(pool.props.size, 6)
                scaled = []
                pool.scale_async(-1, None, lambda p, res: scaled.append(p.scale_finish(res)))
                iterate_until(lambda: scaled)
                self.assertEqual(scaled, [5])
                self.assertEqual(pool.get_size(), 5)
                self.close(pool)

    def test_pause_refuses(self):
        pool = self.new_pool('fixed-simple')
        pool.pause()
        self.assertTrue(pool.get_paused())
        results = Results()
        pool.submit_async(async_job, ('never',), None, results.callback)
        iterate_until(lambda: results.count() == 1)
        self.assertEqual(results.values, [])
        self.assertTrue(results.errors[0].matches(TaskPool.PoolError.quark(),
                                                  TaskPool.PoolError.NOT_ACCEPTING))
        pool.resume()
        pool.submit_async(async_job, ('again',), None, results.callback)
        iterate_until(lambda: results.count() == 2)
        self.assertEqual(results.values, ['again'])
        self.close(pool)

    def test_close_refuses(self):
        pool = self.new_pool('autoscale-simple')
        results = Results()
        for i in range(5):
            pool.submit_in_thread_async(thread_job, (i,), None, results.callback)
        self.close(pool)  # drains: every queued job runs first
        self.assertCountEqual(results.values, [0, 2, 4, 6, 8])
        pool.submit_async(async_job, ('late',), None, results.callback)
        iterate_until(lambda: results.count() == 6)
        self.assertTrue(results.errors[0].matches(TaskPool.PoolError.quark(),
                                                  TaskPool.PoolError.NOT_ACCEPTING))

    def test_priority_order(self):
        pool = TaskPool.Pool(kind='fixed-priority', size=1)
        self.assertTrue(pool.init(None))
        self.assertTrue(pool.start())
        blocked = []

        def blocker(task, pool, cancellable):
            blocked.append(task)  # completed below, once every job is queued

        def recorder(task, pool, weight, cancellable):
            task.return_value(weight)

        results = Results()
        pool.submit_async(blocker, (), None, results.callback)
        iterate_until(lambda: blocked)
        for weight in [5, 1, 4, 1, 3, 2]:
            pool.submit_full_async(TaskPool.SubmitFlags.DEFAULT, weight, recorder, (weight,),
                                   None, results.callback)
        self.assertEqual(pool.get_waiting(), 6)
        blocked[0].return_value('blocker')
        iterate_until(lambda: results.count() == 7)
        self.assertEqual(results.errors, [])
        self.assertEqual(results.values, ['blocker', 1, 1, 2, 3, 4, 5])
        self.close(pool)


if __name__ == '__main__':
    unittest.main(argv=sys.argv, verbosity=2)

# SPDX-License-Identifier: LGPL-2.1-or-later
"""The pool: a libtaskpool TpPool seen as the seed's asyncio task pool."""

import asyncio
import concurrent.futures
import functools
import math
import numbers
from threading import get_ident

from gi.repository import GLib, TaskPool

from . import _jobs
from ._errors import NotAvailable, exception_from_gerror
from ._loop import glib_context, running_glib_loop

__all__ = ['Pool']

_IN_THREAD = TaskPool.SubmitFlags.IN_THREAD
_NO_WAIT = TaskPool.SubmitFlags.NO_WAIT
_DEFAULT = TaskPool.SubmitFlags.DEFAULT

# Options given in seconds, as asyncio's; the keyfile wants milliseconds
_SECONDS = {
    'scale_interval': 'scale-interval-ms',
    'auto_scale_interval': 'scale-interval-ms',  # the seed's name
    'idle_timeout': 'idle-timeout-ms',
    'queue_timeout': 'queue-timeout-ms',  # every job's, unless its submission gives its own
    'run_timeout': 'run-timeout-ms',
}
# The seed's names of options the library has under another name
_ALIASES = {
    'init_size': 'size',
    'queue_maxsize': 'queue-capacity',
}
# The seed's options that have no meaning here: refused rather than ignored
_UNSUPPORTED = {
    'queue': 'the pool keeps its queue in its queue strategy, not in an asyncio.Queue: '
             'give its capacity with queue_maxsize=',
    'auto_scale_cache_len': 'the autoscale strategy decides from the waiting jobs and idle '
                            'workers, not from a history of samples: tune it with '
                            'scale_interval= and idle_timeout= (seconds)',
}
_INT_MIN, _INT_MAX = -2**31, 2**31 - 1

_NEW, _RUNNING, _PAUSED, _CLOSING, _CLOSED = range(5)
_STATES = ('new', 'running', 'paused', 'closing', 'closed')


def _milliseconds(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TypeError(f'{name} must be a number of seconds, not {value!r}')
    if value < 0:
        raise ValueError(f'{name} must not be negative, not {value!r}')
    return str(round(value * 1000))


def _keyfile(group, kind, options):
    """The GKeyFile group that describes the pool: libtaskpool checks every key of it."""
    keyfile = GLib.KeyFile()
    keyfile.set_string(group, 'kind', kind)
    given = {}
    for name, value in options.items():
        if name in _UNSUPPORTED:
            raise TypeError(f'{group}() does not support {name}=: {_UNSUPPORTED[name]}')
        key = _SECONDS.get(name) or _ALIASES.get(name) or name.replace('_', '-')
        if key in given:
            raise TypeError(f'{group}() got both {given[key]}= and {name}=')
        given[key] = name
        if name in ('queue_timeout', 'run_timeout'):
            if value is not None:
                keyfile.set_value(group, key, str(_timeout_ms(name, value)))
        elif name in _SECONDS:
            keyfile.set_value(group, key, _milliseconds(name, value))
        elif isinstance(value, bool):
            keyfile.set_boolean(group, key, value)
        elif isinstance(value, int):
            keyfile.set_value(group, key, str(value))
        elif isinstance(value, str):
            keyfile.set_string(group, key, value)
        elif isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
            keyfile.set_string_list(group, key, list(value))
        else:
            raise TypeError(f'{group}() option {name}= takes an int, a bool, a str or a list of '
                            f'str, not {type(value).__name__}')
    return keyfile


# A timeout is a guint of milliseconds in the library
_TIMEOUT_MAX_MS = 2**32 - 1


def _timeout_ms(name, value):
    """A job's timeout in seconds (an int or a float, as asyncio's) as whole milliseconds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f'{name} must be a number of seconds (an int or a float), or None for '
                        f'no timeout, not {type(value).__name__}')
    try:
        milliseconds = float(value) * 1000
    except OverflowError:  # an int beyond any float
        milliseconds = math.inf
    if not 0 < milliseconds <= _TIMEOUT_MAX_MS:  # False for NaN
        raise ValueError(f'{name} must be a number of seconds above 0 and at most '
                         f'{_TIMEOUT_MAX_MS / 1000:.3f} (None for no timeout), not {value!r}')
    # To the nearest millisecond; never 0, which the library reads as no timeout
    return max(1, round(milliseconds))


def _text(name, value):
    if not isinstance(value, str):
        raise TypeError(f'{name} must be a str, not {type(value).__name__}')
    if '\0' in value:
        raise ValueError(f'{name} must not contain a NUL character')
    return value


def _job_options(flags, weight, key, queue_timeout, run_timeout, label):
    """The job's TaskPool.JobOptions (libtaskpool 1.2), every value checked first."""
    if key is not None:
        key = _text('key', key)
    if label is not None:
        label = _text('label', label)
    if queue_timeout is not None:
        queue_timeout = _timeout_ms('queue_timeout', queue_timeout)
    if run_timeout is not None:
        run_timeout = _timeout_ms('run_timeout', run_timeout)
    options = TaskPool.JobOptions.new()
    options.set_flags(flags)
    options.set_weight(weight)
    if key is not None:
        options.set_key(key)
    if label is not None:
        options.set_label(label)
    if queue_timeout is not None:
        options.set_queue_timeout(queue_timeout)
    if run_timeout is not None:
        options.set_run_timeout(run_timeout)
    return options


class Pool:
    """A pool that runs at most `size` jobs at once: libtaskpool's TpPool for asyncio.

    `kind` is `<scaler>-<queue>`: `fixed-simple` (the default), `fixed-lifo`,
    `fixed-priority`, `autoscale-simple`, `autoscale-lifo`,
    `autoscale-priority`, or a kind of a strategy plugin. The options are the
    pool's keyfile keys with `_` for `-` (`size=`, `min_size=`, `max_size=`,
    `queue_capacity=`, `default_weight=`, `gates=`, `plugin_path=`…), times in
    seconds (`scale_interval=`, `idle_timeout=`, and `queue_timeout=` and
    `run_timeout=`, every job's unless its submission gives its own), and the
    seed's names (`init_size=`, `queue_maxsize=`, `auto_scale_interval=`,
    `executor=`, `loop=`). An option the kind does not take raises
    `taskpool.ConfigError`.

    `executor=` is a `concurrent.futures.Executor` that runs the plain
    functions submitted to the pool, as in the seed; without one they run on
    the pool's own threads (`executor="gtask"` runs them on GIO's shared
    threads instead).

    The pool belongs to the event loop running when it is made (or, made
    outside one, to the loop it is started in), which must be a GLib loop:
    `import taskpool` makes asyncio's loops GLib loops.
    """

    _kind = 'fixed-simple'

    def __init__(self, kind=None, *, loop=None, executor=None, **options):
        group = type(self).__name__
        if kind is None:
            kind = self._kind
        elif not isinstance(kind, str):
            raise TypeError(f'kind must be a str such as "fixed-simple", not {kind!r}')
        if isinstance(executor, str):
            options['executor'] = executor
            executor = None
        elif executor is not None and not isinstance(executor, concurrent.futures.Executor):
            raise TypeError(f'executor must be a concurrent.futures.Executor, "threads" or '
                            f'"gtask", not {type(executor).__name__}')
        if loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
        context = glib_context(loop) if loop is not None else GLib.MainContext.default()
        keyfile = _keyfile(group, kind, options)

        # The pool belongs to the thread-default context when it is made
        context.push_thread_default()
        try:
            gpool = TaskPool.Pool.new_from_keyfile(keyfile, group)
        except GLib.Error as error:
            raise exception_from_gerror(error, group) from None
        finally:
            context.pop_thread_default()

        self._gpool = gpool
        self._context = context
        # The job's callback runs in the thread-default context of its submission. gbulb
        # iterates GLib's global default context on the main thread without pushing it, and
        # code that pushes another one pops it before it returns to the loop: a pool of that
        # context needs no push per job, which costs two calls through GI.
        self._push = context != GLib.MainContext.default()
        self._loop = loop
        self._executor = executor
        self._state = _NEW
        self._dispatcher = _jobs.Dispatcher(loop) if loop is not None else None
        self._thread = get_ident() if loop is not None else None
        self._default_weight = gpool.get_default_weight()
        self._submit_full = gpool.submit_full_async
        self._run_timeout = gpool.get_run_timeout() > 0

    def __repr__(self):
        return (f'<{type(self).__name__} {self.kind} {_STATES[self._state]} size={self.size} '
                f'running={self.running} waiting={self.waiting}>')

    # Life cycle

    async def __aenter__(self):
        await self.start()
        return self

    async def __aexit__(self, exc_type, exc, tb):
        # As the seed, a block that ends well waits for every queued job. One that raises
        # (or is cancelled) does not wait for work nobody will use: as a TaskGroup does, the
        # queued jobs fail with PoolClosed and the running coroutine jobs are cancelled
        failed = exc_type is not None
        await self.close(discard_queued=failed, cancel_running=failed)

    def start(self):
        """Starts the workers and accepts jobs; returns an awaitable.

        Takes effect at once. Raises `RuntimeError` outside the pool's event
        loop, `NotAvailable` on a closed pool; starting a started pool does
        nothing.
        """
        loop = self._own_loop('start()')
        if self._state >= _CLOSING:
            raise NotAvailable('the pool is closed: a closed pool cannot start again')
        try:
            self._gpool.start()
        except GLib.Error as error:
            raise exception_from_gerror(error) from None
        if self._state == _NEW:
            self._state = _RUNNING
        return self._done(loop, None)

    def close(self, *, discard_queued=False, cancel_running=False):
        """Stops accepting jobs and waits until none is left; returns an awaitable.

        By default every queued job still runs (the pool drains).
        `discard_queued=True` fails the queued jobs with `PoolClosed`;
        `cancel_running=True` also cancels the Tasks of running coroutine
        jobs (a thread cannot be interrupted: running thread jobs end as they
        will). Closing a closed pool does nothing.
        """
        loop = self._own_loop('close()')
        if self._state == _CLOSED:
            return self._done(loop, None)
        flags = TaskPool.CloseFlags.DRAIN
        if discard_queued:
            flags |= TaskPool.CloseFlags.DISCARD_QUEUED
        if cancel_running:
            flags |= TaskPool.CloseFlags.CANCEL_RUNNING
        self._state = _CLOSING
        closed = loop.create_future()

        def close_done(gpool, result):
            try:
                gpool.close_finish(result)
            except GLib.Error as error:
                if not closed.done():
                    closed.set_exception(exception_from_gerror(error))
                return
            self._state = _CLOSED
            if not closed.done():
                closed.set_result(None)

        self._context.push_thread_default()
        try:
            self._gpool.close_async(flags, None, close_done)
        finally:
            self._context.pop_thread_default()
        if cancel_running and self._dispatcher is not None:
            for worker in list(self._dispatcher.workers):
                for job in (worker.job, worker.next):  # the next one already has its slot
                    if job is not None:
                        job.cancel()
        return closed

    def pause(self):
        """Pauses a pool that accepts jobs, or resumes a paused one; returns an awaitable.

        A toggle, as in the seed: while paused, submissions fail with
        `NotAvailable`, and queued and running jobs go on. Takes effect at
        once; the awaitable gives the new value of `paused`.
        """
        loop = self._own_loop('pause()')
        if self._state == _RUNNING:
            self._gpool.pause()
            self._state = _PAUSED
        elif self._state == _PAUSED:
            self._gpool.resume()
            self._state = _RUNNING
        else:
            raise NotAvailable(f'pause() needs a started pool that is not closed; this one is '
                               f'{_STATES[self._state]}')
        return self._done(loop, self._state == _PAUSED)

    def scale(self, number):
        """Adds `number` workers, or retires `-number`; returns an awaitable.

        Takes effect at once: new workers start queued jobs, retiring workers
        finish their job first. The awaitable completes when the pool has
        reached its new size, which it gives (the target is clamped to the
        pool's `min_size` … `max_size`). Before `start()`, changes the size
        the pool will start with.
        """
        loop = self._own_loop('scale()')
        if isinstance(number, bool) or not isinstance(number, int):
            raise TypeError(f'scale() takes an int, not {type(number).__name__}')
        if not _INT_MIN <= number <= _INT_MAX:
            raise ValueError(f'scale() takes a number of workers, not {number}')
        if self._state == _NEW:
            return self._done(loop, self._gpool.scale(number))
        if self._state >= _CLOSING:
            raise NotAvailable('the pool is closed: it cannot scale')
        scaled = loop.create_future()

        def scale_done(gpool, result):
            if scaled.done():
                return
            try:
                scaled.set_result(gpool.scale_finish(result))
            except GLib.Error as error:
                scaled.set_exception(exception_from_gerror(error))

        self._context.push_thread_default()
        try:
            self._gpool.scale_async(number, None, scale_done)
        finally:
            self._context.pop_thread_default()
        return scaled

    # Jobs

    def submit(self, func, /, *, func_args=None, func_kwargs=None, weight=None, key=None,
               queue_timeout=None, run_timeout=None, label=None, blocking=True):
        """Submits `func(*func_args, **func_kwargs)` as a job; returns its future (a `Job`).

        Await it for what the job returned, or the exception it raised (the
        same object). A coroutine function runs as a coroutine job on the
        event loop, a plain function on a thread (or in the pool's executor).
        `weight` orders a priority pool: the smallest runs first. When the
        queue is at `queue_maxsize`, the job waits for room before it is
        queued. `blocking=False` (the seed's) makes the awaitable give the
        job's future rather than its result.

        The job options of libtaskpool: `key` (a str, such as a host: the
        pool's `per-key` and `rate` gates limit jobs by key, the `fair` queue
        takes keys in turn); `queue_timeout` (seconds): a job that has not
        started by then fails with `QueueTimeout` and never runs;
        `run_timeout` (seconds): the pool then cancels the job, and a job that
        gives up fails with `RunTimeout` (both are `TimeoutError`); `label`
        (a str): the job is listed in `pool.jobs` while it is in the pool.

        Raises at once, nothing queued: `TypeError` for a job, arguments or
        options of the wrong type, `ValueError` for a weight or a timeout out
        of range, `NotAvailable` when the pool is not started, paused or
        closed.
        """
        job = self._submit(func, func_args, func_kwargs, weight, key, queue_timeout,
                           run_timeout, label, _DEFAULT)
        if not blocking:
            return self._done(job.get_loop(), job)
        return job

    def submit_nowait(self, func, /, *, func_args=None, func_kwargs=None, weight=None, key=None,
                      queue_timeout=None, run_timeout=None, label=None):
        """Submits a job as submit() does, without waiting for room in a full queue.

        Returns the job's future, which fails with `PoolFull` (a
        `NotAvailable`) when the queue is at `queue_maxsize`.
        """
        return self._submit(func, func_args, func_kwargs, weight, key, queue_timeout,
                            run_timeout, label, _NO_WAIT)

    def _submit(self, func, func_args, func_kwargs, weight, key, queue_timeout, run_timeout,
                label, flags):
        loop = self._loop
        # get_running_loop() makes a getpid() system call: the thread tells as much
        if loop is None or get_ident() != self._thread or loop.is_closed():
            loop = self._own_loop('submit()')
        known = _jobs.describe(func)
        args = _jobs.positional(func_args)
        kwargs = _jobs.keywords(func_kwargs)
        _jobs.check_arguments(known, args, kwargs)
        if weight is None:
            weight = self._default_weight
        elif isinstance(weight, bool) or not isinstance(weight, int):
            raise TypeError(f'weight must be an int, not {type(weight).__name__}')
        elif not _INT_MIN <= weight <= _INT_MAX:
            raise ValueError(f'weight must lie within {_INT_MIN} … {_INT_MAX}, not {weight}')
        options = None
        if key is not None or queue_timeout is not None or run_timeout is not None or \
                label is not None:
            options = _job_options(flags, weight, key, queue_timeout, run_timeout, label)
        if self._state != _RUNNING:
            raise NotAvailable(('the pool is not started: await start() first', '',
                                'the pool is paused: pause() again to resume it',
                                'the pool is closing', 'the pool is closed')[self._state])

        if known.is_async:
            job = _jobs.new_job(loop, self._dispatcher, func, args, kwargs)
            run = _jobs.run_async
        elif self._executor is None:
            job = _jobs.new_job(loop, self._dispatcher, func, args, kwargs)
            run = _jobs.run_in_thread
            flags |= _IN_THREAD
            if options is not None:
                options.set_flags(flags)
        else:
            job = _jobs.new_job(loop, self._dispatcher, _jobs.call_in_executor,
                                (self._executor, known, functools.partial(func, *args, **kwargs)),
                                {})
            run = _jobs.run_async
        if options is not None or self._run_timeout:
            # A job with a run timeout or a label gets a cancellable of its own, which the
            # pool cancels to interrupt it
            job._watch = self._run_timeout or run_timeout is not None or label is not None

        if self._push:
            context = self._context
            context.push_thread_default()
            try:
                self._submit_job(options, flags, weight, run, job)
            finally:
                context.pop_thread_default()
        else:
            self._submit_job(options, flags, weight, run, job)
        return job

    # Helpers

    def _submit_job(self, options, flags, weight, run, job):
        if options is None:
            self._submit_full(flags, weight, run, (job,), None, _jobs.job_done, job)
        else:
            self._gpool.submit_with_options_async(options, run, (job,), None, _jobs.job_done, job)

    def _own_loop(self, what):
        loop, context = running_glib_loop(what)
        if self._loop is None:
            if context != self._context:
                raise RuntimeError(f'{what}: this pool was made for GLib\'s default main context, '
                                   f'and the running event loop iterates another one')
            self._loop = loop
            self._dispatcher = _jobs.Dispatcher(loop)
            self._thread = get_ident()
        elif loop is not self._loop:
            raise RuntimeError(f'{what} must be called in the event loop the pool belongs to')
        self._thread = get_ident()
        return loop

    @staticmethod
    def _done(loop, value):
        future = loop.create_future()
        future.set_result(value)
        return future

    # Properties

    @property
    def kind(self):
        """The pool's kind, such as `fixed-simple`."""
        return self._gpool.get_kind()

    @property
    def size(self):
        """The number of workers: live ones once started, the size it starts with before."""
        if self._state == _NEW:
            return self._gpool.get_target_size()
        return self._gpool.get_size()

    @property
    def min_size(self):
        """The smallest size scale() and autoscaling go to."""
        return self._gpool.get_min_size()

    @property
    def max_size(self):
        """The largest size scale() and autoscaling go to."""
        return self._gpool.get_max_size()

    @property
    def running(self):
        """The number of jobs running."""
        return self._gpool.get_running()

    @property
    def waiting(self):
        """The number of jobs queued, not yet running."""
        return self._gpool.get_waiting()

    @property
    def queue_capacity(self):
        """How many jobs may wait in the queue (the seed's queue_maxsize); 0 for no limit."""
        return self._gpool.get_queue_capacity()

    @property
    def pool(self):
        """The `TaskPool.Pool` underneath: its counters (`pool.pool.props.succeeded`, `failed`,
        `cancelled`, `timed_out`), `hold()` and `unhold()`, signals and the rest of its API."""
        return self._gpool

    @property
    def jobs(self):
        """The jobs submitted with a `label=` that are in the pool, queued or running.

        A `Gio.ListModel` of `TaskPool.JobInfo` (label, key, weight, state,
        progress; `cancel()` cancels that job), updated on the pool's context
        as jobs come and go: bind it to a list view.
        """
        return self._gpool.get_jobs()

    @property
    def paused(self):
        """Whether submissions are refused: before start(), while paused, and once closed.

        The seed's meaning: True whenever `submit()` would raise `NotAvailable`.
        """
        return self._state != _RUNNING

    @property
    def closed(self):
        """Whether close() was called."""
        return self._state >= _CLOSING

    @property
    def executor(self):
        """The concurrent.futures.Executor of plain functions, or None for the pool's threads."""
        return self._executor

    @property
    def loop(self):
        """The event loop the pool belongs to; None until it is started when made outside one."""
        return self._loop

    waiting_tasks_number = waiting   # the seed's names
    max_tasks_number = queue_capacity

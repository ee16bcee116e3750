# SPDX-License-Identifier: LGPL-2.1-or-later
"""A submitted job: its checks at submission, its future, and how it runs.

Every job is one libtaskpool job, so the pool's queue, order and bound decide
when it starts. A coroutine function runs as an async job, on the event loop:
when the pool gives the job a worker, one of the pool's worker Tasks steps its
coroutine. A plain function runs as a thread job on a thread of the pool's
own thread pool, unless the pool has an executor (`executor=`), which then
runs it as the seed did. Whatever the job returns or raises is kept in Python
and handed to the awaiter as it is once the pool reports the job done, by
which time its worker is free.

The cost per job is what a Python binding must pay to cross into GLib: two
closures made by PyGObject at submission, two calls back. Everything else
avoids per-job work on the event loop, where each scheduled callback of gbulb
makes a GLib source: a worker takes its next job in the step in which the
previous one ended, and the callbacks of jobs' futures run in batches.
"""

import asyncio
import collections.abc
import contextvars
import functools
import inspect
import time
import types
import weakref

from ._errors import exception_from_gerror, gerror_from_exception

__all__ = ['Job', 'Dispatcher', 'describe', 'positional', 'keywords', 'check_arguments',
           'new_job', 'run_async', 'run_in_thread', 'call_in_executor', 'job_done']

_CancelledError = asyncio.CancelledError
_Future = asyncio.Future
_future_set_result = _Future.set_result
_future_set_exception = _Future.set_exception
_future_cancel = _Future.cancel
_copy_context = contextvars.copy_context
_monotonic = time.monotonic
_CoroutineType = types.CoroutineType
_NOT_ENDED = object()  # the error of a job that has not ended

# How long a worker runs jobs that end without awaiting before it lets the loop
# run other callbacks: as long as a job of a pool takes no worker from another
# job, a stream of such jobs would otherwise hold the loop until the queue is empty
STEP_BUDGET = 0.002

# Checks at submission {{{


class _Callable:
    """What submit() needs to know of a job function, found once per function."""

    __slots__ = ('name', 'is_async', 'signature', 'takes_no_arguments', 'no_arguments_error',
                 '__weakref__')

    def __init__(self, func):
        self.name = getattr(func, '__qualname__', None) or repr(func)
        if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
            raise TypeError(f'{self.name} is a generator function: a job is a coroutine '
                            f'function (async def) or a plain function')
        call = func if inspect.isroutine(func) or isinstance(func, functools.partial) \
            else getattr(type(func), '__call__', None)
        self.is_async = inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(call)
        try:
            self.signature = inspect.signature(func)
        except (TypeError, ValueError):
            # Some callables written in C describe no signature: they are checked when called
            self.signature = None
        self.takes_no_arguments = True
        self.no_arguments_error = None
        if self.signature is not None:
            try:
                self.signature.bind()
            except TypeError as error:
                self.takes_no_arguments = False
                self.no_arguments_error = str(error)


# Keyed by the function (the function of a bound method), and dropped with it
_callables = weakref.WeakKeyDictionary()
# The function submitted last, weakly, and what is known of it: a stream of jobs of one function
# skips the lookup
_last = (lambda: None, None)


def describe(func):
    """Checks that `func` can be a job and says how it runs; raises TypeError otherwise."""
    global _last
    last_ref, known = _last
    if last_ref() is func:
        return known
    key = getattr(func, '__func__', func)
    try:
        known = _callables.get(key)
    except TypeError:
        known, key = None, None
    if known is None:
        if inspect.isawaitable(func):
            if inspect.iscoroutine(func):
                func.close()  # it will never run: no "never awaited" warning for it
            raise TypeError('submit() takes a function and its arguments, not a coroutine or '
                            'an awaitable: submit(test, func_args=["e"]), not submit(test("e"))')
        if not callable(func):
            raise TypeError(f'a job is a coroutine function (async def) or a plain function, '
                            f'not {type(func).__name__}')
        known = _Callable(func)
        if key is not None:
            try:
                _callables[key] = known
            except TypeError:
                pass
    if key is func:
        _last = (weakref.ref(func), known)
    return known


def positional(func_args):
    """The job's positional arguments as a tuple: a list or a tuple, or None for none."""
    if func_args is None:
        return ()
    if type(func_args) is tuple:
        return func_args
    if isinstance(func_args, (list, tuple)):
        return tuple(func_args)
    raise TypeError(f'func_args must be a list or a tuple of the job\'s positional arguments, '
                    f'not {type(func_args).__name__}')


_NO_KEYWORDS = {}  # never changed: `**` copies it


def keywords(func_kwargs):
    """The job's keyword arguments as a dict: a mapping with string keys, or None for none."""
    if func_kwargs is None:
        return _NO_KEYWORDS
    if not isinstance(func_kwargs, collections.abc.Mapping):
        raise TypeError(f'func_kwargs must be a dict of the job\'s keyword arguments, '
                        f'not {type(func_kwargs).__name__}')
    kwargs = dict(func_kwargs)
    for name in kwargs:
        if type(name) is not str:
            raise TypeError(f'func_kwargs keys must be strings, not {type(name).__name__}')
    return kwargs


def check_arguments(known, args, kwargs):
    """Raises TypeError now if the job could not take these arguments when it runs."""
    if not args and not kwargs:
        if not known.takes_no_arguments:
            raise TypeError(f'{known.name}() needs arguments (func_args=[…] or '
                            f'func_kwargs={{…}}): {known.no_arguments_error}')
        return
    if known.signature is None:
        return
    try:
        known.signature.bind(*args, **kwargs)
    except TypeError as error:
        raise TypeError(f'{known.name}() cannot take func_args={list(args)!r}, '
                        f'func_kwargs={kwargs!r}: {error}') from None

# }}}

# The job's future {{{


class Job(_Future):
    """The future of a submitted job: await it for what the job returned.

    It fails with the exception the job raised (that very object), or with a
    `taskpool.PoolError` when the pool could not run the job. Cancelling it
    cancels the job: a queued job never starts, a running coroutine job gets
    `CancelledError` where it awaits; a running thread job cannot be
    interrupted and runs to its end, its result dropped.

    Only its job sets its result: `set_result()` and `set_exception()` raise
    RuntimeError, as they do on an asyncio Task.
    """

    __slots__ = ('_func', '_args', '_kwargs', '_context', '_gtask', '_worker', '_value',
                 '_error', '_dispatcher', '_callback', '_callback_context', '_callbacks',
                 '_watch', '_interrupted')

    # Its done callbacks are kept here rather than by asyncio.Future, which would schedule
    # each of them alone: the pool's dispatcher runs those of many jobs in one loop callback.
    # The first, usually the only one, is kept without a list: thousands of jobs waiting in
    # a queue are thousands of objects for the garbage collector to go through.

    def add_done_callback(self, fn, *, context=None):
        if context is None:
            context = _copy_context()
        if self.done():
            self.get_loop().call_soon(fn, self, context=context)
        elif self._callback is None:
            self._callback = fn
            self._callback_context = context
        elif self._callbacks is None:
            self._callbacks = [(fn, context)]
        else:
            self._callbacks.append((fn, context))

    def remove_done_callback(self, fn):
        callbacks = self._take_done_callbacks()
        kept = [callback for callback in callbacks if callback[0] != fn]
        for kept_fn, context in kept:
            self.add_done_callback(kept_fn, context=context)
        return len(callbacks) - len(kept)

    def _take_done_callbacks(self):
        if self._callback is None:
            return []
        callbacks = [(self._callback, self._callback_context)]
        if self._callbacks is not None:
            callbacks += self._callbacks
        self._callback = self._callback_context = self._callbacks = None
        return callbacks

    def set_result(self, result):
        raise RuntimeError('a Job takes its result from its job, not from set_result()')

    def set_exception(self, exception):
        raise RuntimeError('a Job takes its exception from its job, not from set_exception()')

    def cancel(self, msg=None):
        if not _future_cancel(self, msg=msg):
            return False
        if self._callback is not None:
            self._dispatcher.call_done_callbacks(self)
        worker = self._worker
        if worker is not None:
            worker.cancel_job(self, msg)
        return True

    def _finished(self, result, exception):
        """Completes the job's GTask: the pool frees the worker, then calls job_done()."""
        gtask = self._gtask
        self._gtask = None
        self._worker = None
        self._func = self._args = self._kwargs = self._context = None
        self._value = result
        self._error = exception
        if exception is None:
            gtask.return_boolean(True)
        else:
            gtask.return_error(gerror_from_exception(exception))

    def _deliver(self, gpool, result):
        if self.done():  # cancelled by its awaiter
            return
        exception = self._error
        if exception is _NOT_ENDED:
            # The job never ran: the pool refused, discarded or cancelled it
            try:
                gpool.submit_value_finish(result)
            except Exception as error:  # a GLib.Error, always
                self._fail(exception_from_gerror(error))
            else:
                self._fail(RuntimeError('libtaskpool reported a job that never ran as done'))
            return
        if exception is None:
            value = self._value
            self._value = None
            _future_set_result(self, value)
            if self._callback is not None:
                self._dispatcher.call_done_callbacks(self)
        else:
            self._error = None
            if self._interrupted and isinstance(exception, _CancelledError):
                # The pool cancelled the job: its outcome is the pool's, a run timeout
                # (G_IO_ERROR_TIMED_OUT) or a cancellation
                try:
                    gpool.submit_value_finish(result)
                except Exception as error:  # a GLib.Error, always
                    replaced = exception_from_gerror(error)
                    replaced.__context__ = exception
                    exception = replaced
            self._fail(exception)

    def _fail(self, exception):
        if isinstance(exception, _CancelledError):
            _future_cancel(self, msg=exception.args[0] if exception.args else None)
        elif isinstance(exception, StopIteration):
            # A future cannot hold StopIteration: it would end the awaiting coroutine
            error = RuntimeError(f'the job raised {type(exception).__name__}')
            error.__cause__ = exception
            _future_set_exception(self, error)
        else:
            _future_set_exception(self, exception)
        if self._callback is not None:
            self._dispatcher.call_done_callbacks(self)


def new_job(loop, dispatcher, func, args, kwargs):
    job = Job(loop=loop)
    job._func = func
    job._args = args
    job._kwargs = kwargs
    job._context = _copy_context()
    job._gtask = None
    job._worker = None
    job._value = None
    job._error = _NOT_ENDED
    job._dispatcher = dispatcher
    job._callback = job._callback_context = job._callbacks = None
    job._watch = job._interrupted = False
    return job

# }}}

# The workers {{{


class Dispatcher:
    """A pool's coroutine jobs on its event loop: the workers that run them.

    A worker is an asyncio Task that runs coroutine jobs one after the other,
    as the seed's workers did. When its job ends, libtaskpool, told so, gives
    the freed slot to the next queued job at once: the worker takes that job
    in the same step. A worker that has no next job ends; a job that starts
    while no worker is ending one gets a new worker.
    """

    __slots__ = ('loop', 'workers', 'handoff', 'done', 'cancellable')

    def __init__(self, loop):
        self.loop = loop
        self.workers = set()
        self.handoff = None  # the worker whose job is completing, which takes the next one
        self.done = []       # jobs whose done callbacks are to run
        self.cancellable = None

    def start(self, job):
        worker = self.handoff
        if worker is not None and worker.next is None:
            worker.next = job
            return
        worker = _Worker(self)
        worker.next = job
        worker.task = self.loop.create_task(worker, name='taskpool worker')
        self.workers.add(worker)

    def call_done_callbacks(self, job):
        """Schedules the job's done callbacks: soon, in one loop callback with other jobs'."""
        if not self.done:
            try:
                self.loop.call_soon(self._run_done_callbacks)
            except RuntimeError:  # a closed loop runs no callback
                return
        self.done.append(job)

    def _run_done_callbacks(self):
        jobs = self.done
        self.done = []
        for index, job in enumerate(jobs):
            callbacks = job._take_done_callbacks()
            for position, (fn, context) in enumerate(callbacks):
                try:
                    context.run(fn, job)
                except (SystemExit, KeyboardInterrupt):
                    # As the loop's own callbacks: these end the loop, and what is left runs
                    # when it runs again
                    rest = callbacks[position + 1:]
                    if rest:
                        job._callback, job._callback_context = rest[0]
                        job._callbacks = rest[1:] or None
                    else:
                        index += 1
                    if jobs[index:]:
                        if not self.done:
                            self.loop.call_soon(self._run_done_callbacks)
                        self.done[:0] = jobs[index:]
                    raise
                except BaseException as exception:
                    self.loop.call_exception_handler({
                        'message': f'Exception in the done callback {fn!r} of a taskpool job',
                        'exception': exception,
                        'future': job,
                    })


class _Worker(collections.abc.Coroutine):
    """The coroutine of a worker's Task: steps the current job's coroutine, in the job's context.

    Each job runs in the context copied when it was submitted, as
    asyncio.create_task() would run it, and sees the worker's Task as
    `asyncio.current_task()`: `asyncio.timeout()` and TaskGroup work in it.
    Every job the worker takes ends exactly once, whatever is thrown into the
    Task.
    """

    __slots__ = ('dispatcher', 'task', 'next', '_job', '_coro', '_cancels', '_cancel_pending')

    def __init__(self, dispatcher):
        self.dispatcher = dispatcher
        self.task = None
        self.next = None
        self._job = None
        self._coro = None
        self._cancels = 0             # cancellations of the current job asked of the Task
        self._cancel_pending = False  # the last of them not thrown into the Task yet

    @property
    def job(self):
        """The job the worker runs, or None between two."""
        return self._job

    def cancel_job(self, job, msg):
        if job is self._job:
            self._cancels += 1
            self._cancel_pending = True
            self.task.cancel(msg=msg)

    def send(self, value):
        return self._step(value, None)

    def throw(self, typ, value=None, traceback=None):
        if isinstance(value, BaseException):
            exception = value
        elif isinstance(typ, BaseException):
            exception = typ
        else:
            exception = typ() if value is None else typ(value)
        if isinstance(exception, _CancelledError) and self._cancel_pending:
            self._cancel_pending = False
            if self._job is None:
                # Asked for a job that ended in the step that asked: not the next job's
                self._uncancel()
                return self._step(None, None)
        elif self._job is None:
            # Thrown into the worker's Task between two jobs: a cancellation of the Task
            # itself, which ends with it; another worker takes the next job
            self._leave()
            raise exception
        return self._step(None, exception)

    def close(self):
        if self._coro is not None:
            self._coro.close()

    def __await__(self):
        return self

    def __iter__(self):
        return self

    def __next__(self):
        return self.send(None)

    def _step(self, value, exception):
        started = None
        while True:
            job = self._job
            if job is None:
                if self._cancel_pending:
                    # Let the cancellation of the job that just ended reach the Task first
                    return None
                job = self.next
                if job is None:
                    self.dispatcher.workers.discard(self)
                    raise StopIteration
                if started is None:
                    started = _monotonic()
                elif _monotonic() - started > STEP_BUDGET:
                    return None  # a bare yield: the Task runs again after the loop's callbacks
                self.next = None
                if job.done() or job._interrupted:  # cancelled after the pool had started it
                    self._end(job, None, _CancelledError())
                    continue
                try:
                    # Calling a coroutine function runs none of its code: no context needed
                    coro = job._func(*job._args, **job._kwargs)
                    if type(coro) is not _CoroutineType:
                        coro = _awaiting(coro)
                except BaseException as failure:
                    self._end(job, None, failure)
                    continue
                self._job = job
                self._coro = coro
                job._worker = self
                value = exception = None
            try:
                if exception is None:
                    return job._context.run(self._coro.send, value)
                return job._context.run(self._coro.throw, exception)
            except StopIteration as stop:
                self._end(job, stop.value, None)
            except BaseException as failure:
                asked = self._end(job, None, failure)
                if not isinstance(failure, Exception) and \
                        not (asked and isinstance(failure, _CancelledError)):
                    # KeyboardInterrupt, SystemExit, or a cancellation of the Task itself:
                    # the Task ends with it, as any Task would
                    self._leave()
                    raise
            if self._task_cancelled():
                self._leave()
                raise _CancelledError()
            value = exception = None

    def _end(self, job, result, exception):
        """Ends a job; says whether it was cancelled through its future."""
        self._job = None
        self._coro = None
        asked = self._cancels > 0
        if asked and not self._cancel_pending:
            self._uncancel()
        dispatcher = self.dispatcher
        dispatcher.handoff = self
        try:
            job._finished(result, exception)
        finally:
            dispatcher.handoff = None
        return asked

    def _task_cancelled(self):
        """Whether the Task was cancelled, other than through a job's future, while the job that
        just ended ran, and nothing took the cancellation back (asyncio.timeout() and TaskGroup
        do): asyncio.run() cancels every Task when it ends, and a worker must end then."""
        if self._cancel_pending:
            return False
        cancelling = getattr(self.task, 'cancelling', None)  # Python 3.11
        return cancelling is not None and cancelling() > 0

    def _uncancel(self):
        uncancel = getattr(self.task, 'uncancel', None)  # Python 3.11: Task counts cancellations
        while self._cancels:
            self._cancels -= 1
            if uncancel is not None:
                uncancel()

    def _leave(self):
        """The Task ends on an exception of its own: another worker takes the next job."""
        self.dispatcher.workers.discard(self)
        job = self.next
        self.next = None
        if job is not None:
            self.dispatcher.start(job)


def _awaiting(awaitable):
    """What a worker steps: the coroutine, or the iterator of another awaitable."""
    if inspect.iscoroutine(awaitable):
        return awaitable
    if inspect.isawaitable(awaitable):
        return awaitable.__await__()
    raise TypeError(f'a coroutine function returned {type(awaitable).__name__}, '
                    f'which cannot be awaited')

# }}}

# Called by the pool {{{


def run_async(gtask, gpool, job, cancellable):
    """A coroutine job: called by the pool on the loop's thread when the job gets a worker."""
    if job.done():  # cancelled while it waited in the queue
        gtask.return_error(gerror_from_exception(_CancelledError()))
        return
    dispatcher = job._dispatcher
    if dispatcher.cancellable is None and not job._watch:
        # The pool's own cancellable, given to every job: keeping its wrapper spares
        # PyGObject making one per job
        dispatcher.cancellable = cancellable
    job._gtask = gtask
    if job._watch:
        # Its own cancellable: the pool cancels it at the run timeout, and calls this at once
        # if that has passed already
        cancellable.connect(functools.partial(_interrupt, job))
    try:
        dispatcher.start(job)
    except BaseException as exception:  # a closed loop
        job._finished(None, exception)


def _interrupt(job):
    """The pool cancelled a running coroutine job: on whichever thread cancelled it."""
    loop = job.get_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        _interrupt_in_loop(job)
    else:
        try:
            loop.call_soon_threadsafe(_interrupt_in_loop, job)
        except RuntimeError:  # a closed loop runs nothing: its pool is gone
            pass


def _interrupt_in_loop(job):
    if job._gtask is None or job.done():  # it ended meanwhile, or its awaiter cancelled it
        return
    job._interrupted = True
    worker = job._worker
    if worker is not None:
        worker.cancel_job(job, None)
    # Otherwise a worker has yet to take it, and ends it at once


def _refuse_awaitable(result, known):
    if inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()
        raise TypeError(f'{known.name}() is a plain function that returned an awaitable: declare '
                        f'it with async def so that the pool awaits it')
    return result


def run_in_thread(gtask, gpool, job, cancellable):
    """A thread job: called by the pool on one of its threads."""
    if job.done():
        gtask.return_error(gerror_from_exception(_CancelledError()))
        return
    job._gtask = gtask
    try:
        result = job._context.run(job._func, *job._args, **job._kwargs)
        if inspect.isawaitable(result):
            _refuse_awaitable(result, describe(job._func))
    except BaseException as raised:
        result, exception = None, raised
    else:
        exception = None
    if cancellable is not None and cancellable.is_cancelled():
        # The pool cancelled the job while it ran (its run timeout, or a close that cancels
        # running jobs), which a thread cannot see: what it ended with comes too late, and the
        # awaiter gets the pool's outcome
        job._interrupted = True
        cancelled = _CancelledError()
        cancelled.__context__ = exception
        job._finished(None, cancelled)
    else:
        job._finished(result, exception)


async def call_in_executor(executor, known, call):
    """An async job that runs a plain function in the pool's executor, as the seed did."""
    result = await asyncio.get_running_loop().run_in_executor(executor, call)
    return _refuse_awaitable(result, known)


def job_done(gpool, result, job):
    """The job's callback: the pool calls it exactly once per job, on the loop's context."""
    job._deliver(gpool, result)

# }}}

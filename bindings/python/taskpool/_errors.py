# SPDX-License-Identifier: LGPL-2.1-or-later
"""The exceptions of taskpool, and how a GLib.Error of libtaskpool becomes one."""

import asyncio

from gi.repository import Gio, GLib, TaskPool

__all__ = ['PoolError', 'NotAvailable', 'PoolFull', 'PoolClosed', 'ConfigError', 'QueueTimeout',
           'RunTimeout', 'exception_from_gerror', 'gerror_from_exception']

# asyncio.TimeoutError is the built-in TimeoutError since Python 3.11
_TIMEOUT_ERRORS = (TimeoutError,) if asyncio.TimeoutError is TimeoutError \
    else (TimeoutError, asyncio.TimeoutError)


class PoolError(Exception):
    """A pool could not run a job, or could not be made or started.

    `code` is the `TaskPool.PoolError` code of the `GLib.Error` the library
    reported, which is also the exception's `__cause__`; `None` when the
    package itself refused.
    """

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


class NotAvailable(PoolError):
    """The pool does not accept jobs: it is not started, paused or closed.

    The seed's name for a refused submission.
    """


class PoolFull(NotAvailable, asyncio.QueueFull):
    """`submit_nowait()` found the queue at its capacity (`queue_maxsize`)."""


class PoolClosed(PoolError):
    """The pool was closed with `discard_queued=True` before the job could start."""


class ConfigError(PoolError, ValueError):
    """An option of the pool is not valid for its kind, or the kind does not exist."""


class QueueTimeout(PoolError, *_TIMEOUT_ERRORS):
    """The job did not start within its `queue_timeout`: it never ran.

    A `TimeoutError` (`asyncio.TimeoutError`); `code` is
    `TaskPool.PoolError.TIMED_OUT` and `__cause__` the library's `GLib.Error`.
    """


class RunTimeout(*_TIMEOUT_ERRORS):
    """The job did not end within its `run_timeout`, and gave up when the pool cancelled it.

    A `TimeoutError` (`asyncio.TimeoutError`), as `asyncio.timeout()` raises:
    a coroutine job got `CancelledError` where it awaited and let it
    propagate; a thread job, which cannot be interrupted, ran to its end and
    what it returned or raised was dropped. `__cause__` is the library's
    `GLib.Error` (`Gio.IOErrorEnum.TIMED_OUT`), `__context__` the
    `CancelledError` the job ended with.
    """


_ERRORS = {
    TaskPool.PoolError.NOT_ACCEPTING: NotAvailable,
    TaskPool.PoolError.FULL: PoolFull,
    TaskPool.PoolError.CLOSED: PoolClosed,
    TaskPool.PoolError.PLUGIN: ConfigError,
    TaskPool.PoolError.CONFIG: ConfigError,
    TaskPool.PoolError.TIMED_OUT: QueueTimeout,
}
_POOL_DOMAIN = TaskPool.pool_error_quark()
_POOL_DOMAIN_NAME = GLib.quark_to_string(_POOL_DOMAIN)
_IO_DOMAIN = Gio.io_error_quark()


def exception_from_gerror(error, prefix=None):
    """The exception a Python caller gets for a GLib.Error of libtaskpool."""
    message = error.message if prefix is None else f'{prefix}: {error.message}'
    if error.matches(_IO_DOMAIN, Gio.IOErrorEnum.CANCELLED):
        exception = asyncio.CancelledError(message)
    elif error.matches(_IO_DOMAIN, Gio.IOErrorEnum.TIMED_OUT):
        exception = RunTimeout(message)
    elif error.domain == _POOL_DOMAIN_NAME:
        exception = _ERRORS.get(error.code, PoolError)(message, error.code)
    else:
        exception = PoolError(message)
    exception.__cause__ = error
    return exception


_CANCELLED = GLib.Error.new_literal(_IO_DOMAIN, 'The job was cancelled', Gio.IOErrorEnum.CANCELLED)


def gerror_from_exception(exception):
    """The GLib.Error a job's GTask fails with: the pool counts it as failed, or cancelled."""
    if isinstance(exception, asyncio.CancelledError):
        return _CANCELLED
    return GLib.Error.new_literal(_IO_DOMAIN, f'{type(exception).__name__}: {exception}',
                                  Gio.IOErrorEnum.FAILED)

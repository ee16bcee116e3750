# SPDX-License-Identifier: LGPL-2.1-or-later
"""asyncio on GLib's main loop: the pool's jobs and callbacks run where asyncio runs."""

import asyncio

try:
    import gbulb
    from gbulb.glib_events import GLibBaseEventLoop, GLibEventLoopPolicy
except ImportError as error:  # pragma: no cover - a packaging error, not a run-time one
    raise ImportError('taskpool needs gbulb, the asyncio event loop on GLib '
                      '(Debian and Ubuntu: python3-gbulb; PyPI: gbulb)') from error

from gi.repository import GLib

__all__ = ['install', 'glib_context', 'running_glib_loop']


def install():
    """Makes asyncio run its event loops on GLib's main context.

    Sets gbulb's event loop policy, so that `asyncio.run()` and
    `asyncio.new_event_loop()` make loops that iterate a GLib main context,
    the one the pools dispatch their jobs on. Nothing changes when asyncio
    already uses gbulb's policy, or an event loop policy of the application's
    own (then pools need a running gbulb loop, and say so when they get
    another).

    `import taskpool` calls it, so that a program written for asyncio's
    default loop runs unchanged.
    """
    policy = asyncio.get_event_loop_policy()
    if isinstance(policy, GLibEventLoopPolicy):
        return
    if type(policy) is not asyncio.DefaultEventLoopPolicy:
        return
    gbulb.install()


def glib_context(loop):
    """Returns the GLib main context that `loop` iterates, or raises RuntimeError."""
    context = getattr(loop, '_context', None) if isinstance(loop, GLibBaseEventLoop) else None
    if not isinstance(context, GLib.MainContext):
        raise RuntimeError(
            f'taskpool runs its jobs on GLib\'s main loop, and the event loop is a '
            f'{type(loop).__module__}.{type(loop).__qualname__}: import taskpool (or call '
            f'taskpool.install()) before the event loop is made, or run asyncio on gbulb\'s '
            f'GLibEventLoop yourself')
    return context


def running_glib_loop(what):
    """Returns the running event loop and its GLib context; `what` names the caller in errors."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError(f'{what} must be called from a coroutine or callback running in '
                           f'the event loop') from None
    return loop, glib_context(loop)

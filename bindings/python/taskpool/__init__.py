# SPDX-License-Identifier: LGPL-2.1-or-later
"""taskpool: limit how many asyncio jobs run at once, on libtaskpool.

The Python task pool's API — `AioFixedTaskPoolSimple()` … `AioAutoScaleTaskPoolPriority()`,
`async with`, `await pool.submit(func, func_args=[…])`, `scale`, `pause` — on libtaskpool's
pools, which do the queueing and the limiting in C. Coroutine functions run as asyncio Tasks on
the event loop, plain functions on the pool's threads.

asyncio runs on GLib's main loop (gbulb): importing this package makes asyncio's default event
loop policy gbulb's, unless the application chose a policy of its own (see `install()`).

New in libtaskpool 1.4.
"""

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Gio', '2.0')
gi.require_version('TaskPool', '1.0')

from ._loop import install  # noqa: E402
from ._errors import (ConfigError, NotAvailable, PoolClosed, PoolError, PoolFull,  # noqa: E402
                      QueueTimeout, RunTimeout)
from ._jobs import Job  # noqa: E402
from ._pool import Pool  # noqa: E402

__all__ = [
    'Pool', 'Job', 'install',
    'AioFixedTaskPoolSimple', 'AioFixedTaskPoolLifo', 'AioFixedTaskPoolPriority',
    'AioAutoScaleTaskPoolSimple', 'AioAutoScaleTaskPoolLifo', 'AioAutoScaleTaskPoolPriority',
    'PoolError', 'NotAvailable', 'PoolFull', 'PoolClosed', 'ConfigError', 'QueueTimeout',
    'RunTimeout',
]


def _seed_class(name, kind, doc):
    def __init__(self, **options):
        Pool.__init__(self, kind, **options)

    return type(name, (Pool,), {
        '__init__': __init__,
        '__doc__': f'{doc}: `taskpool.Pool("{kind}", **options)`, by the seed\'s name.',
        '__module__': __name__,
        '_kind': kind,
    })


AioFixedTaskPoolSimple = _seed_class(
    'AioFixedTaskPoolSimple', 'fixed-simple', 'A pool of a fixed size, first in first out')
AioFixedTaskPoolLifo = _seed_class(
    'AioFixedTaskPoolLifo', 'fixed-lifo', 'A pool of a fixed size, last in first out')
AioFixedTaskPoolPriority = _seed_class(
    'AioFixedTaskPoolPriority', 'fixed-priority', 'A pool of a fixed size, smallest weight first')
AioAutoScaleTaskPoolSimple = _seed_class(
    'AioAutoScaleTaskPoolSimple', 'autoscale-simple',
    'A pool that scales itself, first in first out')
AioAutoScaleTaskPoolLifo = _seed_class(
    'AioAutoScaleTaskPoolLifo', 'autoscale-lifo', 'A pool that scales itself, last in first out')
AioAutoScaleTaskPoolPriority = _seed_class(
    'AioAutoScaleTaskPoolPriority', 'autoscale-priority',
    'A pool that scales itself, smallest weight first')

install()

#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The pool's mutex is released only by tp_pool_unlock() (core/tp-pool-lock.c):
# an unlock that skipped it would leave waiters unsettled and notifications
# unrequested. Fails on any other release of a pool's mutex in core/.
set -eu
core="$1/core"
# The units of the pool are the files that include its private header
units=$(grep -l '#include "tp-pool-private.h"' "$core"/*.c | grep -v '/tp-pool-lock.c$')
found=$(grep -n 'g_mutex_\(unlock\|trylock\) (&[a-z_]*\(->\|\.\)mutex)\|GMutexLocker' $units || true)
if [ -n "$found" ]; then
  echo "The pool's mutex is released outside tp_pool_unlock():"
  echo "$found"
  exit 1
fi
count=$(grep -c 'g_mutex_unlock (&self->mutex)' "$core/tp-pool-lock.c")
if [ "$count" -ne 1 ]; then
  echo "tp_pool_unlock() should release the mutex exactly once, found $count"
  exit 1
fi
echo "ok: the pool's mutex is released only by tp_pool_unlock()"

/* tp-pool-lock.c: the pool's lock, and what every unlock does
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One mutex protects a pool's state (doc/threading.md says what, file by
 * file). It is taken with tp_pool_lock() and released with tp_pool_unlock()
 * only (both inline, in tp-pool-private.h): a change of state may have satisfied a waiter (a close, a scale, a
 * wait for idle) or changed a notified property, and the unlock is where
 * both are seen to, whoever changed what. Waiters complete after the mutex
 * is released, so that their callbacks may call into the pool.
 */

#include "config.h"

#include <string.h>

#include "tp-pool-private.h"

gboolean
tp_pool_is_idle_locked (TpPool *self)
{
  return self->running == 0 && self->n_queued == 0 && self->n_held == 0 &&
         self->backlog.length == 0 && self->n_handing == 0;
}

static gboolean
tp_pool_has_waiters_locked (TpPool *self)
{
  return self->close_tasks != NULL || self->idle_tasks != NULL || self->scale_tasks != NULL;
}

static gboolean
tp_pool_notify_due_locked (TpPool *self)
{
  guint64 figures[TP_POOL_N_NOTIFY];

  tp_pool_read_figures_locked (self, figures);
  return memcmp (figures, self->notified, sizeof figures) != 0;
}

/* Settles the waiters this change satisfied, asks the pool's source to
 * notify what changed, releases the mutex, then completes the waiters.
 * tp_pool_unlock() comes here unless nobody waits and a notification is
 * already due (the pool's source then compares everything itself). */
void
tp_pool_unlock_slow (TpPool *self)
{
  TpPoolDone done = { NULL, NULL };

  if (tp_pool_has_waiters_locked (self))
    tp_pool_settle_locked (self, &done);
  if (tp_pool_notify_due_locked (self))
    tp_pool_request_flush_locked (self);

  g_mutex_unlock (&self->mutex);

  if (done.tasks != NULL || done.closed_tasks != NULL)
    tp_pool_complete_waiters (&done);
}

/* tp-scaling.c: how many workers a pool has, and when that changes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A pool heads for its target size. tp_pool_scale() moves the target by
 * hand; the scaling strategy's `decide` moves it when it is asked: when a job
 * must wait while the pool can still grow, when a worker goes idle, and when
 * the delay it asked for has passed (the pool's source wakes for it). New
 * workers take queued jobs at once; idle workers retire at once, busy ones
 * when their job ends (tp_pool_release_locked() in tp-dispatch.c).
 */

#include "config.h"

#include "tp-pool-private.h"
#include "tp-registry-private.h"

#define TP_CONSULT_ROUNDS 64

/* A scaler that keeps the size and asks again at once would have the pool
 * ask it in a loop: it waits this long at least */
#define TP_CONSULT_MIN_DELAY_US 1000

/* When a worker went idle, or the queue began to wait; only strategies that
 * decide read it */
gint64
tp_pool_idle_stamp (TpPool *self)
{
  return self->scale_vt->decide != NULL ? g_get_monotonic_time () : 0;
}

void
tp_pool_set_target_locked (TpPool *self,
                           guint   target)
{
  gint64 now;

  self->target = target;
  if (self->state != TP_POOL_RUNNING && self->state != TP_POOL_CLOSING)
    return;

  if (target > self->n_workers)
    {
      now = tp_pool_idle_stamp (self);
      while (self->n_workers < target)
        {
          tp_idle_ring_push_newest (&self->idle, now);
          self->n_workers++;
        }
      tp_pool_fill_locked (self, NULL);
    }
  else
    {
      /* Idle workers retire at once, the longest idle first; busy ones when
       * their job ends (tp_pool_release_locked()). */
      while (self->n_workers > target && self->idle.count > 0)
        {
          tp_idle_ring_drop_oldest (&self->idle);
          self->n_workers--;
        }
    }
  tp_pool_request_flush_locked (self);
}

static void
tp_pool_fill_stats_locked (TpPool       *self,
                           TpScaleStats *stats)
{
  gint64 oldest_idle = tp_idle_ring_oldest (&self->idle);

  stats->struct_size = sizeof (TpScaleStats);
  stats->now = g_get_monotonic_time ();
  stats->size = self->n_workers;
  stats->target = self->target;
  stats->running = self->running;
  /* Jobs that no worker could start now (the pool held, a gate holding
   * every job) are no reason to grow */
  stats->waiting = tp_pool_may_start_locked (self) ? self->n_queued : 0;
  stats->backlog = self->backlog.length;
  stats->idle_workers = self->idle.count;
  stats->min_size = self->limits.min_size;
  stats->max_size = self->limits.max_size;
  stats->oldest_wait_us = stats->waiting > 0 && self->waiting_since > 0
                           ? stats->now - self->waiting_since : 0;
  stats->longest_idle_us = self->idle.count > 0 ? stats->now - oldest_idle : 0;
  stats->submitted = self->next_sequence;
  stats->completed = self->completed;
}

/* When to ask the scaler again, as it asked: -1 for never, a delay from
 * @now otherwise, saturated (a delay of G_MAXINT64 is never too), and not at
 * once when the answer changed nothing. A negative delay other than -1 is a
 * plugin bug: reported once, taken as -1. */
static gint64
tp_pool_next_check (TpPool   *self,
                    gint64    now,
                    gint64    delay_us,
                    gboolean  unchanged)
{
  if (delay_us == -1)
    return -1;
  if (G_UNLIKELY (delay_us < 0))
    {
      if (!self->scaler_broken)
        {
          g_autofree char *who = tp_registry_describe_strategy (self->scale_vt);

          self->scaler_broken = TRUE;
          g_log (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL,
                 "%s: %s asked to be consulted again after %" G_GINT64_FORMAT " µs: a broken "
                 "scaling strategy (a delay is -1 or positive); taken as -1",
                 tp_pool_where (self), who != NULL ? who : self->scale_vt->name, delay_us);
        }
      return -1;
    }
  if (unchanged)
    delay_us = MAX (delay_us, TP_CONSULT_MIN_DELAY_US);
  return delay_us > G_MAXINT64 - now ? G_MAXINT64 : now + delay_us;
}

/* Queued jobs that may start now wait for a worker, after something let
 * them start again (a gate opened): the scaler may want the pool larger */
void
tp_pool_consult_if_waiting_locked (TpPool *self)
{
  if (self->n_queued > 0 && self->idle.count == 0 && tp_pool_may_start_locked (self) &&
      self->target < self->limits.max_size)
    tp_pool_consult_locked (self);
}

/* Asks the scaling strategy for a size and applies it, again while its
 * answer changes (a strategy may retire one worker per answer). */
void
tp_pool_consult_locked (TpPool *self)
{
  if ((self->state != TP_POOL_RUNNING && self->state != TP_POOL_CLOSING) ||
      self->scale_vt->decide == NULL)
    return;

  for (guint round = 0; round < TP_CONSULT_ROUNDS; round++)
    {
      TpScaleStats stats;
      gint64 next_check_us = -1;
      guint wanted;

      tp_pool_fill_stats_locked (self, &stats);
      wanted = self->scale_vt->decide (self->scaler, &stats, &next_check_us);
      wanted = CLAMP (wanted, self->limits.min_size, self->limits.max_size);

      if (wanted == self->target)
        {
          self->next_check = tp_pool_next_check (self, stats.now, next_check_us, TRUE);
          break;
        }
      self->next_check = tp_pool_next_check (self, stats.now, next_check_us, FALSE);
      tp_pool_set_target_locked (self, wanted);
    }
  tp_pool_update_source_locked (self);
}

/**
 * tp_pool_scale:
 * @self: a pool
 * @delta: workers to add, or to retire when negative
 *
 * Changes the pool's target size by @delta, clamped to
 * `[min-size, max-size]`. New workers start queued jobs at once; retiring
 * workers never interrupt a job: idle ones go first, busy ones when their
 * job ends. Before [method@TaskPool.Pool.start], sets the size the pool
 * will start with. Thread-safe.
 *
 * Returns: the new target size; 0 for a pool that cannot be initialized
 *   (its error is reported by [method@TaskPool.Pool.start])
 *
 * Since: 1.0
 */
int
tp_pool_scale (TpPool *self,
               int     delta)
{
  gint64 target;

  g_return_val_if_fail (TP_IS_POOL (self), 0);

  if (!tp_pool_ensure_initialized (self, NULL))
    return 0;

  tp_pool_lock (self);
  target = (gint64) self->target + delta;
  target = CLAMP (target, (gint64) self->limits.min_size, (gint64) self->limits.max_size);
  if (target == 0 && self->state == TP_POOL_CLOSING && !tp_pool_is_idle_locked (self))
    target = 1;  /* a draining pool keeps a worker */
  tp_pool_set_target_locked (self, (guint) target);
  tp_pool_consult_locked (self);
  target = self->target;
  tp_pool_unlock (self);

  return (int) target;
}

/**
 * tp_pool_scale_async:
 * @self: a pool
 * @delta: workers to add, or to retire when negative
 * @cancellable: (nullable): stops waiting at once with %G_IO_ERROR_CANCELLED;
 *   the scaling itself stays
 * @callback: (scope async): called when the live size reached the target
 * @user_data: (closure callback): data for @callback
 *
 * Like [method@TaskPool.Pool.scale], and completes once the live size has
 * reached the target: once the busy workers that retire finished their jobs.
 * A pool that is not started has no live size to reach: the scaling fails
 * with %TP_POOL_ERROR_NOT_ACCEPTING and changes nothing (use
 * [method@TaskPool.Pool.scale] to set the starting size). A pool that
 * closes before the size is reached fails it with %TP_POOL_ERROR_CLOSED.
 *
 * Since: 1.0
 */
void
tp_pool_scale_async (TpPool              *self,
                     int                  delta,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TP_IS_POOL (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = tp_pool_new_waiter (self, tp_pool_scale_async, cancellable, callback, user_data);

  /* Without workers there is nothing to wait for, and a waiter would keep
   * a pool that is never started alive */
  tp_pool_lock (self);
  if (self->state == TP_POOL_NEW)
    {
      tp_pool_unlock (self);
      g_task_return_new_error (task, TP_POOL_ERROR, TP_POOL_ERROR_NOT_ACCEPTING,
                               "The pool is not started: call tp_pool_start() before "
                               "tp_pool_scale_async(), or tp_pool_scale() to set the size "
                               "it starts with");
      return;
    }
  tp_pool_unlock (self);

  tp_pool_scale (self, delta);

  /* A pool that closes from now on fails the waiter in tp_pool_settle_locked() */
  tp_pool_lock (self);
  tp_pool_add_waiter_locked (self, &self->scale_tasks, task);
  tp_pool_unlock (self);
  tp_pool_watch_waiter (self, g_steal_pointer (&task));
}

/**
 * tp_pool_scale_finish:
 * @self: a pool
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@TaskPool.Pool.scale_async].
 *
 * Returns: the live size reached, or -1 with @error set
 *
 * Since: 1.0
 */
int
tp_pool_scale_finish (TpPool        *self,
                      GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (TP_IS_POOL (self), -1);
  g_return_val_if_fail (g_task_is_valid (result, self), -1);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tp_pool_scale_async, -1);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return -1;
  return (int) tp_pool_get_size (self);
}

/* tp-pool-getters.c: what a pool reports
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The public getters, each a consistent snapshot under the pool's lock
 * (the construct-time ones read without it), and the private ones the
 * tests and the benchmark use.
 */

#include "config.h"

#include "tp-pool-private.h"

/* Getters {{{ */

/**
 * tp_pool_get_kind:
 * @self: a pool
 *
 * Gets the pool's kind.
 *
 * Returns: (transfer none): the kind, such as `fixed-simple`
 *
 * Since: 1.0
 */
const char *
tp_pool_get_kind (TpPool *self)
{
  g_return_val_if_fail (TP_IS_POOL (self), NULL);

  return self->kind;
}

/**
 * tp_pool_get_size:
 * @self: a pool
 *
 * Gets the live workers; before start, the workers the pool will start
 * with; 0 once closed. Thread-safe.
 *
 * Returns: the number of workers
 *
 * Since: 1.0
 */
guint
tp_pool_get_size (TpPool *self)
{
  gboolean initialized;
  guint value;

  g_return_val_if_fail (TP_IS_POOL (self), 0);

  /* A pool that cannot be initialized reads the size it was given */
  initialized = tp_pool_ensure_initialized (self, NULL);
  tp_pool_lock (self);
  if (self->state != TP_POOL_NEW)
    value = self->n_workers;
  else
    value = initialized ? self->target : self->limits.size;
  tp_pool_unlock (self);
  return value;
}

/**
 * tp_pool_get_target_size:
 * @self: a pool
 *
 * Gets the size the pool is heading for; it differs from the live size
 * while busy workers wait for their jobs to end before they retire.
 * Thread-safe.
 *
 * Returns: the target size
 *
 * Since: 1.0
 */
guint
tp_pool_get_target_size (TpPool *self)
{
  guint value;

  g_return_val_if_fail (TP_IS_POOL (self), 0);

  /* Known once the scaling strategy filled in its defaults */
  tp_pool_ensure_initialized (self, NULL);
  tp_pool_lock (self);
  value = self->target;
  tp_pool_unlock (self);
  return value;
}

/**
 * tp_pool_get_running:
 * @self: a pool
 *
 * Gets the jobs that own a worker. Thread-safe.
 *
 * Returns: the number of running jobs
 *
 * Since: 1.0
 */
guint
tp_pool_get_running (TpPool *self)
{
  guint value;

  g_return_val_if_fail (TP_IS_POOL (self), 0);

  tp_pool_lock (self);
  value = self->running;
  tp_pool_unlock (self);
  return value;
}

/**
 * tp_pool_get_waiting:
 * @self: a pool
 *
 * Gets the jobs that wait to start: in the queue, or held by a gate (such
 * as a limit per key). It is the pool's own count, the figure
 * #TpPool:waiting notifies. Submissions that wait for room in a full queue
 * are not among them: see [method@TaskPool.Pool.get_backlog]. Thread-safe.
 *
 * Returns: the number of waiting jobs
 *
 * Since: 1.0
 */
guint
tp_pool_get_waiting (TpPool *self)
{
  guint value;

  g_return_val_if_fail (TP_IS_POOL (self), 0);

  tp_pool_lock (self);
  value = self->n_queued + self->n_held;
  tp_pool_unlock (self);
  return value;
}

/**
 * tp_pool_get_backlog:
 * @self: a pool
 *
 * Gets the submissions waiting for room in a full queue (back-pressure):
 * they are not yet queued, and not counted by
 * [method@TaskPool.Pool.get_waiting]. Thread-safe.
 *
 * Returns: the number of submissions waiting for room
 *
 * Since: 1.0
 */
guint
tp_pool_get_backlog (TpPool *self)
{
  guint value;

  g_return_val_if_fail (TP_IS_POOL (self), 0);

  tp_pool_lock (self);
  value = self->backlog.length;
  tp_pool_unlock (self);
  return value;
}

/**
 * tp_pool_get_min_size:
 * @self: a pool
 *
 * Gets the smallest size scaling may reach.
 *
 * Returns: the minimum size
 *
 * Since: 1.0
 */
guint
tp_pool_get_min_size (TpPool *self)
{
  guint value;

  g_return_val_if_fail (TP_IS_POOL (self), 0);

  /* Known once the scaling strategy filled in its defaults */
  tp_pool_ensure_initialized (self, NULL);
  tp_pool_lock (self);
  value = self->limits.min_size;
  tp_pool_unlock (self);
  return value;
}

/**
 * tp_pool_get_max_size:
 * @self: a pool
 *
 * Gets the largest size scaling may reach.
 *
 * Returns: the maximum size
 *
 * Since: 1.0
 */
guint
tp_pool_get_max_size (TpPool *self)
{
  guint value;

  g_return_val_if_fail (TP_IS_POOL (self), 0);

  /* Known once the scaling strategy filled in its defaults */
  tp_pool_ensure_initialized (self, NULL);
  tp_pool_lock (self);
  value = self->limits.max_size;
  tp_pool_unlock (self);
  return value;
}

/**
 * tp_pool_get_queue_capacity:
 * @self: a pool
 *
 * Gets how many jobs may be queued.
 *
 * Returns: the capacity, 0 for no limit
 *
 * Since: 1.0
 */
guint
tp_pool_get_queue_capacity (TpPool *self)
{
  guint value;

  g_return_val_if_fail (TP_IS_POOL (self), 0);

  tp_pool_lock (self);
  value = self->queue_capacity;
  tp_pool_unlock (self);
  return value;
}

/**
 * tp_pool_get_default_weight:
 * @self: a pool
 *
 * Gets the weight of jobs submitted without one.
 *
 * Returns: the default weight
 *
 * Since: 1.0
 */
int
tp_pool_get_default_weight (TpPool *self)
{
  g_return_val_if_fail (TP_IS_POOL (self), 0);

  return self->default_weight;
}

/**
 * tp_pool_get_executor:
 * @self: a pool
 *
 * Gets what runs thread jobs.
 *
 * Returns: (transfer none): `threads` or `gtask`
 *
 * Since: 1.0
 */
const char *
tp_pool_get_executor (TpPool *self)
{
  g_return_val_if_fail (TP_IS_POOL (self), NULL);

  return self->executor;
}

/**
 * tp_pool_get_main_context:
 * @self: a pool
 *
 * Gets the context async jobs run on.
 *
 * Returns: (transfer none): the pool's main context
 *
 * Since: 1.0
 */
GMainContext *
tp_pool_get_main_context (TpPool *self)
{
  g_return_val_if_fail (TP_IS_POOL (self), NULL);

  return self->context;
}

/**
 * tp_pool_get_paused:
 * @self: a pool
 *
 * Gets whether the pool is paused. Thread-safe.
 *
 * Returns: %TRUE if paused
 *
 * Since: 1.0
 */
gboolean
tp_pool_get_paused (TpPool *self)
{
  gboolean paused;

  g_return_val_if_fail (TP_IS_POOL (self), FALSE);

  tp_pool_lock (self);
  paused = self->paused;
  tp_pool_unlock (self);
  return paused;
}

/**
 * tp_pool_get_closed:
 * @self: a pool
 *
 * Gets whether the pool was closed: %TRUE from the call to
 * [method@TaskPool.Pool.close_async] on. Thread-safe.
 *
 * Returns: %TRUE if closing or closed
 *
 * Since: 1.0
 */
gboolean
tp_pool_get_closed (TpPool *self)
{
  gboolean closed;

  g_return_val_if_fail (TP_IS_POOL (self), FALSE);

  tp_pool_lock (self);
  closed = tp_pool_is_closing_locked (self);
  tp_pool_unlock (self);
  return closed;
}

/**
 * tp_pool_get_held:
 * @self: a pool
 *
 * Gets whether the pool is held: it accepts jobs but starts none.
 * Thread-safe.
 *
 * Returns: %TRUE if held
 *
 * Since: 1.2
 */
gboolean
tp_pool_get_held (TpPool *self)
{
  gboolean held;

  g_return_val_if_fail (TP_IS_POOL (self), FALSE);

  tp_pool_lock (self);
  held = self->held;
  tp_pool_unlock (self);
  return held;
}

/**
 * tp_pool_get_queue_timeout:
 * @self: a pool
 *
 * Gets how long a job may wait before it starts, unless its options say.
 *
 * Returns: the timeout in milliseconds, 0 for none
 *
 * Since: 1.2
 */
guint
tp_pool_get_queue_timeout (TpPool *self)
{
  g_return_val_if_fail (TP_IS_POOL (self), 0);

  tp_pool_ensure_initialized (self, NULL);
  return self->queue_timeout_ms;
}

/**
 * tp_pool_get_run_timeout:
 * @self: a pool
 *
 * Gets how long a job may run before it is cancelled, unless its options
 * say.
 *
 * Returns: the timeout in milliseconds, 0 for none
 *
 * Since: 1.2
 */
guint
tp_pool_get_run_timeout (TpPool *self)
{
  g_return_val_if_fail (TP_IS_POOL (self), 0);

  tp_pool_ensure_initialized (self, NULL);
  return self->run_timeout_ms;
}

/**
 * tp_pool_get_gates:
 * @self: a pool
 *
 * Gets the names of the pool's gates, in the order jobs pass them.
 *
 * Returns: (transfer none) (array zero-terminated=1) (nullable): the gates,
 *   or %NULL for none
 *
 * Since: 1.2
 */
const char * const *
tp_pool_get_gates (TpPool *self)
{
  g_return_val_if_fail (TP_IS_POOL (self), NULL);

  tp_pool_ensure_initialized (self, NULL);
  return (const char * const *) self->gate_names;
}

/**
 * tp_pool_get_n_submitted:
 * @self: a pool
 *
 * Gets the submissions made to the pool, accepted or refused: see [property@TaskPool.Pool:submitted]. Thread-safe.
 *
 * Returns: the count since the pool was made
 *
 * Since: 1.4
 */
guint64
tp_pool_get_n_submitted (TpPool *self)
{
  guint64 value;

  g_return_val_if_fail (TP_IS_POOL (self), 0);

  tp_pool_lock (self);
  value = self->counts[TP_POOL_COUNT_SUBMITTED];
  tp_pool_unlock (self);
  return value;
}

/**
 * tp_pool_get_n_succeeded:
 * @self: a pool
 *
 * Gets the jobs that completed with a result: see [property@TaskPool.Pool:succeeded]. Thread-safe.
 *
 * Returns: the count since the pool was made
 *
 * Since: 1.4
 */
guint64
tp_pool_get_n_succeeded (TpPool *self)
{
  guint64 value;

  g_return_val_if_fail (TP_IS_POOL (self), 0);

  tp_pool_lock (self);
  value = self->counts[TP_POOL_COUNT_SUCCEEDED];
  tp_pool_unlock (self);
  return value;
}

/**
 * tp_pool_get_n_failed:
 * @self: a pool
 *
 * Gets the submissions that failed, but for a cancellation or a timeout: see [property@TaskPool.Pool:failed]. Thread-safe.
 *
 * Returns: the count since the pool was made
 *
 * Since: 1.4
 */
guint64
tp_pool_get_n_failed (TpPool *self)
{
  guint64 value;

  g_return_val_if_fail (TP_IS_POOL (self), 0);

  tp_pool_lock (self);
  value = self->counts[TP_POOL_COUNT_FAILED];
  tp_pool_unlock (self);
  return value;
}

/**
 * tp_pool_get_n_cancelled:
 * @self: a pool
 *
 * Gets the submissions that were cancelled: see [property@TaskPool.Pool:cancelled]. Thread-safe.
 *
 * Returns: the count since the pool was made
 *
 * Since: 1.4
 */
guint64
tp_pool_get_n_cancelled (TpPool *self)
{
  guint64 value;

  g_return_val_if_fail (TP_IS_POOL (self), 0);

  tp_pool_lock (self);
  value = self->counts[TP_POOL_COUNT_CANCELLED];
  tp_pool_unlock (self);
  return value;
}

/**
 * tp_pool_get_n_timed_out:
 * @self: a pool
 *
 * Gets the jobs that timed out, waiting or running: see [property@TaskPool.Pool:timed-out]. Thread-safe.
 *
 * Returns: the count since the pool was made
 *
 * Since: 1.4
 */
guint64
tp_pool_get_n_timed_out (TpPool *self)
{
  guint64 value;

  g_return_val_if_fail (TP_IS_POOL (self), 0);

  tp_pool_lock (self);
  value = self->counts[TP_POOL_COUNT_TIMED_OUT];
  tp_pool_unlock (self);
  return value;
}

guint64
tp_pool_get_submitted (TpPool *self)
{
  guint64 value;

  tp_pool_lock (self);
  value = self->next_sequence;
  tp_pool_unlock (self);
  return value;
}

guint64
tp_pool_get_completed (TpPool *self)
{
  guint64 value;

  tp_pool_lock (self);
  value = self->completed;
  tp_pool_unlock (self);
  return value;
}

guint64
tp_pool_get_dispatches (TpPool *self)
{
  guint64 value;

  tp_pool_lock (self);
  value = self->dispatches;
  tp_pool_unlock (self);
  return value;
}

gint64
tp_pool_get_ready_time (TpPool *self)
{
  gint64 value;

  tp_pool_lock (self);
  value = self->ready_time;
  tp_pool_unlock (self);
  return value;
}

/* }}} */

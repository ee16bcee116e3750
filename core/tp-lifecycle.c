/* tp-lifecycle.c: start, pause and resume, close, wait for idle
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * new → start (workers, submissions accepted) → pause/resume (submissions
 * refused, then accepted again; queued and running jobs go on) → close
 * (closing: no submission accepted again; queued jobs drain, or are
 * discarded) → closed, once no job is left.
 */

#include "config.h"

#include "tp-pool-private.h"

/**
 * tp_pool_start:
 * @self: a pool
 * @error: return location for a #GError
 *
 * Creates the workers and starts accepting jobs. Starting a running pool
 * does nothing; a closed pool cannot start again. A pool made with
 * g_object_new() and never initialized with g_initable_init() is
 * initialized here.
 *
 * Returns: %TRUE if the pool runs, %FALSE with %TP_POOL_ERROR_CLOSED, or the
 *   error of its initialization (%TP_POOL_ERROR_CONFIG, %TP_POOL_ERROR_PLUGIN)
 *
 * Since: 1.0
 */
gboolean
tp_pool_start (TpPool  *self,
               GError **error)
{
  gboolean running;

  g_return_val_if_fail (TP_IS_POOL (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!tp_pool_ensure_initialized (self, error))
    return FALSE;

  tp_pool_lock (self);
  if (self->state != TP_POOL_NEW)
    {
      running = self->state == TP_POOL_RUNNING;
      tp_pool_unlock (self);
      if (!running)
        g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CLOSED,
                     "The pool was closed: a closed pool cannot start again");
      return running;
    }

  self->state = TP_POOL_RUNNING;
  tp_pool_start_executor_locked (self);
  tp_pool_set_target_locked (self, self->target);
  tp_pool_consult_locked (self);
  tp_pool_unlock (self);
  return TRUE;
}

/* Pausing or resuming a pool that closes is a race the caller cannot
 * avoid (another thread may close it at any time): a no-op, not an error.
 * Before start it is a programming error. */
static void
tp_pool_set_paused (TpPool   *self,
                    gboolean  paused)
{
  TpPoolState state;

  tp_pool_lock (self);
  state = self->state;
  if (state == TP_POOL_RUNNING)
    self->paused = paused;
  tp_pool_unlock (self);

  if (state == TP_POOL_NEW)
    g_log (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL,
           "%s: the pool is not started: only a running pool can be paused or resumed",
           paused ? "tp_pool_pause" : "tp_pool_resume");
}

/**
 * tp_pool_pause:
 * @self: a started pool
 *
 * Stops accepting jobs: submissions fail with %TP_POOL_ERROR_NOT_ACCEPTING
 * until [method@TaskPool.Pool.resume]. Queued and running jobs go on.
 * On a closing or closed pool it does nothing (it accepts no job anyway).
 * Thread-safe.
 *
 * Since: 1.0
 */
void
tp_pool_pause (TpPool *self)
{
  g_return_if_fail (TP_IS_POOL (self));

  tp_pool_set_paused (self, TRUE);
}

/**
 * tp_pool_resume:
 * @self: a started pool
 *
 * Accepts jobs again after [method@TaskPool.Pool.pause]. On a closing or
 * closed pool it does nothing: a closed pool never accepts again.
 * Thread-safe.
 *
 * Since: 1.0
 */
void
tp_pool_resume (TpPool *self)
{
  g_return_if_fail (TP_IS_POOL (self));

  tp_pool_set_paused (self, FALSE);
}

/* The labelled jobs that wait in the queue or the backlog show @state: held
 * while the pool is held, queued otherwise (jobs a gate holds stay held) */
static void
tp_pool_show_waiting_locked (TpPool     *self,
                             TpJobState  state)
{
  TpJobList *lists[] = { &self->queue.jobs, &self->backlog };

  for (guint i = 0; i < G_N_ELEMENTS (lists); i++)
    for (TpJob *job = lists[i]->head; job != NULL; job = job->next)
      {
        if (G_UNLIKELY (job->limited) && job->extra->info != NULL)
          tp_pool_info_set_state_locked (self, job, state);
      }
}

/**
 * tp_pool_hold:
 * @self: a pool
 *
 * Starts no job until [method@TaskPool.Pool.unhold]: submissions are still
 * accepted and queued (the seed's pause, kept as [method@TaskPool.Pool.pause],
 * refuses them instead). Running jobs go on. Jobs that wait while the pool is
 * held still time out, can be cancelled, and are discarded by a close; a
 * draining close waits until the pool is unheld. Holding a held pool does
 * nothing. Thread-safe.
 *
 * Since: 1.2
 */
void
tp_pool_hold (TpPool *self)
{
  g_return_if_fail (TP_IS_POOL (self));

  tp_pool_lock (self);
  if (!self->held)
    {
      self->held = TRUE;
      tp_pool_show_waiting_locked (self, TP_JOB_STATE_HELD);
    }
  tp_pool_unlock (self);
}

/**
 * tp_pool_unhold:
 * @self: a pool
 *
 * Starts jobs again after [method@TaskPool.Pool.hold], in the queue's order:
 * a pool made held and unheld once its jobs are queued runs its first ones
 * in strict queue order (by weight in a priority pool). Thread-safe.
 *
 * Since: 1.2
 */
void
tp_pool_unhold (TpPool *self)
{
  g_return_if_fail (TP_IS_POOL (self));

  tp_pool_lock (self);
  if (self->held)
    {
      self->held = FALSE;
      tp_pool_show_waiting_locked (self, TP_JOB_STATE_QUEUED);
      tp_pool_fill_locked (self, NULL);
      if (self->n_queued > 0 && self->target < self->limits.max_size)
        tp_pool_consult_locked (self);
    }
  tp_pool_unlock (self);
}

static GPtrArray *
tp_pool_running_cancellables_locked (TpPool *self)
{
  GPtrArray *cancellables = g_ptr_array_new_with_free_func (g_object_unref);

  for (TpJob *job = self->active.head; job != NULL; job = job->next)
    {
      GCancellable *cancellable = tp_job_get_run_cancellable (job);

      if (!g_ptr_array_find (cancellables, cancellable, NULL))
        g_ptr_array_add (cancellables, g_object_ref (cancellable));
    }
  return cancellables;
}

/**
 * tp_pool_close_async:
 * @self: a pool
 * @flags: what happens to queued and running jobs
 * @cancellable: (nullable): stops waiting at once with %G_IO_ERROR_CANCELLED;
 *   the pool still closes
 * @callback: (scope async): called when no job is left
 * @user_data: (closure callback): data for @callback
 *
 * Stops accepting jobs for good, then by default drains: every queued job
 * runs, then the workers retire. %TP_CLOSE_DISCARD_QUEUED completes queued
 * jobs with %TP_POOL_ERROR_CLOSED instead; %TP_CLOSE_CANCEL_RUNNING also
 * cancels running jobs' cancellables. Closing again with stronger flags
 * escalates; every close completes when no job is left.
 *
 * @callback runs after the callbacks of every job submitted from the same
 * context: a program that awaits the close has every job's outcome.
 *
 * Since: 1.0
 */
void
tp_pool_close_async (TpPool              *self,
                     TpCloseFlags         flags,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  TpJobList discarded = { NULL, NULL, 0 };
  g_autoptr(GPtrArray) cancellables = NULL;
  GTask *task;
  TpJob *job;

  g_return_if_fail (TP_IS_POOL (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  if (flags & TP_CLOSE_CANCEL_RUNNING)
    flags |= TP_CLOSE_DISCARD_QUEUED;

  task = tp_pool_new_waiter (self, tp_pool_close_async, cancellable, callback, user_data);

  tp_pool_lock (self);
  if (self->state == TP_POOL_NEW || self->state == TP_POOL_RUNNING)
    self->state = TP_POOL_CLOSING;
  self->close_flags |= flags;

  if (flags & TP_CLOSE_DISCARD_QUEUED)
    tp_pool_discard_locked (self, &discarded);
  else if (self->target == 0 && !tp_pool_is_idle_locked (self))
    tp_pool_set_target_locked (self, 1);  /* draining needs a worker */
  if (flags & TP_CLOSE_CANCEL_RUNNING)
    cancellables = tp_pool_running_cancellables_locked (self);

  tp_pool_add_waiter_locked (self, &self->close_tasks, task);
  tp_pool_unlock (self);
  tp_pool_watch_waiter (self, task);

  while ((job = tp_job_list_pop_head (&discarded)) != NULL)
    tp_job_fail (job, TP_POOL_ERROR, TP_POOL_ERROR_CLOSED,
                 "The pool was closed before the job could run");

  for (guint i = 0; cancellables != NULL && i < cancellables->len; i++)
    g_cancellable_cancel (cancellables->pdata[i]);
}

/**
 * tp_pool_close_finish:
 * @self: a pool
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@TaskPool.Pool.close_async].
 *
 * Returns: %TRUE once the pool is closed
 *
 * Since: 1.0
 */
gboolean
tp_pool_close_finish (TpPool        *self,
                      GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (TP_IS_POOL (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tp_pool_close_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * tp_pool_wait_idle_async:
 * @self: a pool
 * @cancellable: (nullable): stops waiting at once with %G_IO_ERROR_CANCELLED
 * @callback: (scope async): called when no job is queued or running
 * @user_data: (closure callback): data for @callback
 *
 * Waits until the pool has no job queued, waiting for room or running.
 * @callback runs after the callbacks of the jobs submitted from the same
 * context that completed meanwhile.
 *
 * Since: 1.0
 */
void
tp_pool_wait_idle_async (TpPool              *self,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (TP_IS_POOL (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = tp_pool_new_waiter (self, tp_pool_wait_idle_async, cancellable, callback, user_data);

  tp_pool_lock (self);
  tp_pool_add_waiter_locked (self, &self->idle_tasks, task);
  tp_pool_unlock (self);
  tp_pool_watch_waiter (self, task);
}

/**
 * tp_pool_wait_idle_finish:
 * @self: a pool
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@TaskPool.Pool.wait_idle_async].
 *
 * Returns: %TRUE once the pool was idle
 *
 * Since: 1.0
 */
gboolean
tp_pool_wait_idle_finish (TpPool        *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (TP_IS_POOL (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tp_pool_wait_idle_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

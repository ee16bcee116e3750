/* tp-submit.c: handing a job to the pool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A submission makes the job's record (tp-job.c), watches its cancellable,
 * and is accepted into the queue (tp-dispatch.c) or refused: not started,
 * paused, closed, cancelled already, or a full queue with TP_SUBMIT_NO_WAIT.
 * A refused job fails through the same delivery as every other outcome.
 */

#include "config.h"

#include "tp-pool-private.h"

static const char *
tp_pool_refusal_locked (TpPool *self)
{
  switch (self->state)
    {
    case TP_POOL_NEW:
      return "The pool is not started: call tp_pool_start() before submitting";
    case TP_POOL_CLOSING:
    case TP_POOL_CLOSED:
      return "The pool is closed: it accepts no more jobs";
    case TP_POOL_RUNNING:
    default:
      return self->paused ? "The pool is paused: it accepts jobs again once resumed" : NULL;
    }
}

/* Every submission comes here: @options may be NULL. Inline in each of
 * its callers: one call less on every submission. */
G_ALWAYS_INLINE static inline void
tp_pool_submit_job (TpPool              *self,
                    TpSubmitFlags        flags,
                    int                  weight,
                    const TpJobOptions  *options,
                    GTaskThreadFunc      job_func,
                    gpointer             job_data,
                    GDestroyNotify       job_data_destroy,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  GMainContext *context;
  const char *refusal;
  TpJob *job;

  context = g_main_context_get_thread_default ();
  if (context == NULL)
    context = g_main_context_default ();

  job = tp_job_new (self, context, flags, weight, job_func, job_data, job_data_destroy,
                    cancellable, callback, user_data);
  if (options != NULL || self->queue_timeout_ms > 0 || self->run_timeout_ms > 0)
    tp_job_apply_options (job, options, self->queue_timeout_ms, self->run_timeout_ms);

  if (cancellable != NULL)
    {
      if (g_cancellable_is_cancelled (cancellable))
        {
          tp_pool_lock (self);
          self->counts[TP_POOL_COUNT_SUBMITTED]++;
          tp_pool_unlock (self);
          job->state = TP_JOB_FINISHED;
          tp_job_fail (job, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The job was cancelled");
          return;
        }
      job->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (tp_pool_job_cancelled_cb),
                                              job, NULL);
    }

  tp_pool_lock (self);
  self->counts[TP_POOL_COUNT_SUBMITTED]++;
  refusal = tp_pool_refusal_locked (self);
  if (refusal == NULL && !job->cancel_early)
    {
      job->sequence = self->next_sequence++;
      if (self->time_submissions)
        {
          tp_job_ensure_extra (job)->submit_time = g_get_monotonic_time ();
          job->timed = TRUE;
        }
      if (tp_pool_enqueue_locked (self, job, flags))
        {
          if (G_UNLIKELY (job->limited) && job->extra->info != NULL)
            {
              tp_pool_info_added_locked (self, job);
              if (self->held && job->state != TP_JOB_RUNNING && job->state != TP_JOB_READY)
                tp_pool_info_set_state_locked (self, job, TP_JOB_STATE_HELD);
            }
          tp_pool_unlock (self);
          return;
        }
    }
  job->state = TP_JOB_FINISHED;
  tp_pool_unlock (self);

  if (job->cancel_early)
    tp_job_fail (job, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The job was cancelled");
  else if (refusal != NULL)
    tp_job_fail (job, TP_POOL_ERROR, TP_POOL_ERROR_NOT_ACCEPTING, refusal);
  else
    tp_job_fail (job, TP_POOL_ERROR, TP_POOL_ERROR_FULL,
                 "The pool's queue is full and TP_SUBMIT_NO_WAIT was given");
}

/**
 * tp_pool_submit_full_async:
 * @self: a pool
 * @flags: %TP_SUBMIT_IN_THREAD for a blocking job, %TP_SUBMIT_NO_WAIT not to
 *   wait for room in a full queue
 * @weight: the job's weight: priority queues run the smallest first
 * @job_func: (scope notified) (not nullable): the job
 * @job_data: (closure job_func): data passed to @job_func as its third argument
 * @job_data_destroy: (destroy job_data) (nullable): frees @job_data, exactly once
 * @cancellable: (nullable): cancels the job while queued; a running job sees it
 * @callback: (scope async) (nullable): called once the job has a result
 * @user_data: (closure callback): data for @callback
 *
 * Submits a job. An async job is called on the pool's context and completes
 * the #GTask it is given, now or later, from any thread; it takes a
 * reference to keep the task past the call. A thread job
 * (%TP_SUBMIT_IN_THREAD) is called on a worker thread and completes the task
 * before it returns. Either way the job's worker is busy until then.
 *
 * @callback runs exactly once, in the thread-default main context of the
 * calling thread, whatever happens: with the job's result, its error,
 * %G_IO_ERROR_CANCELLED, or a %TP_POOL_ERROR (not accepting, full, closed,
 * job lost). It calls [method@TaskPool.Pool.submit_finish].
 *
 * Since: 1.0
 */
void
tp_pool_submit_full_async (TpPool              *self,
                           TpSubmitFlags        flags,
                           int                  weight,
                           GTaskThreadFunc      job_func,
                           gpointer             job_data,
                           GDestroyNotify       job_data_destroy,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (TP_IS_POOL (self));
  g_return_if_fail (job_func != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  tp_pool_submit_job (self, flags, weight, NULL, job_func, job_data, job_data_destroy,
                      cancellable, callback, user_data);
}

/**
 * tp_pool_submit_with_options_async:
 * @self: a pool
 * @options: (nullable): how the job is to be run; %NULL for an async job with
 *   the pool's defaults
 * @job_func: (scope notified) (not nullable): the job
 * @job_data: (closure job_func): data passed to @job_func as its third argument
 * @job_data_destroy: (destroy job_data) (nullable): frees @job_data, exactly once
 * @cancellable: (nullable): cancels the job while queued; a running job sees it
 * @callback: (scope async) (nullable): called once the job has a result
 * @user_data: (closure callback): data for @callback
 *
 * Submits a job as @options say: on a thread or not, its weight, its key,
 * its queue and run timeouts (see [struct@TaskPool.JobOptions]). The pool
 * copies what it needs from @options now: changing them later does not
 * change this job. Otherwise like [method@TaskPool.Pool.submit_full_async];
 * the job may also end with %TP_POOL_ERROR_TIMED_OUT (not started within its
 * queue timeout) or %G_IO_ERROR_TIMED_OUT (gave up when its run timeout
 * cancelled it). @callback calls [method@TaskPool.Pool.submit_finish].
 *
 * Since: 1.2
 */
void
tp_pool_submit_with_options_async (TpPool              *self,
                                   TpJobOptions        *options,
                                   GTaskThreadFunc      job_func,
                                   gpointer             job_data,
                                   GDestroyNotify       job_data_destroy,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  TpSubmitFlags flags = TP_SUBMIT_DEFAULT;
  int weight;

  g_return_if_fail (TP_IS_POOL (self));
  g_return_if_fail (job_func != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  weight = self->default_weight;
  if (options != NULL)
    {
      flags = options->flags;
      if (options->weight_set)
        weight = options->weight;
    }
  tp_pool_submit_job (self, flags, weight, options, job_func, job_data, job_data_destroy,
                      cancellable, callback, user_data);
}

/**
 * tp_pool_submit_async:
 * @self: a pool
 * @job_func: (scope notified) (not nullable): the async job
 * @job_data: (closure job_func): data passed to @job_func as its third argument
 * @job_data_destroy: (destroy job_data) (nullable): frees @job_data, exactly once
 * @cancellable: (nullable): cancels the job while queued; a running job sees it
 * @callback: (scope async) (nullable): called once the job has a result
 * @user_data: (closure callback): data for @callback
 *
 * Submits an async job with the pool's `default-weight`: see
 * [method@TaskPool.Pool.submit_full_async].
 *
 * Since: 1.0
 */
void
tp_pool_submit_async (TpPool              *self,
                      GTaskThreadFunc      job_func,
                      gpointer             job_data,
                      GDestroyNotify       job_data_destroy,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_return_if_fail (TP_IS_POOL (self));

  tp_pool_submit_full_async (self, TP_SUBMIT_DEFAULT, self->default_weight, job_func, job_data,
                             job_data_destroy, cancellable, callback, user_data);
}

/**
 * tp_pool_submit_in_thread_async:
 * @self: a pool
 * @job_func: (scope notified) (not nullable): the blocking job
 * @job_data: (closure job_func): data passed to @job_func as its third argument
 * @job_data_destroy: (destroy job_data) (nullable): frees @job_data, exactly once
 * @cancellable: (nullable): cancels the job while queued; a running job sees it
 * @callback: (scope async) (nullable): called once the job has a result
 * @user_data: (closure callback): data for @callback
 *
 * Submits a thread job with the pool's `default-weight`: see
 * [method@TaskPool.Pool.submit_full_async].
 *
 * Since: 1.0
 */
void
tp_pool_submit_in_thread_async (TpPool              *self,
                                GTaskThreadFunc      job_func,
                                gpointer             job_data,
                                GDestroyNotify       job_data_destroy,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_return_if_fail (TP_IS_POOL (self));

  tp_pool_submit_full_async (self, TP_SUBMIT_IN_THREAD, self->default_weight, job_func, job_data,
                             job_data_destroy, cancellable, callback, user_data);
}

/**
 * tp_pool_submit_finish: (skip)
 * @self: a pool
 * @result: the result given to the submission's callback
 * @error: return location for a #GError
 *
 * Gets what the job returned with g_task_return_pointer(). Bindings, whose
 * jobs return a value, finish with [method@TaskPool.Pool.submit_value_finish]:
 * a raw pointer means nothing to them.
 *
 * Returns: (transfer full) (nullable): the job's result, or %NULL with @error set
 *
 * Since: 1.0
 */
gpointer
tp_pool_submit_finish (TpPool        *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (TP_IS_POOL (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tp_pool_submit_full_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

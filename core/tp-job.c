/* tp-job.c: a job's life, from its record to the delivery of its outcome
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A job is born in tp_job_new() when it is submitted, moves through the
 * pool's lists (tp-dispatch.c), runs (tp_job_run_async() here, or a worker
 * thread in tp-executor.c), and ends in tp_job_deliver(): the one place that
 * decides how its outcome — its result or error, or an error of the pool's
 * (cancelled, refused, closed, lost) — reaches its submitter.
 */

#include "config.h"

#include "tp-pool-private.h"

static GQuark tp_job_quark (void);
G_DEFINE_QUARK (tp-pool-job, tp_job)

/* SDK accessors {{{ */

/**
 * tp_job_get_weight:
 * @job: a queued job
 *
 * Gets the job's weight: smaller runs first in a priority queue.
 *
 * Returns: the weight given at submission, or the pool's `default-weight`
 *
 * Since: 1.0
 */
int
tp_job_get_weight (const TpJob *job)
{
  g_return_val_if_fail (job != NULL, 0);

  return job->weight;
}

/**
 * tp_job_get_sequence:
 * @job: a queued job
 *
 * Gets the job's submission sequence number: unique in its pool and
 * increasing in submission order, to break ties.
 *
 * Returns: the sequence number
 *
 * Since: 1.0
 */
guint64
tp_job_get_sequence (const TpJob *job)
{
  g_return_val_if_fail (job != NULL, 0);

  return job->sequence;
}

/**
 * tp_job_get_submit_time:
 * @job: a queued job
 *
 * Gets when the job was submitted, for strategies that age jobs. A strategy
 * that sets %TP_QUEUE_IGNORES_SUBMIT_TIME must not call it: the pool did not
 * read the clock.
 *
 * Returns: the g_get_monotonic_time() of the submission, in microseconds, or
 *   0 with a critical warning if the job's strategy said it ignores it
 *
 * Since: 1.0
 */
gint64
tp_job_get_submit_time (const TpJob *job)
{
  g_return_val_if_fail (job != NULL, 0);
  /* Its queue strategy set TP_QUEUE_IGNORES_SUBMIT_TIME */
  g_return_val_if_fail (job->timed, 0);

  return job->extra->submit_time;
}

/**
 * tp_job_get_in_thread:
 * @job: a queued job
 *
 * Gets whether the job is a thread job.
 *
 * Returns: %TRUE for a thread job, %FALSE for an async job
 *
 * Since: 1.0
 */
gboolean
tp_job_get_in_thread (const TpJob *job)
{
  g_return_val_if_fail (job != NULL, FALSE);

  return job->in_thread;
}

/**
 * tp_job_get_queue_data:
 * @job: a queued job
 *
 * Gets the pointer the queue strategy stored in @job.
 *
 * Returns: (nullable): what tp_job_set_queue_data() stored, %NULL at first
 *
 * Since: 1.0
 */
gpointer
tp_job_get_queue_data (const TpJob *job)
{
  g_return_val_if_fail (job != NULL, NULL);

  return job->queue_data;
}

/**
 * tp_job_set_queue_data:
 * @job: a queued job
 * @queue_data: (nullable): the strategy's pointer, such as a list link or an index
 *
 * Stores one pointer of the queue strategy's in @job, so that `remove` can
 * find the job without a search.
 *
 * Since: 1.0
 */
void
tp_job_set_queue_data (TpJob    *job,
                       gpointer  queue_data)
{
  g_return_if_fail (job != NULL);

  job->queue_data = queue_data;
}

/**
 * tp_job_get_key:
 * @job: a job
 *
 * Gets the job's key, such as the host a download connects to: what
 * per-key gates and the `fair` queue group jobs by.
 *
 * Returns: (nullable): the key given with tp_job_options_set_key(), or %NULL
 *
 * Since: 1.2
 */
const char *
tp_job_get_key (const TpJob *job)
{
  g_return_val_if_fail (job != NULL, NULL);

  return job->extra != NULL ? job->extra->key : NULL;
}

/* }}} */

/* The record {{{ */

TpJobExtra *
tp_job_ensure_extra (TpJob *job)
{
  if (job->extra == NULL)
    job->extra = g_new0 (TpJobExtra, 1);
  return job->extra;
}

void
tp_job_free_extra (TpJob *job)
{
  TpJobExtra *extra = g_steal_pointer (&job->extra);

  if (extra == NULL)
    return;
  g_clear_pointer (&extra->key, g_ref_string_release);
  g_free (extra);
}

TpJob *
tp_job_new_detached (int         weight,
                     guint64     sequence,
                     const char *key,
                     gboolean    in_thread)
{
  TpJob *job = g_new0 (TpJob, 1);

  job->weight = weight;
  job->sequence = sequence;
  job->in_thread = in_thread != FALSE;
  job->state = TP_JOB_QUEUED;
  if (key != NULL)
    tp_job_ensure_extra (job)->key = g_ref_string_new_intern (key);
  return job;
}

void
tp_job_free_detached (TpJob *job)
{
  tp_job_free_extra (job);
  g_free (job);
}

void
tp_job_free (TpJob *job)
{
  TpPool *pool = job->pool;

  if (job->owns_refs)
    {
      if (job->context != pool->context)
        g_main_context_unref (job->context);
      if (job->cancellable != pool->cancellable)
        g_object_unref (job->cancellable);
      g_object_unref (pool);
    }
  if (G_UNLIKELY (job->extra != NULL))
    tp_job_free_extra (job);
  tp_job_dealloc (job);
}

/* A job that may outlive its task, or wait without one, holds what it uses */
void
tp_job_take_refs (TpJob *job)
{
  TpPool *pool = job->pool;

  if (job->owns_refs)
    return;
  g_object_ref (pool);
  if (job->cancellable != pool->cancellable)
    g_object_ref (job->cancellable);
  if (job->context != pool->context)
    g_main_context_ref (job->context);
  job->owns_refs = TRUE;
}

static void tp_job_task_done_cb (GObject      *source_object,
                                 GAsyncResult *result,
                                 gpointer      user_data);

/* The job's GTask, bound to the thread-default context of the caller */
GTask *
tp_job_make_task (TpJob *job)
{
  TpPool *self = job->pool;
  GCancellable *cancellable = job->cancellable != self->cancellable ? job->cancellable : NULL;
  GTask *task = g_task_new (self, cancellable, tp_job_task_done_cb, job);

  /* The function, not GLib 2.74's macro, which also names the task: a
   * g_strdup() per job, and a g_strconcat() per completion from a thread */
  (g_task_set_source_tag) (task, tp_pool_submit_full_async);
  /* A running job that sees its cancellation decides how it ends */
  if (cancellable != NULL)
    g_task_set_check_cancellable (task, FALSE);
  g_task_set_task_data (task, job->job_data, job->job_data_destroy);
  /* The callback of a deferred job may run on another thread than the
   * pool's while the pool still uses the job. A thread job is hooked by the
   * worker that runs it, which takes that work off the submitter's thread. */
  if (job->deferred)
    tp_job_hook (job, task);
  return task;
}

/* A new submission's record. An async job submitted from another context
 * than the pool's is deferred: it gets its task only when it starts, on the
 * pool's context, so that its completion frees the worker there. */
TpJob *
tp_job_new (TpPool              *pool,
            GMainContext        *context,
            TpSubmitFlags        flags,
            int                  weight,
            GTaskThreadFunc      job_func,
            gpointer             job_data,
            GDestroyNotify       job_data_destroy,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  /* Field by field: a compound literal is a block clear of the record (rep
   * stos), then a read of the flags byte that waits for the clear to drain */
  TpJob *job = tp_job_alloc ();

  job->prev = NULL;
  job->next = NULL;
  job->task = NULL;
  job->pool = pool;
  job->func = job_func;
  job->cancellable = cancellable != NULL ? cancellable : pool->cancellable;
  job->cancel_id = 0;
  job->weight = weight;
  job->state = TP_JOB_NEW;
  job->delivered = FALSE;
  job->bits = 0;
  job->in_thread = (flags & TP_SUBMIT_IN_THREAD) != 0;
  job->deferred = (flags & TP_SUBMIT_IN_THREAD) == 0 && context != pool->context;
  job->job_data = job_data;
  job->job_data_destroy = job_data_destroy;
  job->callback = callback;
  job->user_data = user_data;
  job->context = context;
  job->queue_data = NULL;
  job->sequence = 0;
  job->extra = NULL;
  /* A deferred job waits without a task. A thread job is hooked by its
   * worker, but takes its references here, where the pool's reference count
   * is in this thread's cache: on a worker each was a cache miss. */
  if (job->deferred || job->in_thread)
    tp_job_take_refs (job);
  if (!job->deferred)
    job->task = tp_job_make_task (job);
  return job;
}

/* }}} */

/* The task and the job {{{ */

static void tp_job_task_finalized (gpointer data);

/* From now on the task owns the job, and reports it lost if it is finalized
 * before the job's outcome was delivered */
void
tp_job_hook (TpJob *job,
             GTask *task)
{
  if (job->hooked)
    return;
  tp_job_take_refs (job);
  job->hooked = TRUE;
  g_object_set_qdata_full (G_OBJECT (task), tp_job_quark (), job, tp_job_task_finalized);
}

/* The pool lets go of the job's task. @delivered says the job's outcome
 * was handed on; only the thread that runs the task's callbacks can know
 * it. Otherwise the job is hooked first, so that a job that dropped its
 * task without completing it is found when the task is finalized. */
static void
tp_job_release_task (TpJob    *job,
                     GTask    *task,
                     gboolean  delivered)
{
  if (job->hooked)
    {
      g_object_unref (task);
      return;
    }
  if (!delivered)
    {
      tp_job_hook (job, task);
      g_object_unref (task);
      return;
    }
  g_object_unref (task);
  tp_job_free (job);
}

void
tp_job_disconnect_cancel (TpJob *job)
{
  if (job->cancel_id != 0)
    {
      g_cancellable_disconnect (job->cancellable, job->cancel_id);
      job->cancel_id = 0;
    }
}

/* Runs an async job on the pool's context: the pool's reference to the task
 * is dropped after the call, so a job that neither completed nor kept its
 * task is detected at once. */
void
tp_job_run_async (TpJob *job)
{
  GTask *task = g_steal_pointer (&job->task);

  if (task == NULL)
    {
      /* A deferred job: its task lives on the pool's context, which this
       * thread owns while it dispatches */
      g_main_context_push_thread_default (job->pool->context);
      task = tp_job_make_task (job);
      g_main_context_pop_thread_default (job->pool->context);
    }

  tp_job_disconnect_cancel (job);
  job->func (task, job->pool, job->job_data, job->cancellable);

  /* The task's callbacks run on this thread, which owns the pool's context:
   * if the callback ran, it ran to its end during the call (the job
   * completed at once, or a nested main loop completed it) */
  tp_job_release_task (job, task, job->delivered);
}

/* }}} */

/* Delivery {{{ */

typedef struct {
  TpJob  *job;
  GTask  *task;
  GError *error;
} TpJobOutcome;

/* The submitter's callback, on its context, which is the thread-default one */
static inline void
tp_job_invoke (TpJob *job,
               GTask *task)
{
  if (job->callback != NULL)
    job->callback (G_OBJECT (job->pool), G_ASYNC_RESULT (task), job->user_data);
}

/* A job without a task (one that never got one, or whose task was dropped)
 * gets a task made for its error, and its record goes after the callback */
static void
tp_job_invoke_error (TpJob  *job,
                     GError *error)
{
  g_autoptr(GTask) task = g_task_new (job->pool, NULL, NULL, NULL);

  (g_task_set_source_tag) (task, tp_pool_submit_full_async);
  /* A job that never had a task still owns its data: the task frees it,
   * after the callback */
  if (!job->hooked)
    g_task_set_task_data (task, job->job_data, job->job_data_destroy);
  g_task_return_error (task, error);

  tp_job_invoke (job, task);
  tp_job_disconnect_cancel (job);
  tp_job_free (job);
}

static gboolean
tp_job_outcome_cb (gpointer data)
{
  TpJobOutcome *outcome = data;
  /* The job may go with its last reference to the context */
  g_autoptr(GMainContext) context = g_main_context_ref (outcome->job->context);

  g_main_context_push_thread_default (context);
  if (outcome->task != NULL)
    tp_job_invoke (outcome->job, outcome->task);
  else
    tp_job_invoke_error (outcome->job, g_steal_pointer (&outcome->error));
  g_main_context_pop_thread_default (context);
  g_clear_object (&outcome->task);
  g_free (outcome);
  return G_SOURCE_REMOVE;
}

/* The one way a job's outcome reaches its submitter: @task, completed, or
 * @error for a job without a task. GTask calls back only while its context
 * dispatches: a task of the submitter's context is delivered at once; every
 * other outcome through one idle on the submitter's context (an error may
 * come from inside a "cancelled" emission, or a submission, where the
 * callback must not run). Takes @error. */
static inline void
tp_job_deliver (TpJob  *job,
                GTask  *task,
                GError *error)
{
  TpJobOutcome *outcome;
  GSource *source;

  /* A task made at submission lives on the submitter's context, where GTask
   * called back (it made that context the thread-default one); a deferred
   * job's task lives on the pool's */
  if (task != NULL && (!job->deferred || job->callback == NULL))
    {
      tp_job_invoke (job, task);
      return;
    }
  /* A lost job nobody waits for: its task already freed its data */
  if (job->callback == NULL && job->hooked && job->cancel_id == 0)
    {
      g_clear_error (&error);
      tp_job_free (job);
      return;
    }

  outcome = g_new (TpJobOutcome, 1);
  outcome->job = job;
  outcome->task = task != NULL ? g_object_ref (task) : NULL;
  outcome->error = error;
  source = g_idle_source_new ();
  g_source_set_static_name (source, "[taskpool] job outcome");
  g_source_set_callback (source, tp_job_outcome_cb, outcome, NULL);
  g_source_attach (source, job->context);
  g_source_unref (source);
}

/* The job's GTask was completed. Its worker is free; the outcome goes on
 * to the submitter. */
static void
tp_job_task_done_cb (GObject      *source_object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  TpJob *job = user_data;
  TpPool *self = job->pool;
  gboolean drain;

  if (job->in_thread)
    {
      /* Its worker releases it: nothing of the pool's changes here, and the
       * lock would only contend with the workers. The task's finalization,
       * after its last unref, sees the flag. */
      job->delivered = TRUE;
      drain = FALSE;
    }
  else
    {
      tp_pool_lock (self);
      job->delivered = TRUE;
      if (job->state == TP_JOB_RUNNING)
        tp_pool_release_locked (self, job, NULL);
      /* An async job's task lives on the pool's context, whose thread this
       * is. A job that completes while a drain calls it (at once, W1's
       * case) leaves the next one to that drain, or, from a nested main
       * loop, to the pool's source, which a ready job arms. */
      drain = self->ready.length > 0 && self->drain_job != job;
      tp_pool_unlock (self);
    }

  tp_job_disconnect_cancel (job);
  tp_job_deliver (job, G_TASK (result), NULL);

  /* A worker freed here takes its next job now. The job, alive until its
   * task is finalized, holds the pool. */
  if (drain)
    tp_pool_run_ready (self);
}

/* The job's GTask was finalized. Normally its outcome was delivered before;
 * if not, the job dropped its task without completing it, and the submitter
 * gets TP_POOL_ERROR_JOB_LOST instead. */
static void
tp_job_task_finalized (gpointer data)
{
  TpJob *job = data;
  TpPool *self = job->pool;

  if (job->delivered)
    {
      tp_job_free (job);
      return;
    }

  tp_pool_lock (self);
  if (job->state == TP_JOB_RUNNING)
    tp_pool_release_locked (self, job, NULL);
  tp_pool_unlock (self);

  tp_job_disconnect_cancel (job);
  tp_job_deliver (job, NULL, g_error_new_literal (TP_POOL_ERROR, TP_POOL_ERROR_JOB_LOST,
                                                  "The job dropped its GTask without "
                                                  "completing it"));
}

/* Completes a job that never ran with an error of the pool's. A job with a
 * task completes it, as a job would; one without goes straight to delivery. */
void
tp_job_fail (TpJob      *job,
             GQuark      domain,
             int         code,
             const char *message)
{
  GTask *task = g_steal_pointer (&job->task);

  if (task == NULL)
    {
      tp_job_deliver (job, NULL, g_error_new_literal (domain, code, message));
      return;
    }

  /* This thread may not be the one that runs the task's callback */
  tp_job_hook (job, task);
  g_task_return_new_error (task, domain, code, "%s", message);
  g_object_unref (task);
}

/* }}} */

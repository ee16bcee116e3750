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

#include "tp-job-info-private.h"
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
 * The key is an interned string: two jobs' keys are equal exactly when
 * the pointers are, so a strategy may hash and compare keys by address
 * (g_direct_hash(), g_direct_equal()) instead of by their text. The string
 * lives as long as the job; a strategy that keeps a key beyond the job
 * takes a reference with tp_key_ref() and drops it with tp_key_unref().
 * While it holds one, later jobs of that key get the same address.
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
    {
      job->extra = g_new0 (TpJobExtra, 1);
      job->extra->deadline_index = G_MAXUINT;
    }
  return job->extra;
}

void
tp_job_free_extra (TpJob *job)
{
  TpJobExtra *extra = g_steal_pointer (&job->extra);

  if (extra == NULL)
    return;
  g_clear_pointer (&extra->key, tp_key_release);
  g_clear_object (&extra->run_cancellable);
  g_clear_object (&extra->info);
  g_free (extra);
}

static void
tp_job_chain_cancel_cb (GCancellable *cancellable,
                        gpointer      run_cancellable)
{
  g_cancellable_cancel (run_cancellable);
}

/* What the options (or the pool's defaults) ask of this job: a key, a queue
 * or a run timeout. A job that needs none of them gets no extension. */
void
tp_job_apply_options (TpJob              *job,
                      const TpJobOptions *options,
                      guint               queue_timeout_ms,
                      guint               run_timeout_ms)
{
  TpPool *pool = job->pool;
  const char *label = NULL;
  const char *key = NULL;
  TpJobExtra *extra;

  if (options != NULL)
    {
      key = options->key;
      label = options->label;
      if (options->queue_timeout_set)
        queue_timeout_ms = options->queue_timeout_ms;
      if (options->run_timeout_set)
        run_timeout_ms = options->run_timeout_ms;
    }
  if (key == NULL && label == NULL && queue_timeout_ms == 0 && run_timeout_ms == 0)
    return;

  extra = tp_job_ensure_extra (job);
  /* Interned by tp_job_options_set_key(), as tp_job_get_key() promises */
  if (key != NULL)
    extra->key = g_ref_string_acquire ((char *) key);
  extra->queue_timeout_us = (gint64) queue_timeout_ms * G_TIME_SPAN_MILLISECOND;
  extra->run_timeout_us = (gint64) run_timeout_ms * G_TIME_SPAN_MILLISECOND;
  job->limited = queue_timeout_ms > 0 || run_timeout_ms > 0 || label != NULL;
  if (label != NULL)
    {
      extra->info = tp_job_info_new (job, label);
      if (job->task != NULL)
        tp_job_info_attach_task (extra->info, job->task);
    }
  if (run_timeout_ms == 0 && label == NULL)
    return;

  /* Its own cancellable, which the deadline and the list of jobs cancel;
   * the submitter's, when cancelled, cancels it too */
  extra->run_cancellable = g_cancellable_new ();
  if (job->cancellable != pool->cancellable)
    extra->run_chain_id = g_cancellable_connect (job->cancellable,
                                                 G_CALLBACK (tp_job_chain_cancel_cb),
                                                 g_object_ref (extra->run_cancellable),
                                                 g_object_unref);
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
    tp_job_ensure_extra (job)->key = tp_key_intern (key);
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
  if (G_UNLIKELY (job->limited) && job->extra->info != NULL)
    tp_job_info_attach_task (job->extra->info, task);
  /* The callback of a deferred job may run on another thread than the
   * pool's while the pool still uses the job. A thread job is hooked by the
   * worker that runs it, and only when it must be (tp-executor.c). */
  if (job->deferred)
    tp_job_hook (job, task);
  return task;
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

/* A job that starts no longer leaves the queue when cancelled; its run
 * cancellable, if any, stays chained to the submitter's */
void
tp_job_disconnect_queued (TpJob *job)
{
  if (job->cancel_id != 0)
    {
      g_cancellable_disconnect (job->cancellable, job->cancel_id);
      job->cancel_id = 0;
    }
}

/* Never from inside an emission of the submitter's cancellable, which
 * g_cancellable_disconnect() would wait for */
void
tp_job_disconnect_cancel (TpJob *job)
{
  if (job->cancel_id != 0)
    {
      g_cancellable_disconnect (job->cancellable, job->cancel_id);
      job->cancel_id = 0;
    }
  if (G_UNLIKELY (job->limited) && job->extra->run_chain_id != 0)
    {
      g_cancellable_disconnect (job->cancellable, job->extra->run_chain_id);
      job->extra->run_chain_id = 0;
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

  tp_job_disconnect_queued (job);
  job->func (task, job->pool, job->job_data, tp_job_get_run_cancellable (job));

  /* The task's callbacks run on this thread, which owns the pool's context:
   * if the callback ran, it ran to its end during the call (the job
   * completed at once, or a nested main loop completed it) */
  tp_job_release_task (job, task, job->delivered);
}

/* }}} */

/* Delivery {{{ */

/* The submitter's callback, on its context, which is the thread-default one */
static void
tp_job_invoke (TpJob *job,
               GTask *task)
{
  if (job->callback != NULL)
    job->callback (G_OBJECT (job->pool), G_ASYNC_RESULT (task), job->user_data);
}

/* An error of the pool's, or one that replaces the job's own (a run timeout),
 * travels in a task of its own. Its record goes with it, unless the job's
 * task (@owner) owns it (tp_job_complete_error() sees to that). */
typedef struct {
  TpJob *job;
  GTask *owner;
} TpJobError;

static void
tp_job_error_done_cb (GObject      *source_object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  TpJobError *outcome = user_data;
  TpJob *job = outcome->job;

  tp_job_invoke (job, G_TASK (result));
  if (outcome->owner != NULL)
    {
      g_object_unref (outcome->owner);
    }
  else
    {
      tp_job_disconnect_cancel (job);
      tp_job_free (job);
    }
  g_free (outcome);
}

/* Makes the error's task on the submitter's context, which this thread owns
 * and made the thread-default one, and completes it: GTask calls back in a
 * later iteration of that context, never inside this call. Takes @error. */
static void
tp_job_complete_error (TpJob  *job,
                       GTask  *owner,
                       GError *error)
{
  TpJobError *outcome = g_new (TpJobError, 1);
  GTask *task;

  outcome->job = job;
  outcome->owner = owner != NULL ? g_object_ref (owner) : NULL;
  /* The error is delivered in a later iteration, after whoever holds the
   * job's task lets it go: the task must own the job until then. A job whose
   * task completed inside its start (in a nested main loop, once its run
   * deadline passed) is not hooked yet, and its start's end would free it. */
  if (owner != NULL)
    tp_job_hook (job, owner);
  task = g_task_new (job->pool, NULL, tp_job_error_done_cb, outcome);
  (g_task_set_source_tag) (task, tp_pool_submit_full_async);
  /* A job that never had a task still owns its data: this task frees it,
   * after the callback */
  if (!job->hooked)
    g_task_set_task_data (task, job->job_data, job->job_data_destroy);
  g_task_return_error (task, error);
  g_object_unref (task);
}

typedef struct {
  TpJob  *job;
  GTask  *task;
  GError *error;
} TpJobOutcome;

static gboolean
tp_job_outcome_cb (gpointer data)
{
  TpJobOutcome *outcome = data;
  /* The job may go with its last reference to the context */
  g_autoptr(GMainContext) context = g_main_context_ref (outcome->job->context);

  g_main_context_push_thread_default (context);
  if (outcome->error != NULL)
    tp_job_complete_error (outcome->job, outcome->task, g_steal_pointer (&outcome->error));
  else
    tp_job_invoke (outcome->job, outcome->task);
  g_main_context_pop_thread_default (context);
  g_clear_object (&outcome->task);
  g_free (outcome);
  return G_SOURCE_REMOVE;
}

static void
tp_job_post_outcome (TpJob  *job,
                     GTask  *task,
                     GError *error)
{
  TpJobOutcome *outcome = g_new (TpJobOutcome, 1);
  GSource *source;

  outcome->job = job;
  outcome->task = task != NULL ? g_object_ref (task) : NULL;
  outcome->error = error;
  source = g_idle_source_new ();
  /* GTask's own priority for a result it completes in an idle */
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_static_name (source, "[taskpool] job outcome");
  g_source_set_callback (source, tp_job_outcome_cb, outcome, NULL);
  g_source_attach (source, job->context);
  g_source_unref (source);
}

/* Whether @context is this thread's own: the thread-default one it pushed,
 * or the global default one while this thread iterates it. A thread that
 * pushed none has the global default as thread-default too, but that one is
 * the main thread's: a canceller thread that took it, even for a moment,
 * would hold up the main thread's iteration. */
static gboolean
tp_job_context_is_mine (GMainContext *context)
{
  GMainContext *mine = g_main_context_get_thread_default ();

  if (mine != NULL)
    return context == mine;
  return context == g_main_context_default () && g_main_context_is_owner (context);
}

/* The one way a job's outcome reaches its submitter: @task, completed by
 * the job, or @error, for a job without a task or one that replaces the
 * job's (then @task owns the job). @here is the context this thread
 * dispatches, and made the thread-default one. Takes @error.
 *
 * A result in the submitter's own context is delivered at once: an async
 * job's task made at submission, which GTask calls back in that context; a
 * thread job's, which the pool's context delivers with the others that
 * completed since its last dispatch. Any other result goes through one idle
 * on the submitter's context. An error is completed in a task made on the
 * submitter's context when that is this thread's own (GTask then calls back
 * in a later iteration: never inside a submission, a close, or a "cancelled"
 * emission); when it belongs to another thread, or another thread runs it
 * right now, through one idle there first. */
void
tp_job_deliver (TpJob        *job,
                GTask        *task,
                GError       *error,
                GMainContext *here)
{
  GMainContext *context = job->context;

  if (error == NULL)
    {
      if (here == context || job->callback == NULL)
        tp_job_invoke (job, task);
      else
        tp_job_post_outcome (job, task, NULL);
      return;
    }

  /* Owning another thread's context, even for a moment, would make its own
   * g_main_context_push_thread_default() fail: only this thread's */
  if ((here != context && !tp_job_context_is_mine (context)) ||
      !g_main_context_acquire (context))
    {
      tp_job_post_outcome (job, task, error);
      return;
    }
  g_main_context_push_thread_default (context);
  tp_job_complete_error (job, task, error);
  g_main_context_pop_thread_default (context);
  g_main_context_release (context);
}

/* Which outcome a job that ran and completed its task counts in: a job that
 * failed once its run deadline passed timed out; once its cancellable was
 * cancelled (by its submitter, the list of jobs or a close), was cancelled */
TpPoolCount
tp_job_outcome_of_task (TpJob *job,
                        GTask *task)
{
  if (!g_task_had_error (task))
    return TP_POOL_COUNT_SUCCEEDED;
  if (G_UNLIKELY (job->limited) && job->extra->run_timed_out)
    return TP_POOL_COUNT_TIMED_OUT;
  if (g_cancellable_is_cancelled (tp_job_get_run_cancellable (job)))
    return TP_POOL_COUNT_CANCELLED;
  return TP_POOL_COUNT_FAILED;
}

/* Which outcome an error of the pool's counts in */
static TpPoolCount
tp_job_outcome_of_error (GQuark domain,
                         int    code)
{
  if ((domain == G_IO_ERROR && code == G_IO_ERROR_CANCELLED) ||
      (domain == TP_POOL_ERROR && code == TP_POOL_ERROR_CLOSED))
    return TP_POOL_COUNT_CANCELLED;
  if (domain == TP_POOL_ERROR && code == TP_POOL_ERROR_TIMED_OUT)
    return TP_POOL_COUNT_TIMED_OUT;
  return TP_POOL_COUNT_FAILED;
}

/* A job whose run deadline passed, and that failed: a job that gave up on
 * its cancellation is delivered as G_IO_ERROR_TIMED_OUT, so that its
 * submitter can tell the deadline from its own cancel. Any other error is
 * delivered as it is (it can be read only once, so it moves to a task of
 * its own either way). */
static GError *
tp_job_run_timeout_error (TpJob *job,
                          GTask *task)
{
  GError *error = NULL;

  g_task_propagate_pointer (task, &error);
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return error;

  g_error_free (error);
  return g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                      "The job did not complete within its run timeout of %" G_GINT64_FORMAT
                      " ms, and gave up when cancelled",
                      job->extra->run_timeout_us / G_TIME_SPAN_MILLISECOND);
}

/* The error a job that ran is delivered with, if not its own: one that gave
 * up when its run timeout cancelled it times out (tp_job_run_timeout_error()) */
GError *
tp_job_replaced_error (TpJob *job,
                       GTask *task)
{
  if (G_UNLIKELY (job->limited) && job->extra->run_timed_out && g_task_had_error (task))
    return tp_job_run_timeout_error (job, task);
  return NULL;
}

/* The job's GTask was completed. An async job's worker is free, and its
 * outcome goes on to the submitter. A thread job's task completes on its
 * worker thread (tp-executor.c): the worker hands its outcome to the pool's
 * context, with the others that completed meanwhile. */
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
      tp_pool_thread_job_completed (self, job, G_TASK (result));
      return;
    }

  tp_pool_lock (self);
  job->delivered = TRUE;
  if (job->state == TP_JOB_RUNNING)
    {
      self->counts[tp_job_outcome_of_task (job, G_TASK (result))]++;
      tp_pool_release_locked (self, job, NULL);
    }
  /* An async job's task lives on the pool's context, whose thread this is.
   * A job that completes while a drain calls it (at once, W1's case) leaves
   * the next one to that drain, or, from a nested main loop, to the pool's
   * source, which a ready job arms. */
  drain = self->ready.length > 0 && self->drain_job != job;
  tp_pool_unlock (self);

  tp_job_disconnect_cancel (job);
  /* GTask called back on the task's context, the submitter's unless the
   * job was deferred */
  tp_job_deliver (job, G_TASK (result), tp_job_replaced_error (job, G_TASK (result)),
                  job->deferred ? self->context : job->context);

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
    {
      self->counts[TP_POOL_COUNT_FAILED]++;
      tp_pool_release_locked (self, job, NULL);
    }
  else if (job->in_thread)
    {
      /* Its worker released it, and left the count to its outcome */
      self->counts[TP_POOL_COUNT_FAILED]++;
    }
  tp_pool_unlock (self);

  tp_job_disconnect_cancel (job);
  tp_job_deliver (job, NULL,
                  g_error_new_literal (TP_POOL_ERROR, TP_POOL_ERROR_JOB_LOST,
                                       job->in_thread
                                       ? "The thread job returned without completing its "
                                         "GTask (a job written in a language that runs no "
                                         "code on other threads, such as JavaScript in GJS, "
                                         "is never called there: submit it as an async job)"
                                       : "The job dropped its GTask without completing it"),
                  NULL);
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
  TpPool *pool = job->pool;

  tp_pool_lock (pool);
  pool->counts[tp_job_outcome_of_error (domain, code)]++;
  tp_pool_unlock (pool);

  if (task == NULL)
    {
      tp_job_deliver (job, NULL, g_error_new_literal (domain, code, message), NULL);
      return;
    }

  /* This thread may not be the one that runs the task's callback */
  tp_job_hook (job, task);
  g_task_return_new_error (task, domain, code, "%s", message);
  g_object_unref (task);
}

/* }}} */

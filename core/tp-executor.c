/* tp-executor.c: thread jobs, and the thread pools that run them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A thread job that gets a worker is pushed to the pool's executor: its own
 * GThreadPool, as large as the pool may grow (`threads`, the default), or
 * GIO's shared pool through g_task_run_in_thread() (`gtask`). A worker
 * thread runs the job, releases its worker slot and, when the queue holds
 * another thread job for it, runs that one too without a hand-off.
 *
 * Completions come back in batches. A GTask returned on another thread than
 * its context's schedules an idle there, one per task, each a wake-up of
 * the submitter's thread. So a thread job's task is made on its worker
 * thread, in a context of that thread's own, which the thread dispatches
 * itself (no poll, no wake-up): the job runs from a source of that context,
 * and its task completes as it returns its result. The job's outcome then
 * goes on a list of the pool's, and the first one on an empty list wakes
 * the pool's context, which delivers however many are there by then. The
 * worker frees its slot before it hands the outcome on, so a callback never
 * sees its own job still running.
 */

#include "config.h"

#include "tp-pool-private.h"

/* A worker thread's own context {{{ */

/* The source that runs a worker's jobs: GTask completes a task at once,
 * without an idle, when the task's context dispatches a source in a later
 * iteration than the one that made the task. The worker makes each task
 * outside any dispatch, then runs its job from this source's dispatch. */
typedef struct {
  GSource  source;
  TpJob   *job;
  GTask   *task;
} TpRunSource;

static gboolean
tp_run_source_prepare (GSource *source,
                       gint    *timeout)
{
  *timeout = -1;
  return ((TpRunSource *) source)->job != NULL;
}

static gboolean
tp_run_source_check (GSource *source)
{
  return ((TpRunSource *) source)->job != NULL;
}

static gboolean
tp_run_source_dispatch (GSource     *source,
                        GSourceFunc  callback,
                        gpointer     user_data)
{
  TpRunSource *run = (TpRunSource *) source;
  TpJob *job = g_steal_pointer (&run->job);

  job->func (run->task, job->pool, job->job_data, tp_job_get_run_cancellable (job));
  run->task = NULL;
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs tp_run_source_funcs = {
  .prepare = tp_run_source_prepare,
  .check = tp_run_source_check,
  .dispatch = tp_run_source_dispatch,
};

/* Dispatches what is ready in @context, which this thread owns, without
 * polling, until nothing is: its run source, and the idles of tasks
 * completed here (a job's own task when it was cancelled, and tasks that
 * earlier jobs completed late from other threads) */
static void
tp_worker_context_dispatch (GMainContext *context)
{
  gint priority;
  gint timeout;

  while (g_main_context_prepare (context, &priority))
    {
      g_main_context_query (context, priority, &timeout, NULL, 0);
      g_main_context_check (context, priority, NULL, 0);
      g_main_context_dispatch (context);
    }
}

/* A worker that goes: what completed since its last job is dispatched, its
 * context released. This runs as the thread exits, after GLib's own
 * thread-local data, so a task dispatched here makes GLib 2.74 print two
 * criticals; a task completed later, against the contract, is never
 * dispatched, and its job never delivered (the limit in doc/threading.md). */
static void
tp_worker_run_source_free (gpointer data)
{
  GSource *source = data;
  GMainContext *context = g_source_get_context (source);

  tp_worker_context_dispatch (context);
  g_source_destroy (source);
  g_source_unref (source);
  g_main_context_release (context);
  g_main_context_unref (context);
}

static GPrivate tp_worker_run_source = G_PRIVATE_INIT (tp_worker_run_source_free);

/* This thread's run source, attached to a context of its own, which it
 * owns */
static TpRunSource *
tp_worker_run_source_get (void)
{
  GSource *source = g_private_get (&tp_worker_run_source);

  if (G_UNLIKELY (source == NULL))
    {
      GMainContext *context = g_main_context_new ();

      g_main_context_acquire (context);
      source = g_source_new (&tp_run_source_funcs, sizeof (TpRunSource));
      g_source_set_static_name (source, "[taskpool] thread job run");
      g_source_attach (source, context);
      g_private_set (&tp_worker_run_source, source);
    }
  return (TpRunSource *) source;
}

/* }}} */

/* Completions {{{ */

typedef struct {
  GSource  source;
  GWeakRef pool;
} TpCompletionSource;

/* Hands a thread job's outcome (job->task) to the pool's context; the first
 * on an empty list wakes it */
static void
tp_pool_push_completion (TpPool *self,
                         TpJob  *job)
{
  TpJob *head;

  do
    {
      head = g_atomic_pointer_get (&self->completions);
      job->next = head;
    }
  while (!g_atomic_pointer_compare_and_exchange (&self->completions, head, job));

  if (head == NULL)
    g_source_set_ready_time (self->completion_source, 0);
}

/* On the worker thread, as it dispatches its context: the job completed its
 * task. A job that completed it after it returned is late: its worker is
 * gone, and the completion goes on from here. */
void
tp_pool_thread_job_completed (TpPool *self,
                              TpJob  *job,
                              GTask  *task)
{
  job->task = g_object_ref (task);
  if (G_LIKELY (job->state == TP_JOB_RUNNING))
    job->delivered = TRUE;
  else
    {
      job->delivered = TP_JOB_DELIVERED_LATE;
      tp_pool_lock (self);
      self->counts[tp_job_outcome_of_task (job, task)]++;
      tp_pool_unlock (self);
      tp_job_disconnect_cancel (job);
      tp_pool_push_completion (self, job);
    }
}

/* Delivers the outcomes of the thread jobs that completed since the last
 * dispatch, in the order they completed */
static gboolean
tp_completion_source_dispatch (GSource     *source,
                               GSourceFunc  callback,
                               gpointer     user_data)
{
  g_autoptr(TpPool) self = g_weak_ref_get (&((TpCompletionSource *) source)->pool);
  TpJob *job;
  TpJob *first = NULL;
  guint handed = 0;

  if (self == NULL)
    return G_SOURCE_REMOVE;

  /* Before taking the list: a completion pushed after wakes it again */
  g_source_set_ready_time (source, -1);
  job = g_atomic_pointer_exchange (&self->completions, NULL);
  while (job != NULL)
    {
      TpJob *next = job->next;

      job->next = first;
      first = job;
      job = next;
    }

  /* Callbacks run with the submitter's context as the thread-default one */
  g_main_context_push_thread_default (self->context);
  while ((job = first) != NULL)
    {
      GTask *task = g_steal_pointer (&job->task);

      first = job->next;
      job->next = NULL;
      if (G_LIKELY (job->delivered != TP_JOB_DELIVERED_LATE))
        handed++;
      tp_job_deliver (job, task, tp_job_replaced_error (job, task), self->context);
      /* Delivered, and nothing else holds a job its task does not own */
      if (!job->hooked)
        tp_job_free (job);
      /* May finalize the task, and the job it owns */
      g_object_unref (task);
    }
  g_main_context_pop_thread_default (self->context);

  /* Delivered: a close or a wait for idle may complete now, after them */
  if (handed > 0)
    {
      tp_pool_lock (self);
      self->n_handing -= handed;
      tp_pool_unlock (self);
    }
  return G_SOURCE_CONTINUE;
}

static void
tp_completion_source_finalize (GSource *source)
{
  g_weak_ref_clear (&((TpCompletionSource *) source)->pool);
}

static GSourceFuncs tp_completion_source_funcs = {
  .dispatch = tp_completion_source_dispatch,
  .finalize = tp_completion_source_finalize,
};

/* Attached to the pool's context; the pool keeps the returned reference */
GSource *
tp_pool_completion_source_new (TpPool *self)
{
  TpCompletionSource *source;

  source = (TpCompletionSource *) g_source_new (&tp_completion_source_funcs,
                                                sizeof (TpCompletionSource));
  g_weak_ref_init (&source->pool, self);
  g_source_set_static_name ((GSource *) source, "[taskpool] thread job completions");
  g_source_set_priority ((GSource *) source, G_PRIORITY_DEFAULT);
  g_source_set_ready_time ((GSource *) source, -1);
  g_source_attach ((GSource *) source, self->context);
  return (GSource *) source;
}

/* }}} */

/* Workers {{{ */

static gboolean
tp_pool_lost_task_cb (gpointer data)
{
  return G_SOURCE_REMOVE;
}

/* The worker's reference goes: the task's finalization delivers
 * TP_POOL_ERROR_JOB_LOST (unless the job keeps the task to complete it
 * late), and the hand-over is over */
static void
tp_pool_lost_task_free (gpointer data)
{
  GTask *task = data;
  TpPool *self = g_object_ref (g_task_get_source_object (task));

  g_object_unref (task);
  tp_pool_lock (self);
  self->n_handing--;
  tp_pool_unlock (self);
  g_object_unref (self);
}

/* A thread job that returned without completing its task is lost: the
 * task's finalization reports it and releases the job's data, which a
 * binding can release only on its own thread (GJS, whose job was never
 * called on this one). The worker's reference, the last, goes on the pool's
 * context, as a delivered job's does. */
static void
tp_pool_drop_lost_task (TpPool *self,
                        GTask  *task)
{
  GSource *source = g_idle_source_new ();

  g_source_set_static_name (source, "[taskpool] lost thread job");
  g_source_set_callback (source, tp_pool_lost_task_cb, task, tp_pool_lost_task_free);
  g_source_attach (source, self->context);
  g_source_unref (source);
}

/* The body of every worker thread: runs thread jobs back to back while the
 * queue holds thread jobs for this worker. */
static void
tp_pool_run_thread_jobs (TpJob *job)
{
  TpRunSource *run = tp_worker_run_source_get ();
  GMainContext *context = g_source_get_context ((GSource *) run);

  while (job != NULL)
    {
      TpPool *self = job->pool;
      TpJob *next = NULL;
      gboolean delivered;
      GTask *task;

      /* Its task lives in this thread's context, made outside any dispatch
       * of it */
      g_main_context_push_thread_default (context);
      task = tp_job_make_task (job);
      g_main_context_pop_thread_default (context);
      /* A limited job (a key, a deadline, a label) takes the simplest
       * order: owned by its task before it runs */
      if (G_UNLIKELY (job->limited))
        tp_job_hook (job, task);
      tp_job_disconnect_queued (job);

      /* Made outside any dispatch, the task completes at once in its job
       * from the run source's; one completed otherwise (cancelled, or from
       * another thread while the job waits) completes in an idle here */
      run->job = job;
      run->task = task;
      tp_worker_context_dispatch (context);
      delivered = job->delivered;

      /* This thread holds the task: it cannot have gone yet. A job delivered
       * on the pool's context is freed there once delivered; any other, one
       * that did not complete its task or one whose outcome goes on to
       * another context, is owned by its task from now on. */
      if (!delivered || job->context != self->context)
        tp_job_hook (job, task);

      tp_pool_lock (self);
      /* A job that returned without completing its task counts when its task
       * goes (lost), or when it completes it late */
      if (delivered)
        self->counts[tp_job_outcome_of_task (job, task)]++;
      /* Until the pool's context has delivered it */
      self->n_handing++;
      tp_pool_release_locked (self, job, &next);
      tp_pool_unlock (self);

      if (delivered)
        {
          /* The list holds the task now: its last reference, and the job's
           * data, go on the pool's context */
          tp_job_disconnect_cancel (job);
          g_object_unref (task);
          tp_pool_push_completion (self, job);
        }
      else
        {
          /* A lost job reports itself when its task is finalized */
          tp_pool_drop_lost_task (self, task);
        }
      job = next;
    }
}

static void
tp_pool_thread_func (gpointer data,
                     gpointer user_data)
{
  tp_pool_run_thread_jobs (data);
}

static void
tp_pool_gtask_thread_func (GTask        *carrier,
                           gpointer      source_object,
                           gpointer      task_data,
                           GCancellable *cancellable)
{
  tp_pool_run_thread_jobs (task_data);
}

void
tp_pool_start_executor_locked (TpPool *self)
{
  if (!self->use_gtask)
    self->threads = g_thread_pool_new (tp_pool_thread_func, NULL,
                                       self->limits.max_size, FALSE, NULL);
}

/* When the pool is finalized: no job is left to run */
void
tp_pool_stop_executor (TpPool *self)
{
  if (self->threads != NULL)
    g_thread_pool_free (g_steal_pointer (&self->threads), FALSE, FALSE);
}

void
tp_pool_start_thread_job_locked (TpPool *self,
                                 TpJob  *job)
{
  if (self->use_gtask)
    {
      /* A carrier task only to reach GIO's thread pool; the job keeps its own
       * task. The carrier completes in the thread-default context of the
       * thread that fills the worker: a thread that never iterates that
       * context keeps one small idle source per job it started. */
      GTask *carrier = g_task_new (NULL, NULL, NULL, NULL);

      g_task_set_task_data (carrier, job, NULL);
      g_task_run_in_thread (carrier, tp_pool_gtask_thread_func);
      g_object_unref (carrier);
    }
  else
    {
      g_thread_pool_push (self->threads, job, NULL);
    }
}

/* }}} */

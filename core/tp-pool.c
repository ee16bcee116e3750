/* tp-pool.c: a pool that limits how many jobs run at once
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tp-config-private.h"
#include "tp-job-private.h"
#include "tp-pool-private.h"
#include "tp-registry-private.h"

/**
 * TpPool:
 *
 * A pool that runs at most `size` jobs at once.
 *
 * A pool queues the jobs submitted to it and runs them on its workers in the
 * order its queue strategy decides (FIFO, LIFO, by priority …), with as many
 * workers as its scaling strategy decides (fixed, or scaled automatically).
 * Its kind names the two: `fixed-simple`, `autoscale-priority` and so on.
 *
 * A job is a #GTaskThreadFunc that completes the #GTask it is given. An async
 * job runs on the pool's #GMainContext and may complete its task later; a
 * thread job runs on a worker thread and completes its task before it
 * returns. The submitter's #GAsyncReadyCallback runs exactly once, in the
 * thread-default main context of the thread that submitted, and calls
 * [method@TaskPool.Pool.submit_finish].
 *
 * Since: 1.0
 */

#define TP_DEFAULT_KIND     "fixed-simple"
#define TP_DEFAULT_WEIGHT   4
#define TP_CONSULT_ROUNDS   64

typedef enum {
  TP_POOL_NEW,
  TP_POOL_RUNNING,
  TP_POOL_CLOSING,
  TP_POOL_CLOSED,
} TpPoolState;

typedef struct {
  GSource  source;
  GWeakRef pool;
} TpPoolSource;

/* What an unlock must do once the lock is released */
typedef struct {
  GPtrArray *tasks;        /* GTask: return TRUE */
  GPtrArray *closed_tasks; /* GTask: return TP_POOL_ERROR_CLOSED */
} TpPoolDone;

struct _TpPool
{
  GObject                parent_instance;

  GMutex                 mutex;

  /* Set at construction, then read-only */
  char                  *kind;
  char                  *executor;
  gboolean               use_gtask;
  GMainContext          *context;
  GKeyFile              *config;
  char                  *group;
  TpScaleLimits          limits;
  guint                  queue_capacity;
  int                    default_weight;
  const TpQueueStrategy *queue_vt;
  gpointer               queue;
  gboolean               time_submissions;  /* the queue strategy reads submit times */
  const TpScaleStrategy *scale_vt;
  gpointer               scaler;
  GCancellable          *cancellable;  /* for jobs submitted without one */
  GSource               *source;

  /* Protected by mutex */
  TpPoolState            state;
  gboolean               paused;
  TpCloseFlags           close_flags;
  GThreadPool           *threads;
  guint                  n_workers;
  guint                  target;
  guint                  running;
  guint                  n_queued;
  TpJobList              backlog;
  TpJobList              ready;
  TpJobList              active;       /* RUNNING jobs */
  TpIdleRing             idle;
  guint64                next_sequence;
  guint64                completed;
  gint64                 waiting_since;
  gint64                 next_check;
  gint64                 ready_time;
  gboolean               flush_pending;
  guint                  drain_depth;  /* g_main_depth () + 1 of the drain running, or 0 */

  /* Only on the thread that dispatches the pool's context */
  TpJob                 *drain_job;    /* the job the innermost drain is calling */
  GPtrArray             *close_tasks;
  GPtrArray             *idle_tasks;
  GPtrArray             *scale_tasks;

  /* The values last notified, protected by mutex */
  guint                  notified_size;
  guint                  notified_running;
  guint                  notified_waiting;
  gboolean               notified_paused;
  gboolean               notified_closed;
};

enum {
  PROP_0,
  PROP_KIND,
  PROP_SIZE,
  PROP_MIN_SIZE,
  PROP_MAX_SIZE,
  PROP_QUEUE_CAPACITY,
  PROP_DEFAULT_WEIGHT,
  PROP_EXECUTOR,
  PROP_MAIN_CONTEXT,
  PROP_RUNNING,
  PROP_WAITING,
  PROP_PAUSED,
  PROP_CLOSED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void tp_pool_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TpPool, tp_pool, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, tp_pool_initable_iface_init))

G_DEFINE_QUARK (tp-pool-error-quark, tp_pool_error)
static GQuark tp_job_quark (void);
G_DEFINE_QUARK (tp-pool-job, tp_job)

static const char * const tp_pool_core_keys[] = {
  "kind", "executor", "queue-capacity", "plugin-path", NULL
};

static void tp_pool_fill_locked    (TpPool  *self,
                                    TpJob  **keep);
static void tp_pool_run_ready      (TpPool  *self);
static void tp_pool_consult_locked (TpPool  *self);
static void tp_pool_thread_func    (gpointer data,
                                    gpointer user_data);
static void tp_pool_gtask_thread_func (GTask        *carrier,
                                       gpointer      source_object,
                                       gpointer      task_data,
                                       GCancellable *cancellable);

/* Idle ring {{{ */

void
tp_idle_ring_push_newest (TpIdleRing *ring,
                          gint64      stamp)
{
  if (ring->count == ring->capacity)
    {
      guint capacity = MAX (8, ring->capacity * 2);
      gint64 *stamps = g_new (gint64, capacity);

      for (guint i = 0; i < ring->count; i++)
        stamps[i] = ring->stamps[(ring->head + i) & (ring->capacity - 1)];
      g_free (ring->stamps);
      ring->stamps = stamps;
      ring->capacity = capacity;
      ring->head = 0;
    }
  ring->stamps[(ring->head + ring->count) & (ring->capacity - 1)] = stamp;
  ring->count++;
}

gint64
tp_idle_ring_pop_newest (TpIdleRing *ring)
{
  g_assert (ring->count > 0);
  ring->count--;
  return ring->stamps[(ring->head + ring->count) & (ring->capacity - 1)];
}

gint64
tp_idle_ring_drop_oldest (TpIdleRing *ring)
{
  gint64 stamp;

  g_assert (ring->count > 0);
  stamp = ring->stamps[ring->head];
  ring->head = (ring->head + 1) & (ring->capacity - 1);
  ring->count--;
  return stamp;
}

gint64
tp_idle_ring_oldest (const TpIdleRing *ring)
{
  return ring->count > 0 ? ring->stamps[ring->head] : 0;
}

void
tp_idle_ring_clear (TpIdleRing *ring)
{
  g_clear_pointer (&ring->stamps, g_free);
  ring->head = ring->count = ring->capacity = 0;
}

/* }}} */

/* The pool's GSource {{{
 *
 * One source per pool wakes its context: to run async jobs that got a worker
 * from another thread, to emit coalesced notifications, and when the scaling
 * strategy asked to be consulted again. Its ready time is -1 while there is
 * nothing to do, so an idle pool never wakes up. */

static gboolean tp_pool_source_dispatch (GSource     *source,
                                         GSourceFunc  callback,
                                         gpointer     user_data);

static void
tp_pool_source_finalize (GSource *source)
{
  g_weak_ref_clear (&((TpPoolSource *) source)->pool);
}

static GSourceFuncs tp_pool_source_funcs = {
  .dispatch = tp_pool_source_dispatch,
  .finalize = tp_pool_source_finalize,
};

static void
tp_pool_update_source_locked (TpPool *self)
{
  gint64 ready_time = self->flush_pending || self->ready.length > 0 ? 0 : self->next_check;

  if (ready_time != self->ready_time && self->source != NULL)
    {
      self->ready_time = ready_time;
      g_source_set_ready_time (self->source, ready_time);
    }
}

static void
tp_pool_request_flush_locked (TpPool *self)
{
  if (self->flush_pending)
    return;
  self->flush_pending = TRUE;
  tp_pool_update_source_locked (self);
}

/* }}} */

/* Locking {{{ */

static inline void
tp_pool_lock (TpPool *self)
{
  g_mutex_lock (&self->mutex);
}

static gboolean
tp_pool_is_idle_locked (TpPool *self)
{
  return self->running == 0 && self->n_queued == 0 && self->backlog.length == 0;
}

static GPtrArray *
tp_pool_steal_tasks (GPtrArray **tasks)
{
  return g_steal_pointer (tasks);
}

static void
tp_pool_settle_locked (TpPool     *self,
                       TpPoolDone *done)
{
  gboolean closing = self->state == TP_POOL_CLOSING || self->state == TP_POOL_CLOSED;

  if (self->scale_tasks != NULL && (self->n_workers == self->target || closing))
    {
      if (closing)
        done->closed_tasks = tp_pool_steal_tasks (&self->scale_tasks);
      else
        done->tasks = tp_pool_steal_tasks (&self->scale_tasks);
    }

  if (!tp_pool_is_idle_locked (self))
    return;

  if (self->state == TP_POOL_CLOSING)
    {
      self->state = TP_POOL_CLOSED;
      self->n_workers = 0;
      self->next_check = -1;
      tp_idle_ring_clear (&self->idle);
      if (self->scale_tasks != NULL)
        done->closed_tasks = tp_pool_steal_tasks (&self->scale_tasks);
    }

  if (self->idle_tasks != NULL || (self->state == TP_POOL_CLOSED && self->close_tasks != NULL))
    {
      GPtrArray *tasks = done->tasks != NULL ? done->tasks : g_ptr_array_new ();

      if (self->idle_tasks != NULL)
        g_ptr_array_extend_and_steal (tasks, tp_pool_steal_tasks (&self->idle_tasks));
      if (self->state == TP_POOL_CLOSED && self->close_tasks != NULL)
        g_ptr_array_extend_and_steal (tasks, tp_pool_steal_tasks (&self->close_tasks));
      done->tasks = tasks;
    }
}

/* A waiter (scale, close, wait-idle) whose cancellable fires stops waiting
 * at once. Its "cancelled" handler is disconnected in the task's callback:
 * GTask calls back synchronously only while the cancellable is not
 * cancelled, so that never runs inside the cancellable's own emission.
 * (A GCancellableSource would avoid the handler, but GLib 2.74 leaks such a
 * source when the cancelling thread holds its last reference.) */
typedef struct {
  GAsyncReadyCallback callback;
  gpointer            user_data;
  GCancellable       *cancellable;
  gulong              cancel_id;   /* protected by the pool's mutex */
  gboolean            completed;   /* likewise */
} TpWaiter;

static void
tp_waiter_free (gpointer data)
{
  TpWaiter *waiter = data;

  g_clear_object (&waiter->cancellable);
  g_free (waiter);
}

static void
tp_pool_waiter_done_cb (GObject      *source_object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  TpPool *self = TP_POOL (source_object);
  TpWaiter *waiter = g_task_get_task_data (G_TASK (result));
  gulong cancel_id;

  tp_pool_lock (self);
  cancel_id = waiter->cancel_id;
  waiter->cancel_id = 0;
  waiter->completed = TRUE;
  g_mutex_unlock (&self->mutex);

  if (cancel_id != 0)
    g_cancellable_disconnect (waiter->cancellable, cancel_id);
  if (waiter->callback != NULL)
    waiter->callback (source_object, result, waiter->user_data);
}

static void
tp_pool_waiter_cancelled_cb (GCancellable *cancellable,
                             gpointer      data)
{
  GTask *task = data;
  TpPool *self = g_task_get_source_object (task);
  gboolean found = FALSE;

  tp_pool_lock (self);
  if (self->close_tasks != NULL)
    found |= g_ptr_array_remove (self->close_tasks, task);
  if (self->idle_tasks != NULL)
    found |= g_ptr_array_remove (self->idle_tasks, task);
  if (self->scale_tasks != NULL)
    found |= g_ptr_array_remove (self->scale_tasks, task);
  g_mutex_unlock (&self->mutex);

  if (found)
    {
      g_task_return_error_if_cancelled (task);
      g_object_unref (task);
    }
}

static GTask *
tp_pool_new_waiter (TpPool              *self,
                    gpointer             source_tag,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  TpWaiter *waiter = g_new0 (TpWaiter, 1);
  GTask *task = g_task_new (self, cancellable, tp_pool_waiter_done_cb, NULL);

  waiter->callback = callback;
  waiter->user_data = user_data;
  waiter->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  g_task_set_task_data (task, waiter, tp_waiter_free);
  g_task_set_source_tag (task, source_tag);
  return task;
}

/* Watches the cancellable of a waiter just put in one of the pool's lists.
 * Usually its callback cannot run before the caller returns to the main loop
 * (the task was made in this iteration); but if the caller's context is run
 * by another thread, the task may already be complete: the handler is then
 * taken back at once. Consumes the caller's reference. */
static void
tp_pool_watch_waiter (TpPool *self,
                      GTask  *task)
{
  TpWaiter *waiter = g_task_get_task_data (task);
  gboolean completed;
  gulong cancel_id;

  if (waiter->cancellable != NULL)
    {
      /* Runs the handler at once if already cancelled, and then returns 0 */
      cancel_id = g_cancellable_connect (waiter->cancellable,
                                         G_CALLBACK (tp_pool_waiter_cancelled_cb), task, NULL);
      tp_pool_lock (self);
      completed = waiter->completed;
      if (!completed)
        waiter->cancel_id = cancel_id;
      g_mutex_unlock (&self->mutex);

      if (completed && cancel_id != 0)
        g_cancellable_disconnect (waiter->cancellable, cancel_id);
    }
  g_object_unref (task);
}

static void
tp_pool_add_task_locked (GPtrArray **tasks,
                         GTask      *task)
{
  if (*tasks == NULL)
    *tasks = g_ptr_array_new ();
  g_ptr_array_add (*tasks, g_object_ref (task));
}

static void
tp_pool_return_tasks (GPtrArray *tasks,
                      gboolean   closed)
{
  if (tasks == NULL)
    return;

  for (guint i = 0; i < tasks->len; i++)
    {
      GTask *task = tasks->pdata[i];

      if (closed)
        g_task_return_new_error (task, TP_POOL_ERROR, TP_POOL_ERROR_CLOSED,
                                 "The pool is closed: it cannot reach the size asked for");
      else
        g_task_return_boolean (task, TRUE);
      g_object_unref (task);
    }
  g_ptr_array_unref (tasks);
}

/* Every change of state ends here: it settles waiters, asks for a flush of
 * notifications when an observable value changed, unlocks, and only then
 * completes waiting tasks. */
static void
tp_pool_unlock (TpPool *self)
{
  TpPoolDone done = { NULL, NULL };
  gboolean closed = self->state == TP_POOL_CLOSING || self->state == TP_POOL_CLOSED;

  if (self->close_tasks != NULL || self->idle_tasks != NULL || self->scale_tasks != NULL)
    tp_pool_settle_locked (self, &done);

  if (self->n_workers != self->notified_size ||
      self->running != self->notified_running ||
      self->n_queued != self->notified_waiting ||
      self->paused != self->notified_paused ||
      closed != self->notified_closed)
    tp_pool_request_flush_locked (self);

  g_mutex_unlock (&self->mutex);

  tp_pool_return_tasks (done.tasks, FALSE);
  tp_pool_return_tasks (done.closed_tasks, TRUE);
}

/* }}} */

/* Jobs {{{ */

static void
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
static void
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

static void tp_job_task_finalized (gpointer data);

/* From now on the task owns the job, and reports it lost if it is finalized
 * before the job's callback ran */
static void
tp_job_hook (TpJob *job,
             GTask *task)
{
  if (job->hooked)
    return;
  tp_job_take_refs (job);
  job->hooked = TRUE;
  g_object_set_qdata_full (G_OBJECT (task), tp_job_quark (), job, tp_job_task_finalized);
}

/* The pool lets go of the job's task. @delivered says the job's callback
 * has run to its end; only the thread that runs the task's callbacks can
 * know it. Otherwise the job is hooked first, so that a job that dropped
 * its task without completing it is found when the task is finalized. */
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

static gboolean
tp_job_deliver_lost_cb (gpointer data)
{
  TpJob *job = data;
  GTask *task;

  g_main_context_push_thread_default (job->context);
  task = g_task_new (job->pool, NULL, job->callback, job->user_data);
  g_main_context_pop_thread_default (job->context);

  /* The function, not GLib 2.74's macro, which also names the task: a
   * g_strdup() per job, and a g_strconcat() per completion from a thread */
  (g_task_set_source_tag) (task, tp_pool_submit_full_async);
  g_task_return_new_error (task, TP_POOL_ERROR, TP_POOL_ERROR_JOB_LOST,
                           "The job dropped its GTask without completing it");
  g_object_unref (task);
  tp_job_free (job);
  return G_SOURCE_REMOVE;
}

static void tp_pool_release_locked (TpPool  *self,
                                    TpJob   *job,
                                    TpJob  **keep);

/* The job's GTask was finalized. Normally its callback ran before; if not,
 * the job dropped its task without completing it, and the submitter gets
 * TP_POOL_ERROR_JOB_LOST instead, in its own context. */
static void
tp_job_task_finalized (gpointer data)
{
  TpJob *job = data;
  TpPool *self = job->pool;
  GSource *source;

  if (job->delivered)
    {
      tp_job_free (job);
      return;
    }

  tp_pool_lock (self);
  if (job->state == TP_JOB_RUNNING)
    tp_pool_release_locked (self, job, NULL);
  tp_pool_unlock (self);

  if (job->cancel_id != 0)
    g_cancellable_disconnect (job->cancellable, job->cancel_id);

  if (job->callback == NULL)
    {
      tp_job_free (job);
      return;
    }

  source = g_idle_source_new ();
  g_source_set_static_name (source, "[taskpool] lost job");
  g_source_set_callback (source, tp_job_deliver_lost_cb, job, NULL);
  g_source_attach (source, job->context);
  g_source_unref (source);
}

static gboolean
tp_job_deliver_result_cb (gpointer data)
{
  GTask *task = data;
  TpJob *job = g_object_get_qdata (G_OBJECT (task), tp_job_quark ());

  g_main_context_push_thread_default (job->context);
  job->callback (G_OBJECT (job->pool), G_ASYNC_RESULT (task), job->user_data);
  g_main_context_pop_thread_default (job->context);
  return G_SOURCE_REMOVE;
}

/* Hands a deferred job's result to the submitter's context */
static void
tp_job_post_result (TpJob *job,
                    GTask *task)
{
  GSource *source = g_idle_source_new ();

  g_source_set_static_name (source, "[taskpool] job result");
  g_source_set_callback (source, tp_job_deliver_result_cb, g_object_ref (task), g_object_unref);
  g_source_attach (source, job->context);
  g_source_unref (source);
}

static void
tp_pool_job_done_cb (GObject      *source_object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  TpJob *job = user_data;
  TpPool *self = job->pool;
  /* Only a deferred job's task may live elsewhere than its submitter's context */
  GMainContext *task_context = job->deferred ? g_task_get_context (G_TASK (result)) : job->context;
  gboolean on_pool_thread = task_context == self->context;
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
      /* A job that completes while a drain calls it (at once, W1's case)
       * leaves the next one to that drain, or, from a nested main loop, to
       * the pool's source, which a ready job arms */
      drain = on_pool_thread && self->ready.length > 0 && self->drain_job != job;
      tp_pool_unlock (self);
    }

  if (job->cancel_id != 0)
    {
      g_cancellable_disconnect (job->cancellable, job->cancel_id);
      job->cancel_id = 0;
    }

  /* A deferred job's task lives on the pool's context when it ran, on the
   * submitter's when it failed before it could */
  if (job->callback != NULL && task_context != job->context)
    tp_job_post_result (job, G_TASK (result));
  else if (job->callback != NULL)
    job->callback (source_object, result, job->user_data);

  /* A worker freed here takes its next job now. The job, alive until its
   * task is finalized, holds the pool. */
  if (drain)
    tp_pool_run_ready (self);
}

/* Makes the job's GTask, bound to the caller's thread-default context */
static GTask *
tp_job_make_task (TpJob *job)
{
  TpPool *self = job->pool;
  GCancellable *cancellable = job->cancellable != self->cancellable ? job->cancellable : NULL;
  GTask *task = g_task_new (self, cancellable, tp_pool_job_done_cb, job);

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

static void
tp_job_disconnect_for_start (TpJob *job)
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
static void
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

  tp_job_disconnect_for_start (job);
  job->func (task, job->pool, job->job_data, job->cancellable);

  /* The task's callbacks run on this thread, which owns the pool's context:
   * if the callback ran, it ran to its end during the call (the job
   * completed at once, or a nested main loop completed it) */
  tp_job_release_task (job, task, job->delivered);
}

/* }}} */

/* Workers and slots {{{ */

/* When a worker went idle, or the queue began to wait; only strategies that
 * decide read it */
static inline gint64
tp_pool_idle_stamp (TpPool *self)
{
  return self->scale_vt->decide != NULL ? g_get_monotonic_time () : 0;
}

static void
tp_pool_notify_scaled_locked (TpPool *self)
{
  tp_pool_request_flush_locked (self);
}

static void
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
  tp_pool_notify_scaled_locked (self);
}

static void
tp_pool_admit_backlog_locked (TpPool *self)
{
  while (self->backlog.length > 0 && self->n_queued < self->queue_capacity)
    {
      TpJob *job = tp_job_list_pop_head (&self->backlog);

      job->state = TP_JOB_QUEUED;
      self->queue_vt->push (self->queue, job);
      self->n_queued++;
    }
}

static void
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

/* Gives queued jobs to idle workers. A thread job may be kept for the
 * calling worker thread (@keep), which then runs it without a hand-off. */
static void
tp_pool_fill_locked (TpPool  *self,
                     TpJob  **keep)
{
  gboolean was_ready = self->ready.length > 0;

  while (self->idle.count > 0 && self->n_queued > 0)
    {
      TpJob *job = self->queue_vt->pop (self->queue);

      g_assert (job != NULL);
      self->n_queued--;
      if (self->n_queued == 0)
        self->waiting_since = 0;
      tp_idle_ring_pop_newest (&self->idle);
      self->running++;
      tp_pool_admit_backlog_locked (self);

      if (!job->in_thread)
        {
          job->state = TP_JOB_READY;
          tp_job_list_push_tail (&self->ready, job);
          continue;
        }

      job->state = TP_JOB_RUNNING;
      tp_job_list_push_tail (&self->active, job);
      if (keep != NULL && *keep == NULL)
        *keep = job;
      else
        tp_pool_start_thread_job_locked (self, job);
    }

  /* Even on the pool's thread, which drains the list itself, the source is
   * woken (at most once per dispatch of it): a callback may run a nested main
   * loop before the drain gets back to the list. */
  if (!was_ready && self->ready.length > 0)
    tp_pool_update_source_locked (self);
}

/* A job leaves its worker: the worker takes the next job, goes idle, or
 * retires if the pool is larger than its target. */
static void
tp_pool_release_locked (TpPool  *self,
                        TpJob   *job,
                        TpJob  **keep)
{
  g_assert (job->state == TP_JOB_RUNNING);

  tp_job_list_unlink (&self->active, job);
  job->state = TP_JOB_FINISHED;
  self->running--;
  self->completed++;

  if (self->n_workers > self->target)
    {
      self->n_workers--;
      return;
    }

  if (self->n_queued > 0)
    {
      /* The worker takes the next job at once: it is not idle, and its
       * stamp is never read */
      tp_idle_ring_push_newest (&self->idle, 0);
      tp_pool_fill_locked (self, keep);
      return;
    }
  tp_idle_ring_push_newest (&self->idle, tp_pool_idle_stamp (self));
  if (self->scale_vt->decide != NULL && self->n_workers > self->limits.min_size)
    tp_pool_consult_locked (self);
}

/* The body of every worker thread: runs thread jobs back to back while the
 * queue holds thread jobs for this worker. */
static void
tp_pool_run_thread_jobs (TpJob *job)
{
  while (job != NULL)
    {
      TpPool *self = job->pool;
      GTask *task = g_steal_pointer (&job->task);
      TpJob *next = NULL;

      /* Its callback may run on the submitter's thread while this one still
       * uses the job */
      tp_job_hook (job, task);
      tp_job_disconnect_for_start (job);
      job->func (task, self, job->job_data, job->cancellable);

      tp_pool_lock (self);
      tp_pool_release_locked (self, job, &next);
      tp_pool_unlock (self);

      /* May finalize the job, and the pool with it when nothing is next */
      g_object_unref (task);
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

/* Runs the async jobs that own a worker. Only on the pool's thread. A drain
 * that calls a job which completes at once goes on with the next job itself;
 * a callback that runs a nested main loop gets the pool's source dispatched
 * (it can recurse) and drains at its deeper level. */
static void
tp_pool_run_ready (TpPool *self)
{
  guint depth = (guint) g_main_depth () + 1;
  guint outer_depth;
  TpJob *outer_job;
  TpJob *job;

  tp_pool_lock (self);
  if (self->drain_depth >= depth)
    {
      g_mutex_unlock (&self->mutex);
      return;
    }

  g_object_ref (self);
  outer_depth = self->drain_depth;
  outer_job = self->drain_job;
  self->drain_depth = depth;
  while ((job = tp_job_list_pop_head (&self->ready)) != NULL)
    {
      job->state = TP_JOB_RUNNING;
      tp_job_list_push_tail (&self->active, job);
      /* Jobs left behind must not wait for this drain if the job's callback
       * runs a nested main loop: arm the source (once per dispatch) */
      if (self->ready.length > 0)
        tp_pool_update_source_locked (self);
      g_mutex_unlock (&self->mutex);

      /* Alive until tp_job_run_async() returns */
      self->drain_job = job;
      tp_job_run_async (job);
      self->drain_job = outer_job;

      tp_pool_lock (self);
    }
  self->drain_depth = outer_depth;
  tp_pool_unlock (self);
  g_object_unref (self);
}

/* }}} */

/* Scaling strategy {{{ */

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
  stats->waiting = self->n_queued + self->backlog.length;
  stats->idle_workers = self->idle.count;
  stats->min_size = self->limits.min_size;
  stats->max_size = self->limits.max_size;
  stats->oldest_wait_us = self->waiting_since > 0 ? stats->now - self->waiting_since : 0;
  stats->longest_idle_us = self->idle.count > 0 ? stats->now - oldest_idle : 0;
  stats->submitted = self->next_sequence;
  stats->completed = self->completed;
}

/* Asks the scaling strategy for a size and applies it, again while its
 * answer changes (a strategy may retire one worker per answer). */
static void
tp_pool_consult_locked (TpPool *self)
{
  if (self->scale_vt->decide == NULL ||
      (self->state != TP_POOL_RUNNING && self->state != TP_POOL_CLOSING))
    return;

  for (guint round = 0; round < TP_CONSULT_ROUNDS; round++)
    {
      TpScaleStats stats;
      gint64 next_check_us = -1;
      guint wanted;

      tp_pool_fill_stats_locked (self, &stats);
      wanted = self->scale_vt->decide (self->scaler, &stats, &next_check_us);
      wanted = CLAMP (wanted, self->limits.min_size, self->limits.max_size);
      self->next_check = next_check_us >= 0 ? stats.now + next_check_us : -1;

      if (wanted == self->target)
        break;
      tp_pool_set_target_locked (self, wanted);
    }
  tp_pool_update_source_locked (self);
}

/* }}} */

/* Pool source dispatch and notifications {{{ */

static void
tp_pool_flush_notify (TpPool *self)
{
  guint changed[N_PROPS];
  guint n_changed = 0;
  gboolean closed;

  tp_pool_lock (self);
  self->flush_pending = FALSE;
  closed = self->state == TP_POOL_CLOSING || self->state == TP_POOL_CLOSED;
  if (self->n_workers != self->notified_size)
    changed[n_changed++] = PROP_SIZE;
  if (self->running != self->notified_running)
    changed[n_changed++] = PROP_RUNNING;
  if (self->n_queued != self->notified_waiting)
    changed[n_changed++] = PROP_WAITING;
  if (self->paused != self->notified_paused)
    changed[n_changed++] = PROP_PAUSED;
  if (closed != self->notified_closed)
    changed[n_changed++] = PROP_CLOSED;
  self->notified_size = self->n_workers;
  self->notified_running = self->running;
  self->notified_waiting = self->n_queued;
  self->notified_paused = self->paused;
  self->notified_closed = closed;
  tp_pool_update_source_locked (self);
  g_mutex_unlock (&self->mutex);

  if (n_changed == 0)
    return;

  g_object_freeze_notify (G_OBJECT (self));
  for (guint i = 0; i < n_changed; i++)
    g_object_notify_by_pspec (G_OBJECT (self), properties[changed[i]]);
  g_object_thaw_notify (G_OBJECT (self));
}

static gboolean
tp_pool_source_dispatch (GSource     *source,
                         GSourceFunc  callback,
                         gpointer     user_data)
{
  TpPool *self = g_weak_ref_get (&((TpPoolSource *) source)->pool);

  if (self == NULL)
    return G_SOURCE_REMOVE;

  tp_pool_lock (self);
  self->ready_time = -1;
  g_source_set_ready_time (source, -1);
  if (self->next_check >= 0 && self->next_check <= g_source_get_time (source))
    {
      self->next_check = -1;
      tp_pool_consult_locked (self);
    }
  tp_pool_unlock (self);

  tp_pool_run_ready (self);
  tp_pool_flush_notify (self);

  g_object_unref (self);
  return G_SOURCE_CONTINUE;
}

/* }}} */

/* Construction {{{ */

/* "Invalid kind “x”" or, from a keyfile, which group and key said so */
static char *
tp_pool_describe_kind (TpPool     *self,
                       const char *adjective)
{
  if (self->group != NULL && g_key_file_has_key (self->config, self->group, "kind", NULL))
    return g_strdup_printf ("Invalid value “%s” for key “kind” in group “%s”",
                            self->kind, self->group);
  return g_strdup_printf ("%s kind “%s”", adjective, self->kind);
}

static gboolean
tp_pool_split_kind (TpPool      *self,
                    const char * const *extra_dirs,
                    char       **scale_name,
                    char       **queue_name,
                    GError     **error)
{
  const char *kind = self->kind;
  const char *dash = strchr (kind, '-');

  if (dash == NULL || dash == kind || dash[1] == '\0')
    {
      g_autofree char *kinds = tp_registry_describe (extra_dirs);
      g_autofree char *what = tp_pool_describe_kind (self, "Invalid");

      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                   "%s: a kind is <scaler>-<queue>; available kinds: %s", what, kinds);
      return FALSE;
    }

  *scale_name = g_strndup (kind, dash - kind);
  *queue_name = g_strdup (dash + 1);
  return TRUE;
}

static gboolean
tp_pool_find_strategies (TpPool  *self,
                         GError **error)
{
  g_autofree char *scale_name = NULL;
  g_autofree char *queue_name = NULL;
  g_auto(GStrv) extra_dirs = NULL;
  g_autoptr(GError) local_error = NULL;

  if (!tp_config_get_plugin_path (self->config, self->group, &extra_dirs, error))
    return FALSE;
  if (!tp_pool_split_kind (self, (const char * const *) extra_dirs, &scale_name, &queue_name,
                           error))
    return FALSE;

  self->scale_vt = tp_registry_lookup_scale ((const char * const *) extra_dirs, scale_name, &local_error);
  if (self->scale_vt != NULL)
    self->queue_vt = tp_registry_lookup_queue ((const char * const *) extra_dirs, queue_name, &local_error);

  if (self->scale_vt == NULL || self->queue_vt == NULL)
    {
      g_autofree char *kinds = tp_registry_describe ((const char * const *) extra_dirs);
      g_autofree char *what = tp_pool_describe_kind (self, "Unknown");

      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "%s: %s; available kinds: %s", what, local_error->message, kinds);
      return FALSE;
    }
  self->time_submissions =
    (tp_queue_strategy_get_flags (self->queue_vt) & TP_QUEUE_IGNORES_SUBMIT_TIME) == 0;
  return TRUE;
}

static gboolean
tp_pool_strategy_reads (const char * const *keys,
                        const char         *key)
{
  return keys != NULL && g_strv_contains (keys, key);
}

/* Reads the keys the pool reads on behalf of its strategies */
static gboolean
tp_pool_read_config (TpPool  *self,
                     GError **error)
{
  const char * const *scale_keys = self->scale_vt->keys;
  g_autofree char *executor = NULL;
  gboolean set;

  if (self->config == NULL)
    return TRUE;

  if (!tp_config_check_keys (self->config, self->group, self->kind, tp_pool_core_keys,
                             self->queue_vt->keys, scale_keys, error))
    return FALSE;

  if (!tp_config_get_uint (self->config, self->group, "queue-capacity", 0, G_MAXINT,
                           &self->queue_capacity, NULL, error) ||
      !tp_config_get_string (self->config, self->group, "executor", &executor, NULL, error))
    return FALSE;
  if (executor != NULL)
    {
      g_free (self->executor);
      self->executor = g_steal_pointer (&executor);
    }

  if (tp_pool_strategy_reads (self->queue_vt->keys, "default-weight") &&
      !tp_config_get_int (self->config, self->group, "default-weight", G_MININT, G_MAXINT,
                          &self->default_weight, NULL, error))
    return FALSE;

  if (tp_pool_strategy_reads (scale_keys, "size"))
    {
      if (!tp_config_get_uint (self->config, self->group, "size", 0, TP_POOL_MAX_SIZE,
                               &self->limits.size, &set, error))
        return FALSE;
      self->limits.size_set |= set;
    }
  if (tp_pool_strategy_reads (scale_keys, "min-size"))
    {
      if (!tp_config_get_uint (self->config, self->group, "min-size", 0, TP_POOL_MAX_SIZE,
                               &self->limits.min_size, &set, error))
        return FALSE;
      self->limits.min_size_set |= set;
    }
  if (tp_pool_strategy_reads (scale_keys, "max-size"))
    {
      if (!tp_config_get_uint (self->config, self->group, "max-size", 1, TP_POOL_MAX_SIZE,
                               &self->limits.max_size, &set, error))
        return FALSE;
      self->limits.max_size_set |= set;
    }
  return TRUE;
}

static const char *
tp_pool_where (TpPool *self)
{
  return self->group != NULL ? self->group : self->kind;
}

static gboolean
tp_pool_check_limits (TpPool  *self,
                      GError **error)
{
  const TpScaleLimits *limits = &self->limits;

  if (limits->max_size < 1 || limits->max_size > TP_POOL_MAX_SIZE)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                   "Invalid max-size %u for “%s”: expected a whole number from 1 to %d",
                   limits->max_size, tp_pool_where (self), TP_POOL_MAX_SIZE);
      return FALSE;
    }
  if (limits->min_size > limits->max_size)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                   "Invalid sizes for “%s”: min-size %u is greater than max-size %u",
                   tp_pool_where (self), limits->min_size, limits->max_size);
      return FALSE;
    }
  if (limits->size < limits->min_size || limits->size > limits->max_size)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                   "Invalid size %u for “%s”: expected a size from min-size %u to max-size %u",
                   limits->size, tp_pool_where (self), limits->min_size, limits->max_size);
      return FALSE;
    }
  return TRUE;
}

static gboolean
tp_pool_check_executor (TpPool  *self,
                        GError **error)
{
  if (g_strcmp0 (self->executor, "threads") == 0)
    return TRUE;
  if (g_strcmp0 (self->executor, "gtask") == 0)
    {
      self->use_gtask = TRUE;
      return TRUE;
    }

  g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
               "Unknown executor “%s” for “%s”: expected “threads” or “gtask”",
               self->executor, tp_pool_where (self));
  return FALSE;
}

static gboolean
tp_pool_initable_init (GInitable     *initable,
                       GCancellable  *cancellable,
                       GError       **error)
{
  TpPool *self = TP_POOL (initable);
  TpPoolSource *source;

  if (self->queue != NULL)
    return TRUE;

  if (!tp_pool_find_strategies (self, error) ||
      !tp_pool_read_config (self, error) ||
      !tp_pool_check_executor (self, error))
    return FALSE;

  self->scaler = self->scale_vt->create (self->config, self->group, &self->limits, error);
  if (self->scaler == NULL)
    return FALSE;
  if (!tp_pool_check_limits (self, error))
    return FALSE;

  self->queue = self->queue_vt->create (self->config, self->group, error);
  if (self->queue == NULL)
    return FALSE;

  self->target = self->limits.size;
  if (self->context == NULL)
    self->context = g_main_context_ref_thread_default ();

  source = (TpPoolSource *) g_source_new (&tp_pool_source_funcs, sizeof (TpPoolSource));
  g_weak_ref_init (&source->pool, self);
  g_source_set_static_name ((GSource *) source, "[taskpool] pool");
  g_source_set_priority ((GSource *) source, G_PRIORITY_DEFAULT);
  g_source_set_can_recurse ((GSource *) source, TRUE);
  g_source_set_ready_time ((GSource *) source, -1);
  g_source_attach ((GSource *) source, self->context);
  self->source = (GSource *) source;
  return TRUE;
}

static void
tp_pool_initable_iface_init (GInitableIface *iface)
{
  iface->init = tp_pool_initable_init;
}

/* }}} */

/* GObject {{{ */

static void
tp_pool_finalize (GObject *object)
{
  TpPool *self = TP_POOL (object);

  if (self->source != NULL)
    {
      g_source_destroy (self->source);
      g_source_unref (self->source);
    }
  if (self->threads != NULL)
    g_thread_pool_free (self->threads, FALSE, FALSE);
  if (self->queue != NULL)
    self->queue_vt->destroy (self->queue);
  if (self->scaler != NULL)
    self->scale_vt->destroy (self->scaler);

  g_clear_pointer (&self->close_tasks, g_ptr_array_unref);
  g_clear_pointer (&self->idle_tasks, g_ptr_array_unref);
  g_clear_pointer (&self->scale_tasks, g_ptr_array_unref);
  tp_idle_ring_clear (&self->idle);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->config, g_key_file_unref);
  g_clear_pointer (&self->group, g_free);
  g_clear_pointer (&self->kind, g_free);
  g_clear_pointer (&self->executor, g_free);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (tp_pool_parent_class)->finalize (object);
}

static void
tp_pool_get_property (GObject    *object,
                      guint       prop_id,
                      GValue     *value,
                      GParamSpec *pspec)
{
  TpPool *self = TP_POOL (object);

  switch (prop_id)
    {
    case PROP_KIND:
      g_value_set_string (value, self->kind);
      break;
    case PROP_SIZE:
      g_value_set_uint (value, tp_pool_get_size (self));
      break;
    case PROP_MIN_SIZE:
      g_value_set_uint (value, self->limits.min_size);
      break;
    case PROP_MAX_SIZE:
      g_value_set_uint (value, self->limits.max_size);
      break;
    case PROP_QUEUE_CAPACITY:
      g_value_set_uint (value, self->queue_capacity);
      break;
    case PROP_DEFAULT_WEIGHT:
      g_value_set_int (value, self->default_weight);
      break;
    case PROP_EXECUTOR:
      g_value_set_string (value, self->executor);
      break;
    case PROP_MAIN_CONTEXT:
      g_value_set_boxed (value, self->context);
      break;
    case PROP_RUNNING:
      g_value_set_uint (value, tp_pool_get_running (self));
      break;
    case PROP_WAITING:
      g_value_set_uint (value, tp_pool_get_waiting (self));
      break;
    case PROP_PAUSED:
      g_value_set_boolean (value, tp_pool_get_paused (self));
      break;
    case PROP_CLOSED:
      g_value_set_boolean (value, tp_pool_get_closed (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tp_pool_set_property (GObject      *object,
                      guint         prop_id,
                      const GValue *value,
                      GParamSpec   *pspec)
{
  TpPool *self = TP_POOL (object);

  if (self->queue != NULL)
    {
      /* g_log(), not g_critical(): with structured logging the latter cannot
       * be caught by g_test_expect_message() */
      g_log (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "TpPool:%s can only be set at construction",
             pspec->name);
      return;
    }

  switch (prop_id)
    {
    case PROP_KIND:
      if (g_value_get_string (value) != NULL)
        {
          g_free (self->kind);
          self->kind = g_value_dup_string (value);
        }
      break;
    case PROP_SIZE:
      self->limits.size = g_value_get_uint (value);
      self->limits.size_set = TRUE;
      break;
    case PROP_MIN_SIZE:
      self->limits.min_size = g_value_get_uint (value);
      self->limits.min_size_set = TRUE;
      break;
    case PROP_MAX_SIZE:
      self->limits.max_size = g_value_get_uint (value);
      self->limits.max_size_set = TRUE;
      break;
    case PROP_QUEUE_CAPACITY:
      self->queue_capacity = g_value_get_uint (value);
      break;
    case PROP_DEFAULT_WEIGHT:
      self->default_weight = g_value_get_int (value);
      break;
    case PROP_EXECUTOR:
      if (g_value_get_string (value) != NULL)
        {
          g_free (self->executor);
          self->executor = g_value_dup_string (value);
        }
      break;
    case PROP_MAIN_CONTEXT:
      g_clear_pointer (&self->context, g_main_context_unref);
      self->context = g_value_dup_boxed (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tp_pool_class_init (TpPoolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags construct_flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                                G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  GParamFlags read_flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  /* Not G_PARAM_CONSTRUCT_ONLY: GObject would set the default of every
   * construct property, and a scaler must know which sizes were given.
   * tp_pool_set_property() refuses them once the pool is initialized. */
  GParamFlags size_flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = tp_pool_finalize;
  object_class->get_property = tp_pool_get_property;
  object_class->set_property = tp_pool_set_property;

  /**
   * TpPool:kind:
   *
   * The pool's kind, `<scaler>-<queue>`, such as `fixed-simple` or
   * `autoscale-priority`.
   *
   * Since: 1.0
   */
  properties[PROP_KIND] =
    g_param_spec_string ("kind", NULL, NULL, TP_DEFAULT_KIND, construct_flags);

  /**
   * TpPool:size:
   *
   * At construction, the workers a pool starts with (default 3 for fixed
   * pools, `min-size` for autoscale pools); when read, the live workers.
   * Settable only at construction.
   *
   * Since: 1.0
   */
  properties[PROP_SIZE] =
    g_param_spec_uint ("size", NULL, NULL, 0, TP_POOL_MAX_SIZE, 3, size_flags);

  /**
   * TpPool:min-size:
   *
   * The smallest size scaling may reach: default 0 for fixed pools, 3 for
   * autoscale pools. Settable only at construction.
   *
   * Since: 1.0
   */
  properties[PROP_MIN_SIZE] =
    g_param_spec_uint ("min-size", NULL, NULL, 0, TP_POOL_MAX_SIZE, 0, size_flags);

  /**
   * TpPool:max-size:
   *
   * The largest size scaling may reach: default %TP_POOL_MAX_SIZE for fixed
   * pools, `min-size` + 5 for autoscale pools. Settable only at construction.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_SIZE] =
    g_param_spec_uint ("max-size", NULL, NULL, 0, TP_POOL_MAX_SIZE, TP_POOL_MAX_SIZE,
                       size_flags);

  /**
   * TpPool:queue-capacity:
   *
   * How many jobs may be queued; 0 for no limit. Past it, a submission waits
   * for room, or fails with %TP_POOL_ERROR_FULL given %TP_SUBMIT_NO_WAIT.
   *
   * Since: 1.0
   */
  properties[PROP_QUEUE_CAPACITY] =
    g_param_spec_uint ("queue-capacity", NULL, NULL, 0, G_MAXINT, 0, construct_flags);

  /**
   * TpPool:default-weight:
   *
   * The weight of a job submitted without one; priority queues run the
   * smallest weight first.
   *
   * Since: 1.0
   */
  properties[PROP_DEFAULT_WEIGHT] =
    g_param_spec_int ("default-weight", NULL, NULL, G_MININT, G_MAXINT, TP_DEFAULT_WEIGHT,
                      construct_flags);

  /**
   * TpPool:executor:
   *
   * What runs thread jobs: `threads`, the pool's own thread pool sized to
   * the pool, or `gtask`, GIO's shared pool through g_task_run_in_thread().
   *
   * Since: 1.0
   */
  properties[PROP_EXECUTOR] =
    g_param_spec_string ("executor", NULL, NULL, "threads", construct_flags);

  /**
   * TpPool:main-context:
   *
   * The context async jobs, scaling and notifications run on; the
   * thread-default context of the thread that made the pool by default.
   *
   * Since: 1.0
   */
  properties[PROP_MAIN_CONTEXT] =
    g_param_spec_boxed ("main-context", NULL, NULL, G_TYPE_MAIN_CONTEXT, construct_flags);

  /**
   * TpPool:running:
   *
   * The jobs that own a worker.
   *
   * Since: 1.0
   */
  properties[PROP_RUNNING] =
    g_param_spec_uint ("running", NULL, NULL, 0, G_MAXUINT, 0, read_flags);

  /**
   * TpPool:waiting:
   *
   * The jobs in the queue.
   *
   * Since: 1.0
   */
  properties[PROP_WAITING] =
    g_param_spec_uint ("waiting", NULL, NULL, 0, G_MAXUINT, 0, read_flags);

  /**
   * TpPool:paused:
   *
   * Whether the pool refuses submissions for now.
   *
   * Since: 1.0
   */
  properties[PROP_PAUSED] =
    g_param_spec_boolean ("paused", NULL, NULL, FALSE, read_flags);

  /**
   * TpPool:closed:
   *
   * Whether the pool was closed: set when closing starts, since the pool
   * will never accept a job again.
   *
   * Since: 1.0
   */
  properties[PROP_CLOSED] =
    g_param_spec_boolean ("closed", NULL, NULL, FALSE, read_flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tp_pool_init (TpPool *self)
{
  g_mutex_init (&self->mutex);
  self->kind = g_strdup (TP_DEFAULT_KIND);
  self->executor = g_strdup ("threads");
  self->default_weight = TP_DEFAULT_WEIGHT;
  self->cancellable = g_cancellable_new ();
  self->next_check = -1;
  self->ready_time = -1;
}

/* }}} */

/* Public API {{{ */

/**
 * tp_pool_new:
 * @kind: (nullable): the kind, such as `fixed-simple`; %NULL for `fixed-simple`
 * @error: return location for a #GError
 *
 * Creates a pool of @kind with default settings, on the thread-default main
 * context. Start it with [method@TaskPool.Pool.start].
 *
 * Returns: (transfer full) (nullable): a new pool, or %NULL with @error set
 *   (%TP_POOL_ERROR_CONFIG or %TP_POOL_ERROR_PLUGIN)
 *
 * Since: 1.0
 */
TpPool *
tp_pool_new (const char  *kind,
             GError     **error)
{
  return g_initable_new (TP_TYPE_POOL, NULL, error, "kind", kind, NULL);
}

/**
 * tp_pool_new_from_keyfile:
 * @keyfile: a keyfile
 * @group: the group that configures the pool
 * @error: return location for a #GError
 *
 * Creates a pool configured by @group of @keyfile. Every key is checked: an
 * unknown key, a value of the wrong type or out of range, or a kind no plugin
 * provides is an error that names the group, the key, the value and what is
 * allowed.
 *
 * Returns: (transfer full) (nullable): a new pool, or %NULL with @error set
 *
 * Since: 1.0
 */
TpPool *
tp_pool_new_from_keyfile (GKeyFile    *keyfile,
                          const char  *group,
                          GError     **error)
{
  g_autoptr(TpPool) self = NULL;
  g_autofree char *kind = NULL;

  g_return_val_if_fail (keyfile != NULL, NULL);
  g_return_val_if_fail (group != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_key_file_has_group (keyfile, group))
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                   "The keyfile has no group “%s”", group);
      return NULL;
    }

  if (!tp_config_get_string (keyfile, group, "kind", &kind, NULL, error))
    return NULL;

  self = g_object_new (TP_TYPE_POOL, "kind", kind, NULL);
  self->config = g_key_file_ref (keyfile);
  self->group = g_strdup (group);

  if (!g_initable_init (G_INITABLE (self), NULL, error))
    return NULL;

  return g_steal_pointer (&self);
}

/**
 * tp_pool_start:
 * @self: a pool
 * @error: return location for a #GError
 *
 * Creates the workers and starts accepting jobs. Starting a running pool
 * does nothing; a closed pool cannot start again.
 *
 * Returns: %TRUE if the pool runs, %FALSE with %TP_POOL_ERROR_CLOSED
 *
 * Since: 1.0
 */
gboolean
tp_pool_start (TpPool  *self,
               GError **error)
{
  g_return_val_if_fail (TP_IS_POOL (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  tp_pool_lock (self);
  if (self->state != TP_POOL_NEW)
    {
      gboolean running = self->state == TP_POOL_RUNNING;

      g_mutex_unlock (&self->mutex);
      if (!running)
        g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CLOSED,
                     "The pool was closed: a closed pool cannot start again");
      return running;
    }

  self->state = TP_POOL_RUNNING;
  if (!self->use_gtask)
    self->threads = g_thread_pool_new (tp_pool_thread_func, NULL,
                                       self->limits.max_size, FALSE, NULL);
  tp_pool_set_target_locked (self, self->target);
  tp_pool_consult_locked (self);
  tp_pool_unlock (self);
  return TRUE;
}

typedef struct {
  TpJob  *job;
  GError *error;
} TpJobFailure;

static gboolean
tp_job_deliver_failure_cb (gpointer data)
{
  TpJobFailure *failure = data;
  TpJob *job = failure->job;
  GTask *task;

  g_main_context_push_thread_default (job->context);
  task = tp_job_make_task (job);
  g_main_context_pop_thread_default (job->context);

  g_task_return_error (task, g_steal_pointer (&failure->error));
  g_object_unref (task);
  g_free (failure);
  return G_SOURCE_REMOVE;
}

/* Completes a job that never ran with an error, in its submitter's context.
 * A deferred job has no task yet: it gets one there. */
static void
tp_pool_fail_job (TpJob        *job,
                  GQuark        domain,
                  int           code,
                  const char   *message)
{
  GTask *task = g_steal_pointer (&job->task);
  GMainContext *here;

  if (task == NULL)
    {
      here = g_main_context_ref_thread_default ();
      if (here == job->context)
        task = tp_job_make_task (job);
      g_main_context_unref (here);
    }

  if (task == NULL)
    {
      TpJobFailure *failure = g_new0 (TpJobFailure, 1);
      GSource *source = g_idle_source_new ();

      failure->job = job;
      failure->error = g_error_new_literal (domain, code, message);
      g_source_set_static_name (source, "[taskpool] job failure");
      g_source_set_callback (source, tp_job_deliver_failure_cb, failure, NULL);
      g_source_attach (source, job->context);
      g_source_unref (source);
      return;
    }

  /* This thread may not be the one that runs the callback */
  tp_job_hook (job, task);
  g_task_return_new_error (task, domain, code, "%s", message);
  g_object_unref (task);
}

static void
tp_pool_job_cancelled_cb (GCancellable *cancellable,
                          gpointer      user_data)
{
  TpJob *job = user_data;
  TpPool *self = job->pool;

  tp_pool_lock (self);
  switch (job->state)
    {
    case TP_JOB_NEW:
      job->cancel_early = TRUE;
      g_mutex_unlock (&self->mutex);
      return;
    case TP_JOB_QUEUED:
      self->queue_vt->remove (self->queue, job);
      self->n_queued--;
      if (self->n_queued == 0)
        self->waiting_since = 0;
      tp_pool_admit_backlog_locked (self);
      break;
    case TP_JOB_BACKLOG:
      tp_job_list_unlink (&self->backlog, job);
      break;
    default:
      /* A running job sees its cancellable and decides */
      g_mutex_unlock (&self->mutex);
      return;
    }
  job->state = TP_JOB_FINISHED;
  tp_pool_unlock (self);

  tp_pool_fail_job (job, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The job was cancelled while queued");
}

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

/* Puts an accepted job in the queue, or in the backlog when the queue is
 * full. Returns FALSE if the job must fail with TP_POOL_ERROR_FULL. */
static gboolean
tp_pool_enqueue_locked (TpPool        *self,
                        TpJob         *job,
                        TpSubmitFlags  flags)
{
  if (self->queue_capacity > 0 &&
      (self->n_queued >= self->queue_capacity || self->backlog.length > 0) &&
      self->idle.count == 0)
    {
      if (flags & TP_SUBMIT_NO_WAIT)
        return FALSE;
      job->state = TP_JOB_BACKLOG;
      tp_job_list_push_tail (&self->backlog, job);
      return TRUE;
    }

  job->state = TP_JOB_QUEUED;
  self->queue_vt->push (self->queue, job);
  if (self->n_queued++ == 0)
    self->waiting_since = job->timed ? job->extra->submit_time : tp_pool_idle_stamp (self);

  if (self->idle.count > 0)
    tp_pool_fill_locked (self, NULL);
  /* A job waits: the scaler may grow the pool, if it can still grow */
  if ((self->n_queued > 0 || self->backlog.length > 0) && self->target < self->limits.max_size)
    tp_pool_consult_locked (self);
  return TRUE;
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
  GMainContext *context;
  const char *refusal;
  TpJob *job;

  g_return_if_fail (TP_IS_POOL (self));
  g_return_if_fail (job_func != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  context = g_main_context_get_thread_default ();
  if (context == NULL)
    context = g_main_context_default ();

  /* Field by field: a compound literal is a block clear of the record (rep
   * stos), then a read of the flags byte that waits for the clear to drain */
  job = tp_job_alloc ();
  job->prev = NULL;
  job->next = NULL;
  job->task = NULL;
  job->pool = self;
  job->func = job_func;
  job->cancellable = cancellable != NULL ? cancellable : self->cancellable;
  job->cancel_id = 0;
  job->weight = weight;
  job->state = TP_JOB_NEW;
  job->delivered = FALSE;
  job->bits = 0;
  job->in_thread = (flags & TP_SUBMIT_IN_THREAD) != 0;
  job->deferred = (flags & TP_SUBMIT_IN_THREAD) == 0 && context != self->context;
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

  if (cancellable != NULL)
    {
      if (g_cancellable_is_cancelled (cancellable))
        {
          job->state = TP_JOB_FINISHED;
          tp_pool_fail_job (job, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The job was cancelled");
          return;
        }
      job->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (tp_pool_job_cancelled_cb),
                                              job, NULL);
    }

  tp_pool_lock (self);
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
          tp_pool_unlock (self);
          return;
        }
      refusal = NULL;
    }
  job->state = TP_JOB_FINISHED;
  tp_pool_unlock (self);

  if (job->cancel_early)
    tp_pool_fail_job (job, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The job was cancelled");
  else if (refusal != NULL)
    tp_pool_fail_job (job, TP_POOL_ERROR, TP_POOL_ERROR_NOT_ACCEPTING, refusal);
  else
    tp_pool_fail_job (job, TP_POOL_ERROR, TP_POOL_ERROR_FULL,
                      "The pool's queue is full and TP_SUBMIT_NO_WAIT was given");
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
 * tp_pool_submit_finish:
 * @self: a pool
 * @result: the result given to the submission's callback
 * @error: return location for a #GError
 *
 * Gets what the job returned with g_task_return_pointer().
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

/**
 * tp_pool_scale:
 * @self: a pool
 * @delta: workers to add, or to retire when negative
 *
 * Changes the pool's target size by @delta, clamped to
 * `[min-size, max-size]`. New workers start queued jobs at once; retiring
 * workers never interrupt a job: idle ones go first, busy ones when their
 * job ends. Thread-safe.
 *
 * Returns: the new target size
 *
 * Since: 1.0
 */
int
tp_pool_scale (TpPool *self,
               int     delta)
{
  gint64 target;

  g_return_val_if_fail (TP_IS_POOL (self), 0);

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

  tp_pool_scale (self, delta);

  /* A pool that closes from now on fails the waiter in tp_pool_settle_locked() */
  tp_pool_lock (self);
  tp_pool_add_task_locked (&self->scale_tasks, task);
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

/**
 * tp_pool_pause:
 * @self: a started pool
 *
 * Stops accepting jobs: submissions fail with %TP_POOL_ERROR_NOT_ACCEPTING
 * until [method@TaskPool.Pool.resume]. Queued and running jobs go on.
 * Thread-safe.
 *
 * Since: 1.0
 */
void
tp_pool_pause (TpPool *self)
{
  gboolean running;

  g_return_if_fail (TP_IS_POOL (self));

  tp_pool_lock (self);
  running = self->state == TP_POOL_RUNNING;
  if (running)
    self->paused = TRUE;
  tp_pool_unlock (self);

  g_return_if_fail (running);
}

/**
 * tp_pool_resume:
 * @self: a started pool
 *
 * Accepts jobs again after [method@TaskPool.Pool.pause]. Thread-safe.
 *
 * Since: 1.0
 */
void
tp_pool_resume (TpPool *self)
{
  gboolean running;

  g_return_if_fail (TP_IS_POOL (self));

  tp_pool_lock (self);
  running = self->state == TP_POOL_RUNNING;
  if (running)
    self->paused = FALSE;
  tp_pool_unlock (self);

  g_return_if_fail (running);
}

/* Takes every job that has not started out of the pool */
static void
tp_pool_discard_locked (TpPool    *self,
                        TpJobList *discarded)
{
  TpJob *job;

  while ((job = tp_job_list_pop_head (&self->backlog)) != NULL)
    tp_job_list_push_tail (discarded, job);
  while ((job = tp_job_list_pop_head (&self->ready)) != NULL)
    {
      tp_job_list_push_tail (discarded, job);
      self->running--;
      if (self->n_workers > self->target)
        self->n_workers--;
      else
        tp_idle_ring_push_newest (&self->idle, tp_pool_idle_stamp (self));
    }
  while ((job = self->queue_vt->pop (self->queue)) != NULL)
    tp_job_list_push_tail (discarded, job);
  self->n_queued = 0;
  self->waiting_since = 0;

  for (job = discarded->head; job != NULL; job = job->next)
    job->state = TP_JOB_FINISHED;
}

static GPtrArray *
tp_pool_running_cancellables_locked (TpPool *self)
{
  GPtrArray *cancellables = g_ptr_array_new_with_free_func (g_object_unref);

  for (TpJob *job = self->active.head; job != NULL; job = job->next)
    {
      if (!g_ptr_array_find (cancellables, job->cancellable, NULL))
        g_ptr_array_add (cancellables, g_object_ref (job->cancellable));
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

  tp_pool_add_task_locked (&self->close_tasks, task);
  tp_pool_unlock (self);
  tp_pool_watch_waiter (self, task);

  while ((job = tp_job_list_pop_head (&discarded)) != NULL)
    tp_pool_fail_job (job, TP_POOL_ERROR, TP_POOL_ERROR_CLOSED,
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
  tp_pool_add_task_locked (&self->idle_tasks, task);
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

#define TP_POOL_GETTER(name, expr)                 \
  guint                                            \
  tp_pool_get_##name (TpPool *self)                \
  {                                                \
    guint value;                                   \
                                                   \
    g_return_val_if_fail (TP_IS_POOL (self), 0);   \
                                                   \
    tp_pool_lock (self);                           \
    value = (expr);                                \
    g_mutex_unlock (&self->mutex);                 \
    return value;                                  \
  }

/**
 * tp_pool_get_size:
 * @self: a pool
 *
 * Gets the live workers: 0 before start and after close. Thread-safe.
 *
 * Returns: the number of workers
 *
 * Since: 1.0
 */
TP_POOL_GETTER (size, self->n_workers)

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
TP_POOL_GETTER (target_size, self->target)

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
TP_POOL_GETTER (running, self->running)

/**
 * tp_pool_get_waiting:
 * @self: a pool
 *
 * Gets the jobs in the queue. Thread-safe.
 *
 * Returns: the number of queued jobs
 *
 * Since: 1.0
 */
TP_POOL_GETTER (waiting, self->queue_vt->length (self->queue))

/**
 * tp_pool_get_backlog:
 * @self: a pool
 *
 * Gets the submissions waiting for room in a full queue. Thread-safe.
 *
 * Returns: the number of submissions waiting for room
 *
 * Since: 1.0
 */
TP_POOL_GETTER (backlog, self->backlog.length)

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
TP_POOL_GETTER (min_size, self->limits.min_size)

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
TP_POOL_GETTER (max_size, self->limits.max_size)

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
TP_POOL_GETTER (queue_capacity, self->queue_capacity)

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
  g_mutex_unlock (&self->mutex);
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
  closed = self->state == TP_POOL_CLOSING || self->state == TP_POOL_CLOSED;
  g_mutex_unlock (&self->mutex);
  return closed;
}

guint64
tp_pool_get_submitted (TpPool *self)
{
  guint64 value;

  tp_pool_lock (self);
  value = self->next_sequence;
  g_mutex_unlock (&self->mutex);
  return value;
}

guint64
tp_pool_get_completed (TpPool *self)
{
  guint64 value;

  tp_pool_lock (self);
  value = self->completed;
  g_mutex_unlock (&self->mutex);
  return value;
}

gint64
tp_pool_get_ready_time (TpPool *self)
{
  gint64 value;

  tp_pool_lock (self);
  value = self->ready_time;
  g_mutex_unlock (&self->mutex);
  return value;
}

/* }}} */

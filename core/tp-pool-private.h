/* tp-pool-private.h: the pool's state, shared by the units of the core
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Where things live (doc/overview.md has the whole map):
 *   tp-pool.c         the GObject: properties, construction, getters
 *   tp-pool-config.c  the kind, the strategies it names, the keyfile's keys
 *   tp-pool-lock.c    the lock, and what every unlock does
 *   tp-submit.c       the submit functions: refusing or accepting a job
 *   tp-queue.c        every call into the queue strategy, checked
 *   tp-dispatch.c     the queue and the backlog, filling workers, the ready
 *                     list, the pool's source, cancel and discard
 *   tp-executor.c     thread jobs and the thread pools that run them
 *   tp-scaling.c      the target size, asking the scaler, its timer
 *   tp-lifecycle.c    start, pause, resume, close, wait for idle
 *   tp-waiters.c      the tasks of scale, close and wait-idle, and settling them
 *   tp-job.c          a job's life: its record, its task, its delivery
 *   tp-job-options.c  TpJobOptions
 *   tp-job-info.c     labelled jobs: TpJobInfo, the list of jobs, progress
 *   tp-deadlines.c    queue and run timeouts
 *   tp-gates.c        asking gates, the jobs they hold, re-offering them
 *   tp-idle-ring.c    when each idle worker went idle
 */

#pragma once

#include <taskpool/taskpool.h>

#include "tp-idle-ring.h"
#include "tp-job-info-private.h"
#include "tp-job-options-private.h"
#include "tp-job-private.h"

G_BEGIN_DECLS

/* A queue strategy's queue, and the same jobs in the pool's own list
 * (tp-queue.c) */
typedef struct {
  gpointer   strategy_queue;
  TpJobList  jobs;
} TpQueue;

#define TP_DEFAULT_KIND     "fixed-simple"
#define TP_DEFAULT_WEIGHT   4

typedef enum {
  TP_POOL_NEW,
  TP_POOL_RUNNING,
  TP_POOL_CLOSING,
  TP_POOL_CLOSED,
} TpPoolState;

/* The properties whose changes are notified from the pool's source */
typedef enum {
  TP_POOL_NOTIFY_SIZE,
  TP_POOL_NOTIFY_RUNNING,
  TP_POOL_NOTIFY_WAITING,
  TP_POOL_NOTIFY_PAUSED,
  TP_POOL_NOTIFY_CLOSED,
  TP_POOL_NOTIFY_HELD,
  TP_POOL_NOTIFY_SUBMITTED,
  TP_POOL_NOTIFY_SUCCEEDED,
  TP_POOL_NOTIFY_FAILED,
  TP_POOL_NOTIFY_CANCELLED,
  TP_POOL_NOTIFY_TIMED_OUT,
  TP_POOL_N_NOTIFY,
} TpPoolNotify;

/* Every submission counts in SUBMITTED, and once it completed, in exactly one
 * of the four outcomes */
typedef enum {
  TP_POOL_COUNT_SUBMITTED,
  TP_POOL_COUNT_SUCCEEDED,
  TP_POOL_COUNT_FAILED,
  TP_POOL_COUNT_CANCELLED,
  TP_POOL_COUNT_TIMED_OUT,
  TP_POOL_N_COUNTS,
} TpPoolCount;

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
  guint                  queue_timeout_ms;  /* for jobs whose options set none */
  guint                  run_timeout_ms;
  char                 **gate_names;
  const TpGateStrategy **gate_vts;     /* as many as gate_names */
  GPtrArray             *gates;        /* TpPoolGate, in order; NULL for none */
  const TpQueueStrategy *queue_vt;
  TpQueue                queue;
  gboolean               queue_broken; /* the strategy broke its contract: never
                                        * called again; protected by mutex */
  gboolean               scaler_broken; /* reported once; protected by mutex */
  gboolean               time_submissions;  /* the queue strategy reads submit times */
  const TpScaleStrategy *scale_vt;
  gpointer               scaler;
  GCancellable          *cancellable;  /* for jobs submitted without one */
  GSource               *source;
  GSource               *completion_source;  /* thread jobs' outcomes */
  gpointer               completions;  /* atomic: a stack of jobs, by job->next */

  /* Initialization, which a pool made with g_object_new() and used without
   * g_initable_init() gets at its first use */
  GMutex                 init_mutex;
  int                    initialized;  /* atomic */
  GError                *init_error;   /* protected by init_mutex */

  /* Protected by mutex */
  TpPoolState            state;
  gboolean               paused;
  gboolean               held;         /* no job starts */
  TpCloseFlags           close_flags;
  GThreadPool           *threads;
  guint                  n_workers;
  guint                  target;
  guint                  running;
  guint                  n_queued;     /* jobs in the queue strategy */
  guint                  n_held;       /* jobs a gate holds for their key */
  guint                  n_handing;    /* thread jobs off their worker whose outcome
                                        * the pool's context has not delivered yet */
  TpJobList              backlog;      /* submissions waiting for room in a full queue */
  TpJobList              ready;
  TpJobList              active;       /* RUNNING jobs */
  TpIdleRing             idle;
  GPtrArray             *deadlines;    /* a min-heap of jobs with a timeout */
  GPtrArray             *gate_timers;  /* a min-heap of gate channels to re-offer */
  guint                  n_closed_gates;
  TpJobList              gate_failed;  /* jobs a gate failed, to fail unlocked */
  guint64                next_sequence;
  guint64                completed;
  guint64                counts[TP_POOL_N_COUNTS];
  gint64                 waiting_since;
  gint64                 next_check;
  gint64                 ready_time;
  gboolean               flush_pending;
  guint                  drain_depth;  /* g_main_depth () + 1 of the drain running, or 0 */
  guint64                dispatches;   /* of the pool's source, for the bench */

  /* Only on the thread that dispatches the pool's context */
  TpJob                 *drain_job;    /* the job the innermost drain is calling */

  /* Waiters, protected by mutex */
  GPtrArray             *close_tasks;
  GPtrArray             *idle_tasks;
  GPtrArray             *scale_tasks;

  /* Labelled jobs: the list is changed on the pool's context only; what
   * changed waits here, protected by mutex */
  TpJobListModel        *jobs;
  GPtrArray             *infos_added;
  GPtrArray             *infos_removed;
  GPtrArray             *infos_dirty;

  /* The values last notified, protected by mutex */
  guint64                notified[TP_POOL_N_NOTIFY];
};

/* tp-pool.c */
gboolean    tp_pool_ensure_initialized     (TpPool        *self,
                                            GError       **error);
void        tp_pool_notify_changed         (TpPool        *self,
                                            const guint   *changed,
                                            guint          n_changed);

/* tp-pool-config.c */
gboolean    tp_pool_configure              (TpPool        *self,
                                            GError       **error);
const char *tp_pool_where                  (TpPool        *self);

/* tp-pool-lock.c */
void        tp_pool_unlock_slow            (TpPool        *self);
gboolean    tp_pool_is_idle_locked         (TpPool        *self);

static inline gboolean
tp_pool_is_closing_locked (TpPool *self)
{
  return self->state == TP_POOL_CLOSING || self->state == TP_POOL_CLOSED;
}

/* Whether a queued job may start when a worker is free: not while the
 * pool is held, nor while a gate holds every job */
static inline gboolean
tp_pool_may_start_locked (TpPool *self)
{
  return !self->held && self->n_closed_gates == 0;
}

/* The only way to take the pool's mutex */
static inline void
tp_pool_lock (TpPool *self)
{
  g_mutex_lock (&self->mutex);
}

/* The only way to release it: settles the waiters the change satisfied,
 * asks for the notifications it made due (tp_pool_unlock_slow()), releases
 * the mutex and completes the waiters. Inline for the common case, where
 * nobody waits and a notification is already due: a plain unlock. */
static inline void
tp_pool_unlock (TpPool *self)
{
  if (G_UNLIKELY (self->close_tasks != NULL || self->idle_tasks != NULL ||
                  self->scale_tasks != NULL || !self->flush_pending))
    {
      tp_pool_unlock_slow (self);
      return;
    }
  g_mutex_unlock (&self->mutex);
}

/* tp-waiters.c */
typedef struct {
  GPtrArray *tasks;        /* GTask: return TRUE */
  GPtrArray *closed_tasks; /* GTask: return TP_POOL_ERROR_CLOSED */
} TpPoolDone;

GTask      *tp_pool_new_waiter             (TpPool               *self,
                                            gpointer              source_tag,
                                            GCancellable         *cancellable,
                                            GAsyncReadyCallback   callback,
                                            gpointer              user_data);
void        tp_pool_add_waiter_locked      (TpPool               *self,
                                            GPtrArray           **waiters,
                                            GTask                *task);
void        tp_pool_watch_waiter           (TpPool               *self,
                                            GTask                *task);
void        tp_pool_settle_locked          (TpPool               *self,
                                            TpPoolDone           *done);
void        tp_pool_complete_waiters       (TpPoolDone           *done);

/* tp-job.c: which of the four outcomes a job that ran counts in */
TpPoolCount tp_job_outcome_of_task         (TpJob         *job,
                                            GTask         *task);

/* tp-dispatch.c */
void        tp_pool_read_figures_locked    (TpPool        *self,
                                            guint64        figures[TP_POOL_N_NOTIFY]);
GSource    *tp_pool_source_new             (TpPool        *self);
void        tp_pool_update_source_locked   (TpPool        *self);
void        tp_pool_request_flush_locked   (TpPool        *self);
gboolean    tp_pool_enqueue_locked         (TpPool        *self,
                                            TpJob         *job,
                                            TpSubmitFlags  flags);
void        tp_pool_fill_locked            (TpPool        *self,
                                            TpJob        **keep);
void        tp_pool_release_locked         (TpPool        *self,
                                            TpJob         *job,
                                            TpJob        **keep);
void        tp_pool_run_ready              (TpPool        *self);
void        tp_pool_job_cancelled_cb       (GCancellable  *cancellable,
                                            gpointer       user_data);
void        tp_pool_discard_locked         (TpPool        *self,
                                            TpJobList     *discarded);

gboolean    tp_pool_withdraw_locked        (TpPool        *self,
                                            TpJob         *job);
void        tp_pool_job_leaves_locked      (TpPool        *self,
                                            TpJob         *job);

/* tp-deadlines.c */
void        tp_pool_set_deadline_locked    (TpPool        *self,
                                            TpJob         *job,
                                            gint64         deadline);
void        tp_pool_clear_deadline_locked  (TpPool        *self,
                                            TpJob         *job);
gint64      tp_pool_next_deadline_locked   (TpPool        *self);
void        tp_pool_expire_deadlines_locked (TpPool       *self,
                                             gint64        now,
                                             TpJobList    *timed_out,
                                             GPtrArray    *to_cancel);
void        tp_pool_job_starts_locked      (TpPool        *self,
                                            TpJob         *job);

/* tp-gates.c */
gboolean    tp_pool_make_gates             (TpPool        *self,
                                            GError       **error);
void        tp_pool_free_gates             (TpPool        *self);
TpJob      *tp_pool_next_job_locked        (TpPool        *self);
void        tp_pool_gates_job_ended_locked (TpPool        *self,
                                            TpJob         *job);
gboolean    tp_pool_withdraw_held_locked   (TpPool        *self,
                                            TpJob         *job);
void        tp_pool_gates_job_withdrawn_locked (TpPool    *self,
                                                TpJob     *job);
void        tp_pool_discard_held_locked    (TpPool        *self,
                                            TpJobList     *discarded);
gint64      tp_pool_next_gate_time_locked  (TpPool        *self);
void        tp_pool_expire_gate_timers_locked (TpPool     *self,
                                               gint64      now);
void        tp_pool_fail_gate_refusals     (TpJobList     *failed);

/* tp-queue.c, with the checks every job's path makes inline below */
void        tp_queue_init                  (TpQueue       *queue,
                                            gpointer       strategy_queue);
void        tp_pool_queue_clear            (TpPool        *self,
                                            TpQueue       *queue);
void        tp_pool_queue_requeue          (TpPool        *self,
                                            TpQueue       *queue,
                                            TpJob         *job);
void        tp_pool_queue_remove           (TpPool        *self,
                                            TpQueue       *queue,
                                            TpJob         *job);
void        tp_pool_queue_broke            (TpPool        *self,
                                            const char    *what);
void        tp_pool_queue_broke_length     (TpPool        *self,
                                            TpQueue       *queue,
                                            guint          length,
                                            guint          expected,
                                            const char    *after);
TpJob      *tp_pool_queue_pop_broken       (TpPool        *self,
                                            TpQueue       *queue,
                                            TpJob         *job,
                                            guint          length);
guint       tp_pool_queue_pop_batch        (TpPool        *self,
                                            TpQueue       *queue,
                                            TpJob        **jobs,
                                            guint          max);

/* tp-executor.c */
GSource    *tp_pool_completion_source_new  (TpPool        *self);
void        tp_pool_thread_job_completed   (TpPool        *self,
                                            TpJob         *job,
                                            GTask         *task);
void        tp_pool_start_executor_locked  (TpPool        *self);
void        tp_pool_stop_executor          (TpPool        *self);
void        tp_pool_start_thread_job_locked (TpPool       *self,
                                             TpJob        *job);

/* tp-scaling.c */
gint64      tp_pool_idle_stamp             (TpPool        *self);
void        tp_pool_set_target_locked      (TpPool        *self,
                                            guint          target);
void        tp_pool_consult_locked         (TpPool        *self);
void        tp_pool_consult_if_waiting_locked (TpPool     *self);

/* A new submission's record. An async job submitted from another context
 * than the pool's is deferred: it gets its task only when it starts, on the
 * pool's context, so that its completion frees the worker there. Inline: every
 * submission makes one (its other helpers are in tp-job.c). */
static inline TpJob *
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
  job->own_bits = 0;
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
  /* A deferred job waits without a task, and so does a thread job, whose
   * task is made on its worker thread (tp-executor.c). Both take their
   * references here, where the pool's reference count is in this thread's
   * cache: on a worker each was a cache miss. */
  if (job->deferred || job->in_thread)
    tp_job_take_refs (job);
  else
    job->task = tp_job_make_task (job);
  return job;
}

/* Inline: every job is pushed and popped once (tp-queue.c says why the
 * lengths are compared) */
static inline void
tp_pool_queue_check_length (TpPool     *self,
                            TpQueue    *queue,
                            const char *after)
{
  guint length = self->queue_vt->length (queue->strategy_queue);

  if (G_UNLIKELY (length != queue->jobs.length))
    tp_pool_queue_broke_length (self, queue, length, queue->jobs.length, after);
}

static inline void
tp_pool_queue_push (TpPool  *self,
                    TpQueue *queue,
                    TpJob   *job)
{
  tp_job_list_push_tail (&queue->jobs, job);
  if (G_UNLIKELY (self->queue_broken))
    return;
  self->queue_vt->push (queue->strategy_queue, job);
  tp_pool_queue_check_length (self, queue, "push()");
}

/* @expected: the state of the jobs in @queue (queued, or held by a gate).
 * Its length right before, and right now one less: the job the strategy
 * returned is one it had, still queued (a pop that returns a job it keeps,
 * or one it gave before, leaves its length as it was). */
static inline TpJob *
tp_pool_queue_pop (TpPool     *self,
                   TpQueue    *queue,
                   TpJobPlace  expected)
{
  TpJob *job;
  guint length;

  if (queue->jobs.length == 0)
    return NULL;
  if (G_UNLIKELY (self->queue_broken))
    return tp_job_list_pop_head (&queue->jobs);

  job = self->queue_vt->pop (queue->strategy_queue);
  length = self->queue_vt->length (queue->strategy_queue);
  if (G_UNLIKELY (job == NULL || length != queue->jobs.length - 1 ||
                  job->pool != self || job->state != expected))
    return tp_pool_queue_pop_broken (self, queue, job, length);
  tp_job_list_unlink (&queue->jobs, job);
  return job;
}

/* Internals the tests and the bench read */
guint64     tp_pool_get_submitted          (TpPool        *self);
guint64     tp_pool_get_completed          (TpPool        *self);
/* When the pool's source will next wake its context: -1 for never */
gint64      tp_pool_get_ready_time         (TpPool        *self);
/* How many times the pool's source was dispatched since the pool was made */
guint64     tp_pool_get_dispatches         (TpPool        *self);

G_END_DECLS

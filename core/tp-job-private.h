/* tp-job-private.h: a submission as the pool tracks it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <taskpool/tp-plugin.h>

G_BEGIN_DECLS

typedef enum {
  TP_JOB_NEW,       /* being submitted, not yet in any list */
  TP_JOB_BACKLOG,   /* waiting for room in a full queue */
  TP_JOB_QUEUED,    /* in the queue strategy */
  TP_JOB_HELD,      /* popped, and held by a gate for its key: in a channel's queue */
  TP_JOB_READY,     /* owns a worker slot, waiting to run on the pool's context */
  TP_JOB_RUNNING,   /* owns a worker slot and executes */
  TP_JOB_FINISHED,  /* left the pool's lists; its result is on its way */
} TpJobPlace;

/* TpJob.delivered of a thread job that completed its task after its worker
 * let it go: the pool's count of hand-overs never had it */
#define TP_JOB_DELIVERED_LATE 2

/* A job lives from submission until the pool lets go of its GTask, or, once
 * it is hooked, until the task is finalized (the task then owns it through
 * qdata, and reports a task dropped without a result): the pool never frees
 * a job that a callback may still see. An async job submitted on the pool's
 * context whose callback ran before the job function returned (the common
 * case: it completed at once) is never hooked, and borrows the pool, the
 * context and the cancellable from its task; every other job is hooked and
 * holds references of its own (owns_refs).
 *
 * The GTask owns job_data as its task data. An async job submitted from
 * another context than the pool's gets its task only when it starts, on the
 * pool's context, so that its completion frees the worker there; the result
 * then travels to the submitter's context. */
/* What few jobs need, kept out of the record so that a plain job stays in
 * two cache lines */
typedef struct {
  gint64              submit_time;      /* if timed */
  char               *key;              /* an interned GRefString, or NULL */
  gint64              queue_timeout_us; /* 0: none */
  gint64              run_timeout_us;   /* 0: none */
  gint64              deadline;         /* while in the pool's deadlines */
  guint               deadline_index;   /* in the pool's deadlines, or G_MAXUINT */
  gboolean            run_timed_out;    /* its run deadline passed */
  GCancellable       *run_cancellable;  /* the job's own, for a run timeout */
  gulong              run_chain_id;     /* on the submitter's cancellable */
  gpointer            channel;          /* the gate channel that holds it, or
                                         * that re-offered it */
  GError             *gate_error;       /* why a gate refused it for good */
  TpJobInfo          *info;             /* a labelled job's, listed by the pool */
} TpJobExtra;

/* 128 bytes on 64-bit systems: two cache lines (GSlice hands out 128-byte
 * chunks at 128-byte offsets in its pages). The first holds what the pool
 * reads to move a job between its lists and start it; the second what the
 * job's completion and the queue strategy read. With hundreds of thousands
 * of jobs queued, a job is out of the caches when it starts, and each line
 * is a miss. */
struct _TpJob
{
  /* Moving and starting */
  TpJob              *prev;        /* in the backlog, ready or running list */
  TpJob              *next;
  GTask              *task;        /* a reference while the pool holds the job */
  TpPool             *pool;        /* strong if owns_refs */
  GTaskThreadFunc     func;
  GCancellable       *cancellable; /* the one the job sees: the pool's, or
                                    * the submitter's (strong if owns_refs) */
  gulong              cancel_id;
  int                 weight;
  guint8              state;
  guint8              delivered;       /* its own byte: a thread job's completion
                                        * sets it without the pool's lock
                                        * (TP_JOB_DELIVERED_LATE after its worker
                                        * let it go) */
  /* Set at submission, or under the pool's lock */
  union {
    struct {
      guint8          in_thread : 1;
      guint8          cancel_early : 1;
      guint8          deferred : 1;    /* an async job from another context: its
                                        * task is made on the pool's context */
      guint8          timed : 1;       /* has a submit_time: its queue strategy
                                        * may read it */
      guint8          limited : 1;     /* its extra has what the pool must see
                                        * to as the job moves: a queue or run
                                        * timeout, its own cancellable, an info */
      guint8          gated : 1;       /* the pool's gates were told it started,
                                        * and are told once when it ends */
    };
    guint8            bits;            /* all of them, to clear them at once */
  };
  /* A byte of their own: the thread that has the job (its submitter, its
   * worker) sets them without the pool's lock, while other threads read the
   * bits above under it */
  union {
    struct {
      guint8          hooked : 1;      /* its task's qdata owns it */
      guint8          owns_refs : 1;   /* holds pool, cancellable and context */
    };
    guint8            own_bits;
  };

  /* Completing, and the queue strategy's */
  gpointer            job_data;
  GDestroyNotify      job_data_destroy;
  GAsyncReadyCallback callback;
  gpointer            user_data;
  GMainContext       *context;     /* the submitter's, for a lost job's error
                                    * (strong if owns_refs and not the pool's) */
  gpointer            queue_data;
  guint64             sequence;
  TpJobExtra         *extra;       /* NULL for a job submitted without options
                                    * whose queue strategy ignores submit times */
};

#if GLIB_SIZEOF_VOID_P == 8
G_STATIC_ASSERT (sizeof (struct _TpJob) == 128);
#endif

/* Job records (tp-job-cache.c): freed records are kept by address for reuse,
 * up to TP_JOB_MAGAZINE per thread and TP_JOB_DEPOT_MAX process-wide */
#define TP_JOB_MAGAZINE  256
#define TP_JOB_DEPOT_MAX (1u << 18)

TpJob    *tp_job_alloc         (void);
void      tp_job_dealloc       (TpJob *job);
gboolean  tp_job_cache_enabled (void);
void      tp_job_cache_count   (guint *in_magazine,
                                guint *in_depot);

TpJobExtra *tp_job_ensure_extra (TpJob *job);
void        tp_job_free_extra   (TpJob *job);

/* The cancellable the job itself sees: its own when it has a run timeout */
static inline GCancellable *
tp_job_get_run_cancellable (TpJob *job)
{
  if (G_UNLIKELY (job->limited) && job->extra->run_cancellable != NULL)
    return job->extra->run_cancellable;
  return job->cancellable;
}

/* A job's life (tp-job.c) */
void      tp_job_free          (TpJob               *job);
void      tp_job_take_refs     (TpJob               *job);
GTask    *tp_job_make_task     (TpJob               *job);
void      tp_job_hook          (TpJob               *job,
                                GTask               *task);
void      tp_job_apply_options (TpJob               *job,
                                const TpJobOptions  *options,
                                guint                queue_timeout_ms,
                                guint                run_timeout_ms);
void      tp_job_disconnect_queued (TpJob           *job);
void      tp_job_disconnect_cancel (TpJob           *job);
void      tp_job_run_async     (TpJob               *job);
void      tp_job_deliver       (TpJob               *job,
                                GTask               *task,
                                GError              *error,
                                GMainContext        *here);
GError   *tp_job_replaced_error (TpJob              *job,
                                 GTask              *task);
void      tp_job_fail          (TpJob               *job,
                                GQuark               domain,
                                int                  code,
                                const char          *message);

/* A job outside any pool, for tests of strategies: free with tp_job_free_detached() */
TpJob    *tp_job_new_detached  (int         weight,
                                guint64     sequence,
                                const char *key,
                                gboolean    in_thread);
void      tp_job_free_detached (TpJob      *job);

/* An intrusive doubly-linked list of jobs */
typedef struct {
  TpJob *head;
  TpJob *tail;
  guint  length;
} TpJobList;

static inline void
tp_job_list_push_tail (TpJobList *list,
                       TpJob     *job)
{
  job->next = NULL;
  job->prev = list->tail;
  if (list->tail != NULL)
    list->tail->next = job;
  else
    list->head = job;
  list->tail = job;
  list->length++;
}

static inline void
tp_job_list_unlink (TpJobList *list,
                    TpJob     *job)
{
  if (job->prev != NULL)
    job->prev->next = job->next;
  else
    list->head = job->next;
  if (job->next != NULL)
    job->next->prev = job->prev;
  else
    list->tail = job->prev;
  job->prev = job->next = NULL;
  list->length--;
}

static inline TpJob *
tp_job_list_pop_head (TpJobList *list)
{
  TpJob *job = list->head;

  if (job != NULL)
    tp_job_list_unlink (list, job);
  return job;
}

G_END_DECLS

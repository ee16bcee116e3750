/* test-stress.c: randomized submit, cancel, scale, pause and close from several threads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each case runs one pool with three producer threads, each iterating a
 * GMainContext of its own, and the main thread, which iterates the pool's
 * context and produces too. They submit async and thread jobs with random
 * weights and flags, cancel queued and running jobs from another thread, scale
 * the pool, pause and resume it, wait for idle, and finally close it. Every
 * submission is recorded; at the end each record must show one callback, in
 * its submitter's thread, one job_data_destroy and an outcome its job allows.
 *
 * Reproducing a run: GTest prints "# random seed: R02S…" first; every choice
 * comes from g_test_rand_int() and from GRands seeded with it, so
 *   tests/test-stress -p /stress/fixed-lifo --seed=R02S…
 * makes the same choices again (the threads' interleaving still varies).
 * The size of a case: TP_STRESS_OPS=<operations per case> (default 5000);
 * `--long` or TP_STRESS_LONG=1 runs twenty times more.
 */

#include "tp-stress-util.h"
#include "tp-test-util.h"
#include "tp-pool-private.h"

#define STRESS_DEFAULT_OPS   5000
#define STRESS_LONG_FACTOR   20
#define STRESS_N_THREADS     3                       /* producer threads besides the main thread */
#define STRESS_N_PRODUCERS   (STRESS_N_THREADS + 1)  /* producers[0] is the main thread */
#define STRESS_MAX_IN_FLIGHT 32                      /* submissions without a callback yet */
#define STRESS_JOB_MAGIC     0x5eedf00du
#define STRESS_MAX_REPORTED  20

static guint stress_ops = STRESS_DEFAULT_OPS;

typedef enum {
  OUTCOME_NONE,
  OUTCOME_DONE,
  OUTCOME_FAILED,
  OUTCOME_CANCELLED,
  OUTCOME_FULL,
  OUTCOME_NOT_ACCEPTING,
  OUTCOME_CLOSED,
  OUTCOME_LOST,
  OUTCOME_OTHER,
  N_OUTCOMES
} Outcome;

static const char * const outcome_names[N_OUTCOMES] = {
  "none", "done", "failed", "cancelled", "full", "not-accepting", "closed", "lost", "other",
};

typedef enum {
  JOB_RETURN,      /* returns "ok:<id>" at once */
  JOB_SLEEP,       /* works delay_us, ends early with CANCELLED once its cancellable fires */
  JOB_FAIL,        /* returns G_IO_ERROR_FAILED */
  JOB_DROP,        /* drops its task at once: TP_POOL_ERROR_JOB_LOST */
  JOB_ELSEWHERE,   /* async: a completer thread returns "ok:<id>" after delay_us */
  JOB_DROP_LATER,  /* async: a completer thread drops the task after delay_us */
  N_JOB_MODES
} JobMode;

static const char * const mode_names[N_JOB_MODES] = {
  "return", "sleep", "fail", "drop", "elsewhere", "drop-later",
};

typedef enum {
  WAITER_SCALE,
  WAITER_IDLE,
  WAITER_CLOSE,
} WaiterKind;

typedef struct {
  const char   *path;
  const char   *kind;
  const char   *executor;
  TpCloseFlags  close_flags;
  gboolean      escalate;      /* a second close with TP_CLOSE_CANCEL_RUNNING */
} StressCase;

static const StressCase stress_cases[] = {
  { "/stress/fixed-simple",       "fixed-simple",       "threads", TP_CLOSE_DRAIN,          FALSE },
  { "/stress/fixed-lifo",         "fixed-lifo",         "threads", TP_CLOSE_DISCARD_QUEUED, FALSE },
  { "/stress/fixed-priority",     "fixed-priority",     "threads", TP_CLOSE_CANCEL_RUNNING, FALSE },
  { "/stress/autoscale-simple",   "autoscale-simple",   "threads", TP_CLOSE_DISCARD_QUEUED, FALSE },
  { "/stress/autoscale-lifo",     "autoscale-lifo",     "threads", TP_CLOSE_CANCEL_RUNNING, FALSE },
  { "/stress/autoscale-priority", "autoscale-priority", "threads", TP_CLOSE_DRAIN,          FALSE },
  { "/stress/executor-gtask",     "autoscale-priority", "gtask",   TP_CLOSE_DRAIN,          TRUE },
};

typedef struct _Stress   Stress;
typedef struct _Producer Producer;

/* One submission. Its producer fills it in before submitting; afterwards
 * only atomics touch it until every thread is done. */
typedef struct {
  Producer *producer;
  guint     id;
  guint     delay_us;
  guint8    mode;
  guint8    in_thread;
  guint8    no_wait;
  guint8    has_cancellable;
  guint8    pre_cancelled;
  guint8    cancel_on_start;  /* the job hands its cancellable to the canceller */
  guint8    after_close;
  guint     cancel_delay_us;
  int       started;
  int       callbacks;
  int       destroys;
  int       outcome;     /* of the first callback */
} Submission;

/* job_data: freed by job_data_destroy, so ASan and valgrind see a double
 * destroy or a missing one */
typedef struct {
  guint32     magic;
  Submission *sub;
} StressJob;

/* A scale_async, wait_idle_async or close_async call */
typedef struct {
  Producer   *producer;
  WaiterKind  kind;
  gboolean    may_cancel;
  int         callbacks;
} Waiter;

struct _Producer {
  Stress       *stress;
  guint         index;
  GThread      *thread;
  GMainContext *context;
  GRand        *rand;
  guint         n_ops;
  guint         first_id;
  Submission   *subs;       /* n_ops slots: one operation submits at most once */
  guint         n_subs;
  GPtrArray    *waiters;
  int           callbacks;  /* of submissions, atomic */
  int           destroys;   /* atomic */
  int           waiter_callbacks;
  guint         resume_at;  /* the operation that resumes the pool this producer paused */
  guint         n_scale;
  guint         n_scale_async;
  guint         n_pause;
  guint         n_wait_idle;
};

struct _Stress {
  const StressCase *config;
  TpPool           *pool;
  GMainContext     *pool_context;
  GThread          *main_thread;
  GRand            *rand;
  guint             cap;            /* max-size: no size, hence no running count, exceeds it */
  guint             capacity;
  guint             total_ops;
  guint             close_at;       /* ops_done that triggers the close */
  guint             escalate_after; /* main-thread iterations between close and escalation */
  int               ops_done;
  int               finished;       /* producer threads done */
  Producer          producers[STRESS_N_PRODUCERS];

  GRWLock           state_lock;     /* pause/resume (readers) against close (writer) */
  gboolean          closing;        /* under state_lock */
  int               closed_flag;    /* set once close_async returned */
  TpCloseFlags      close_flags;    /* every close issued, or-ed */
  gboolean          escalated;
  guint             since_close;
  int               close_done;     /* the first close's callback ran */

  int               running;        /* jobs in their body */
  int               peak;
  int               backlog_peak;   /* most submissions seen waiting for room */
  int               over_cap;
  int               bad_size;
  int               wrong_context;
  int               wrong_executor;
  int               wrong_source;
  int               misrouted;
  int               bad_waiter;
  int               bad_job_data;

  GThreadPool      *completer;
  StressCanceller  *canceller;
};

/* Randomness {{{ */

static guint
rand_range (GRand *rand,
            guint  low,
            guint  high)
{
  return (guint) g_rand_int_range (rand, (gint32) low, (gint32) high);
}

static gboolean
rand_percent (GRand *rand,
              guint  percent)
{
  return rand_range (rand, 0, 100) < percent;
}

/* }}} */

/* Jobs {{{ */

static void
stress_enter (Stress *stress)
{
  int running = g_atomic_int_add (&stress->running, 1) + 1;

  stress_atomic_max (&stress->peak, running);
  if (running > (int) stress->cap)
    g_atomic_int_inc (&stress->over_cap);
}

static void
stress_leave (Stress *stress)
{
  g_atomic_int_add (&stress->running, -1);
}

static Submission *
stress_job_submission (GTask *task)
{
  StressJob *job = g_task_get_task_data (task);

  return job->sub;
}

static void
stress_job_return (GTask      *task,
                   Submission *sub,
                   gboolean    cancelled)
{
  stress_leave (sub->producer->stress);
  if (cancelled)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "job %u saw its cancellation",
                             sub->id);
  else if (sub->mode == JOB_FAIL)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "job %u failed", sub->id);
  else
    g_task_return_pointer (task, g_strdup_printf ("ok:%u", sub->id), g_free);
}

/* An async job's work: a 1 ms tick on the pool's context until delay_us
 * passed or its cancellable fired. (No GCancellableSource: GLib 2.74 may
 * leak one whose last reference goes while its cancellable is being
 * cancelled on another thread.) */
typedef struct {
  GTask        *task;
  GCancellable *cancellable;
  gint64        end;
} AsyncSleep;

static gboolean
async_sleep_tick_cb (gpointer data)
{
  AsyncSleep *work = data;
  gboolean cancelled = g_cancellable_is_cancelled (work->cancellable);

  if (!cancelled && g_get_monotonic_time () < work->end)
    return G_SOURCE_CONTINUE;

  stress_job_return (work->task, stress_job_submission (work->task), cancelled);
  g_object_unref (work->task);
  g_object_unref (work->cancellable);
  g_free (work);
  return G_SOURCE_REMOVE;
}

static void
async_sleep_start (GTask        *task,
                   GMainContext *context,
                   GCancellable *cancellable,
                   guint         delay_us)
{
  AsyncSleep *work = g_new0 (AsyncSleep, 1);
  GSource *tick = g_timeout_source_new (1);

  work->task = g_object_ref (task);
  work->cancellable = g_object_ref (cancellable);
  work->end = g_get_monotonic_time () + delay_us;
  g_source_set_callback (tick, async_sleep_tick_cb, work, NULL);
  g_source_attach (tick, context);
  g_source_unref (tick);
}

static void
thread_sleep (GTask        *task,
              Submission   *sub,
              GCancellable *cancellable)
{
  guint slept = 0;

  while (slept < sub->delay_us && !g_cancellable_is_cancelled (cancellable))
    {
      g_usleep (MIN (100, sub->delay_us - slept));
      slept += 100;
    }
  stress_job_return (task, sub, g_cancellable_is_cancelled (cancellable));
}

/* The completer pool's function: ends an async job from another thread */
static void
completer_func (gpointer data,
                gpointer user_data)
{
  GTask *task = data;
  Submission *sub = stress_job_submission (task);

  g_usleep (sub->delay_us);
  if (sub->mode == JOB_ELSEWHERE)
    stress_job_return (task, sub, FALSE);
  else
    stress_leave (sub->producer->stress);
  /* JOB_DROP_LATER: the last reference goes here, so the job is lost on this thread */
  g_object_unref (task);
}

static void
stress_job_func (GTask        *task,
                 gpointer      pool,
                 gpointer      job_data,
                 GCancellable *cancellable)
{
  StressJob *job = job_data;
  Submission *sub = job->sub;
  Stress *stress = sub->producer->stress;
  gboolean on_pool_thread = g_thread_self () == stress->main_thread;

  if (job->magic != STRESS_JOB_MAGIC || g_task_get_task_data (task) != job_data ||
      pool != stress->pool || cancellable == NULL)
    g_atomic_int_inc (&stress->bad_job_data);
  if (on_pool_thread == (gboolean) sub->in_thread)
    g_atomic_int_inc (&stress->wrong_executor);
  g_atomic_int_inc (&sub->started);
  stress_enter (stress);
  if (sub->cancel_on_start)
    stress_canceller_cancel_later (stress->canceller, cancellable, sub->cancel_delay_us);

  switch (sub->mode)
    {
    case JOB_RETURN:
    case JOB_FAIL:
      stress_job_return (task, sub, FALSE);
      break;
    case JOB_DROP:
      stress_leave (stress);
      break;
    case JOB_SLEEP:
      if (sub->in_thread)
        thread_sleep (task, sub, cancellable);
      else
        async_sleep_start (task, stress->pool_context, cancellable, sub->delay_us);
      break;
    case JOB_ELSEWHERE:
    case JOB_DROP_LATER:
      g_thread_pool_push (stress->completer, g_object_ref (task), NULL);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
stress_job_free (gpointer data)
{
  StressJob *job = data;
  Submission *sub = job->sub;
  Producer *producer = sub->producer;
  /* Once the counts are complete the producer may end and its context go */
  GMainContext *context = g_main_context_ref (producer->context);

  if (job->magic != STRESS_JOB_MAGIC)
    g_atomic_int_inc (&producer->stress->bad_job_data);
  job->magic = 0;
  g_free (job);
  g_atomic_int_inc (&sub->destroys);
  g_atomic_int_inc (&producer->destroys);
  g_main_context_wakeup (context);
  g_main_context_unref (context);
}

/* }}} */

/* Callbacks {{{ */

static Outcome
classify (const char   *value,
          const GError *error)
{
  if (value != NULL)
    return OUTCOME_DONE;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return OUTCOME_CANCELLED;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_FAILED))
    return OUTCOME_FAILED;
  if (g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_FULL))
    return OUTCOME_FULL;
  if (g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_NOT_ACCEPTING))
    return OUTCOME_NOT_ACCEPTING;
  if (g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_CLOSED))
    return OUTCOME_CLOSED;
  if (g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_JOB_LOST))
    return OUTCOME_LOST;
  return OUTCOME_OTHER;
}

static void
check_context (Producer *producer)
{
  if (g_thread_self () != producer->thread || !g_main_context_is_owner (producer->context))
    g_atomic_int_inc (&producer->stress->wrong_context);
}

static void
submit_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Submission *sub = user_data;
  Producer *producer = sub->producer;
  Stress *stress = producer->stress;
  g_autoptr(GError) error = NULL;
  g_autofree char *value = tp_pool_submit_finish (TP_POOL (source), result, &error);
  Outcome outcome = classify (value, error);

  check_context (producer);
  if (source != G_OBJECT (stress->pool))
    g_atomic_int_inc (&stress->wrong_source);
  if (value != NULL)
    {
      g_autofree char *expected = g_strdup_printf ("ok:%u", sub->id);

      if (g_strcmp0 (value, expected) != 0)
        g_atomic_int_inc (&stress->misrouted);
    }
  if (g_atomic_int_add (&sub->callbacks, 1) == 0)
    g_atomic_int_set (&sub->outcome, outcome);
  g_atomic_int_inc (&producer->callbacks);
}

static Waiter *
waiter_new (Producer   *producer,
            WaiterKind  kind,
            gboolean    may_cancel)
{
  Waiter *waiter = g_new0 (Waiter, 1);

  waiter->producer = producer;
  waiter->kind = kind;
  waiter->may_cancel = may_cancel;
  g_ptr_array_add (producer->waiters, waiter);
  return waiter;
}

/* A waiter ends with success, its cancellation, or (scale) the pool closed */
static void
waiter_check (Waiter       *waiter,
              gboolean      success,
              const GError *error)
{
  Stress *stress = waiter->producer->stress;
  gboolean ok;

  check_context (waiter->producer);
  if (success)
    ok = error == NULL;
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    ok = waiter->may_cancel;
  else
    ok = waiter->kind == WAITER_SCALE &&
         g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_CLOSED);
  if (!ok)
    {
      /* Maybe on a producer thread: not g_test_message() */
      g_printerr ("# waiter %d ended with %s\n", waiter->kind,
                  error != NULL ? error->message : "FALSE and no error");
      g_atomic_int_inc (&stress->bad_waiter);
    }
  g_atomic_int_inc (&waiter->callbacks);
  g_atomic_int_inc (&waiter->producer->waiter_callbacks);
}

static void
scale_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Waiter *waiter = user_data;
  g_autoptr(GError) error = NULL;
  int size = tp_pool_scale_finish (TP_POOL (source), result, &error);

  if (size > (int) waiter->producer->stress->cap)
    g_atomic_int_inc (&waiter->producer->stress->bad_size);
  waiter_check (waiter, size >= 0, error);
}

static void
idle_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  gboolean idle = tp_pool_wait_idle_finish (TP_POOL (source), result, &error);

  waiter_check (user_data, idle, error);
}

static void
close_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Waiter *waiter = user_data;
  Stress *stress = waiter->producer->stress;
  TpPool *pool = TP_POOL (source);
  g_autoptr(GError) error = NULL;
  gboolean closed = tp_pool_close_finish (pool, result, &error);

  if (closed)
    {
      /* Nothing is left; scaling a closed pool changes no live size */
      g_assert_true (tp_pool_get_closed (pool));
      g_assert_cmpuint (tp_pool_get_size (pool), ==, 0);
      g_assert_cmpuint (tp_pool_get_running (pool), ==, 0);
      g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 0);
      g_assert_cmpuint (tp_pool_get_backlog (pool), ==, 0);
    }
  if (!waiter->may_cancel)
    g_atomic_int_set (&stress->close_done, TRUE);
  waiter_check (waiter, closed, error);
}

/* }}} */

/* Producers {{{ */

static JobMode
pick_mode (GRand    *rand,
           gboolean  in_thread)
{
  guint r = rand_range (rand, 0, 100);

  if (in_thread)
    return r < 35 ? JOB_RETURN : r < 75 ? JOB_SLEEP : r < 87 ? JOB_FAIL : JOB_DROP;
  return r < 25 ? JOB_RETURN : r < 55 ? JOB_SLEEP : r < 65 ? JOB_FAIL : r < 73 ? JOB_DROP :
         r < 93 ? JOB_ELSEWHERE : JOB_DROP_LATER;
}

static int
pick_weight (GRand *rand)
{
  guint r = rand_range (rand, 0, 100);

  if (r < 3)
    return G_MININT;
  if (r < 6)
    return G_MAXINT;
  return g_rand_int_range (rand, -10, 30);
}

/* Gives @sub a cancellable, or none; returns whether to cancel it at once
 * after submitting */
static GCancellable *
pick_cancellable (Producer   *self,
                  Submission *sub,
                  gboolean   *cancel_after)
{
  GRand *rand = self->rand;
  GCancellable *cancellable;
  guint how;

  *cancel_after = FALSE;
  if (!rand_percent (rand, 30))
    return NULL;

  cancellable = g_cancellable_new ();
  sub->has_cancellable = TRUE;
  how = rand_range (rand, 0, 100);
  if (how < 10)
    {
      g_cancellable_cancel (cancellable);
      sub->pre_cancelled = TRUE;
    }
  else if (how < 30)
    *cancel_after = TRUE;
  else if (how < 65)
    /* Before the submission: a short delay races with it */
    stress_canceller_cancel_later (self->stress->canceller, cancellable,
                                   rand_range (rand, 0, 3000));
  else if (how < 90)
    {
      /* While it runs, or just after */
      sub->cancel_on_start = TRUE;
      sub->cancel_delay_us = rand_range (rand, 0, sub->delay_us + 200);
    }
  return cancellable;
}

static void
producer_submit (Producer *self)
{
  Stress *stress = self->stress;
  GRand *rand = self->rand;
  Submission *sub = &self->subs[self->n_subs];
  g_autoptr(GCancellable) cancellable = NULL;
  TpSubmitFlags flags = TP_SUBMIT_DEFAULT;
  gboolean cancel_after;
  StressJob *job;

  sub->producer = self;
  sub->id = self->first_id + self->n_subs;
  sub->in_thread = g_rand_boolean (rand);
  sub->mode = pick_mode (rand, sub->in_thread);
  sub->delay_us = rand_range (rand, 0, 1500);
  sub->no_wait = rand_percent (rand, 15);
  sub->after_close = g_atomic_int_get (&stress->closed_flag);
  cancellable = pick_cancellable (self, sub, &cancel_after);
  self->n_subs++;

  job = g_new0 (StressJob, 1);
  job->magic = STRESS_JOB_MAGIC;
  job->sub = sub;

  if (!sub->no_wait && rand_percent (rand, 10))
    {
      if (sub->in_thread)
        tp_pool_submit_in_thread_async (stress->pool, stress_job_func, job, stress_job_free,
                                        cancellable, submit_done_cb, sub);
      else
        tp_pool_submit_async (stress->pool, stress_job_func, job, stress_job_free, cancellable,
                              submit_done_cb, sub);
    }
  else
    {
      if (sub->in_thread)
        flags |= TP_SUBMIT_IN_THREAD;
      if (sub->no_wait)
        flags |= TP_SUBMIT_NO_WAIT;
      tp_pool_submit_full_async (stress->pool, flags, pick_weight (rand), stress_job_func, job,
                                 stress_job_free, cancellable, submit_done_cb, sub);
    }

  if (cancel_after)
    g_cancellable_cancel (cancellable);
  stress_atomic_max (&stress->backlog_peak, (int) tp_pool_get_backlog (stress->pool));
}

static int
pick_delta (GRand *rand)
{
  return g_rand_int_range (rand, -3, 4);
}

static void
producer_scale (Producer *self)
{
  Stress *stress = self->stress;
  int target = tp_pool_scale (stress->pool, pick_delta (self->rand));
  guint size = tp_pool_get_size (stress->pool);

  if (target < 1 || target > (int) stress->cap || size > stress->cap)
    g_atomic_int_inc (&stress->bad_size);
  self->n_scale++;
}

/* Makes a cancellable for a waiter, cancelled later, or none */
static GCancellable *
waiter_cancellable (Producer *self)
{
  GCancellable *cancellable;

  if (!g_rand_boolean (self->rand))
    return NULL;
  cancellable = g_cancellable_new ();
  stress_canceller_cancel_later (self->stress->canceller, cancellable,
                                 rand_range (self->rand, 0, 5000));
  return cancellable;
}

static void
producer_scale_async (Producer *self)
{
  g_autoptr(GCancellable) cancellable = waiter_cancellable (self);
  Waiter *waiter = waiter_new (self, WAITER_SCALE, cancellable != NULL);

  tp_pool_scale_async (self->stress->pool, pick_delta (self->rand), cancellable, scale_done_cb,
                       waiter);
  self->n_scale_async++;
}

static void
producer_wait_idle (Producer *self)
{
  g_autoptr(GCancellable) cancellable = waiter_cancellable (self);
  Waiter *waiter = waiter_new (self, WAITER_IDLE, cancellable != NULL);

  tp_pool_wait_idle_async (self->stress->pool, cancellable, idle_done_cb, waiter);
  self->n_wait_idle++;
}

/* Pause and resume are kept out of the close by the state lock, so that the
 * pauses counted are pauses of a running pool. (Racing a close they are
 * no-ops, which /torture/misuse/pause-racing-close checks.) */
static void
producer_pause (Producer *self,
                guint     op)
{
  Stress *stress = self->stress;

  g_rw_lock_reader_lock (&stress->state_lock);
  if (!stress->closing)
    {
      tp_pool_pause (stress->pool);
      self->resume_at = op + rand_range (self->rand, 1, 4);
      self->n_pause++;
    }
  g_rw_lock_reader_unlock (&stress->state_lock);
}

static void
producer_resume (Producer *self)
{
  Stress *stress = self->stress;

  g_rw_lock_reader_lock (&stress->state_lock);
  if (!stress->closing)
    tp_pool_resume (stress->pool);
  g_rw_lock_reader_unlock (&stress->state_lock);
  self->resume_at = 0;
}

static void
producer_step (Producer *self,
               guint     op)
{
  guint r = rand_range (self->rand, 0, 100);

  if (self->resume_at == op)
    producer_resume (self);

  if (r < 78)
    producer_submit (self);
  else if (r < 86)
    producer_scale (self);
  else if (r < 91)
    producer_scale_async (self);
  else if (r < 92 && self->resume_at == 0 && rand_percent (self->rand, 50))
    producer_pause (self, op);
  else if (r < 94)
    producer_wait_idle (self);
  else
    g_thread_yield ();
}

static guint
producer_in_flight (Producer *self)
{
  return self->n_subs - (guint) g_atomic_int_get (&self->callbacks);
}

static gboolean
producer_done (Producer *self)
{
  return (guint) g_atomic_int_get (&self->callbacks) == self->n_subs &&
         (guint) g_atomic_int_get (&self->destroys) == self->n_subs &&
         (guint) g_atomic_int_get (&self->waiter_callbacks) == self->waiters->len;
}

static void stress_main_tick (Stress *stress);

/* One operation, then the producer's context, without ever sleeping: a
 * producer with too many submissions in flight iterates until callbacks
 * arrive. Jobs always end, so the callbacks always do. */
static void
producer_run_op (Producer *self,
                 guint     op)
{
  Stress *stress = self->stress;
  guint done;

  producer_step (self, op);
  done = (guint) g_atomic_int_add (&stress->ops_done, 1) + 1;
  if (done == stress->close_at)
    g_main_context_wakeup (stress->pool_context);

  for (guint i = 0; i < 4 && g_main_context_iteration (self->context, FALSE); i++)
    ;
  if (self->index == 0)
    stress_main_tick (stress);
  while (producer_in_flight (self) >= STRESS_MAX_IN_FLIGHT)
    {
      g_main_context_iteration (self->context, TRUE);
      if (self->index == 0)
        stress_main_tick (stress);
    }
}

static gpointer
producer_thread (gpointer data)
{
  Producer *self = data;
  Stress *stress = self->stress;

  self->thread = g_thread_self ();
  g_main_context_push_thread_default (self->context);
  for (guint op = 1; op <= self->n_ops; op++)
    producer_run_op (self, op);
  if (self->resume_at != 0)
    producer_resume (self);
  while (!producer_done (self))
    g_main_context_iteration (self->context, TRUE);
  g_main_context_pop_thread_default (self->context);

  g_atomic_int_inc (&stress->finished);
  g_main_context_wakeup (stress->pool_context);
  return NULL;
}

/* }}} */

/* The main thread: closing {{{ */

static void
stress_close (Stress       *stress,
              TpCloseFlags  flags)
{
  Producer *self = &stress->producers[0];
  Waiter *waiter = waiter_new (self, WAITER_CLOSE, FALSE);

  g_rw_lock_writer_lock (&stress->state_lock);
  stress->closing = TRUE;
  /* TP_CLOSE_CANCEL_RUNNING implies TP_CLOSE_DISCARD_QUEUED */
  stress->close_flags |= flags & TP_CLOSE_CANCEL_RUNNING ? flags | TP_CLOSE_DISCARD_QUEUED : flags;
  tp_pool_close_async (stress->pool, flags, NULL, close_done_cb, waiter);
  g_rw_lock_writer_unlock (&stress->state_lock);
  g_atomic_int_set (&stress->closed_flag, TRUE);
}

/* The first close, with the case's flags, and one more draining close
 * whose wait is cancelled at a random moment: the pool closes anyway */
static void
stress_close_first (Stress *stress)
{
  Producer *self = &stress->producers[0];
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Waiter *waiter;

  stress_close (stress, stress->config->close_flags);
  waiter = waiter_new (self, WAITER_CLOSE, TRUE);
  stress_canceller_cancel_later (stress->canceller, cancellable,
                                 rand_range (stress->rand, 0, 2000));
  tp_pool_close_async (stress->pool, TP_CLOSE_DRAIN, cancellable, close_done_cb, waiter);
}

/* Called by the main thread between operations and while it waits */
static void
stress_main_tick (Stress *stress)
{
  if (!stress->closing)
    {
      if ((guint) g_atomic_int_get (&stress->ops_done) >= stress->close_at)
        stress_close_first (stress);
      return;
    }

  stress->since_close++;
  if (stress->config->escalate && !stress->escalated &&
      (stress->since_close >= stress->escalate_after || g_atomic_int_get (&stress->close_done) ||
       g_atomic_int_get (&stress->finished) == STRESS_N_THREADS))
    {
      stress->escalated = TRUE;
      stress_close (stress, TP_CLOSE_CANCEL_RUNNING);
    }
}

static gboolean
stress_all_done (Stress *stress)
{
  return stress->closing &&
         (!stress->config->escalate || stress->escalated) &&
         g_atomic_int_get (&stress->finished) == STRESS_N_THREADS &&
         producer_done (&stress->producers[0]);
}

/* }}} */

/* Set-up and checks {{{ */

static TpPool *
stress_pool_new (Stress *stress)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  const char *kind = stress->config->kind;
  TpPool *pool;

  g_key_file_set_string (keyfile, "stress", "kind", kind);
  g_key_file_set_string (keyfile, "stress", "executor", stress->config->executor);
  g_key_file_set_integer (keyfile, "stress", "min-size", 1);
  g_key_file_set_integer (keyfile, "stress", "max-size", (int) stress->cap);
  g_key_file_set_integer (keyfile, "stress", "size", (int) rand_range (stress->rand, 1,
                                                                       stress->cap + 1));
  g_key_file_set_integer (keyfile, "stress", "queue-capacity", (int) stress->capacity);
  if (g_str_has_prefix (kind, "autoscale-"))
    {
      /* Short timeouts: the pool grows and shrinks all the time */
      g_key_file_set_integer (keyfile, "stress", "idle-timeout-ms",
                              (int) rand_range (stress->rand, 0, 5));
      g_key_file_set_integer (keyfile, "stress", "scale-interval-ms",
                              (int) rand_range (stress->rand, 1, 5));
    }

  pool = tp_pool_new_from_keyfile (keyfile, "stress", &error);
  g_assert_no_error (error);
  g_assert_true (tp_pool_start (pool, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (tp_pool_get_max_size (pool), ==, stress->cap);
  return pool;
}

static void
stress_init (Stress           *stress,
             const StressCase *config)
{
  guint32 seed = g_test_rand_int () ^ g_str_hash (config->path);
  guint per_producer;

  memset (stress, 0, sizeof *stress);
  stress->config = config;
  stress->rand = g_rand_new_with_seed (seed);
  stress->cap = rand_range (stress->rand, 2, 7);
  stress->capacity = rand_range (stress->rand, 2, 16);
  stress->total_ops = MAX (stress_ops, STRESS_N_PRODUCERS);
  stress->close_at = stress->total_ops * rand_range (stress->rand, 70, 96) / 100;
  stress->escalate_after = rand_range (stress->rand, 0, 200);
  stress->main_thread = g_thread_self ();
  stress->pool_context = g_main_context_ref_thread_default ();
  g_rw_lock_init (&stress->state_lock);
  stress->pool = stress_pool_new (stress);

  stress->completer = g_thread_pool_new (completer_func, stress, 3, FALSE, NULL);
  stress->canceller = stress_canceller_new ("stress-canceller");

  per_producer = stress->total_ops / STRESS_N_PRODUCERS;
  for (guint i = 0; i < STRESS_N_PRODUCERS; i++)
    {
      Producer *producer = &stress->producers[i];

      producer->stress = stress;
      producer->index = i;
      producer->rand = g_rand_new_with_seed (g_rand_int (stress->rand));
      producer->n_ops = i == 0 ? stress->total_ops - per_producer * STRESS_N_THREADS
                               : per_producer;
      producer->first_id = i * stress->total_ops;
      producer->subs = g_new0 (Submission, producer->n_ops);
      producer->waiters = g_ptr_array_new_with_free_func (g_free);
      producer->context = i == 0 ? g_main_context_ref (stress->pool_context)
                                 : g_main_context_new ();
    }
}

static void
stress_clear (Stress *stress)
{
  for (guint i = 0; i < STRESS_N_PRODUCERS; i++)
    {
      Producer *producer = &stress->producers[i];

      g_rand_free (producer->rand);
      g_free (producer->subs);
      g_ptr_array_unref (producer->waiters);
      g_main_context_unref (producer->context);
    }
  g_rw_lock_clear (&stress->state_lock);
  g_main_context_unref (stress->pool_context);
  g_rand_free (stress->rand);
}

/* What a submission may end with, given what its job does and whether it ran */
static gboolean
outcome_allowed (Stress     *stress,
                 Submission *sub,
                 int         started,
                 Outcome     outcome)
{
  gboolean cancel_running = (stress->close_flags & TP_CLOSE_CANCEL_RUNNING) != 0;

  if (started > 1)
    return FALSE;
  if (sub->pre_cancelled)
    return started == 0 && outcome == OUTCOME_CANCELLED;
  if (sub->after_close)
    return started == 0 && (outcome == OUTCOME_NOT_ACCEPTING ||
                            (outcome == OUTCOME_CANCELLED && sub->has_cancellable));
  if (started == 0)
    {
      switch (outcome)
        {
        case OUTCOME_CANCELLED:
          return sub->has_cancellable;
        case OUTCOME_FULL:
          return sub->no_wait;
        case OUTCOME_NOT_ACCEPTING:
          return TRUE;
        case OUTCOME_CLOSED:
          return (stress->close_flags & TP_CLOSE_DISCARD_QUEUED) != 0;
        default:
          return FALSE;
        }
    }

  switch (sub->mode)
    {
    case JOB_RETURN:
    case JOB_ELSEWHERE:
      return outcome == OUTCOME_DONE;
    case JOB_SLEEP:
      return outcome == OUTCOME_DONE ||
             (outcome == OUTCOME_CANCELLED && (sub->has_cancellable || cancel_running));
    case JOB_FAIL:
      return outcome == OUTCOME_FAILED;
    case JOB_DROP:
    case JOB_DROP_LATER:
      return outcome == OUTCOME_LOST;
    default:
      return FALSE;
    }
}

typedef struct {
  guint outcomes[N_OUTCOMES];
  guint submissions;
  guint started;
  guint cancelled_started;    /* ran, so were accepted */
  guint cancelled_unstarted;  /* not pre-cancelled: maybe queued, with a sequence number */
  guint errors;
  guint scale, scale_async, pause, wait_idle;
} StressTotals;

static void
stress_check_submission (Stress       *stress,
                         Submission   *sub,
                         StressTotals *totals)
{
  int started = g_atomic_int_get (&sub->started);
  int callbacks = g_atomic_int_get (&sub->callbacks);
  int destroys = g_atomic_int_get (&sub->destroys);
  Outcome outcome = g_atomic_int_get (&sub->outcome);

  totals->submissions++;
  totals->outcomes[outcome]++;
  totals->started += started;
  if (outcome == OUTCOME_CANCELLED && started > 0)
    totals->cancelled_started++;
  else if (outcome == OUTCOME_CANCELLED && !sub->pre_cancelled)
    totals->cancelled_unstarted++;

  if (callbacks == 1 && destroys == 1 && outcome_allowed (stress, sub, started, outcome))
    return;

  if (totals->errors++ < STRESS_MAX_REPORTED)
    g_test_message ("submission %u (producer %u, %s %s job%s%s%s%s%s): %d callbacks, "
                    "%d destroys, started %d times, outcome %s", sub->id, sub->producer->index,
                    sub->in_thread ? "thread" : "async", mode_names[sub->mode],
                    sub->no_wait ? ", no-wait" : "",
                    sub->has_cancellable ? ", cancellable" : "",
                    sub->pre_cancelled ? " (pre-cancelled)" : "",
                    sub->cancel_on_start ? " (cancelled once started)" : "",
                    sub->after_close ? ", after close" : "",
                    callbacks, destroys, started, outcome_names[outcome]);
}

static void
stress_check_waiters (Producer     *producer,
                      StressTotals *totals)
{
  for (guint i = 0; i < producer->waiters->len; i++)
    {
      Waiter *waiter = producer->waiters->pdata[i];
      int callbacks = g_atomic_int_get (&waiter->callbacks);

      if (callbacks != 1 && totals->errors++ < STRESS_MAX_REPORTED)
        g_test_message ("waiter %u of producer %u (kind %d): %d callbacks", i, producer->index,
                        waiter->kind, callbacks);
    }
}

static void
stress_check (Stress       *stress,
              StressTotals *totals)
{
  guint64 submitted = tp_pool_get_submitted (stress->pool);
  guint accepted_min;

  for (guint i = 0; i < STRESS_N_PRODUCERS; i++)
    {
      Producer *producer = &stress->producers[i];

      for (guint j = 0; j < producer->n_subs; j++)
        stress_check_submission (stress, &producer->subs[j], totals);
      stress_check_waiters (producer, totals);
      totals->scale += producer->n_scale;
      totals->scale_async += producer->n_scale_async;
      totals->pause += producer->n_pause;
      totals->wait_idle += producer->n_wait_idle;
    }

  g_assert_cmpuint (totals->errors, ==, 0);
  g_assert_cmpuint (totals->outcomes[OUTCOME_NONE], ==, 0);
  g_assert_cmpuint (totals->outcomes[OUTCOME_OTHER], ==, 0);
  g_assert_cmpuint (totals->outcomes[OUTCOME_DONE] + totals->outcomes[OUTCOME_FAILED] +
                    totals->outcomes[OUTCOME_CANCELLED] + totals->outcomes[OUTCOME_FULL] +
                    totals->outcomes[OUTCOME_NOT_ACCEPTING] + totals->outcomes[OUTCOME_CLOSED] +
                    totals->outcomes[OUTCOME_LOST], ==, totals->submissions);
  g_assert_cmpint (stress->wrong_context, ==, 0);
  g_assert_cmpint (stress->wrong_executor, ==, 0);
  g_assert_cmpint (stress->wrong_source, ==, 0);
  g_assert_cmpint (stress->misrouted, ==, 0);
  g_assert_cmpint (stress->bad_waiter, ==, 0);
  g_assert_cmpint (stress->bad_job_data, ==, 0);
  g_assert_cmpint (stress->bad_size, ==, 0);

  /* The bound: a job is in its body only while it owns a worker, and no
   * size ever exceeds max-size */
  g_assert_cmpint (stress->over_cap, ==, 0);
  g_assert_cmpint (stress->peak, <=, (int) stress->cap);
  g_assert_cmpint (g_atomic_int_get (&stress->running), ==, 0);

  /* Every job that got a worker ran once and gave it back */
  g_assert_cmpuint (tp_pool_get_completed (stress->pool), ==, totals->started);
  /* Accepted submissions (and NO_WAIT ones refused as full) took a sequence
   * number; a job cancelled while queued did, one cancelled while being
   * submitted did not */
  accepted_min = totals->outcomes[OUTCOME_DONE] + totals->outcomes[OUTCOME_FAILED] +
                 totals->outcomes[OUTCOME_LOST] + totals->outcomes[OUTCOME_CLOSED] +
                 totals->outcomes[OUTCOME_FULL] + totals->cancelled_started;
  g_assert_cmpuint (submitted, >=, accepted_min);
  g_assert_cmpuint (submitted, <=, accepted_min + totals->cancelled_unstarted);

  if (!(stress->close_flags & TP_CLOSE_DISCARD_QUEUED))
    g_assert_cmpuint (totals->outcomes[OUTCOME_CLOSED], ==, 0);
}

/* The pool goes once the last task that holds it is finalized, which may
 * be on a worker thread just after the last callback */
static void
stress_unref_pool (Stress *stress)
{
  GWeakRef weak;

  g_weak_ref_init (&weak, stress->pool);
  g_clear_object (&stress->pool);
  for (;;)
    {
      TpPool *still = g_weak_ref_get (&weak);

      if (still == NULL)
        break;
      g_object_unref (still);
      g_thread_yield ();
      g_main_context_iteration (NULL, FALSE);
    }
  g_weak_ref_clear (&weak);
}

/* }}} */

static void
test_stress (gconstpointer data)
{
  const StressCase *config = data;
  GThread *threads[STRESS_N_THREADS];
  StressTotals totals = { { 0 } };
  Producer *self;
  gint64 start = g_get_monotonic_time ();
  Stress stress;

  g_test_summary ("Producers on three threads and the main thread submit async and thread "
                  "jobs, cancel them, scale, pause and resume the pool, then close it: every "
                  "submission gets exactly one callback in its submitter's context and one "
                  "job_data_destroy, with an outcome its job allows, and no more jobs run "
                  "at once than max-size");

  stress_init (&stress, config);
  self = &stress.producers[0];
  self->thread = g_thread_self ();
  for (guint i = 1; i < STRESS_N_PRODUCERS; i++)
    {
      g_autofree char *name = g_strdup_printf ("stress-producer-%u", i);

      threads[i - 1] = g_thread_new (name, producer_thread, &stress.producers[i]);
    }

  /* The main thread produces too, and iterates the pool's context */
  for (guint op = 1; op <= self->n_ops; op++)
    producer_run_op (self, op);
  if (self->resume_at != 0)
    producer_resume (self);
  for (;;)
    {
      stress_main_tick (&stress);
      if (stress_all_done (&stress))
        break;
      g_main_context_iteration (NULL, TRUE);
    }
  while (g_main_context_iteration (NULL, FALSE))
    ;

  for (guint i = 0; i < STRESS_N_THREADS; i++)
    g_thread_join (threads[i]);
  stress_canceller_free (stress.canceller);
  g_thread_pool_free (stress.completer, FALSE, TRUE);

  stress_check (&stress, &totals);
  g_test_message ("%s: %u operations, %u submissions, %u scale, %u scale_async, %u pause, "
                  "%u wait_idle; cap %u, queue-capacity %u, peak running %d, peak backlog %d; "
                  "done %u failed %u cancelled %u (%u while running) full %u not-accepting %u "
                  "closed %u lost %u; %.2f s",
                  config->path, stress.total_ops, totals.submissions, totals.scale,
                  totals.scale_async, totals.pause, totals.wait_idle, stress.cap,
                  stress.capacity, stress.peak, stress.backlog_peak,
                  totals.outcomes[OUTCOME_DONE], totals.outcomes[OUTCOME_FAILED],
                  totals.outcomes[OUTCOME_CANCELLED], totals.cancelled_started,
                  totals.outcomes[OUTCOME_FULL], totals.outcomes[OUTCOME_NOT_ACCEPTING],
                  totals.outcomes[OUTCOME_CLOSED], totals.outcomes[OUTCOME_LOST],
                  (g_get_monotonic_time () - start) / 1e6);

  stress_unref_pool (&stress);
  stress_clear (&stress);
}

int
main (int   argc,
      char *argv[])
{
  gboolean long_run = stress_long_run (&argc, argv);

  g_test_init (&argc, &argv, NULL);

  stress_ops = stress_env_uint ("TP_STRESS_OPS", stress_ops, 1);
  if (long_run)
    stress_ops *= STRESS_LONG_FACTOR;

  for (guint i = 0; i < G_N_ELEMENTS (stress_cases); i++)
    g_test_add_data_func (stress_cases[i].path, &stress_cases[i], test_stress);

  return g_test_run ();
}

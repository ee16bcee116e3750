/* test-stress-limits.c: job options, gates, hold and the list of jobs from several threads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * test-stress.c and test-torture.c drive the paths of version 1.0 from many
 * threads; this test drives the ones added since: job options, gates, hold,
 * deadlines, the list of labelled jobs and the counters. Each case runs
 * rounds, each on a fresh pool made from a keyfile of the case's kind, with
 * `gates=per-key;rate` (a small per-key-limit, a rate that never stalls for
 * long) or without gates but started `held=true`:
 *
 * - three producer threads, each iterating a GMainContext of its own pushed
 *   as the thread-default one, submit through
 *   tp_pool_submit_with_options_async() with random options: a key among
 *   eight or none, a weight, a queue timeout (sometimes 1–5 ms, so that jobs
 *   time out while held), a run timeout (sometimes 1–5 ms, with jobs that
 *   wait on their cancellable and so time out while running), a label,
 *   TP_SUBMIT_IN_THREAD, TP_SUBMIT_NO_WAIT against a small queue-capacity;
 * - jobs, async and thread, return a value, fail, drop their task, wait for
 *   their cancellable (reporting progress), or, async, are completed or
 *   dropped later by another thread;
 * - meanwhile the producers hold and unhold the pool, scale it, pause and
 *   resume it, and cancel each other's cancellables; a canceller thread
 *   cancels at random moments; the pool's own thread, which iterates the
 *   pool's context, reads tp_pool_get_jobs() (only there, as a GListModel
 *   must be read), checks what it lists, cancels listed jobs with
 *   tp_job_info_cancel() and submits jobs of its own;
 * - the main thread unholds a pool started held, and closes it with a random
 *   mode while the producers still submit (a draining close unholds first:
 *   a held pool drains only once unheld), sometimes escalating.
 *
 * At the end of each round: every submission's callback ran exactly once, in
 * its submitter's thread and context and never inside the submitting call,
 * with an outcome its job allows, and its job_data_destroy exactly once; no
 * key ever had more than per-key-limit jobs in their body (jobs count
 * themselves by key), no more jobs ran at once than max-size, and no job
 * submitted to a held pool started before an unhold; the pool's counters add up
 * (submitted = succeeded + failed + cancelled + timed-out) and match, class
 * by class, the outcomes the callbacks saw; the list of jobs is empty once
 * the pool is closed and idle; and the pool is finalized.
 *
 * The counters follow core/tp-job.c: a value is a success; G_IO_ERROR_CANCELLED
 * and TP_POOL_ERROR_CLOSED are cancellations; TP_POOL_ERROR_TIMED_OUT and
 * G_IO_ERROR_TIMED_OUT time-outs; anything else a failure — except that a job
 * that ran and failed with an error of its own counts as cancelled (or timed
 * out) when its cancellable was cancelled (or its run deadline passed) before
 * the pool saw it end. Such a job's callback cannot tell, so it is counted
 * apart: the counters must then place exactly those jobs among failed,
 * cancelled and timed-out.
 *
 * A watchdog thread fails the test with the round's accounting when nothing
 * happens for TP_STRESS_WATCHDOG seconds (default 60), instead of hanging.
 * Reproducing a run: GTest prints "# random seed: R02S…" first; every choice
 * comes from GRands seeded from it, so
 *   tests/test-stress-limits -p /stress-limits/fixed-fair/gates --seed=R02S…
 * makes the same choices again (the threads' interleaving still varies).
 * The size of a case: TP_STRESS_OPS=<operations per case> (default 1500);
 * `--long` or TP_STRESS_LONG=1 runs twenty times more.
 */

#include "tp-stress-util.h"
#include "tp-test-util.h"
#include "tp-pool-private.h"

#define LIMITS_DEFAULT_OPS        1500
#define LIMITS_LONG_FACTOR        20
#define LIMITS_ROUND_OPS          300    /* operations per round, about */
#define LIMITS_MAX_ROUNDS         12
#define LIMITS_DEFAULT_WATCHDOG   60     /* seconds without progress */
#define LIMITS_N_THREADS          3      /* producer threads */
#define LIMITS_N_PRODUCERS        (LIMITS_N_THREADS + 1)  /* the last: the pool's thread */
#define LIMITS_POOL_PRODUCER      LIMITS_N_THREADS
#define LIMITS_MAX_IN_FLIGHT      12     /* a producer thread's submissions without a callback */
#define LIMITS_POOL_MAX_IN_FLIGHT 8      /* the pool thread's */
#define LIMITS_N_KEYS             8
#define LIMITS_JOB_MAGIC          0x11a175edu
#define LIMITS_MAX_REPORTED       20
#define LIMITS_STALL_TICKS        3      /* driver ticks a producer waits on a held pool */

static guint limits_ops = LIMITS_DEFAULT_OPS;
static guint limits_watchdog_s = LIMITS_DEFAULT_WATCHDOG;

static const char * const limits_keys[LIMITS_N_KEYS] = {
  "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7",
};

typedef enum {
  OUTCOME_NONE,
  OUTCOME_VALUE,
  OUTCOME_FAILED,         /* the job's own G_IO_ERROR_FAILED */
  OUTCOME_LOST,
  OUTCOME_FULL,
  OUTCOME_NOT_ACCEPTING,
  OUTCOME_CANCELLED,
  OUTCOME_CLOSED,
  OUTCOME_QUEUE_TIMEOUT,  /* TP_POOL_ERROR_TIMED_OUT */
  OUTCOME_RUN_TIMEOUT,    /* G_IO_ERROR_TIMED_OUT */
  OUTCOME_OTHER,
  N_OUTCOMES
} Outcome;

static const char * const outcome_names[N_OUTCOMES] = {
  "none", "value", "failed", "lost", "full", "not-accepting", "cancelled", "closed",
  "queue-timeout", "run-timeout", "other",
};

/* The counter an outcome lands in; COUNT_EITHER: failed, cancelled or timed out */
typedef enum {
  COUNT_SUCCEEDED,
  COUNT_FAILED,
  COUNT_CANCELLED,
  COUNT_TIMED_OUT,
  COUNT_EITHER,
  N_COUNTS
} CountClass;

typedef enum {
  JOB_RETURN,          /* returns "ok:<id>" at once */
  JOB_FAIL,            /* fails with G_IO_ERROR_FAILED at once */
  JOB_DROP,            /* drops its task: TP_POOL_ERROR_JOB_LOST */
  JOB_WAIT,            /* waits delay_us, or until its cancellable fires: then CANCELLED */
  JOB_ELSEWHERE,       /* async: a completer thread returns "ok:<id>" after delay_us */
  JOB_ELSEWHERE_FAIL,  /* async: a completer thread fails it after delay_us */
  JOB_DROP_LATER,      /* async: a completer thread drops the task after delay_us */
  N_JOB_MODES
} JobMode;

static const char * const mode_names[N_JOB_MODES] = {
  "return", "fail", "drop", "wait", "elsewhere", "elsewhere-fail", "drop-later",
};

typedef struct {
  const char *path;
  const char *kind;
  const char *executor;
  gboolean    gates;    /* gates=per-key;rate, else none */
  gboolean    held;     /* every round starts held, else some */
} LimitsCase;

static const LimitsCase limits_cases[] = {
  { "/stress-limits/fixed-fair/gates",          "fixed-fair",         "threads", TRUE,  FALSE },
  { "/stress-limits/autoscale-fair/gates",      "autoscale-fair",     "threads", TRUE,  FALSE },
  { "/stress-limits/fixed-priority/gates-held", "fixed-priority",     "threads", TRUE,  TRUE },
  { "/stress-limits/autoscale-simple/gates",    "autoscale-simple",   "gtask",   TRUE,  FALSE },
  { "/stress-limits/fixed-simple/held",         "fixed-simple",       "threads", FALSE, TRUE },
  { "/stress-limits/autoscale-priority/held",   "autoscale-priority", "threads", FALSE, TRUE },
  { "/stress-limits/fixed-lifo/held",           "fixed-lifo",         "gtask",   FALSE, TRUE },
};

typedef struct _Round    Round;
typedef struct _Producer Producer;

/* One submission. Its producer fills it in and publishes it (n_subs) before
 * submitting; afterwards only atomics touch it until the round is over. */
typedef struct {
  Producer     *producer;
  guint         id;
  guint         delay_us;
  guint         queue_timeout_ms;
  guint         run_timeout_ms;
  int           key;              /* index in limits_keys, or -1 */
  int           weight;           /* as the list of jobs must show it */
  guint8        mode;
  guint8        in_thread;
  guint8        no_wait;
  guint8        labelled;
  guint8        no_options;       /* submitted with options NULL */
  guint8        has_cancellable;
  guint8        pre_cancelled;
  guint8        cancel_on_start;
  guint8        after_close;      /* submitted once a close_async() had returned */
  int           held_epoch;       /* submitted while held: the unholds by then; else -1 */
  guint         cancel_delay_us;
  GCancellable *cancellable;      /* the submitter's, kept for other threads to cancel */
  gpointer      run_cancellable;  /* what the job was given, atomic */
  int           info_cancelled;   /* tp_job_info_cancel() was called on it */
  int           started;
  int           started_held;     /* started while the pool was still held */
  int           callbacks;
  int           destroys;
  int           outcome;          /* of the first callback */
  int           run_cancelled;    /* its job's cancellable was cancelled when it was called back */
  int           wrong_context;
  int           in_call;          /* called back inside the submitting call */
  int           misrouted;
} Submission;

/* job_data: freed by job_data_destroy, so ASan and valgrind see a double
 * destroy or a missing one */
typedef struct {
  guint32     magic;
  Submission *sub;
} LimitsJob;

struct _Producer {
  Round        *round;
  guint         index;
  gpointer      thread;      /* the GThread it runs on, which sets it itself: atomic */
  GThread      *handle;      /* a producer thread's, to join it */
  GMainContext *context;
  GRand        *rand;
  guint         n_ops;
  guint         op;          /* operations done */
  guint         first_id;
  Submission   *subs;        /* n_ops slots: one operation submits at most once */
  int           n_subs;      /* published, atomic */
  int           callbacks;   /* atomic */
  int           destroys;    /* atomic */
  int           blocked;     /* waiting for callbacks, atomic */
  int           finished;    /* atomic */
  guint         resume_at;   /* the operation that resumes the pool this producer paused */
  guint         unhold_at;   /* the operation that unholds the pool this producer held */
  guint         n_hold, n_pause, n_scale, n_cross_cancels;
};

struct _Round {
  const LimitsCase *config;
  guint             index;
  guint32           seed;
  GRand            *rand;     /* the driver's */

  /* The pool and its parameters */
  TpPool           *pool;
  TpPool           *pool_address;       /* for identity checks, never dereferenced */
  GMainContext     *pool_context;
  GThread          *pool_thread;
  gpointer          pool_thread_self;   /* atomic: set by the pool's thread itself */
  int               stop_pool_thread;
  int               pool_disposed;
  guint             cap;                /* max-size */
  guint             capacity;           /* queue-capacity */
  guint             per_key_limit;
  guint             rate_limit;
  guint             rate_interval_ms;
  gboolean          gates_rate_first;
  gboolean          held_at_start;
  int               default_weight;

  /* The plan */
  guint             total_ops;
  guint             close_at;
  guint             unhold_at;          /* 0: stays held until a stall or the close */
  TpCloseFlags      close_mode;
  gboolean          escalate;
  guint             escalate_after;
  int               ops_done;

  Producer          producers[LIMITS_N_PRODUCERS];
  int               producers_finished;

  /* Closing */
  GRWLock           state_lock;         /* hold, unhold, pause, resume (readers) against close */
  gboolean          closing;            /* under state_lock */
  int               closed_flag;        /* set once close_async() returned */
  guint             close_flags;        /* every close issued, or-ed: atomic */
  GMutex            hold_lock;          /* every hold and unhold, and held_flag */
  gboolean          held_flag;          /* the last call held the pool */
  int               unholds;            /* counted before each tp_pool_unhold(), atomic */
  guint             since_close;
  gboolean          escalated;
  guint             n_closes;
  int               close_callbacks;
  int               bad_close;
  guint             stalled_ticks;
  guint             stall_breaks;

  /* What jobs saw */
  int               running;
  int               peak;
  int               over_cap;
  int               key_running[LIMITS_N_KEYS];
  int               key_peak;
  int               over_key;
  int               wrong_executor;
  int               bad_job_data;

  /* What the pool's thread saw of the list of jobs */
  int               list_peak;
  int               infos_checked;
  int               info_cancels;
  int               bad_info;
  int               final_check_wanted;
  int               final_checked;
  int               final_left;         /* items still listed once closed and idle */

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

/* A job enters its body: it counts itself, in all and by key */
static void
limits_enter (Round      *round,
              Submission *sub)
{
  int running = g_atomic_int_add (&round->running, 1) + 1;

  stress_atomic_max (&round->peak, running);
  if (running > (int) round->cap)
    g_atomic_int_inc (&round->over_cap);
  if (sub->key >= 0)
    {
      int of_key = g_atomic_int_add (&round->key_running[sub->key], 1) + 1;

      stress_atomic_max (&round->key_peak, of_key);
      if (round->config->gates && of_key > (int) round->per_key_limit)
        g_atomic_int_inc (&round->over_key);
    }
}

/* Before the job completes or drops its task, so before the pool can know */
static void
limits_leave (Round      *round,
              Submission *sub)
{
  if (sub->key >= 0)
    g_atomic_int_add (&round->key_running[sub->key], -1);
  g_atomic_int_add (&round->running, -1);
}

static Submission *
limits_job_submission (GTask *task)
{
  LimitsJob *job = g_task_get_task_data (task);

  return job->sub;
}

static void
limits_job_return (GTask      *task,
                   Submission *sub,
                   gboolean    cancelled,
                   gboolean    fail)
{
  limits_leave (sub->producer->round, sub);
  if (cancelled)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "job %u saw its cancellation",
                             sub->id);
  else if (fail)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "job %u failed", sub->id);
  else
    g_task_return_pointer (task, g_strdup_printf ("ok:%u", sub->id), g_free);
}

/* An async job's wait: a 1 ms tick on the pool's context until delay_us
 * passed or its cancellable fired. (No GCancellableSource: GLib 2.74 may
 * leak one whose last reference goes while its cancellable is being
 * cancelled on another thread.) */
typedef struct {
  GTask        *task;
  GCancellable *cancellable;
  gint64        start;
  gint64        end;
} AsyncWait;

static gboolean
async_wait_tick_cb (gpointer data)
{
  AsyncWait *work = data;
  gboolean cancelled = g_cancellable_is_cancelled (work->cancellable);
  gint64 now = g_get_monotonic_time ();

  if (!cancelled && now < work->end)
    {
      tp_task_set_progress (work->task, (double) (now - work->start) /
                                        (double) (work->end - work->start));
      return G_SOURCE_CONTINUE;
    }

  limits_job_return (work->task, limits_job_submission (work->task), cancelled, FALSE);
  g_object_unref (work->task);
  g_object_unref (work->cancellable);
  g_free (work);
  return G_SOURCE_REMOVE;
}

static void
async_wait_start (GTask        *task,
                  GMainContext *context,
                  GCancellable *cancellable,
                  guint         delay_us)
{
  AsyncWait *work = g_new0 (AsyncWait, 1);
  GSource *tick = g_timeout_source_new (1);

  work->task = g_object_ref (task);
  work->cancellable = g_object_ref (cancellable);
  work->start = g_get_monotonic_time ();
  work->end = work->start + MAX (delay_us, 1);
  g_source_set_callback (tick, async_wait_tick_cb, work, NULL);
  g_source_attach (tick, context);
  g_source_unref (tick);
}

/* A thread job's wait, reporting its progress as it goes */
static void
thread_wait (GTask        *task,
             Submission   *sub,
             GCancellable *cancellable)
{
  guint slept = 0;

  while (slept < sub->delay_us && !g_cancellable_is_cancelled (cancellable))
    {
      g_usleep (MIN (100, sub->delay_us - slept));
      slept += 100;
      if (slept % 1000 == 0)
        tp_task_set_progress (task, (double) slept / sub->delay_us);
    }
  limits_job_return (task, sub, g_cancellable_is_cancelled (cancellable), FALSE);
}

/* The completer pool's function: ends an async job from another thread */
static void
completer_func (gpointer data,
                gpointer user_data)
{
  GTask *task = data;
  Submission *sub = limits_job_submission (task);

  g_usleep (sub->delay_us);
  if (sub->mode == JOB_DROP_LATER)
    limits_leave (sub->producer->round, sub);
  else
    {
      tp_task_set_progress (task, 1.0);
      limits_job_return (task, sub, FALSE, sub->mode == JOB_ELSEWHERE_FAIL);
    }
  /* JOB_DROP_LATER: the last reference goes here, so the job is lost on this thread */
  g_object_unref (task);
}

static void
limits_job_func (GTask        *task,
                 gpointer      pool,
                 gpointer      job_data,
                 GCancellable *cancellable)
{
  LimitsJob *job = job_data;
  Submission *sub = job->sub;
  Round *round = sub->producer->round;
  gboolean on_pool_thread = g_thread_self () == g_atomic_pointer_get (&round->pool_thread_self);

  if (job->magic != LIMITS_JOB_MAGIC || g_task_get_task_data (task) != job_data ||
      pool != round->pool_address || cancellable == NULL)
    g_atomic_int_inc (&round->bad_job_data);
  if (on_pool_thread == (gboolean) sub->in_thread)
    g_atomic_int_inc (&round->wrong_executor);
  /* A job submitted to a held pool starts only after an unhold: each is
   * counted before it is called */
  if (sub->held_epoch >= 0 && g_atomic_int_get (&round->unholds) == sub->held_epoch)
    g_atomic_int_inc (&sub->started_held);
  if (g_atomic_int_add (&sub->started, 1) == 0 && cancellable != NULL)
    g_atomic_pointer_set (&sub->run_cancellable, g_object_ref (cancellable));
  limits_enter (round, sub);
  if (sub->cancel_on_start)
    stress_canceller_cancel_later (round->canceller, sub->cancellable, sub->cancel_delay_us);

  switch (sub->mode)
    {
    case JOB_RETURN:
    case JOB_FAIL:
      tp_task_set_progress (task, 0.5);
      limits_job_return (task, sub, FALSE, sub->mode == JOB_FAIL);
      break;
    case JOB_DROP:
      limits_leave (round, sub);
      break;
    case JOB_WAIT:
      if (sub->in_thread)
        thread_wait (task, sub, cancellable);
      else
        async_wait_start (task, round->pool_context, cancellable, sub->delay_us);
      break;
    case JOB_ELSEWHERE:
    case JOB_ELSEWHERE_FAIL:
    case JOB_DROP_LATER:
      g_thread_pool_push (round->completer, g_object_ref (task), NULL);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
limits_job_free (gpointer data)
{
  LimitsJob *job = data;
  Submission *sub = job->sub;
  Producer *producer = sub->producer;
  /* Once the counts are complete the producer may end and its context go */
  GMainContext *context = g_main_context_ref (producer->context);

  if (job->magic != LIMITS_JOB_MAGIC)
    g_atomic_int_inc (&producer->round->bad_job_data);
  job->magic = 0;
  g_free (job);
  g_atomic_int_inc (&sub->destroys);
  g_atomic_int_inc (&producer->destroys);
  g_main_context_wakeup (context);
  g_main_context_unref (context);
  stress_bump ();
}

/* }}} */

/* Callbacks {{{ */

static __thread gboolean in_submit_call;

static Outcome
classify (const char   *value,
          const GError *error)
{
  if (value != NULL)
    return OUTCOME_VALUE;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_FAILED))
    return OUTCOME_FAILED;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return OUTCOME_CANCELLED;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return OUTCOME_RUN_TIMEOUT;
  if (g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_JOB_LOST))
    return OUTCOME_LOST;
  if (g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_FULL))
    return OUTCOME_FULL;
  if (g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_NOT_ACCEPTING))
    return OUTCOME_NOT_ACCEPTING;
  if (g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_CLOSED))
    return OUTCOME_CLOSED;
  if (g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_TIMED_OUT))
    return OUTCOME_QUEUE_TIMEOUT;
  return OUTCOME_OTHER;
}

/* The counter a submission's outcome lands in (core/tp-job.c,
 * tp_job_outcome_of_task() and tp_job_outcome_of_error()) */
static CountClass
count_class (Outcome outcome,
             gboolean run_cancelled)
{
  switch (outcome)
    {
    case OUTCOME_VALUE:
      return COUNT_SUCCEEDED;
    case OUTCOME_FAILED:
      /* A job's own error counts as cancelled or timed out if its
       * cancellable fired before the pool saw it end: not when it was
       * still not cancelled at its callback */
      return run_cancelled ? COUNT_EITHER : COUNT_FAILED;
    case OUTCOME_CANCELLED:
    case OUTCOME_CLOSED:
      return COUNT_CANCELLED;
    case OUTCOME_QUEUE_TIMEOUT:
    case OUTCOME_RUN_TIMEOUT:
      return COUNT_TIMED_OUT;
    case OUTCOME_LOST:
    case OUTCOME_FULL:
    case OUTCOME_NOT_ACCEPTING:
    case OUTCOME_OTHER:
    case OUTCOME_NONE:
    case N_OUTCOMES:
    default:
      return COUNT_FAILED;
    }
}

static gboolean
in_home (Producer *producer)
{
  return g_thread_self () == g_atomic_pointer_get (&producer->thread) &&
         g_main_context_is_owner (producer->context);
}

static void
submit_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Submission *sub = user_data;
  Producer *producer = sub->producer;
  Round *round = producer->round;
  g_autoptr(GError) error = NULL;
  g_autofree char *value = tp_pool_submit_finish (TP_POOL (source), result, &error);
  Outcome outcome = classify (value, error);
  GCancellable *run_cancellable = g_atomic_pointer_get (&sub->run_cancellable);

  if (!in_home (producer) || source != G_OBJECT (round->pool_address))
    g_atomic_int_inc (&sub->wrong_context);
  if (in_submit_call)
    g_atomic_int_inc (&sub->in_call);
  if (value != NULL)
    {
      g_autofree char *expected = g_strdup_printf ("ok:%u", sub->id);

      if (g_strcmp0 (value, expected) != 0)
        g_atomic_int_inc (&sub->misrouted);
    }
  if (g_atomic_int_add (&sub->callbacks, 1) == 0)
    {
      g_atomic_int_set (&sub->outcome, outcome);
      g_atomic_int_set (&sub->run_cancelled,
                        run_cancellable != NULL && g_cancellable_is_cancelled (run_cancellable));
    }
  g_atomic_int_inc (&producer->callbacks);
  stress_bump ();
}

static void
close_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Round *round = user_data;
  TpPool *pool = TP_POOL (source);
  g_autoptr(GError) error = NULL;
  gboolean closed = tp_pool_close_finish (pool, result, &error);

  if (closed)
    {
      /* Nothing is left */
      if (!tp_pool_get_closed (pool) || tp_pool_get_size (pool) != 0 ||
          tp_pool_get_running (pool) != 0 || tp_pool_get_waiting (pool) != 0 ||
          tp_pool_get_backlog (pool) != 0)
        g_atomic_int_inc (&round->bad_close);
    }
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_printerr ("# close ended with %s\n", error != NULL ? error->message : "no error");
      g_atomic_int_inc (&round->bad_close);
    }
  g_atomic_int_inc (&round->close_callbacks);
  stress_bump ();
}

/* }}} */

/* Producers {{{ */

static JobMode
pick_mode (GRand    *rand,
           gboolean  in_thread)
{
  guint r = rand_range (rand, 0, 100);

  if (in_thread)
    return r < 30 ? JOB_RETURN : r < 42 ? JOB_FAIL : r < 50 ? JOB_DROP : JOB_WAIT;
  return r < 22 ? JOB_RETURN : r < 32 ? JOB_FAIL : r < 39 ? JOB_DROP : r < 70 ? JOB_WAIT :
         r < 85 ? JOB_ELSEWHERE : r < 93 ? JOB_ELSEWHERE_FAIL : JOB_DROP_LATER;
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
  sub->cancellable = g_object_ref (cancellable);
  how = rand_range (rand, 0, 100);
  if (how < 10)
    {
      g_cancellable_cancel (cancellable);
      sub->pre_cancelled = TRUE;
    }
  else if (how < 30)
    *cancel_after = TRUE;
  else if (how < 65)
    /* A short delay races with the submission, the wait, the start */
    stress_canceller_cancel_later (self->round->canceller, cancellable,
                                   rand_range (rand, 0, 4000));
  else if (how < 90)
    {
      /* While it runs, or just after */
      sub->cancel_on_start = TRUE;
      sub->cancel_delay_us = rand_range (rand, 0, sub->delay_us + 300);
    }
  return cancellable;
}

/* Fills @sub in and makes the options it is submitted with, or NULL */
static TpJobOptions *
pick_options (Producer   *self,
              Submission *sub)
{
  Round *round = self->round;
  GRand *rand = self->rand;
  TpJobOptions *options;
  TpSubmitFlags flags = TP_SUBMIT_DEFAULT;
  guint r;

  sub->key = -1;
  sub->weight = round->default_weight;
  if (rand_percent (rand, 5))
    {
      /* Options NULL: an async job with the pool's defaults */
      sub->no_options = TRUE;
      sub->mode = pick_mode (rand, FALSE);
      sub->delay_us = rand_range (rand, 0, 2000);
      return NULL;
    }

  options = tp_job_options_new ();
  sub->in_thread = rand_percent (rand, 40);
  sub->mode = pick_mode (rand, sub->in_thread);
  sub->no_wait = rand_percent (rand, 12);
  if (sub->in_thread)
    flags |= TP_SUBMIT_IN_THREAD;
  if (sub->no_wait)
    flags |= TP_SUBMIT_NO_WAIT;
  tp_job_options_set_flags (options, flags);

  if (rand_percent (rand, 80))
    {
      sub->key = (int) rand_range (rand, 0, LIMITS_N_KEYS);
      tp_job_options_set_key (options, limits_keys[sub->key]);
    }
  if (rand_percent (rand, 50))
    {
      sub->weight = pick_weight (rand);
      tp_job_options_set_weight (options, sub->weight);
    }

  /* Queue timeouts: tiny ones time out while held or queued behind a gate */
  r = rand_range (rand, 0, 100);
  sub->queue_timeout_ms = r < 20 ? rand_range (rand, 1, 6)
                        : r < 35 ? rand_range (rand, 20, 100)
                        : 0;
  if (sub->queue_timeout_ms > 0 || rand_percent (rand, 5))
    tp_job_options_set_queue_timeout (options, sub->queue_timeout_ms);

  /* Run timeouts: a waiting job with a tiny one times out while it runs */
  r = rand_range (rand, 0, 100);
  sub->run_timeout_ms = r < 20 ? rand_range (rand, 1, 6) : r < 30 ? rand_range (rand, 20, 50) : 0;
  if (sub->run_timeout_ms > 0 || rand_percent (rand, 5))
    tp_job_options_set_run_timeout (options, sub->run_timeout_ms);

  if (sub->mode == JOB_WAIT && sub->run_timeout_ms > 0 && sub->run_timeout_ms < 10)
    sub->delay_us = (sub->run_timeout_ms + rand_range (rand, 5, 25)) * 1000;
  else
    sub->delay_us = rand_range (rand, 0, 2000);

  if (rand_percent (rand, 40))
    {
      g_autofree char *label = g_strdup_printf ("L%u", sub->id);

      sub->labelled = TRUE;
      tp_job_options_set_label (options, label);
    }
  return options;
}

static void
producer_submit (Producer *self)
{
  Round *round = self->round;
  int n = g_atomic_int_get (&self->n_subs);
  Submission *sub = &self->subs[n];
  g_autoptr(TpJobOptions) options = NULL;
  g_autoptr(GCancellable) cancellable = NULL;
  gboolean cancel_after;
  LimitsJob *job;

  sub->producer = self;
  sub->id = self->first_id + (guint) n;
  options = pick_options (self, sub);
  cancellable = pick_cancellable (self, sub, &cancel_after);
  sub->after_close = g_atomic_int_get (&round->closed_flag);
  g_mutex_lock (&round->hold_lock);
  sub->held_epoch = round->held_flag ? g_atomic_int_get (&round->unholds) : -1;
  g_mutex_unlock (&round->hold_lock);
  /* Others may cancel it from now on */
  g_atomic_int_inc (&self->n_subs);

  job = g_new0 (LimitsJob, 1);
  job->magic = LIMITS_JOB_MAGIC;
  job->sub = sub;

  in_submit_call = TRUE;
  tp_pool_submit_with_options_async (round->pool, options, limits_job_func, job, limits_job_free,
                                     cancellable, submit_done_cb, sub);
  in_submit_call = FALSE;
  if (options != NULL && rand_percent (self->rand, 20))
    {
      /* Copied at the call: changing them now changes nothing */
      tp_job_options_set_key (options, "changed");
      tp_job_options_set_label (options, "changed");
      tp_job_options_set_run_timeout (options, 1);
      tp_job_options_set_flags (options, TP_SUBMIT_DEFAULT);
    }
  if (cancel_after)
    g_cancellable_cancel (cancellable);
}

/* Cancels a submission of any producer, maybe one long finished */
static void
producer_cancel_other (Producer *self)
{
  Round *round = self->round;
  Producer *other = &round->producers[rand_range (self->rand, 0, LIMITS_N_PRODUCERS)];
  int n = g_atomic_int_get (&other->n_subs);
  Submission *sub;

  if (n == 0)
    return;
  sub = &other->subs[rand_range (self->rand, 0, (guint) n)];
  if (sub->cancellable != NULL)
    g_cancellable_cancel (sub->cancellable);
  self->n_cross_cancels++;
}

static void
producer_scale (Producer *self)
{
  tp_pool_scale (self->round->pool, g_rand_int_range (self->rand, -2, 3));
  self->n_scale++;
}

/* Holds and unholds the pool, one at a time, so that the round knows
 * whether the last call held it. An unhold is counted before it is made:
 * a job that starts after it sees it counted. */
static void
limits_hold (Round *round)
{
  g_mutex_lock (&round->hold_lock);
  round->held_flag = TRUE;
  tp_pool_hold (round->pool);
  g_mutex_unlock (&round->hold_lock);
}

static void
limits_unhold (Round *round)
{
  g_mutex_lock (&round->hold_lock);
  round->held_flag = FALSE;
  g_atomic_int_inc (&round->unholds);
  tp_pool_unhold (round->pool);
  g_mutex_unlock (&round->hold_lock);
}

/* Hold, unhold, pause and resume are kept from racing with the close: a
 * draining close of a held pool waits until it is unheld, so nothing may
 * hold it once the driver unheld it to close */
static void
producer_hold (Producer *self,
               guint     op)
{
  Round *round = self->round;

  g_rw_lock_reader_lock (&round->state_lock);
  if (!round->closing)
    {
      limits_hold (round);
      self->unhold_at = op + rand_range (self->rand, 1, 8);
      self->n_hold++;
    }
  g_rw_lock_reader_unlock (&round->state_lock);
}

static void
producer_unhold (Producer *self)
{
  Round *round = self->round;

  g_rw_lock_reader_lock (&round->state_lock);
  if (!round->closing)
    limits_unhold (round);
  g_rw_lock_reader_unlock (&round->state_lock);
  self->unhold_at = 0;
}

static void
producer_pause (Producer *self,
                guint     op)
{
  Round *round = self->round;

  g_rw_lock_reader_lock (&round->state_lock);
  if (!round->closing)
    {
      tp_pool_pause (round->pool);
      self->resume_at = op + rand_range (self->rand, 1, 4);
      self->n_pause++;
    }
  g_rw_lock_reader_unlock (&round->state_lock);
}

static void
producer_resume (Producer *self)
{
  Round *round = self->round;

  g_rw_lock_reader_lock (&round->state_lock);
  if (!round->closing)
    tp_pool_resume (round->pool);
  g_rw_lock_reader_unlock (&round->state_lock);
  self->resume_at = 0;
}

static void
producer_step (Producer *self,
               guint     op)
{
  guint r = rand_range (self->rand, 0, 100);

  if (self->resume_at == op)
    producer_resume (self);
  if (self->unhold_at == op)
    producer_unhold (self);

  if (r < 75)
    producer_submit (self);
  else if (r < 82)
    producer_scale (self);
  else if (r < 89)
    producer_cancel_other (self);
  else if (r < 93 && self->unhold_at == 0)
    producer_hold (self, op);
  else if (r < 94 && self->resume_at == 0)
    producer_pause (self, op);
  else
    g_thread_yield ();
}

static guint
producer_in_flight (Producer *self)
{
  return (guint) g_atomic_int_get (&self->n_subs) - (guint) g_atomic_int_get (&self->callbacks);
}

static gboolean
producer_done (Producer *self)
{
  int n_subs = g_atomic_int_get (&self->n_subs);

  return self->op == self->n_ops && g_atomic_int_get (&self->callbacks) == n_subs &&
         g_atomic_int_get (&self->destroys) == n_subs;
}

static void
producer_finish (Producer *self)
{
  g_atomic_int_set (&self->finished, TRUE);
  g_atomic_int_inc (&self->round->producers_finished);
  stress_bump ();
}

static gpointer
producer_thread (gpointer data)
{
  Producer *self = data;
  Round *round = self->round;

  g_atomic_pointer_set (&self->thread, g_thread_self ());
  g_main_context_push_thread_default (self->context);
  while (self->op < self->n_ops)
    {
      producer_step (self, ++self->op);
      g_atomic_int_inc (&round->ops_done);
      stress_bump ();
      for (guint i = 0; i < 4 && g_main_context_iteration (self->context, FALSE); i++)
        ;
      /* Without ever sleeping: a held pool is unheld by the driver once
       * it sees a producer wait here */
      if (producer_in_flight (self) >= LIMITS_MAX_IN_FLIGHT)
        {
          g_atomic_int_set (&self->blocked, TRUE);
          while (producer_in_flight (self) >= LIMITS_MAX_IN_FLIGHT)
            g_main_context_iteration (self->context, TRUE);
          g_atomic_int_set (&self->blocked, FALSE);
        }
    }
  if (self->resume_at != 0)
    producer_resume (self);
  if (self->unhold_at != 0)
    producer_unhold (self);
  while (!producer_done (self))
    g_main_context_iteration (self->context, TRUE);
  g_main_context_pop_thread_default (self->context);

  producer_finish (self);
  return NULL;
}

/* }}} */

/* The pool's thread: the list of jobs, and submissions of its own {{{ */

static Submission *
submission_of_label (Round      *round,
                     const char *label)
{
  guint64 id;
  Producer *producer;
  guint index;

  if (label == NULL || label[0] != 'L' ||
      !g_ascii_string_to_unsigned (label + 1, 10, 0, G_MAXUINT, &id, NULL))
    return NULL;
  index = (guint) id / (round->total_ops + 1);
  if (index >= LIMITS_N_PRODUCERS)
    return NULL;
  producer = &round->producers[index];
  if ((guint) id - producer->first_id >= (guint) g_atomic_int_get (&producer->n_subs))
    return NULL;
  return &producer->subs[id - producer->first_id];
}

/* What the list shows of a job must be what it was submitted with */
static void
observer_check_info (Round     *round,
                     TpJobInfo *info)
{
  const char *label = tp_job_info_get_label (info);
  Submission *sub = submission_of_label (round, label);
  TpJobState state = tp_job_info_get_state (info);
  double progress = tp_job_info_get_progress (info);
  const char *problem = NULL;

  g_atomic_int_inc (&round->infos_checked);
  if (sub == NULL || !sub->labelled)
    problem = "no such labelled submission";
  else if (g_strcmp0 (tp_job_info_get_key (info), sub->key >= 0 ? limits_keys[sub->key] : NULL))
    problem = "another key";
  else if (tp_job_info_get_weight (info) != sub->weight)
    problem = "another weight";
  else if (state != TP_JOB_STATE_QUEUED && state != TP_JOB_STATE_HELD &&
           state != TP_JOB_STATE_RUNNING)
    problem = "no such state";
  else if (!(progress >= 0.0 && progress <= 1.0))
    problem = "a progress out of 0…1";
  else if (tp_job_info_get_submit_time (info) <= 0)
    problem = "no submit time";
  else if (state == TP_JOB_STATE_RUNNING &&
           tp_job_info_get_start_time (info) < tp_job_info_get_submit_time (info))
    problem = "a start before its submission";

  if (problem != NULL && g_atomic_int_add (&round->bad_info, 1) < LIMITS_MAX_REPORTED)
    g_printerr ("# the list of jobs shows “%s” (key %s, weight %d, state %d) with %s\n", label,
                tp_job_info_get_key (info), tp_job_info_get_weight (info), state, problem);
}

/* Once every callback ran and the pool closed: the list must be empty once
 * the pool's context applied what changed. Gives it a bounded number of
 * dispatches, then reports what is left. */
static void
observer_final_check (Round      *round,
                      GListModel *jobs)
{
  static guint tries;
  guint n = g_list_model_get_n_items (jobs);

  if (n > 0 && ++tries < 1000)
    return;

  if (n > 0)
    for (guint i = 0; i < n && i < LIMITS_MAX_REPORTED; i++)
      {
        g_autoptr(TpJobInfo) info = g_list_model_get_item (jobs, i);

        g_printerr ("# still listed once closed and idle: “%s” (state %d)\n",
                    tp_job_info_get_label (info), tp_job_info_get_state (info));
      }
  tries = 0;
  g_atomic_int_set (&round->final_left, (int) n);
  g_atomic_int_set (&round->final_checked, TRUE);
  stress_bump ();
}

static gboolean
observer_tick_cb (gpointer data)
{
  Round *round = data;
  Producer *self = &round->producers[LIMITS_POOL_PRODUCER];
  g_autoptr(GListModel) jobs = NULL;
  guint n;

  /* Once checked, the main thread lets the pool go */
  if (g_atomic_int_get (&round->final_checked))
    return G_SOURCE_CONTINUE;
  jobs = tp_pool_get_jobs (round->pool);
  n = g_list_model_get_n_items (jobs);
  if (g_atomic_int_get (&round->final_check_wanted))
    {
      observer_final_check (round, jobs);
      return G_SOURCE_CONTINUE;
    }

  stress_atomic_max (&round->list_peak, (int) n);
  for (guint i = 0; n > 0 && i < 3; i++)
    {
      g_autoptr(TpJobInfo) info = g_list_model_get_item (jobs, rand_range (self->rand, 0, n));

      observer_check_info (round, info);
      if (rand_percent (self->rand, 12))
        {
          Submission *sub = submission_of_label (round, tp_job_info_get_label (info));

          if (sub != NULL)
            g_atomic_int_set (&sub->info_cancelled, TRUE);
          g_atomic_int_inc (&round->info_cancels);
          tp_job_info_cancel (info);
        }
    }

  /* Submissions from the pool's own context */
  if (self->op < self->n_ops && producer_in_flight (self) < LIMITS_POOL_MAX_IN_FLIGHT)
    {
      self->op++;
      if (rand_percent (self->rand, 85))
        producer_submit (self);
      else
        producer_scale (self);
      g_atomic_int_inc (&round->ops_done);
      stress_bump ();
    }
  if (!g_atomic_int_get (&self->finished) && producer_done (self))
    producer_finish (self);
  return G_SOURCE_CONTINUE;
}

static gpointer
pool_thread (gpointer data)
{
  Round *round = data;
  Producer *self = &round->producers[LIMITS_POOL_PRODUCER];
  GSource *observer = g_timeout_source_new (1);

  g_atomic_pointer_set (&round->pool_thread_self, g_thread_self ());
  g_atomic_pointer_set (&self->thread, g_thread_self ());
  g_main_context_push_thread_default (round->pool_context);
  g_source_set_callback (observer, observer_tick_cb, round, NULL);
  g_source_attach (observer, round->pool_context);

  while (!g_atomic_int_get (&round->stop_pool_thread))
    g_main_context_iteration (round->pool_context, TRUE);

  g_source_destroy (observer);
  g_source_unref (observer);
  while (g_main_context_iteration (round->pool_context, FALSE))
    ;
  g_main_context_pop_thread_default (round->pool_context);
  return NULL;
}

static void
pool_disposed_cb (gpointer  data,
                  GObject  *where_the_object_was)
{
  Round *round = data;

  g_atomic_int_set (&round->pool_disposed, TRUE);
  stress_bump ();
}

/* }}} */

/* The driver, on the main thread {{{ */

static void
round_close (Round        *round,
             TpCloseFlags  flags)
{
  g_rw_lock_writer_lock (&round->state_lock);
  round->closing = TRUE;
  /* A draining close of a held pool waits until it is unheld, and nobody
   * holds it from now on */
  if (flags == TP_CLOSE_DRAIN && tp_pool_get_held (round->pool))
    limits_unhold (round);
  /* TP_CLOSE_CANCEL_RUNNING implies TP_CLOSE_DISCARD_QUEUED */
  g_atomic_int_or (&round->close_flags,
                   flags & TP_CLOSE_CANCEL_RUNNING ? flags | TP_CLOSE_DISCARD_QUEUED : flags);
  round->n_closes++;
  tp_pool_close_async (round->pool, flags, NULL, close_done_cb, round);
  g_rw_lock_writer_unlock (&round->state_lock);
  g_atomic_int_set (&round->closed_flag, TRUE);
}

/* The round's close, and sometimes one more draining close whose wait is
 * cancelled at a random moment: the pool closes anyway */
static void
round_close_first (Round *round)
{
  round_close (round, round->close_mode);
  if (rand_percent (round->rand, 40))
    {
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();

      stress_canceller_cancel_later (round->canceller, cancellable,
                                     rand_range (round->rand, 0, 2000));
      round->n_closes++;
      tp_pool_close_async (round->pool, TP_CLOSE_DRAIN, cancellable, close_done_cb, round);
    }
}

static gboolean
any_producer_blocked (Round *round)
{
  for (guint i = 0; i < LIMITS_N_THREADS; i++)
    if (g_atomic_int_get (&round->producers[i].blocked))
      return TRUE;
  return FALSE;
}

static void
round_drive (Round *round)
{
  guint ops = (guint) g_atomic_int_get (&round->ops_done);

  if (round->closing)
    {
      round->since_close++;
      if (round->escalate && !round->escalated &&
          (round->since_close >= round->escalate_after ||
           g_atomic_int_get (&round->close_callbacks) > 0))
        {
          round->escalated = TRUE;
          round_close (round, TP_CLOSE_CANCEL_RUNNING);
        }
      return;
    }

  if (round->held_at_start && round->unhold_at != 0 && ops >= round->unhold_at &&
      g_atomic_int_get (&round->unholds) == 0)
    limits_unhold (round);

  /* A producer waits for callbacks that a held pool will not give: the
   * round unholds it, or closes it when it was to stay held */
  if (tp_pool_get_held (round->pool) && any_producer_blocked (round))
    round->stalled_ticks++;
  else
    round->stalled_ticks = 0;
  if (round->stalled_ticks >= LIMITS_STALL_TICKS)
    {
      round->stalled_ticks = 0;
      round->stall_breaks++;
      if (round->held_at_start && round->unhold_at == 0 &&
          g_atomic_int_get (&round->unholds) == 0 && round->close_mode != TP_CLOSE_DRAIN)
        {
          round_close_first (round);
          return;
        }
      g_rw_lock_writer_lock (&round->state_lock);
      limits_unhold (round);
      g_rw_lock_writer_unlock (&round->state_lock);
    }

  if (ops >= round->close_at)
    round_close_first (round);
}

static gboolean
round_tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
round_done (Round *round)
{
  return round->closing && (!round->escalate || round->escalated) &&
         (guint) g_atomic_int_get (&round->close_callbacks) == round->n_closes &&
         g_atomic_int_get (&round->producers_finished) == LIMITS_N_PRODUCERS;
}

/* Iterates the main context until *flag is set: the watchdog bounds it */
static void
round_wait (const int *flag)
{
  GSource *tick = g_timeout_source_new (5);

  g_source_set_callback (tick, round_tick_cb, NULL, NULL);
  g_source_attach (tick, NULL);
  while (!g_atomic_int_get (flag))
    g_main_context_iteration (NULL, TRUE);
  g_source_destroy (tick);
  g_source_unref (tick);
}

/* }}} */

/* Rounds {{{ */

static TpPool *
round_pool_new (Round *round)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  const LimitsCase *config = round->config;
  TpPool *pool;

  g_key_file_set_string (keyfile, "limits", "kind", config->kind);
  g_key_file_set_string (keyfile, "limits", "executor", config->executor);
  g_key_file_set_integer (keyfile, "limits", "min-size", 1);
  g_key_file_set_integer (keyfile, "limits", "max-size", (int) round->cap);
  g_key_file_set_integer (keyfile, "limits", "size",
                          (int) rand_range (round->rand, 1, round->cap + 1));
  g_key_file_set_integer (keyfile, "limits", "queue-capacity", (int) round->capacity);
  if (g_str_has_prefix (config->kind, "autoscale-"))
    {
      /* Short timeouts: the pool grows and shrinks all the time */
      g_key_file_set_integer (keyfile, "limits", "idle-timeout-ms",
                              (int) rand_range (round->rand, 0, 5));
      g_key_file_set_integer (keyfile, "limits", "scale-interval-ms",
                              (int) rand_range (round->rand, 1, 5));
    }
  if (config->gates)
    {
      g_key_file_set_string (keyfile, "limits", "gates",
                             round->gates_rate_first ? "rate;per-key" : "per-key;rate");
      g_key_file_set_integer (keyfile, "limits", "per-key-limit", (int) round->per_key_limit);
      g_key_file_set_integer (keyfile, "limits", "rate-limit", (int) round->rate_limit);
      g_key_file_set_integer (keyfile, "limits", "rate-interval-ms",
                              (int) round->rate_interval_ms);
      g_key_file_set_boolean (keyfile, "limits", "rate-per-key", TRUE);
    }
  if (round->held_at_start)
    g_key_file_set_boolean (keyfile, "limits", "held", TRUE);
  /* The application's own keys: the pool ignores them */
  g_key_file_set_string (keyfile, "limits", "X-Stress-Round", "yes");

  /* The pool belongs to the context that is thread-default as it is made */
  g_main_context_push_thread_default (round->pool_context);
  pool = tp_pool_new_from_keyfile (keyfile, "limits", &error);
  g_main_context_pop_thread_default (round->pool_context);
  g_assert_no_error (error);
  g_assert_nonnull (pool);
  g_assert_true (tp_pool_get_main_context (pool) == round->pool_context);
  g_assert_cmpuint (tp_pool_get_max_size (pool), ==, round->cap);
  g_assert_cmpint (tp_pool_get_held (pool), ==, round->held_at_start);
  g_assert_true (tp_pool_start (pool, &error));
  g_assert_no_error (error);
  return pool;
}

static void
round_init (Round            *round,
            const LimitsCase *config,
            guint             index,
            guint32           seed,
            guint             total_ops)
{
  guint per_thread;
  guint r;

  memset (round, 0, sizeof *round);
  round->config = config;
  round->index = index;
  round->seed = seed;
  round->rand = g_rand_new_with_seed (seed);

  round->cap = rand_range (round->rand, 2, 7);
  round->capacity = rand_range (round->rand, 4, 17);
  round->per_key_limit = rand_range (round->rand, 1, 4);
  /* Never a long stall: 500 starts per 100 ms per key, or 40 per 20 ms */
  if (rand_percent (round->rand, 70))
    {
      round->rate_limit = 500;
      round->rate_interval_ms = 100;
    }
  else
    {
      round->rate_limit = 40;
      round->rate_interval_ms = 20;
    }
  round->gates_rate_first = rand_percent (round->rand, 30);
  round->held_at_start = config->held || rand_percent (round->rand, 30);

  round->total_ops = total_ops;
  round->close_at = total_ops * rand_range (round->rand, 80, 99) / 100;
  /* A pool made held is unheld by the round at a random moment, or stays
   * held until a producer waits on it, or until the close */
  if (round->held_at_start && rand_percent (round->rand, 70))
    round->unhold_at = MAX (1, round->close_at * rand_range (round->rand, 5, 60) / 100);
  r = rand_range (round->rand, 0, 3);
  round->close_mode = r == 0 ? TP_CLOSE_DRAIN : r == 1 ? TP_CLOSE_DISCARD_QUEUED
                                                       : TP_CLOSE_CANCEL_RUNNING;
  round->escalate = round->close_mode != TP_CLOSE_CANCEL_RUNNING && rand_percent (round->rand, 30);
  round->escalate_after = rand_range (round->rand, 0, 20);

  g_rw_lock_init (&round->state_lock);
  g_mutex_init (&round->hold_lock);
  round->held_flag = round->held_at_start;
  round->pool_context = g_main_context_new ();
  round->completer = g_thread_pool_new (completer_func, round, 3, FALSE, NULL);
  round->canceller = stress_canceller_new ("limits-canceller");
  round->pool = round_pool_new (round);
  round->pool_address = round->pool;
  round->default_weight = tp_pool_get_default_weight (round->pool);
  g_object_weak_ref (G_OBJECT (round->pool), pool_disposed_cb, round);

  /* The pool's thread submits a few; the producer threads the rest */
  per_thread = (total_ops - total_ops / 8) / LIMITS_N_THREADS;
  for (guint i = 0; i < LIMITS_N_PRODUCERS; i++)
    {
      Producer *producer = &round->producers[i];

      producer->round = round;
      producer->index = i;
      producer->rand = g_rand_new_with_seed (g_rand_int (round->rand));
      producer->n_ops = i == LIMITS_POOL_PRODUCER ? total_ops - per_thread * LIMITS_N_THREADS
                                                  : per_thread;
      producer->first_id = i * (total_ops + 1);
      producer->subs = g_new0 (Submission, producer->n_ops);
      producer->context = i == LIMITS_POOL_PRODUCER ? g_main_context_ref (round->pool_context)
                                                    : g_main_context_new ();
    }
}

static void
round_clear (Round *round)
{
  for (guint i = 0; i < LIMITS_N_PRODUCERS; i++)
    {
      Producer *producer = &round->producers[i];

      for (int j = 0; j < producer->n_subs; j++)
        {
          g_clear_object (&producer->subs[j].cancellable);
          if (producer->subs[j].run_cancellable != NULL)
            g_object_unref (producer->subs[j].run_cancellable);
        }
      g_rand_free (producer->rand);
      g_free (producer->subs);
      g_main_context_unref (producer->context);
    }
  g_main_context_unref (round->pool_context);
  g_rw_lock_clear (&round->state_lock);
  g_mutex_clear (&round->hold_lock);
  g_rand_free (round->rand);
}

static void
round_run (Round *round)
{
  GSource *tick;

  stress_watchdog_set_round (round);
  round->pool_thread = g_thread_new ("limits-pool", pool_thread, round);
  for (guint i = 0; i < LIMITS_N_THREADS; i++)
    {
      Producer *producer = &round->producers[i];

      producer->handle = g_thread_new ("limits-producer", producer_thread, producer);
    }

  /* The main thread drives, and receives the closes' callbacks */
  tick = g_timeout_source_new (2);
  g_source_set_callback (tick, round_tick_cb, NULL, NULL);
  g_source_attach (tick, NULL);
  for (;;)
    {
      round_drive (round);
      if (round_done (round))
        break;
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_destroy (tick);
  g_source_unref (tick);
  for (guint i = 0; i < LIMITS_N_THREADS; i++)
    g_thread_join (round->producers[i].handle);

  /* Closed and idle: the pool's thread looks at the list one last time */
  g_atomic_int_set (&round->final_check_wanted, TRUE);
  g_main_context_wakeup (round->pool_context);
  round_wait (&round->final_checked);
}

/* Once the pool's counters are read: the pool goes, the pool's thread ends */
static void
round_finish (Round *round)
{
  g_clear_object (&round->pool);
  round_wait (&round->pool_disposed);

  g_atomic_int_set (&round->stop_pool_thread, TRUE);
  g_main_context_wakeup (round->pool_context);
  g_thread_join (round->pool_thread);
  stress_canceller_free (round->canceller);
  g_thread_pool_free (round->completer, FALSE, TRUE);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  stress_watchdog_set_round (NULL);
}

/* }}} */

/* Checks {{{ */

/* What a submission may end with, given its options and whether it ran */
static gboolean
outcome_allowed (Round      *round,
                 Submission *sub,
                 int         started,
                 Outcome     outcome)
{
  guint close_flags = (guint) g_atomic_int_get (&round->close_flags);
  gboolean cancel_running = (close_flags & TP_CLOSE_CANCEL_RUNNING) != 0;
  gboolean may_cancel = sub->has_cancellable || g_atomic_int_get (&sub->info_cancelled);

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
          return may_cancel;
        case OUTCOME_FULL:
          return sub->no_wait;
        case OUTCOME_NOT_ACCEPTING:
          return TRUE;
        case OUTCOME_CLOSED:
          return (close_flags & TP_CLOSE_DISCARD_QUEUED) != 0;
        case OUTCOME_QUEUE_TIMEOUT:
          return sub->queue_timeout_ms > 0;
        default:
          return FALSE;
        }
    }

  switch (sub->mode)
    {
    case JOB_RETURN:
    case JOB_ELSEWHERE:
      return outcome == OUTCOME_VALUE;
    case JOB_FAIL:
    case JOB_ELSEWHERE_FAIL:
      return outcome == OUTCOME_FAILED;
    case JOB_DROP:
    case JOB_DROP_LATER:
      return outcome == OUTCOME_LOST;
    case JOB_WAIT:
      return outcome == OUTCOME_VALUE ||
             (outcome == OUTCOME_CANCELLED && (may_cancel || cancel_running)) ||
             (outcome == OUTCOME_RUN_TIMEOUT && sub->run_timeout_ms > 0);
    default:
      return FALSE;
    }
}

typedef struct {
  guint outcomes[N_OUTCOMES];
  guint counts[N_COUNTS];
  guint submissions;
  guint started;
  guint labelled;
  guint errors;
} RoundTotals;

typedef struct {
  guint rounds;
  guint held_at_start;
  guint stall_breaks;
  guint closes[3];        /* drain, discard, cancel running */
  guint escalations;
  guint submissions;
  guint started;
  guint labelled;
  guint infos_checked;
  guint info_cancels;
  guint outcomes[N_OUTCOMES];
  guint either;
  int   list_peak;
  int   key_peak;
  int   peak;
} CaseTotals;

static void
check_submission (Round       *round,
                  Submission  *sub,
                  RoundTotals *totals)
{
  int started = g_atomic_int_get (&sub->started);
  int callbacks = g_atomic_int_get (&sub->callbacks);
  int destroys = g_atomic_int_get (&sub->destroys);
  Outcome outcome = g_atomic_int_get (&sub->outcome);
  gboolean run_cancelled = g_atomic_int_get (&sub->run_cancelled);

  totals->submissions++;
  totals->outcomes[outcome]++;
  totals->counts[count_class (outcome, run_cancelled)]++;
  totals->started += (guint) started;
  totals->labelled += sub->labelled;

  if (callbacks == 1 && destroys == 1 && sub->wrong_context == 0 && sub->in_call == 0 &&
      sub->misrouted == 0 && sub->started_held == 0 &&
      outcome_allowed (round, sub, started, outcome))
    return;

  if (totals->errors++ < LIMITS_MAX_REPORTED)
    g_test_message ("round %u: submission %u (producer %u, %s %s job%s, key %s, queue timeout "
                    "%u ms, run timeout %u ms, delay %u µs%s%s%s%s%s%s%s): %d callbacks, "
                    "%d destroys, started %d times, outcome %s%s%s%s%s", round->index, sub->id,
                    sub->producer->index, sub->in_thread ? "thread" : "async",
                    mode_names[sub->mode], sub->no_options ? " without options" : "",
                    sub->key >= 0 ? limits_keys[sub->key] : "none", sub->queue_timeout_ms,
                    sub->run_timeout_ms, sub->delay_us, sub->no_wait ? ", no-wait" : "",
                    sub->labelled ? ", labelled" : "",
                    sub->has_cancellable ? ", cancellable" : "",
                    sub->pre_cancelled ? " (pre-cancelled)" : "",
                    sub->cancel_on_start ? " (cancelled once started)" : "",
                    sub->info_cancelled ? ", cancelled from the list" : "",
                    sub->after_close ? ", after close" : "", callbacks, destroys, started,
                    outcome_names[outcome],
                    sub->wrong_context ? ", called back in a wrong context" : "",
                    sub->in_call ? ", called back inside the submitting call" : "",
                    sub->misrouted ? ", with another job's result" : "",
                    sub->started_held ? ", started while the pool was held" : "");
}

/* The pool's counters, against the outcomes the callbacks saw */
static void
check_counters (Round       *round,
                RoundTotals *totals)
{
  TpPool *pool = round->pool;
  guint64 submitted = tp_pool_get_n_submitted (pool);
  guint64 succeeded = tp_pool_get_n_succeeded (pool);
  guint64 failed = tp_pool_get_n_failed (pool);
  guint64 cancelled = tp_pool_get_n_cancelled (pool);
  guint64 timed_out = tp_pool_get_n_timed_out (pool);
  guint either = totals->counts[COUNT_EITHER];

  if (submitted != totals->submissions || succeeded + failed + cancelled + timed_out != submitted ||
      succeeded != totals->counts[COUNT_SUCCEEDED] ||
      failed < totals->counts[COUNT_FAILED] || failed > totals->counts[COUNT_FAILED] + either ||
      cancelled < totals->counts[COUNT_CANCELLED] ||
      cancelled > totals->counts[COUNT_CANCELLED] + either ||
      timed_out < totals->counts[COUNT_TIMED_OUT] ||
      timed_out > totals->counts[COUNT_TIMED_OUT] + either)
    {
      g_test_message ("round %u: the pool counts %" G_GUINT64_FORMAT " submitted, %"
                      G_GUINT64_FORMAT " succeeded, %" G_GUINT64_FORMAT " failed, %"
                      G_GUINT64_FORMAT " cancelled, %" G_GUINT64_FORMAT " timed out; the "
                      "callbacks saw %u submissions, %u successes, %u failures, %u "
                      "cancellations, %u time-outs, and %u failures of jobs cancelled while "
                      "they ran", round->index, submitted, succeeded, failed, cancelled,
                      timed_out, totals->submissions, totals->counts[COUNT_SUCCEEDED],
                      totals->counts[COUNT_FAILED], totals->counts[COUNT_CANCELLED],
                      totals->counts[COUNT_TIMED_OUT], either);
      totals->errors++;
    }

  /* Every job that got a worker gave it back; nothing is left */
  if (tp_pool_get_completed (pool) != totals->started || tp_pool_get_running (pool) != 0 ||
      tp_pool_get_waiting (pool) != 0 || tp_pool_get_backlog (pool) != 0 ||
      !tp_pool_get_closed (pool))
    {
      g_test_message ("round %u: %u jobs started, the pool completed %" G_GUINT64_FORMAT
                      "; %u running, %u waiting, %u in the backlog, %s", round->index,
                      totals->started, tp_pool_get_completed (pool), tp_pool_get_running (pool),
                      tp_pool_get_waiting (pool), tp_pool_get_backlog (pool),
                      tp_pool_get_closed (pool) ? "closed" : "not closed");
      totals->errors++;
    }
}

static void
round_describe (Round       *round,
                RoundTotals *totals)
{
  g_test_message ("round %u of %s (seed %u): cap %u, queue-capacity %u, per-key-limit %u, "
                  "rate %u per %u ms, %s%s, close %d%s after %u of %u operations, %u stalls "
                  "broken; %u submissions (%u labelled), %u started; peak running %d, per key "
                  "%d; listed at most %d, %d checked, %d cancelled from the list; %u errors; "
                  "%d over max-size, %d over per-key-limit, %d wrong executor, %d bad job "
                  "data, %d bad close, %d bad listings, %d still listed, %d still running",
                  round->index, round->config->kind, round->seed, round->cap, round->capacity,
                  round->per_key_limit, round->rate_limit, round->rate_interval_ms,
                  round->held_at_start ? "held at start" : "not held at start",
                  round->held_at_start && round->unhold_at == 0 ? " (to stay held)" : "",
                  round->close_mode, round->escalate ? " escalated" : "", round->close_at,
                  round->total_ops, round->stall_breaks, totals->submissions, totals->labelled,
                  totals->started, round->peak, round->key_peak, round->list_peak,
                  round->infos_checked, round->info_cancels, totals->errors, round->over_cap,
                  round->over_key, round->wrong_executor, round->bad_job_data, round->bad_close,
                  round->bad_info, round->final_left, g_atomic_int_get (&round->running));
}

static void
round_check (Round       *round,
             RoundTotals *totals)
{
  for (guint i = 0; i < LIMITS_N_PRODUCERS; i++)
    {
      Producer *producer = &round->producers[i];

      for (int j = 0; j < producer->n_subs; j++)
        check_submission (round, &producer->subs[j], totals);
    }
  check_counters (round, totals);

  if (totals->errors > 0 || round->over_cap != 0 || round->over_key != 0 ||
      round->wrong_executor != 0 || round->bad_job_data != 0 || round->bad_close != 0 ||
      round->bad_info != 0 || round->final_left != 0 || g_atomic_int_get (&round->running) != 0)
    round_describe (round, totals);
}

static void
round_assert (Round       *round,
              RoundTotals *totals)
{
  g_assert_cmpuint (totals->errors, ==, 0);
  g_assert_cmpuint (totals->outcomes[OUTCOME_NONE], ==, 0);
  g_assert_cmpuint (totals->outcomes[OUTCOME_OTHER], ==, 0);
  g_assert_cmpint (round->over_cap, ==, 0);
  g_assert_cmpint (round->peak, <=, (int) round->cap);
  g_assert_cmpint (round->over_key, ==, 0);
  if (round->config->gates)
    g_assert_cmpint (round->key_peak, <=, (int) round->per_key_limit);
  g_assert_cmpint (g_atomic_int_get (&round->running), ==, 0);
  for (guint k = 0; k < LIMITS_N_KEYS; k++)
    g_assert_cmpint (g_atomic_int_get (&round->key_running[k]), ==, 0);
  g_assert_cmpint (round->wrong_executor, ==, 0);
  g_assert_cmpint (round->bad_job_data, ==, 0);
  g_assert_cmpint (round->bad_close, ==, 0);
  g_assert_cmpint (round->bad_info, ==, 0);
  g_assert_cmpint (round->final_left, ==, 0);
  g_assert_true (g_atomic_int_get (&round->pool_disposed));
}

/* }}} */

/* The watchdog {{{ */

static void
watchdog_report (gpointer data)
{
  Round *round = data;
  guint shown = 0;

  g_printerr ("Bail out! stress-limits watchdog: nothing happened for %u s in round %u of %s "
              "(seed %u, %s, close mode %d%s): %d of %u operations done, %d of %d producers "
              "finished, %d of %u closes called back, final check %s, pool %s\n",
              limits_watchdog_s, round->index, round->config->path, round->seed,
              round->held_at_start ? "held at start" : "not held at start", round->close_mode,
              round->escalate ? " escalated" : "", g_atomic_int_get (&round->ops_done),
              round->total_ops, g_atomic_int_get (&round->producers_finished),
              LIMITS_N_PRODUCERS, g_atomic_int_get (&round->close_callbacks), round->n_closes,
              g_atomic_int_get (&round->final_checked) ? "done" :
              g_atomic_int_get (&round->final_check_wanted) ? "waiting" : "not asked",
              g_atomic_int_get (&round->pool_disposed) ? "finalized" : "alive");

  for (guint i = 0; i < LIMITS_N_PRODUCERS; i++)
    {
      Producer *producer = &round->producers[i];
      int n_subs = g_atomic_int_get (&producer->n_subs);

      g_printerr ("#   producer %u: %u of %u operations, %d submissions, %d callbacks, "
                  "%d job_data_destroy%s\n", i, producer->op, producer->n_ops, n_subs,
                  g_atomic_int_get (&producer->callbacks),
                  g_atomic_int_get (&producer->destroys),
                  g_atomic_int_get (&producer->blocked) ? ", waiting for callbacks" : "");
      for (int j = 0; j < n_subs && shown < LIMITS_MAX_REPORTED; j++)
        {
          Submission *sub = &producer->subs[j];

          if (g_atomic_int_get (&sub->callbacks) == 1 && g_atomic_int_get (&sub->destroys) == 1)
            continue;
          g_printerr ("#   submission %u (%s %s job, key %s, queue timeout %u ms, run timeout "
                      "%u ms%s%s): %d callbacks, %d destroys, started %d times\n", sub->id,
                      sub->in_thread ? "thread" : "async", mode_names[sub->mode],
                      sub->key >= 0 ? limits_keys[sub->key] : "none", sub->queue_timeout_ms,
                      sub->run_timeout_ms, sub->labelled ? ", labelled" : "",
                      sub->has_cancellable ? ", cancellable" : "",
                      g_atomic_int_get (&sub->callbacks), g_atomic_int_get (&sub->destroys),
                      g_atomic_int_get (&sub->started));
          shown++;
        }
    }
}


/* }}} */

static void
test_stress_limits (gconstpointer data)
{
  const LimitsCase *config = data;
  guint n_rounds = CLAMP (limits_ops / LIMITS_ROUND_OPS, 1, LIMITS_MAX_ROUNDS);
  guint round_ops = MAX (limits_ops / n_rounds, 4 * LIMITS_N_PRODUCERS);
  CaseTotals totals = { 0 };
  gint64 start = g_get_monotonic_time ();

  g_test_summary ("Three producer threads and the pool's own thread submit jobs with random "
                  "keys, weights, queue and run timeouts, labels and flags to pools with gates "
                  "or started held, while they hold, unhold, scale, pause and resume the pool, "
                  "cancel jobs through cancellables and the list of jobs, and the pool is "
                  "closed under them: every submission is called back once in its context and "
                  "its data destroyed once, per-key-limit and max-size hold, the counters "
                  "match the outcomes, the list of jobs ends empty and the pool is finalized");

  for (guint i = 0; i < n_rounds; i++)
    {
      guint32 seed = g_test_rand_int () ^ g_str_hash (config->path);
      RoundTotals round_totals = { { 0 } };
      Round round;

      round_init (&round, config, i, seed, round_ops);
      round_run (&round);
      round_check (&round, &round_totals);
      round_finish (&round);
      round_assert (&round, &round_totals);

      totals.rounds++;
      totals.held_at_start += round.held_at_start;
      totals.stall_breaks += round.stall_breaks;
      totals.closes[round.close_mode == TP_CLOSE_DRAIN ? 0 :
                    round.close_mode == TP_CLOSE_DISCARD_QUEUED ? 1 : 2]++;
      totals.escalations += round.escalated;
      totals.submissions += round_totals.submissions;
      totals.started += round_totals.started;
      totals.labelled += round_totals.labelled;
      totals.infos_checked += (guint) round.infos_checked;
      totals.info_cancels += (guint) round.info_cancels;
      totals.either += round_totals.counts[COUNT_EITHER];
      for (guint j = 0; j < N_OUTCOMES; j++)
        totals.outcomes[j] += round_totals.outcomes[j];
      totals.list_peak = MAX (totals.list_peak, round.list_peak);
      totals.key_peak = MAX (totals.key_peak, round.key_peak);
      totals.peak = MAX (totals.peak, round.peak);
      round_clear (&round);
    }

  g_test_message ("%s: %u rounds of %u operations (%u held at start, %u stalls broken; closes: "
                  "%u drain, %u discard, %u cancel running, %u escalated); %u submissions "
                  "(%u labelled), %u started; value %u failed %u lost %u full %u not-accepting "
                  "%u cancelled %u closed %u queue-timeout %u run-timeout %u; %u failures of "
                  "jobs cancelled while they ran; list: at most %d, %u checked, %u cancelled; "
                  "peak running %d, per key %d; %.2f s", config->path, totals.rounds, round_ops,
                  totals.held_at_start, totals.stall_breaks, totals.closes[0], totals.closes[1],
                  totals.closes[2], totals.escalations, totals.submissions, totals.labelled,
                  totals.started, totals.outcomes[OUTCOME_VALUE], totals.outcomes[OUTCOME_FAILED],
                  totals.outcomes[OUTCOME_LOST], totals.outcomes[OUTCOME_FULL],
                  totals.outcomes[OUTCOME_NOT_ACCEPTING], totals.outcomes[OUTCOME_CANCELLED],
                  totals.outcomes[OUTCOME_CLOSED], totals.outcomes[OUTCOME_QUEUE_TIMEOUT],
                  totals.outcomes[OUTCOME_RUN_TIMEOUT], totals.either, totals.list_peak,
                  totals.infos_checked, totals.info_cancels, totals.peak, totals.key_peak,
                  (g_get_monotonic_time () - start) / 1e6);
}

int
main (int   argc,
      char *argv[])
{
  gboolean long_run = stress_long_run (&argc, argv);
  int status;

  g_test_init (&argc, &argv, NULL);

  limits_ops = stress_env_uint ("TP_STRESS_OPS", LIMITS_DEFAULT_OPS, 1);
  limits_watchdog_s = stress_env_uint ("TP_STRESS_WATCHDOG", LIMITS_DEFAULT_WATCHDOG, 1);
  if (long_run)
    limits_ops *= LIMITS_LONG_FACTOR;

  for (guint i = 0; i < G_N_ELEMENTS (limits_cases); i++)
    g_test_add_data_func (limits_cases[i].path, &limits_cases[i], test_stress_limits);

  stress_watchdog_start ("stress-limits", limits_watchdog_s, watchdog_report);
  status = g_test_run ();

  stress_watchdog_stop ();
  return status;
}

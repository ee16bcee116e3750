/* test-torture.c: pools of every kind abandoned, re-entered and closed under their jobs' feet
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Where test-stress.c drives one pool through a long random mix of
 * operations, this test runs many short rounds, each on a fresh pool of the
 * case's kind, and goes where a careful application would not:
 *
 * - the pool's context is the main thread's or one that another thread
 *   iterates; submitters' contexts are their own threads', or contexts that
 *   a submitter hands to another thread to iterate once it has submitted;
 * - producer threads submit async and thread jobs that return, fail, drop
 *   their task, sleep until cancelled, are completed or dropped by other
 *   threads, or hold their task until the pool is closing (or for a few
 *   milliseconds, as a round may never close its pool), so that they
 *   complete after the close;
 * - jobs re-enter the pool: they submit, scale and close it from inside the
 *   job, and callbacks do the same from the submitter's context;
 * - every round drops the pool while jobs are in flight: the driver closes
 *   it and lets it go at once, or lets it go without closing it, or leaves
 *   the closing to a job; some rounds never start their pool.
 *
 * Every submission is recorded: at the end of a round each one must show one
 * callback, in the submitter's context and never inside the submitting call,
 * one job_data_destroy, at most one start and an outcome its job allows;
 * every scale_async, wait_idle_async and close_async exactly one callback;
 * no more jobs in their body at once than max-size; and the pool finalized.
 *
 * A watchdog thread fails the test with the round's accounting instead of
 * letting it hang when nothing happens for TP_TORTURE_WATCHDOG seconds
 * (default 60). TP_TORTURE_ROUNDS sets the rounds of each case (default 12).
 * Reproducing a round: GTest prints "# random seed: R02S…" first; every
 * choice comes from it, so `tests/test-torture -p /torture/fixed-lifo
 * --seed=R02S…` makes the same choices again (the interleaving still varies).
 *
 * The rounds also misuse the pool as an application cannot always avoid:
 * producers pause and resume it while jobs, callbacks or the driver close it,
 * and after, which must be silent no-ops; pools never started get
 * scale_async() calls, which must fail at once with
 * TP_POOL_ERROR_NOT_ACCEPTING. /torture/misuse/ checks both on their own:
 * threads pausing and resuming a pool of each kind while it closes, failing on
 * any critical from pause() or resume(), and a scale_async() on a pool never
 * started, then dropped, which must call back once and let the pool go.
 * /torture/foreign-context/refused/ checks that a refused job's data goes
 * while its submitter's thread stops iterating its context.
 */

#include "tp-stress-util.h"
#include "tp-test-util.h"

#define TORTURE_DEFAULT_ROUNDS    12
#define TORTURE_DEFAULT_WATCHDOG  60     /* seconds without progress */
#define TORTURE_MAX_PRODUCERS     4
#define TORTURE_MAX_IN_FLIGHT     24     /* per producer, before it waits for callbacks */
#define TORTURE_MAX_LATE          8      /* threads that hold JOB_LATE jobs' tasks */
#define TORTURE_JOB_MAGIC         0x70e7c0deu
#define TORTURE_MAX_REPORTED      20
#define TORTURE_MISUSE_CALLS      200    /* pause/resume calls per thread in /torture/misuse/ */

static guint torture_rounds = TORTURE_DEFAULT_ROUNDS;
static guint torture_watchdog_s = TORTURE_DEFAULT_WATCHDOG;

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
  JOB_FAIL,        /* returns G_IO_ERROR_FAILED */
  JOB_DROP,        /* drops its task: TP_POOL_ERROR_JOB_LOST */
  JOB_SLEEP,       /* works delay_us, ends early with CANCELLED once its cancellable fires */
  JOB_ELSEWHERE,   /* async: another thread returns "ok:<id>" after delay_us */
  JOB_DROP_LATER,  /* async: another thread drops the task after delay_us */
  JOB_LATE,        /* async: returns "ok:<id>" once the pool is closing, or after a while */
  JOB_SUBMIT,      /* submits another job to its pool, then returns "ok:<id>" */
  JOB_SCALE,       /* scales its pool, or waits for it to scale, then returns "ok:<id>" */
  JOB_CLOSE,       /* closes its pool, then returns "ok:<id>" */
  N_JOB_MODES
} JobMode;

static const char * const mode_names[N_JOB_MODES] = {
  "return", "fail", "drop", "sleep", "elsewhere", "drop-later", "late", "submit", "scale",
  "close",
};

typedef enum {
  WAITER_SCALE,
  WAITER_IDLE,
  WAITER_CLOSE,
} WaiterKind;

static const char * const waiter_names[] = { "scale_async", "wait_idle_async", "close_async" };

/* How a round lets go of its pool */
typedef enum {
  ENDING_CLOSE,       /* the driver closes the pool and drops it at once */
  ENDING_ABANDON,     /* the driver drops the pool without closing it */
  ENDING_JOB_CLOSES,  /* the driver drops the pool early; jobs and callbacks close it */
  N_ENDINGS
} Ending;

static const char * const ending_names[N_ENDINGS] = { "close", "abandon", "job-closes" };

typedef struct {
  const char *path;
  const char *kind;
} TortureCase;

static const TortureCase torture_cases[] = {
  { "/torture/fixed-simple",       "fixed-simple" },
  { "/torture/fixed-lifo",         "fixed-lifo" },
  { "/torture/fixed-priority",     "fixed-priority" },
  { "/torture/autoscale-simple",   "autoscale-simple" },
  { "/torture/autoscale-lifo",     "autoscale-lifo" },
  { "/torture/autoscale-priority", "autoscale-priority" },
};

typedef struct _Round Round;
typedef struct _Home  Home;

/* Randomness that any thread can carry: xorshift64* */
typedef struct {
  guint64 state;
} Rng;

static void
rng_init (Rng     *rng,
          guint64  seed)
{
  rng->state = seed * G_GUINT64_CONSTANT (0x9e3779b97f4a7c15) + 1;
}

static guint32
rng_next (Rng *rng)
{
  rng->state ^= rng->state >> 12;
  rng->state ^= rng->state << 25;
  rng->state ^= rng->state >> 27;
  return (guint32) ((rng->state * G_GUINT64_CONSTANT (0x2545f4914f6cdd1d)) >> 32);
}

static guint
rng_range (Rng   *rng,
           guint  low,
           guint  high)
{
  return low + rng_next (rng) % (high - low);
}

static gboolean
rng_percent (Rng   *rng,
             guint  percent)
{
  return rng_range (rng, 0, 100) < percent;
}

/* A context that receives callbacks, and what it still waits for */
struct _Home {
  Round        *round;
  const char   *name;
  GMainContext *context;
  int           outstanding;  /* submissions and waiters without a callback yet, atomic */
};

/* One submission. Filled in before the submitting call; afterwards only
 * atomics touch it until the round is over. */
typedef struct _Producer Producer;

typedef struct {
  Round    *round;
  Home     *home;
  Producer *producer;       /* whose operation submitted it, or NULL when re-entrant */
  guint     id;
  guint    parent;          /* the submission whose job or callback submitted it, or 0 */
  guint    delay_us;
  guint8   mode;
  guint8   in_thread;
  guint8   no_wait;
  guint8   has_cancellable;
  guint8   pre_cancelled;
  guint8   after_close;     /* submitted after a close_async() had returned */
  guint8   unstarted;       /* to a pool that is never started */
  int      started;
  int      callbacks;
  int      destroys;
  int      outcome;         /* of the first callback */
  int      wrong_context;
  int      in_call;         /* the callback ran inside the submitting call */
  int      misrouted;
} Submission;

/* job_data: freed by job_data_destroy, so ASan and valgrind see a double
 * destroy or a missing one */
typedef struct {
  guint32     magic;
  Submission *sub;
} TortureJob;

typedef struct {
  Round      *round;
  Home       *home;
  WaiterKind  kind;
  gboolean    may_cancel;
  const char *by;
  int         callbacks;
  int         bad;
} Waiter;

struct _Producer {
  Round    *round;
  guint     index;
  GThread  *thread;
  Home      home;
  Rng       rng;
  TpPool   *pool;        /* its own reference, dropped when it has produced */
  guint     n_ops;
  gboolean  hands_off;   /* another thread iterates its context once it has submitted */
  GThread  *iterator;
  guint     resume_at;
  int       in_flight;   /* its submissions without a callback, atomic */
};

/* Errands for the completer threads */
typedef enum {
  ERRAND_COMPLETE,   /* completes the job's task */
  ERRAND_DROP,       /* drops the job's task */
  ERRAND_CANCEL,     /* cancels a cancellable */
} ErrandKind;

typedef struct {
  ErrandKind    kind;
  GTask        *task;
  GCancellable *cancellable;
  guint         delay_us;
} Errand;

struct _Round {
  const TortureCase *config;
  guint              index;
  guint64            seed;
  Rng                rng;              /* the driver's */
  Ending             ending;
  gboolean           unstarted;
  gboolean           own_pool_thread;  /* the pool's context is iterated by pool_thread */
  const char        *executor;
  guint              cap;              /* max-size */
  guint              capacity;

  TpPool            *pool;             /* the driver's reference, NULL once dropped */
  TpPool            *pool_address;     /* for identity checks only, never dereferenced */
  int                pool_disposed;
  GMainContext      *pool_context;
  GThread           *pool_thread;
  int                stop_pool_thread;

  Home               main_home;        /* the main thread's (global default) context */
  Home               pool_home;        /* the pool's, when another thread iterates it */
  Producer           producers[TORTURE_MAX_PRODUCERS];
  guint              n_producers;
  int                producers_done;
  guint              total_ops;
  int                ops_done;
  guint              close_at;
  guint              drop_at;
  guint              escalate_after;
  guint              since_close;
  gboolean           escalated;

  GMutex             lock;             /* the registries */
  GPtrArray         *subs;
  GPtrArray         *waiters;
  int                next_id;
  int                n_subs;
  int                n_callbacks;
  int                n_destroys;
  int                n_waiters;
  int                n_waiter_callbacks;
  int                children_left;    /* re-entrant submissions allowed */
  int                n_children;

  int                close_issued;     /* set once a close_async() returned */
  int                close_flags;      /* every close issued, or-ed */
  int                n_closes;
  GMutex             late_lock;
  GCond              late_cond;
  gboolean           release_late;     /* under late_lock */
  GThreadPool       *late_pool;        /* runs JOB_LATE jobs' waits */
  gboolean           driver_closed;
  gboolean           escalate;         /* the driver closes again, cancelling running jobs */

  int                running;          /* jobs in their body */
  int                peak;
  int                over_cap;
  int                wrong_executor;
  int                bad_job_data;
  int                bad_size;
  int                bad_home;

  GThreadPool       *completer;
};

/* Bookkeeping {{{ */

static void
torture_enter (Round *round)
{
  int running = g_atomic_int_add (&round->running, 1) + 1;

  stress_atomic_max (&round->peak, running);
  if (running > (int) round->cap)
    g_atomic_int_inc (&round->over_cap);
}

static void
torture_leave (Round *round)
{
  g_atomic_int_add (&round->running, -1);
}

/* The home of the calling thread's thread-default context: where the
 * callback of a submission made here must run */
static Home *
torture_home_here (Round *round)
{
  GMainContext *context = g_main_context_ref_thread_default ();
  Home *home = NULL;

  if (context == round->main_home.context)
    home = &round->main_home;
  else if (round->own_pool_thread && context == round->pool_home.context)
    home = &round->pool_home;
  for (guint i = 0; home == NULL && i < round->n_producers; i++)
    if (context == round->producers[i].home.context)
      home = &round->producers[i].home;
  g_main_context_unref (context);

  if (home == NULL)
    {
      g_atomic_int_inc (&round->bad_home);
      home = &round->main_home;
    }
  return home;
}

static void
home_take (Home *home)
{
  g_atomic_int_inc (&home->outstanding);
}

static void
home_give (Home *home)
{
  g_atomic_int_add (&home->outstanding, -1);
  stress_bump ();
}

static gboolean
home_idle (Home *home)
{
  return g_atomic_int_get (&home->outstanding) == 0;
}

static Submission *
submission_new (Round *round,
                Home  *home,
                guint  parent)
{
  Submission *sub = g_new0 (Submission, 1);

  sub->round = round;
  sub->home = home;
  sub->parent = parent;
  sub->unstarted = round->unstarted;
  sub->id = (guint) g_atomic_int_add (&round->next_id, 1) + 1;
  g_mutex_lock (&round->lock);
  g_ptr_array_add (round->subs, sub);
  g_mutex_unlock (&round->lock);
  g_atomic_int_inc (&round->n_subs);
  home_take (home);
  return sub;
}

static Waiter *
waiter_new (Round      *round,
            WaiterKind  kind,
            gboolean    may_cancel,
            const char *by)
{
  Waiter *waiter = g_new0 (Waiter, 1);

  waiter->round = round;
  waiter->home = torture_home_here (round);
  waiter->kind = kind;
  waiter->may_cancel = may_cancel;
  waiter->by = by;
  g_mutex_lock (&round->lock);
  g_ptr_array_add (round->waiters, waiter);
  g_mutex_unlock (&round->lock);
  g_atomic_int_inc (&round->n_waiters);
  home_take (waiter->home);
  return waiter;
}

/* }}} */

/* Completer threads: complete, drop or cancel from elsewhere {{{ */

static void
errand_push (Round        *round,
             ErrandKind    kind,
             GTask        *task,
             GCancellable *cancellable,
             guint         delay_us)
{
  Errand *errand = g_new0 (Errand, 1);

  errand->kind = kind;
  errand->task = task;                 /* transfer full */
  errand->cancellable = cancellable;   /* transfer full */
  errand->delay_us = delay_us;
  g_thread_pool_push (round->completer, errand, NULL);
}

static void torture_job_return (GTask      *task,
                                Submission *sub,
                                gboolean    cancelled);

static void
completer_func (gpointer data,
                gpointer user_data)
{
  Errand *errand = data;

  if (errand->delay_us > 0)
    g_usleep (errand->delay_us);

  switch (errand->kind)
    {
    case ERRAND_COMPLETE:
      {
        TortureJob *job = g_task_get_task_data (errand->task);

        torture_job_return (errand->task, job->sub, FALSE);
        g_object_unref (errand->task);
      }
      break;
    case ERRAND_DROP:
      {
        TortureJob *job = g_task_get_task_data (errand->task);

        torture_leave (job->sub->round);
        /* The last reference goes here: the job is lost on this thread */
        g_object_unref (errand->task);
      }
      break;
    case ERRAND_CANCEL:
      g_cancellable_cancel (errand->cancellable);
      g_object_unref (errand->cancellable);
      break;
    default:
      g_assert_not_reached ();
    }
  g_free (errand);
}

/* A JOB_LATE job's task waits here until the pool is closing, so that it
 * completes after the close; or for a few milliseconds, since a round may
 * never close its pool, and jobs that wait hold workers that queued jobs,
 * hence producers, wait for. (A bound on a wait, never a measure.) */
static void
late_func (gpointer data,
           gpointer user_data)
{
  GTask *task = data;
  Round *round = user_data;
  TortureJob *job = g_task_get_task_data (task);
  Rng rng;
  gint64 deadline;

  rng_init (&rng, round->seed ^ ((guint64) job->sub->id << 28));
  deadline = g_get_monotonic_time () + rng_range (&rng, 1000, 20000);
  g_mutex_lock (&round->late_lock);
  while (!round->release_late && g_cond_wait_until (&round->late_cond, &round->late_lock,
                                                    deadline))
    ;
  g_mutex_unlock (&round->late_lock);

  torture_job_return (task, job->sub, FALSE);
  g_object_unref (task);
}

static void
late_release (Round *round)
{
  g_mutex_lock (&round->late_lock);
  round->release_late = TRUE;
  g_cond_broadcast (&round->late_cond);
  g_mutex_unlock (&round->late_lock);
}

/* }}} */

/* Closing, from the driver, a job or a callback {{{ */

static void close_done_cb (GObject      *source,
                           GAsyncResult *result,
                           gpointer      user_data);

static void
torture_close (Round        *round,
               TpPool       *pool,
               TpCloseFlags  flags,
               GCancellable *cancellable,
               const char   *by)
{
  Waiter *waiter = waiter_new (round, WAITER_CLOSE, cancellable != NULL, by);

  /* TP_CLOSE_CANCEL_RUNNING implies TP_CLOSE_DISCARD_QUEUED */
  if (flags & TP_CLOSE_CANCEL_RUNNING)
    flags |= TP_CLOSE_DISCARD_QUEUED;

  g_atomic_int_or (&round->close_flags, flags);
  g_atomic_int_inc (&round->n_closes);
  tp_pool_close_async (pool, flags, cancellable, close_done_cb, waiter);

  g_atomic_int_set (&round->close_issued, TRUE);
  /* Jobs that waited for the close may complete now, after it */
  late_release (round);
  stress_bump ();
}

static TpCloseFlags
pick_close_flags (Rng *rng)
{
  static const TpCloseFlags flags[] = {
    TP_CLOSE_DRAIN, TP_CLOSE_DISCARD_QUEUED, TP_CLOSE_CANCEL_RUNNING,
  };

  return flags[rng_range (rng, 0, G_N_ELEMENTS (flags))];
}

/* }}} */

/* Jobs {{{ */

static void
torture_job_return (GTask      *task,
                    Submission *sub,
                    gboolean    cancelled)
{
  torture_leave (sub->round);
  if (cancelled)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                             "job %u saw its cancellation", sub->id);
  else if (sub->mode == JOB_FAIL)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "job %u failed", sub->id);
  else
    g_task_return_pointer (task, g_strdup_printf ("ok:%u", sub->id), g_free);
}

/* An async job's work: a 1 ms tick on the pool's context until delay_us
 * passed or its cancellable fired */
typedef struct {
  GTask        *task;
  GCancellable *cancellable;
  gint64        end;
} AsyncSleep;

static gboolean
async_sleep_tick_cb (gpointer data)
{
  AsyncSleep *work = data;
  TortureJob *job = g_task_get_task_data (work->task);
  gboolean cancelled = g_cancellable_is_cancelled (work->cancellable);

  if (!cancelled && g_get_monotonic_time () < work->end)
    return G_SOURCE_CONTINUE;

  torture_job_return (work->task, job->sub, cancelled);
  g_object_unref (work->task);
  g_object_unref (work->cancellable);
  g_free (work);
  return G_SOURCE_REMOVE;
}

static void
async_sleep_start (Round        *round,
                   GTask        *task,
                   GCancellable *cancellable,
                   guint         delay_us)
{
  AsyncSleep *work = g_new0 (AsyncSleep, 1);
  GSource *tick = g_timeout_source_new (1);

  work->task = g_object_ref (task);
  work->cancellable = g_object_ref (cancellable);
  work->end = g_get_monotonic_time () + delay_us;
  g_source_set_callback (tick, async_sleep_tick_cb, work, NULL);
  g_source_attach (tick, round->pool_context);
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
  torture_job_return (task, sub, g_cancellable_is_cancelled (cancellable));
}

static void torture_submit (Round    *round,
                            TpPool   *pool,
                            Rng      *rng,
                            Producer *producer,
                            guint     parent,
                            int       mode);
static void torture_scale (Round      *round,
                           TpPool     *pool,
                           Rng        *rng,
                           const char *by);

/* Re-entrant submissions are bounded, so that a round ends */
static gboolean
take_child (Round *round)
{
  if (g_atomic_int_add (&round->children_left, -1) > 0)
    {
      g_atomic_int_inc (&round->n_children);
      return TRUE;
    }
  return FALSE;
}

static void
torture_job_func (GTask        *task,
                  gpointer      pool,
                  gpointer      job_data,
                  GCancellable *cancellable)
{
  TortureJob *job = job_data;
  Submission *sub = job->sub;
  Round *round = sub->round;
  gboolean on_pool_context = g_main_context_is_owner (round->pool_context);
  Rng rng;

  if (job->magic != TORTURE_JOB_MAGIC || g_task_get_task_data (task) != job_data ||
      pool != (gpointer) round->pool_address || cancellable == NULL)
    g_atomic_int_inc (&round->bad_job_data);
  if (on_pool_context == (gboolean) sub->in_thread)
    g_atomic_int_inc (&round->wrong_executor);
  g_atomic_int_inc (&sub->started);
  torture_enter (round);
  rng_init (&rng, round->seed ^ ((guint64) sub->id << 20));

  switch (sub->mode)
    {
    case JOB_RETURN:
    case JOB_FAIL:
      torture_job_return (task, sub, FALSE);
      break;
    case JOB_DROP:
      torture_leave (round);
      break;
    case JOB_SLEEP:
      if (sub->in_thread)
        thread_sleep (task, sub, cancellable);
      else
        async_sleep_start (round, task, cancellable, sub->delay_us);
      break;
    case JOB_ELSEWHERE:
      errand_push (round, ERRAND_COMPLETE, g_object_ref (task), NULL, sub->delay_us);
      break;
    case JOB_DROP_LATER:
      errand_push (round, ERRAND_DROP, g_object_ref (task), NULL, sub->delay_us);
      break;
    case JOB_LATE:
      g_thread_pool_push (round->late_pool, g_object_ref (task), NULL);
      break;
    case JOB_SUBMIT:
      if (take_child (round))
        torture_submit (round, pool, &rng, NULL, sub->id, -1);
      torture_job_return (task, sub, FALSE);
      break;
    case JOB_SCALE:
      torture_scale (round, pool, &rng, "a job");
      torture_job_return (task, sub, FALSE);
      break;
    case JOB_CLOSE:
      torture_close (round, pool, pick_close_flags (&rng), NULL, "a job");
      torture_job_return (task, sub, FALSE);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
torture_job_free (gpointer data)
{
  TortureJob *job = data;
  Submission *sub = job->sub;
  Round *round = sub->round;

  if (job->magic != TORTURE_JOB_MAGIC)
    g_atomic_int_inc (&round->bad_job_data);
  job->magic = 0;
  g_free (job);
  g_atomic_int_inc (&sub->destroys);
  g_atomic_int_inc (&round->n_destroys);
  stress_bump ();
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

/* Set on a thread while it is inside a submitting call */
static __thread gboolean in_submit_call;

static gboolean
in_home (Home *home)
{
  GMainContext *here = g_main_context_ref_thread_default ();
  gboolean ok = here == home->context && g_main_context_is_owner (home->context);

  g_main_context_unref (here);
  return ok;
}

static void
submit_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Submission *sub = user_data;
  Round *round = sub->round;
  g_autoptr(GError) error = NULL;
  g_autofree char *value = tp_pool_submit_finish (TP_POOL (source), result, &error);
  Outcome outcome = classify (value, error);
  Rng rng;

  if (!in_home (sub->home) || source != (GObject *) round->pool_address)
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
    g_atomic_int_set (&sub->outcome, outcome);
  g_atomic_int_inc (&round->n_callbacks);

  /* Callbacks re-enter the pool too, from the submitter's context */
  rng_init (&rng, round->seed ^ ((guint64) sub->id << 24) ^ 0x5ca1ab1e);
  if (rng_percent (&rng, 6) && take_child (round))
    torture_submit (round, TP_POOL (source), &rng, NULL, sub->id, -1);
  else if (rng_percent (&rng, 3))
    torture_scale (round, TP_POOL (source), &rng, "a callback");
  else if (round->ending == ENDING_JOB_CLOSES && rng_percent (&rng, 2))
    torture_close (round, TP_POOL (source), pick_close_flags (&rng), NULL, "a callback");

  if (sub->producer != NULL)
    g_atomic_int_add (&sub->producer->in_flight, -1);
  home_give (sub->home);
}

static void
waiter_done (Waiter       *waiter,
             gboolean      success,
             const GError *error)
{
  gboolean ok;

  if (!in_home (waiter->home))
    ok = FALSE;
  else if (success)
    ok = error == NULL;
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    ok = waiter->may_cancel;
  else if (waiter->kind == WAITER_SCALE)
    ok = g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_CLOSED) ||
         (waiter->round->unstarted &&
          g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_NOT_ACCEPTING));
  else
    ok = FALSE;
  if (!ok)
    {
      /* Maybe on another thread than the test's: not g_test_message() */
      g_printerr ("# %s by %s ended with %s\n", waiter_names[waiter->kind], waiter->by,
                  error != NULL ? error->message : success ? "success in a wrong context"
                                                           : "FALSE and no error");
      g_atomic_int_inc (&waiter->bad);
    }
  g_atomic_int_inc (&waiter->callbacks);
  g_atomic_int_inc (&waiter->round->n_waiter_callbacks);
  home_give (waiter->home);
}

static void
scale_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Waiter *waiter = user_data;
  g_autoptr(GError) error = NULL;
  int size = tp_pool_scale_finish (TP_POOL (source), result, &error);

  if (size > (int) waiter->round->cap)
    g_atomic_int_inc (&waiter->round->bad_size);
  waiter_done (waiter, size >= 0, error);
}

static void
idle_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  gboolean idle = tp_pool_wait_idle_finish (TP_POOL (source), result, &error);

  waiter_done (user_data, idle, error);
}

static void
close_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Waiter *waiter = user_data;
  TpPool *pool = TP_POOL (source);
  g_autoptr(GError) error = NULL;
  gboolean closed = tp_pool_close_finish (pool, result, &error);

  /* Nothing is left once a close completes */
  if (closed && (!tp_pool_get_closed (pool) || tp_pool_get_size (pool) != 0 ||
                 tp_pool_get_running (pool) != 0 || tp_pool_get_waiting (pool) != 0 ||
                 tp_pool_get_backlog (pool) != 0))
    {
      g_printerr ("# close_async by %s completed with closed %d, size %u, running %u, "
                  "waiting %u, backlog %u\n", waiter->by, tp_pool_get_closed (pool),
                  tp_pool_get_size (pool), tp_pool_get_running (pool),
                  tp_pool_get_waiting (pool), tp_pool_get_backlog (pool));
      g_atomic_int_inc (&waiter->bad);
    }
  waiter_done (waiter, closed, error);
}

/* }}} */

/* Submitting, scaling, pausing {{{ */

static JobMode
pick_mode (Round    *round,
           Rng      *rng,
           gboolean  in_thread,
           gboolean  child)
{
  guint r = rng_range (rng, 0, 100);
  JobMode mode;

  /* Children re-enter less, so that a chain of them ends */
  if (child && r >= 88)
    r = rng_range (rng, 0, 88);
  if (in_thread)
    mode = r < 30 ? JOB_RETURN : r < 42 ? JOB_FAIL : r < 52 ? JOB_DROP : r < 82 ? JOB_SLEEP :
           r < 90 ? JOB_SUBMIT : r < 98 ? JOB_SCALE : JOB_CLOSE;
  else
    mode = r < 20 ? JOB_RETURN : r < 27 ? JOB_FAIL : r < 33 ? JOB_DROP : r < 48 ? JOB_SLEEP :
           r < 63 ? JOB_ELSEWHERE : r < 70 ? JOB_DROP_LATER : r < 82 ? JOB_LATE :
           r < 90 ? JOB_SUBMIT : r < 98 ? JOB_SCALE : JOB_CLOSE;
  /* Only jobs close the pools of the rounds that leave closing to them */
  if (mode == JOB_CLOSE && round->ending != ENDING_JOB_CLOSES)
    mode = JOB_RETURN;
  return mode;
}

static int
pick_weight (Rng *rng)
{
  guint r = rng_range (rng, 0, 100);

  if (r < 3)
    return G_MININT;
  if (r < 6)
    return G_MAXINT;
  return (int) rng_range (rng, 0, 40) - 10;
}

/* Gives @sub a cancellable, or none, and sees to its cancellation */
static GCancellable *
pick_cancellable (Round      *round,
                  Submission *sub,
                  Rng        *rng,
                  gboolean   *cancel_after)
{
  GCancellable *cancellable;
  guint how;

  *cancel_after = FALSE;
  if (!rng_percent (rng, 25))
    return NULL;

  cancellable = g_cancellable_new ();
  sub->has_cancellable = TRUE;
  how = rng_range (rng, 0, 100);
  if (how < 10)
    {
      g_cancellable_cancel (cancellable);
      sub->pre_cancelled = TRUE;
    }
  else if (how < 30)
    *cancel_after = TRUE;
  else if (how < 70)
    errand_push (round, ERRAND_CANCEL, NULL, g_object_ref (cancellable),
                 rng_range (rng, 0, 2000));
  return cancellable;
}

/* Submits a job of @mode, or of a random one when it is -1 */
static void
torture_submit (Round    *round,
                TpPool   *pool,
                Rng      *rng,
                Producer *producer,
                guint     parent,
                int       mode)
{
  Submission *sub = submission_new (round, torture_home_here (round), parent);
  g_autoptr(GCancellable) cancellable = NULL;
  TpSubmitFlags flags = TP_SUBMIT_DEFAULT;
  gboolean cancel_after;
  TortureJob *job;

  sub->producer = producer;
  sub->in_thread = rng_percent (rng, 45);
  sub->mode = mode >= 0 ? (JobMode) mode : pick_mode (round, rng, sub->in_thread, parent != 0);
  sub->delay_us = rng_range (rng, 0, 1200);
  sub->no_wait = rng_percent (rng, 15);
  sub->after_close = g_atomic_int_get (&round->close_issued);
  cancellable = pick_cancellable (round, sub, rng, &cancel_after);

  job = g_new0 (TortureJob, 1);
  job->magic = TORTURE_JOB_MAGIC;
  job->sub = sub;

  in_submit_call = TRUE;
  if (!sub->no_wait && rng_percent (rng, 10))
    {
      if (sub->in_thread)
        tp_pool_submit_in_thread_async (pool, torture_job_func, job, torture_job_free,
                                        cancellable, submit_done_cb, sub);
      else
        tp_pool_submit_async (pool, torture_job_func, job, torture_job_free, cancellable,
                              submit_done_cb, sub);
    }
  else
    {
      if (sub->in_thread)
        flags |= TP_SUBMIT_IN_THREAD;
      if (sub->no_wait)
        flags |= TP_SUBMIT_NO_WAIT;
      tp_pool_submit_full_async (pool, flags, pick_weight (rng), torture_job_func, job,
                                 torture_job_free, cancellable, submit_done_cb, sub);
    }
  in_submit_call = FALSE;

  if (cancel_after)
    g_cancellable_cancel (cancellable);
  stress_bump ();
}

/* Makes a cancellable for a waiter, cancelled later, or none */
static GCancellable *
waiter_cancellable (Round *round,
                    Rng   *rng)
{
  GCancellable *cancellable;

  if (!rng_percent (rng, 30))
    return NULL;
  cancellable = g_cancellable_new ();
  errand_push (round, ERRAND_CANCEL, NULL, g_object_ref (cancellable), rng_range (rng, 0, 3000));
  return cancellable;
}

static void
torture_scale (Round      *round,
               TpPool     *pool,
               Rng        *rng,
               const char *by)
{
  int delta = (int) rng_range (rng, 0, 7) - 3;

  /* On a pool never started, scale_async() fails at once with
   * TP_POOL_ERROR_NOT_ACCEPTING (waiter_done() allows it) */
  if (rng_percent (rng, 40))
    {
      g_autoptr(GCancellable) cancellable = waiter_cancellable (round, rng);
      Waiter *waiter = waiter_new (round, WAITER_SCALE, cancellable != NULL, by);

      tp_pool_scale_async (pool, delta, cancellable, scale_done_cb, waiter);
    }
  else
    {
      int target = tp_pool_scale (pool, delta);

      if (target < 0 || target > (int) round->cap || tp_pool_get_size (pool) > round->cap)
        g_atomic_int_inc (&round->bad_size);
    }
  stress_bump ();
}

static void
torture_wait_idle (Round *round,
                   TpPool *pool,
                   Rng    *rng)
{
  g_autoptr(GCancellable) cancellable = waiter_cancellable (round, rng);
  Waiter *waiter = waiter_new (round, WAITER_IDLE, cancellable != NULL, "a producer");

  tp_pool_wait_idle_async (pool, cancellable, idle_done_cb, waiter);
}

/* Pause and resume race the closes of the round, which jobs, callbacks and
 * the driver issue at any time: on a closing or closed pool they are no-ops
 * without a critical */
static gboolean
torture_pause (Round  *round,
               TpPool *pool,
               gboolean pause)
{
  if (round->unstarted)
    return FALSE;  /* not running, and the application knows it: a critical */
  if (pause)
    tp_pool_pause (pool);
  else
    tp_pool_resume (pool);
  return TRUE;
}

/* }}} */

/* Producers {{{ */

static void
producer_step (Producer *self,
               guint     op)
{
  Round *round = self->round;
  guint r = rng_range (&self->rng, 0, 100);

  if (self->resume_at == op)
    {
      torture_pause (round, self->pool, FALSE);
      self->resume_at = 0;
    }

  if (r < 80)
    {
      g_atomic_int_inc (&self->in_flight);
      torture_submit (round, self->pool, &self->rng, self, 0, -1);
    }
  else if (r < 88)
    torture_scale (round, self->pool, &self->rng, "a producer");
  else if (r < 91)
    torture_wait_idle (round, self->pool, &self->rng);
  else if (r < 93 && self->resume_at == 0)
    {
      if (torture_pause (round, self->pool, TRUE))
        self->resume_at = op + rng_range (&self->rng, 1, 5);
    }
  else if (r < 94 && g_atomic_int_get (&round->close_issued))
    {
      /* Misuse that an application cannot always avoid: no critical */
      tp_pool_pause (self->pool);
      tp_pool_resume (self->pool);
    }
  else
    g_thread_yield ();
}

static void
producer_iterate (Producer *self,
                  gboolean  may_block)
{
  g_main_context_iteration (self->home.context, may_block);
}

static gpointer
iterator_thread (gpointer data)
{
  Producer *self = data;

  /* The submitter has let go of its context: this thread runs its callbacks */
  g_main_context_push_thread_default (self->home.context);
  while (!home_idle (&self->home))
    producer_iterate (self, TRUE);
  g_main_context_pop_thread_default (self->home.context);

  g_atomic_int_inc (&self->round->producers_done);
  stress_bump ();
  return NULL;
}

static gpointer
producer_thread (gpointer data)
{
  Producer *self = data;
  Round *round = self->round;

  g_main_context_push_thread_default (self->home.context);
  for (guint op = 1; op <= self->n_ops; op++)
    {
      producer_step (self, op);
      g_atomic_int_inc (&round->ops_done);
      stress_bump ();
      for (guint i = 0; i < 4 && g_main_context_iteration (self->home.context, FALSE); i++)
        ;
      while (!self->hands_off &&
             (guint) g_atomic_int_get (&self->in_flight) >= TORTURE_MAX_IN_FLIGHT)
        producer_iterate (self, TRUE);
    }
  if (self->resume_at != 0)
    torture_pause (round, self->pool, FALSE);

  /* Jobs still in flight: this may be the pool's last reference */
  g_clear_object (&self->pool);

  if (self->hands_off)
    {
      g_main_context_pop_thread_default (self->home.context);
      self->iterator = g_thread_new ("torture-iterator", iterator_thread, self);
      return NULL;
    }

  while (!home_idle (&self->home))
    producer_iterate (self, TRUE);
  g_main_context_pop_thread_default (self->home.context);

  g_atomic_int_inc (&round->producers_done);
  stress_bump ();
  return NULL;
}

/* }}} */

/* The pool's own thread {{{ */

static gpointer
pool_thread (gpointer data)
{
  Round *round = data;

  g_main_context_push_thread_default (round->pool_context);
  while (!g_atomic_int_get (&round->stop_pool_thread))
    g_main_context_iteration (round->pool_context, TRUE);
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

/* Rounds {{{ */

static TpPool *
round_pool_new (Round *round)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  const char *kind = round->config->kind;
  gboolean autoscale = g_str_has_prefix (kind, "autoscale-");
  TpPool *pool;

  g_key_file_set_string (keyfile, "torture", "kind", kind);
  g_key_file_set_string (keyfile, "torture", "executor", round->executor);
  /* A fixed pool may be scaled to no worker only where the driver closes
   * it, which then drains with one; elsewhere its queued jobs would wait */
  g_key_file_set_integer (keyfile, "torture", "min-size",
                          !autoscale && round->ending == ENDING_CLOSE ? 0 : 1);
  g_key_file_set_integer (keyfile, "torture", "max-size", (int) round->cap);
  g_key_file_set_integer (keyfile, "torture", "size",
                          (int) rng_range (&round->rng, 1, round->cap + 1));
  g_key_file_set_integer (keyfile, "torture", "queue-capacity", (int) round->capacity);
  if (autoscale)
    {
      g_key_file_set_integer (keyfile, "torture", "idle-timeout-ms",
                              (int) rng_range (&round->rng, 0, 5));
      g_key_file_set_integer (keyfile, "torture", "scale-interval-ms",
                              (int) rng_range (&round->rng, 1, 5));
    }

  /* The pool belongs to the context that is thread-default as it is made */
  if (round->own_pool_thread)
    g_main_context_push_thread_default (round->pool_context);
  pool = tp_pool_new_from_keyfile (keyfile, "torture", &error);
  if (round->own_pool_thread)
    g_main_context_pop_thread_default (round->pool_context);
  g_assert_no_error (error);
  g_assert_nonnull (pool);
  g_assert_true (tp_pool_get_main_context (pool) == round->pool_context);
  g_assert_cmpuint (tp_pool_get_max_size (pool), ==, round->cap);

  if (!round->unstarted)
    {
      g_assert_true (tp_pool_start (pool, &error));
      g_assert_no_error (error);
    }
  return pool;
}

static void
home_init (Home         *home,
           Round        *round,
           const char   *name,
           GMainContext *context)
{
  home->round = round;
  home->name = name;
  home->context = context;
  home->outstanding = 0;
}

static void
round_init (Round             *round,
            const TortureCase *config,
            guint              index,
            guint64            seed)
{
  memset (round, 0, sizeof *round);
  round->config = config;
  round->index = index;
  round->seed = seed;
  rng_init (&round->rng, seed);

  /* Every ending in turn, the rest at random */
  round->ending = (Ending) (index % N_ENDINGS);
  round->unstarted = rng_percent (&round->rng, 12);
  round->own_pool_thread = rng_percent (&round->rng, 50);
  round->executor = rng_percent (&round->rng, 25) ? "gtask" : "threads";
  round->cap = rng_range (&round->rng, 2, 7);
  round->capacity = rng_percent (&round->rng, 30) ? 0 : rng_range (&round->rng, 2, 16);
  round->n_producers = rng_range (&round->rng, 2, TORTURE_MAX_PRODUCERS + 1);
  round->total_ops = rng_range (&round->rng, 120, 360);
  round->close_at = round->total_ops * rng_range (&round->rng, 30, 95) / 100;
  round->drop_at = round->total_ops * rng_range (&round->rng, 10, 90) / 100;
  round->escalate = rng_percent (&round->rng, 30);
  round->escalate_after = rng_range (&round->rng, 0, 100);
  round->children_left = (int) round->total_ops / 3;

  g_mutex_init (&round->lock);
  g_mutex_init (&round->late_lock);
  g_cond_init (&round->late_cond);
  round->subs = g_ptr_array_new_with_free_func (g_free);
  round->waiters = g_ptr_array_new_with_free_func (g_free);

  home_init (&round->main_home, round, "main", g_main_context_default ());
  if (round->own_pool_thread)
    {
      round->pool_context = g_main_context_new ();
      home_init (&round->pool_home, round, "pool", round->pool_context);
    }
  else
    round->pool_context = g_main_context_ref (g_main_context_default ());

  round->completer = g_thread_pool_new (completer_func, round, 2, FALSE, NULL);
  round->late_pool = g_thread_pool_new (late_func, round, TORTURE_MAX_LATE, FALSE, NULL);
  round->pool = round_pool_new (round);
  round->pool_address = round->pool;
  g_object_weak_ref (G_OBJECT (round->pool), pool_disposed_cb, round);

  for (guint i = 0; i < round->n_producers; i++)
    {
      Producer *producer = &round->producers[i];

      producer->round = round;
      producer->index = i;
      rng_init (&producer->rng, seed ^ ((guint64) (i + 1) << 40));
      producer->n_ops = round->total_ops / round->n_producers;
      producer->hands_off = rng_percent (&round->rng, 25);
      producer->pool = g_object_ref (round->pool);
      home_init (&producer->home, round, "producer", g_main_context_new ());
    }
  round->total_ops = round->producers[0].n_ops * round->n_producers;
}

static void
round_clear (Round *round)
{
  for (guint i = 0; i < round->n_producers; i++)
    g_main_context_unref (round->producers[i].home.context);
  g_main_context_unref (round->pool_context);
  g_ptr_array_unref (round->subs);
  g_ptr_array_unref (round->waiters);
  g_cond_clear (&round->late_cond);
  g_mutex_clear (&round->late_lock);
  g_mutex_clear (&round->lock);
}

/* The driver, on the main thread: closes, drops, escalates, rescues */
static void
round_drive (Round *round)
{
  guint ops = (guint) g_atomic_int_get (&round->ops_done);
  gboolean produced = ops >= round->total_ops;
  TpPool *pool = round->pool;

  if (pool == NULL)
    return;

  /* A fixed pool that producers scaled to no worker, with jobs waiting, is
   * given one back until it closes: an application scales up again */
  if (!g_atomic_int_get (&round->close_issued) && tp_pool_get_target_size (pool) == 0 &&
      tp_pool_get_waiting (pool) + tp_pool_get_backlog (pool) > 0)
    tp_pool_scale (pool, 1);

  switch (round->ending)
    {
    case ENDING_CLOSE:
      if (!round->driver_closed && (ops >= round->close_at || produced))
        {
          round->driver_closed = TRUE;
          torture_close (round, pool, pick_close_flags (&round->rng), NULL, "the driver");
          /* One more draining close, whose wait is cancelled at a random moment */
          if (rng_percent (&round->rng, 50))
            {
              g_autoptr(GCancellable) cancellable = g_cancellable_new ();

              errand_push (round, ERRAND_CANCEL, NULL, g_object_ref (cancellable),
                           rng_range (&round->rng, 0, 2000));
              torture_close (round, pool, TP_CLOSE_DRAIN, cancellable, "the driver");
            }
        }
      if (round->driver_closed && round->escalate && !round->escalated &&
          (round->since_close++ >= round->escalate_after || produced))
        {
          round->escalated = TRUE;
          torture_close (round, pool, TP_CLOSE_CANCEL_RUNNING, NULL, "the driver");
        }
      /* Dropped as soon as it is closing, with jobs in flight */
      if (round->driver_closed && (!round->escalate || round->escalated))
        g_clear_object (&round->pool);
      break;

    case ENDING_JOB_CLOSES:
      if (ops >= round->drop_at || produced)
        {
          /* A job will close it, if no other job or callback did */
          torture_submit (round, pool, &round->rng, NULL, 0, JOB_CLOSE);
          g_clear_object (&round->pool);
        }
      break;

    case ENDING_ABANDON:
      if (ops >= round->drop_at || produced)
        g_clear_object (&round->pool);
      break;

    default:
      g_assert_not_reached ();
    }
}

/* Wakes the driver now and then, whatever happens */
static gboolean
round_tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
round_done (Round *round)
{
  int n_subs = g_atomic_int_get (&round->n_subs);

  return round->pool == NULL &&
         (guint) g_atomic_int_get (&round->producers_done) == round->n_producers &&
         g_atomic_int_get (&round->n_callbacks) == n_subs &&
         g_atomic_int_get (&round->n_destroys) == n_subs &&
         g_atomic_int_get (&round->n_waiter_callbacks) == g_atomic_int_get (&round->n_waiters) &&
         home_idle (&round->main_home) &&
         (!round->own_pool_thread || home_idle (&round->pool_home)) &&
         g_atomic_int_get (&round->pool_disposed);
}

/* What a submission may end with, given what its job does and whether it ran */
static gboolean
outcome_allowed (Round      *round,
                 Submission *sub,
                 int         started,
                 Outcome     outcome)
{
  int close_flags = g_atomic_int_get (&round->close_flags);
  gboolean cancel_running = (close_flags & TP_CLOSE_CANCEL_RUNNING) != 0;

  if (started > 1)
    return FALSE;
  if (sub->pre_cancelled)
    return started == 0 && outcome == OUTCOME_CANCELLED;
  if (sub->unstarted || sub->after_close)
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
          return (close_flags & TP_CLOSE_DISCARD_QUEUED) != 0;
        default:
          return FALSE;
        }
    }

  switch (sub->mode)
    {
    case JOB_RETURN:
    case JOB_ELSEWHERE:
    case JOB_LATE:
    case JOB_SUBMIT:
    case JOB_SCALE:
    case JOB_CLOSE:
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
  guint rounds;
  guint endings[N_ENDINGS];
  guint unstarted;
  guint own_pool_thread;
  guint submissions;
  guint children;
  guint started;
  guint waiters;
  guint closes;
  guint errors;
  int   peak;
} TortureTotals;

static void
round_check (Round         *round,
             TortureTotals *totals)
{
  guint errors = 0;

  for (guint i = 0; i < round->subs->len; i++)
    {
      Submission *sub = round->subs->pdata[i];
      int started = g_atomic_int_get (&sub->started);
      int callbacks = g_atomic_int_get (&sub->callbacks);
      int destroys = g_atomic_int_get (&sub->destroys);
      Outcome outcome = g_atomic_int_get (&sub->outcome);

      totals->outcomes[outcome]++;
      totals->started += started;
      if (callbacks == 1 && destroys == 1 && sub->wrong_context == 0 && sub->in_call == 0 &&
          sub->misrouted == 0 && outcome_allowed (round, sub, started, outcome))
        continue;

      if (errors++ < TORTURE_MAX_REPORTED)
        g_test_message ("round %u: submission %u (%s %s job%s%s%s%s%s, from %s%s): %d callbacks, "
                        "%d destroys, started %d times, outcome %s%s%s%s", round->index, sub->id,
                        sub->in_thread ? "thread" : "async", mode_names[sub->mode],
                        sub->no_wait ? ", no-wait" : "",
                        sub->has_cancellable ? ", cancellable" : "",
                        sub->pre_cancelled ? " (pre-cancelled)" : "",
                        sub->after_close ? ", after close" : "",
                        sub->unstarted ? ", pool never started" : "",
                        sub->home->name, sub->parent != 0 ? ", re-entrant" : "",
                        callbacks, destroys, started, outcome_names[outcome],
                        sub->wrong_context ? ", called back in a wrong context" : "",
                        sub->in_call ? ", called back inside the submitting call" : "",
                        sub->misrouted ? ", with another job's result" : "");
    }

  for (guint i = 0; i < round->waiters->len; i++)
    {
      Waiter *waiter = round->waiters->pdata[i];
      int callbacks = g_atomic_int_get (&waiter->callbacks);

      if (callbacks == 1 && waiter->bad == 0)
        continue;
      if (errors++ < TORTURE_MAX_REPORTED)
        g_test_message ("round %u: %s by %s: %d callbacks%s", round->index,
                        waiter_names[waiter->kind], waiter->by, callbacks,
                        waiter->bad ? ", ended wrongly" : "");
    }

  totals->rounds++;
  totals->endings[round->ending]++;
  totals->unstarted += round->unstarted;
  totals->own_pool_thread += round->own_pool_thread;
  totals->submissions += round->subs->len;
  totals->children += (guint) round->n_children;
  totals->waiters += round->waiters->len;
  totals->closes += (guint) round->n_closes;
  totals->errors += errors;
  totals->peak = MAX (totals->peak, round->peak);

  if (errors > 0 || round->over_cap != 0 || round->wrong_executor != 0 ||
      round->bad_job_data != 0 || round->bad_size != 0 || round->bad_home != 0 ||
      g_atomic_int_get (&round->running) != 0)
    g_test_message ("round %u (%s, ending %s%s, %s pool thread, executor %s, cap %u, "
                    "queue-capacity %u, %u producers): %u errors; peak running %d, over the "
                    "cap %d times; %d async jobs off the pool's thread or thread jobs on it; "
                    "%d bad job data; %d sizes beyond max-size; %d submissions from an unknown "
                    "context; %d jobs still in their body", round->index, round->config->kind,
                    ending_names[round->ending], round->unstarted ? ", never started" : "",
                    round->own_pool_thread ? "its own" : "the main", round->executor,
                    round->cap, round->capacity, round->n_producers, errors, round->peak,
                    round->over_cap, round->wrong_executor, round->bad_job_data,
                    round->bad_size, round->bad_home, g_atomic_int_get (&round->running));

  g_assert_cmpuint (errors, ==, 0);
  g_assert_cmpint (round->over_cap, ==, 0);
  g_assert_cmpint (round->peak, <=, (int) round->cap);
  g_assert_cmpint (g_atomic_int_get (&round->running), ==, 0);
  g_assert_cmpint (round->wrong_executor, ==, 0);
  g_assert_cmpint (round->bad_job_data, ==, 0);
  g_assert_cmpint (round->bad_size, ==, 0);
  g_assert_cmpint (round->bad_home, ==, 0);
  if (round->unstarted)
    g_assert_cmpint (round->peak, ==, 0);
}

static void
round_run (Round *round)
{
  guint tick;

  stress_watchdog_set_round (round);

  if (round->own_pool_thread)
    round->pool_thread = g_thread_new ("torture-pool", pool_thread, round);
  for (guint i = 0; i < round->n_producers; i++)
    round->producers[i].thread = g_thread_new ("torture-producer", producer_thread,
                                               &round->producers[i]);

  /* The main thread drives, and runs the callbacks that come to the global
   * default context: those of thread jobs' submissions, of the driver's
   * closes, and of every job when the pool's context is this one */
  tick = g_timeout_add (5, round_tick_cb, round);
  for (;;)
    {
      round_drive (round);
      if (round_done (round))
        break;
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (tick);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  for (guint i = 0; i < round->n_producers; i++)
    {
      g_thread_join (round->producers[i].thread);
      if (round->producers[i].iterator != NULL)
        g_thread_join (round->producers[i].iterator);
    }
  if (round->own_pool_thread)
    {
      g_atomic_int_set (&round->stop_pool_thread, TRUE);
      g_main_context_wakeup (round->pool_context);
      g_thread_join (round->pool_thread);
    }
  g_thread_pool_free (round->late_pool, FALSE, TRUE);
  round->late_pool = NULL;
  g_thread_pool_free (round->completer, FALSE, TRUE);
  round->completer = NULL;

  stress_watchdog_set_round (NULL);
}

static void
test_torture (gconstpointer data)
{
  const TortureCase *config = data;
  TortureTotals totals = { { 0 } };
  gint64 start = g_get_monotonic_time ();

  g_test_summary ("Rounds of producer threads on pools of one kind, whose jobs and callbacks "
                  "re-enter the pool to submit, scale and close it, whose jobs complete from "
                  "other threads and after the close, whose contexts other threads iterate, "
                  "and which are dropped with jobs in flight, closed or not, or never "
                  "started: every submission gets one callback in its submitter's context "
                  "and one job_data_destroy, every waiter one callback, no more jobs run at "
                  "once than max-size, and every pool is finalized");

  for (guint i = 0; i < torture_rounds; i++)
    {
      guint64 seed = ((guint64) g_test_rand_int () << 32) ^ (guint64) g_test_rand_int () ^
                     g_str_hash (config->path);
      Round round;

      round_init (&round, config, i, seed);
      round_run (&round);
      round_check (&round, &totals);
      round_clear (&round);
    }

  g_test_message ("%s: %u rounds (%u closed by the driver, %u abandoned, %u closed by jobs; "
                  "%u never started; %u on a pool thread of their own), %u submissions "
                  "(%u re-entrant), %u started, %u waiters, %u closes; done %u failed %u "
                  "cancelled %u full %u not-accepting %u closed %u lost %u; peak running %d; "
                  "%.2f s", config->path, totals.rounds, totals.endings[ENDING_CLOSE],
                  totals.endings[ENDING_ABANDON], totals.endings[ENDING_JOB_CLOSES],
                  totals.unstarted, totals.own_pool_thread, totals.submissions,
                  totals.children, totals.started, totals.waiters, totals.closes,
                  totals.outcomes[OUTCOME_DONE], totals.outcomes[OUTCOME_FAILED],
                  totals.outcomes[OUTCOME_CANCELLED], totals.outcomes[OUTCOME_FULL],
                  totals.outcomes[OUTCOME_NOT_ACCEPTING], totals.outcomes[OUTCOME_CLOSED],
                  totals.outcomes[OUTCOME_LOST], totals.peak,
                  (g_get_monotonic_time () - start) / 1e6);
}

/* }}} */

/* Misuse an application cannot always avoid {{{ */

/* Criticals from pause() and resume(), counted while a /torture/misuse/
 * case runs instead of aborting with its threads running: the case then
 * fails with their count and the first one. g_log() and g_return_if_fail()
 * reach misuse_log_handler(); g_critical(), structured (the build defines
 * G_LOG_USE_STRUCTURED), reaches misuse_log_writer() and no fatal handler. */
static int misuse_counting;
static int misuse_criticals;
static GMutex misuse_lock;
static char *misuse_first;

static gboolean
misuse_is_pause_critical (const char     *log_domain,
                          GLogLevelFlags  log_level,
                          const char     *message)
{
  return g_atomic_int_get (&misuse_counting) && (log_level & G_LOG_LEVEL_CRITICAL) &&
         g_strcmp0 (log_domain, "TaskPool") == 0 && message != NULL &&
         (strstr (message, "tp_pool_pause") != NULL || strstr (message, "tp_pool_resume") != NULL);
}

static gboolean
misuse_fatal_handler (const char     *log_domain,
                      GLogLevelFlags  log_level,
                      const char     *message,
                      gpointer        user_data)
{
  return !misuse_is_pause_critical (log_domain, log_level, message);
}

static void
misuse_count (const char *message)
{
  if (g_atomic_int_add (&misuse_criticals, 1) == 0)
    {
      g_mutex_lock (&misuse_lock);
      misuse_first = g_strdup (message);
      g_mutex_unlock (&misuse_lock);
    }
}

static void
misuse_log_handler (const char     *log_domain,
                    GLogLevelFlags  log_level,
                    const char     *message,
                    gpointer        user_data)
{
  if (!misuse_is_pause_critical (log_domain, log_level, message))
    {
      g_log_default_handler (log_domain, log_level, message, user_data);
      return;
    }
  misuse_count (message);
}

static GLogWriterOutput
misuse_log_writer (GLogLevelFlags   log_level,
                   const GLogField *fields,
                   gsize            n_fields,
                   gpointer         user_data)
{
  g_autofree char *domain = NULL;
  g_autofree char *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      char **value = g_str_equal (fields[i].key, "GLIB_DOMAIN") ? &domain
                     : g_str_equal (fields[i].key, "MESSAGE") ? &message : NULL;

      if (value != NULL && *value == NULL)
        *value = fields[i].length < 0 ? g_strdup (fields[i].value)
                                      : g_strndup (fields[i].value, (gsize) fields[i].length);
    }
  if (!misuse_is_pause_critical (domain, log_level, message))
    return g_log_writer_default (log_level, fields, n_fields, user_data);
  misuse_count (message);
  return G_LOG_WRITER_HANDLED;
}

typedef struct {
  TpPool   *pool;
  int       stop;
  int       calls;
} PauseRacer;

static gpointer
pause_racer_thread (gpointer data)
{
  PauseRacer *racer = data;

  while (!g_atomic_int_get (&racer->stop) ||
         g_atomic_int_get (&racer->calls) < TORTURE_MISUSE_CALLS)
    {
      tp_pool_pause (racer->pool);
      tp_pool_resume (racer->pool);
      if (g_atomic_int_add (&racer->calls, 1) % 16 == 0)
        g_thread_yield ();
    }
  return NULL;
}

/* A close that must succeed; sets the flag at @user_data */
static void
close_succeeded_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (tp_pool_close_finish (TP_POOL (source), result, &error));
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

static void
test_misuse_pause_racing_close (void)
{
  PauseRacer racers[2];
  GThread *threads[G_N_ELEMENTS (racers)];
  gboolean closed = FALSE;
  g_autofree char *first = NULL;
  int criticals;

  g_test_summary ("pause() and resume() from other threads while a pool of each kind closes, "
                  "and on the closed pool, are no-ops without a critical: the caller cannot "
                  "avoid the race");
  /* GTest resets it for each case */
  g_test_log_set_fatal_handler (misuse_fatal_handler, NULL);

  for (guint round = 0; round < G_N_ELEMENTS (torture_cases); round++)
    {
      g_autoptr(TpPool) pool = tp_pool_new (torture_cases[round].kind, NULL);

      g_assert_nonnull (pool);
      g_assert_true (tp_pool_start (pool, NULL));

      g_atomic_int_set (&misuse_counting, TRUE);
      for (guint i = 0; i < G_N_ELEMENTS (racers); i++)
        {
          racers[i] = (PauseRacer) { pool, FALSE, 0 };
          threads[i] = g_thread_new ("torture-pauser", pause_racer_thread, &racers[i]);
        }
      /* Let them run a while on the open pool, then close under them */
      while (g_atomic_int_get (&racers[0].calls) < TORTURE_MISUSE_CALLS / 4)
        g_thread_yield ();
      closed = FALSE;
      tp_pool_close_async (pool, TP_CLOSE_DRAIN, NULL, close_succeeded_cb, &closed);
      tp_test_wait_flag (&closed);
      for (guint i = 0; i < G_N_ELEMENTS (racers); i++)
        {
          g_atomic_int_set (&racers[i].stop, TRUE);
          g_thread_join (threads[i]);
        }
      /* And on the closed pool, from this thread */
      tp_pool_pause (pool);
      tp_pool_resume (pool);
      g_atomic_int_set (&misuse_counting, FALSE);
      g_assert_true (tp_pool_get_closed (pool));
    }

  criticals = g_atomic_int_get (&misuse_criticals);
  g_mutex_lock (&misuse_lock);
  first = g_steal_pointer (&misuse_first);
  g_mutex_unlock (&misuse_lock);
  g_atomic_int_set (&misuse_criticals, 0);
  if (criticals > 0)
    g_test_fail_printf ("pause()/resume() racing close emitted %d criticals, the first: %s",
                        criticals, first);
}

typedef struct {
  int       callbacks;
  GError   *error;
} UnstartedScale;

static void
unstarted_scale_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  UnstartedScale *scale = user_data;

  tp_pool_scale_finish (TP_POOL (source), result, scale->error == NULL ? &scale->error : NULL);
  scale->callbacks++;
}

static gboolean
bounded_wait_timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the default context until *counter reaches @target, or for at
 * most @seconds: a watchdog for what may never come, not a measure */
static gboolean
bounded_wait (const int *counter,
              int        target,
              guint      seconds)
{
  gboolean timed_out = FALSE;
  GSource *timeout = g_timeout_source_new_seconds (seconds);

  g_source_set_callback (timeout, bounded_wait_timeout_cb, &timed_out, NULL);
  g_source_attach (timeout, NULL);
  while (*counter < target && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_source_destroy (timeout);
  g_source_unref (timeout);
  return *counter >= target;
}

static void
pool_gone_cb (gpointer  data,
              GObject  *where_the_object_was)
{
  g_atomic_int_inc ((int *) data);
}

static void
test_misuse_scale_async_unstarted (void)
{
  g_test_summary ("scale_async() on a pool of each kind that is never started calls back "
                  "once with TP_POOL_ERROR_NOT_ACCEPTING, so that the pool, dropped with the "
                  "call pending, is finalized");

  for (guint i = 0; i < G_N_ELEMENTS (torture_cases); i++)
    {
      UnstartedScale scale = { 0 };
      TpPool *pool = tp_pool_new (torture_cases[i].kind, NULL);
      int gone = 0;

      g_assert_nonnull (pool);
      g_object_weak_ref (G_OBJECT (pool), pool_gone_cb, &gone);
      tp_pool_scale_async (pool, 1, NULL, unstarted_scale_cb, &scale);

      /* Dropped with its waiter pending, or completed */
      g_object_unref (pool);
      bounded_wait (&scale.callbacks, 1, 2);
      bounded_wait (&gone, 1, 2);
      if (scale.callbacks != 1 || !gone ||
          !g_error_matches (scale.error, TP_POOL_ERROR, TP_POOL_ERROR_NOT_ACCEPTING))
        g_test_fail_printf ("%s: scale_async() on a pool never started, then dropped: "
                            "%d callbacks (%s), the pool %s", torture_cases[i].kind,
                            scale.callbacks,
                            scale.error != NULL ? scale.error->message : "no error",
                            gone ? "finalized" : "still alive");
      g_clear_error (&scale.error);
      if (!gone)
        return;  /* leaked: the other kinds would only wait as long */
    }
}

/* }}} */

/* A refused job's data, when its submitter stops iterating {{{ */

typedef enum {
  REFUSED_PAUSED,
  REFUSED_CLOSED,
  REFUSED_UNSTARTED,
  REFUSED_CANCELLED,
  REFUSED_DISCARDED,
} Refusal;

typedef struct {
  const char *path;
  Refusal     how;
  int         code;   /* of TP_POOL_ERROR, or of G_IO_ERROR for REFUSED_CANCELLED */
} RefusalCase;

static const RefusalCase refusal_cases[] = {
  { "/torture/foreign-context/refused/paused",    REFUSED_PAUSED,    TP_POOL_ERROR_NOT_ACCEPTING },
  { "/torture/foreign-context/refused/closed",    REFUSED_CLOSED,    TP_POOL_ERROR_NOT_ACCEPTING },
  { "/torture/foreign-context/refused/unstarted", REFUSED_UNSTARTED, TP_POOL_ERROR_NOT_ACCEPTING },
  { "/torture/foreign-context/refused/cancelled", REFUSED_CANCELLED, G_IO_ERROR_CANCELLED },
  { "/torture/foreign-context/refused/discarded", REFUSED_DISCARDED, TP_POOL_ERROR_CLOSED },
};

typedef struct {
  TpPool  *pool;
  Refusal  how;
  int      submitted;
  int      callbacks;
  int      destroyed;
  int      done;
  GError  *error;
} Foreign;

static void
foreign_job (GTask        *task,
             gpointer      pool,
             gpointer      job_data,
             GCancellable *cancellable)
{
  g_task_return_pointer (task, g_strdup ("ran"), g_free);
}

static void
foreign_job_free (gpointer data)
{
  Foreign *foreign = data;

  g_atomic_int_inc (&foreign->destroyed);
  g_main_context_wakeup (NULL);
}

static void
foreign_done_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Foreign *foreign = user_data;
  g_autofree char *value = tp_pool_submit_finish (TP_POOL (source), result, &foreign->error);

  g_assert_null (value);
  g_atomic_int_inc (&foreign->callbacks);
}

/* A submitter on a thread of its own: it submits, iterates its context
 * until its callback ran, then lets the context go and ends */
static gpointer
foreign_thread (gpointer data)
{
  Foreign *foreign = data;
  GMainContext *context = g_main_context_new ();
  g_autoptr(GCancellable) cancellable = NULL;

  if (foreign->how == REFUSED_CANCELLED)
    {
      cancellable = g_cancellable_new ();
      g_cancellable_cancel (cancellable);
    }

  g_main_context_push_thread_default (context);
  tp_pool_submit_async (foreign->pool, foreign_job, foreign, foreign_job_free, cancellable,
                        foreign_done_cb, foreign);
  g_atomic_int_set (&foreign->submitted, TRUE);
  g_main_context_wakeup (NULL);
  while (!g_atomic_int_get (&foreign->callbacks))
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);

  g_atomic_int_set (&foreign->done, TRUE);
  g_main_context_wakeup (NULL);
  return NULL;
}

static void
test_refused_foreign (gconstpointer data)
{
  const RefusalCase *config = data;
  Foreign foreign = { NULL, config->how, 0, 0, 0, 0, NULL };
  GQuark domain = config->how == REFUSED_CANCELLED ? G_IO_ERROR : TP_POOL_ERROR;
  gboolean closed = FALSE;
  GThread *thread;
  int gone = 0;

  g_test_summary ("A submission refused, cancelled or discarded before it ran, from a thread "
                  "whose context is not the pool's and which stops iterating it once it is "
                  "called back: its job_data_destroy runs by then all the same, and the pool, "
                  "dropped, is finalized");

  foreign.pool = tp_pool_new ("fixed-simple", NULL);
  g_assert_nonnull (foreign.pool);
  g_object_weak_ref (G_OBJECT (foreign.pool), pool_gone_cb, &gone);
  if (config->how != REFUSED_UNSTARTED)
    g_assert_true (tp_pool_start (foreign.pool, NULL));
  if (config->how == REFUSED_PAUSED)
    tp_pool_pause (foreign.pool);
  else if (config->how == REFUSED_CLOSED)
    {
      tp_pool_close_async (foreign.pool, TP_CLOSE_DRAIN, NULL, close_succeeded_cb, &closed);
      tp_test_wait_flag (&closed);
    }
  else if (config->how == REFUSED_DISCARDED)
    g_assert_cmpint (tp_pool_scale (foreign.pool, -3), ==, 0);  /* the job stays queued */

  thread = g_thread_new ("torture-foreign", foreign_thread, &foreign);
  if (config->how == REFUSED_DISCARDED)
    {
      tp_test_wait_flag (&foreign.submitted);
      tp_pool_close_async (foreign.pool, TP_CLOSE_DISCARD_QUEUED, NULL, close_succeeded_cb,
                           &closed);
    }
  tp_test_wait_flag (&foreign.done);
  g_thread_join (thread);
  if (config->how == REFUSED_DISCARDED)
    tp_test_wait_flag (&closed);

  g_assert_cmpint (foreign.callbacks, ==, 1);
  g_assert_error (foreign.error, domain, config->code);
  g_clear_error (&foreign.error);

  /* Nothing is left to iterate on the submitter's side: its data goes at
   * once, or never (a bound, not a measure) */
  g_object_unref (foreign.pool);
  bounded_wait (&gone, 1, 2);
  if (g_atomic_int_get (&foreign.destroyed) != 1 || !gone)
    g_test_message ("the refused job's data was destroyed %d times, and the pool %s, once "
                    "its submitter, called back, let its context go",
                    g_atomic_int_get (&foreign.destroyed), gone ? "finalized" : "leaked");
  g_assert_cmpint (g_atomic_int_get (&foreign.destroyed), ==, 1);
  g_assert_true (gone);
}

/* }}} */

/* The watchdog {{{ */

static void
watchdog_report (gpointer data)
{
  Round *round = data;
  guint shown = 0;

  g_printerr ("Bail out! torture watchdog: nothing happened for %u s in round %u of %s "
              "(ending %s%s, %s pool thread, executor %s, cap %u, queue-capacity %u): "
              "%d submissions, %d callbacks, %d job_data_destroy, %d of %d waiters called "
              "back, %d of %u producers done, pool %s\n",
              torture_watchdog_s, round->index, round->config->kind,
              ending_names[round->ending], round->unstarted ? ", never started" : "",
              round->own_pool_thread ? "its own" : "the main", round->executor, round->cap,
              round->capacity, g_atomic_int_get (&round->n_subs),
              g_atomic_int_get (&round->n_callbacks), g_atomic_int_get (&round->n_destroys),
              g_atomic_int_get (&round->n_waiter_callbacks), g_atomic_int_get (&round->n_waiters),
              g_atomic_int_get (&round->producers_done), round->n_producers,
              g_atomic_int_get (&round->pool_disposed) ? "finalized" : "alive");

  /* Not waiting for a lock that a stuck thread may hold */
  if (!g_mutex_trylock (&round->lock))
    return;
  for (guint i = 0; i < round->subs->len && shown < TORTURE_MAX_REPORTED; i++)
    {
      Submission *sub = round->subs->pdata[i];

      if (g_atomic_int_get (&sub->callbacks) == 1 && g_atomic_int_get (&sub->destroys) == 1)
        continue;
      g_printerr ("#   submission %u (%s %s job%s%s%s%s, from %s%s): %d callbacks, %d destroys, "
                  "started %d times, outcome %s\n", sub->id, sub->in_thread ? "thread" : "async",
                  mode_names[sub->mode], sub->no_wait ? ", no-wait" : "",
                  sub->has_cancellable ? ", cancellable" : "",
                  sub->pre_cancelled ? " (pre-cancelled)" : "",
                  sub->after_close ? ", after close" : "", sub->home->name,
                  sub->parent != 0 ? ", re-entrant" : "", g_atomic_int_get (&sub->callbacks),
                  g_atomic_int_get (&sub->destroys), g_atomic_int_get (&sub->started),
                  outcome_names[g_atomic_int_get (&sub->outcome)]);
      shown++;
    }
  for (guint i = 0; i < round->waiters->len && shown < TORTURE_MAX_REPORTED; i++)
    {
      Waiter *waiter = round->waiters->pdata[i];

      if (g_atomic_int_get (&waiter->callbacks) == 1)
        continue;
      g_printerr ("#   %s by %s: no callback\n", waiter_names[waiter->kind], waiter->by);
      shown++;
    }
  g_mutex_unlock (&round->lock);
}


/* }}} */

int
main (int   argc,
      char *argv[])
{
  int status;

  /* Before anything logs */
  g_log_set_writer_func (misuse_log_writer, NULL, NULL);
  g_test_init (&argc, &argv, NULL);

  torture_rounds = stress_env_uint ("TP_TORTURE_ROUNDS", TORTURE_DEFAULT_ROUNDS, 0);
  torture_watchdog_s = stress_env_uint ("TP_TORTURE_WATCHDOG", TORTURE_DEFAULT_WATCHDOG, 1);

  g_log_set_handler ("TaskPool", G_LOG_LEVEL_CRITICAL | G_LOG_FLAG_FATAL, misuse_log_handler,
                     NULL);

  for (guint i = 0; i < G_N_ELEMENTS (torture_cases); i++)
    g_test_add_data_func (torture_cases[i].path, &torture_cases[i], test_torture);
  for (guint i = 0; i < G_N_ELEMENTS (refusal_cases); i++)
    g_test_add_data_func (refusal_cases[i].path, &refusal_cases[i], test_refused_foreign);
  g_test_add_func ("/torture/misuse/pause-racing-close", test_misuse_pause_racing_close);
  g_test_add_func ("/torture/misuse/scale-async-unstarted", test_misuse_scale_async_unstarted);

  stress_watchdog_start ("torture", torture_watchdog_s, watchdog_report);
  status = g_test_run ();

  stress_watchdog_stop ();
  return status;
}

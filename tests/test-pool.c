/* test-pool.c: TpPool's life cycle, submissions, scaling, closing and exactly-once
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "tp-test-util.h"
#include "tp-pool-private.h"

static const char * const kinds[] = {
  "fixed-simple", "fixed-lifo", "fixed-priority",
  "autoscale-simple", "autoscale-lifo", "autoscale-priority",
};

/* Every submission's callback and job_data_destroy ran exactly once */
static void
assert_exactly_once (TpTestLog *log,
                     guint      submitted)
{
  tp_test_wait_count (&log->callbacks, submitted);
  tp_test_wait_count (&log->destroyed, submitted);
  /* Nothing more arrives later */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (log->callbacks, ==, submitted);
  g_assert_cmpuint (log->destroyed, ==, submitted);
  g_assert_cmpuint (log->done + log->failed + log->cancelled + log->full + log->not_accepting +
                    log->closed + log->lost, ==, submitted);
}

static TpPool *
pool_of_three (const char *kind)
{
  /* max-size 3 keeps an autoscale pool at three */
  return tp_test_pool_new (kind, "kind", kind, "max-size", 3, NULL);
}

/* The seed's examples {{{ */

static void
test_seed_await_submit (gconstpointer data)
{
  const char *kind = data;
  g_autoptr(TpPool) pool = tp_test_pool_new (kind, "kind", kind, NULL);
  TpTestLog log;
  TpTestJob *job;

  g_test_summary ("The seed's first example: an async job that completes later returns "
                  "\"ok:e\" through submit_finish; then scale(3) and scale(-3)");
  tp_test_log_init (&log);

  g_assert_cmpuint (tp_pool_get_size (pool), ==, 3);
  job = tp_test_submit (pool, &log, "e", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 1);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 1);
  tp_test_release (job);
  assert_exactly_once (&log, 1);
  g_assert_cmpuint (log.done, ==, 1);
  g_assert_cmpstr (log.results->pdata[0], ==, "ok:e");

  g_assert_cmpint (tp_pool_scale (pool, 3), ==, 6);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 6);
  g_assert_cmpint (tp_pool_scale (pool, -3), ==, 3);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 3);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_seed_four_on_three (gconstpointer data)
{
  const char *kind = data;
  const char *names[] = { "c", "b", "a", "d" };
  g_autoptr(TpPool) pool = pool_of_three (kind);
  TpTestJob *jobs[4];
  TpTestLog log;

  g_test_summary ("The seed's second example: four async jobs on a pool of three never run "
                  "more than three at once, and the fourth starts when one ends");
  tp_test_log_init (&log);

  for (guint i = 0; i < 4; i++)
    jobs[i] = tp_test_submit (pool, &log, names[i], TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 3);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (log.started, ==, 3);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 3);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 1);

  /* Release the started ones (c b a); the waiting one (d) then starts */
  for (guint i = 0; i < 3; i++)
    tp_test_release (jobs[i]);
  tp_test_wait_count (&log.started, 4);
  tp_test_release (jobs[3]);
  g_assert_cmpuint (log.peak, ==, 3);
  assert_exactly_once (&log, 4);
  g_assert_cmpuint (log.done, ==, 4);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_seed_thread_jobs (gconstpointer data)
{
  const char *kind = data;
  g_autoptr(TpPool) pool = pool_of_three (kind);
  TpTestLog log;

  g_test_summary ("The seed's thread example: four blocking jobs run on worker threads, "
                  "at most three at once, and all results arrive");
  tp_test_log_init (&log);

  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *name = g_strdup_printf ("t%u", i);

      tp_test_submit (pool, &log, name, TP_TEST_JOB_SLEEP, TP_SUBMIT_IN_THREAD, 4, NULL);
    }
  assert_exactly_once (&log, 4);
  g_assert_cmpuint (log.done, ==, 4);
  g_assert_cmpuint (log.peak, <=, 3);
  g_assert_cmpuint (log.peak, >=, 1);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_seed_start_close (gconstpointer data)
{
  const char *kind = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = tp_pool_new (kind, &error);
  TpTestLog log;

  g_test_summary ("The seed's third example: start and close manage the life cycle; "
                  "before start and after close, submissions are refused");
  g_assert_no_error (error);
  tp_test_log_init (&log);

  /* Before start, the size it will start with */
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 3);
  tp_test_submit (pool, &log, "early", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  assert_exactly_once (&log, 1);
  g_assert_cmpuint (log.not_accepting, ==, 1);

  g_assert_true (tp_pool_start (pool, &error));
  g_assert_true (tp_pool_start (pool, &error));  /* starting twice is harmless */
  g_assert_no_error (error);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 3);
  g_assert_false (tp_pool_get_closed (pool));

  tp_test_submit (pool, &log, "e", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  assert_exactly_once (&log, 2);
  g_assert_cmpuint (log.done, ==, 1);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_submit (pool, &log, "late", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  assert_exactly_once (&log, 3);
  g_assert_cmpuint (log.not_accepting, ==, 2);

  g_assert_false (tp_pool_start (pool, &error));
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CLOSED);
  tp_test_log_clear (&log);
}

/* }}} */

/* Concurrency, capacity, pause {{{ */

static void
test_bound_mixed (gconstpointer data)
{
  const char *kind = data;
  g_autoptr(TpPool) pool = pool_of_three (kind);
  const guint n_jobs = 60;
  TpTestLog log;

  g_test_summary ("Async and thread jobs together never exceed the pool size, counted in "
                  "the jobs themselves");
  tp_test_log_init (&log);

  for (guint i = 0; i < n_jobs; i++)
    {
      g_autofree char *name = g_strdup_printf ("j%u", i);
      TpTestJob *job = tp_test_job_new (&log, name, TP_TEST_JOB_SLEEP);

      job->sleep_ms = 1;
      tp_pool_submit_full_async (pool, i % 2 ? TP_SUBMIT_IN_THREAD : TP_SUBMIT_DEFAULT,
                                 g_test_rand_int_range (0, 10), tp_test_job_func, job,
                                 tp_test_job_free, NULL, tp_test_job_done_cb, &log);
    }
  assert_exactly_once (&log, n_jobs);
  g_assert_cmpuint (log.done, ==, n_jobs);
  g_assert_cmpuint (log.peak, <=, 3);
  g_assert_cmpuint (tp_pool_get_completed (pool), ==, n_jobs);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_capacity (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple",
                                             "size", 1, "queue-capacity", 2, NULL);
  TpTestJob *first;
  TpTestLog log;

  g_test_summary ("A full queue makes submissions wait for room in submission order, or "
                  "fail at once with TP_POOL_ERROR_FULL given TP_SUBMIT_NO_WAIT");
  tp_test_log_init (&log);

  first = tp_test_submit (pool, &log, "run", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "q1", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "q2", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "w1", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "w2", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "nowait", TP_TEST_JOB_RETURN, TP_SUBMIT_NO_WAIT, 4, NULL);

  tp_test_wait_count (&log.callbacks, 1);
  tp_test_wait_count (&log.started, 1);
  g_assert_cmpuint (log.full, ==, 1);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 1);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 2);
  g_assert_cmpuint (tp_pool_get_backlog (pool), ==, 2);
  g_assert_cmpuint (tp_pool_get_queue_capacity (pool), ==, 2);

  tp_test_release (first);
  assert_exactly_once (&log, 6);
  g_assert_cmpuint (log.done, ==, 5);
  {
    g_autofree char *order = tp_test_log_order (&log);
    g_assert_cmpstr (order, ==, "run q1 q2 w1 w2");
  }
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_pause_resume (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple",
                                             "size", 1, NULL);
  TpTestJob *held;
  TpTestLog log;

  g_test_summary ("A paused pool refuses submissions with TP_POOL_ERROR_NOT_ACCEPTING while "
                  "its queued and running jobs go on; resume accepts again");
  tp_test_log_init (&log);

  held = tp_test_submit (pool, &log, "running", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "queued", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_pool_pause (pool);
  g_assert_true (tp_pool_get_paused (pool));
  tp_pool_pause (pool);  /* twice is harmless */
  tp_test_submit (pool, &log, "refused", TP_TEST_JOB_RETURN, TP_SUBMIT_IN_THREAD, 4, NULL);
  tp_test_wait_count (&log.callbacks, 1);
  g_assert_cmpuint (log.not_accepting, ==, 1);

  tp_test_wait_count (&log.started, 1);
  tp_test_release (held);
  tp_test_wait_count (&log.done, 2);

  tp_pool_resume (pool);
  g_assert_false (tp_pool_get_paused (pool));
  tp_test_submit (pool, &log, "after", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  assert_exactly_once (&log, 4);
  g_assert_cmpuint (log.done, ==, 3);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_pause_not_started (void)
{
  g_autoptr(TpPool) pool = tp_pool_new ("fixed-simple", NULL);

  g_test_summary ("Pausing or resuming a pool that is not running is a programming error "
                  "reported with a critical, not a crash");
  g_test_expect_message ("TaskPool", G_LOG_LEVEL_CRITICAL, "*not started*");
  tp_pool_pause (pool);
  g_test_assert_expected_messages ();
  g_test_expect_message ("TaskPool", G_LOG_LEVEL_CRITICAL, "*not started*");
  tp_pool_resume (pool);
  g_test_assert_expected_messages ();
  g_assert_false (tp_pool_get_paused (pool));
}

/* }}} */

/* Cancellation {{{ */

static void
test_cancel_queued (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple",
                                             "size", 1, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GCancellable) already = g_cancellable_new ();
  TpTestJob *held;
  TpTestLog log;

  g_test_summary ("Cancelling a queued job removes it at once and completes it with "
                  "G_IO_ERROR_CANCELLED; it never starts");
  tp_test_log_init (&log);

  held = tp_test_submit (pool, &log, "running", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "victim", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, cancellable);
  tp_test_submit (pool, &log, "other", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  g_cancellable_cancel (already);
  tp_test_submit (pool, &log, "stillborn", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, already);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 2);
  tp_test_wait_count (&log.started, 1);

  g_cancellable_cancel (cancellable);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 1);
  tp_test_wait_count (&log.cancelled, 2);

  tp_test_release (held);
  assert_exactly_once (&log, 4);
  {
    g_autofree char *order = tp_test_log_order (&log);
    g_assert_cmpstr (order, ==, "running other");
  }
  g_assert_cmpuint (log.cancelled, ==, 2);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_cancel_running (gconstpointer data)
{
  TpSubmitFlags flags = GPOINTER_TO_UINT (data);
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple",
                                             "size", 1, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  TpTestLog log;

  g_test_summary ("A running job sees its cancellable cancelled and decides how to end");
  tp_test_log_init (&log);

  tp_test_submit (pool, &log, "job", TP_TEST_JOB_WAIT_CANCEL, flags, 4, cancellable);
  tp_test_wait_count (&log.started, 1);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 1);
  g_cancellable_cancel (cancellable);
  assert_exactly_once (&log, 1);
  g_assert_cmpuint (log.cancelled, ==, 1);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 0);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

/* }}} */

/* Closing {{{ */

typedef struct {
  TpPool    *pool;
  TpTestLog  log;
  TpTestJob *held[2];
} CloseFixture;

/* Two jobs running (held), three queued, two waiting for room */
static void
close_fixture_set_up (CloseFixture  *fixture,
                      gconstpointer  data)
{
  tp_test_log_init (&fixture->log);
  fixture->pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 2,
                                    "queue-capacity", 3, NULL);
  for (guint i = 0; i < 2; i++)
    fixture->held[i] = tp_test_submit (fixture->pool, &fixture->log, "held", TP_TEST_JOB_HOLD,
                                       TP_SUBMIT_DEFAULT, 4, NULL);
  for (guint i = 0; i < 5; i++)
    tp_test_submit (fixture->pool, &fixture->log, "queued", TP_TEST_JOB_RETURN,
                    i % 2 ? TP_SUBMIT_IN_THREAD : TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&fixture->log.started, 2);
  g_assert_cmpuint (tp_pool_get_running (fixture->pool), ==, 2);
  g_assert_cmpuint (tp_pool_get_waiting (fixture->pool), ==, 3);
  g_assert_cmpuint (tp_pool_get_backlog (fixture->pool), ==, 2);
}

static void
close_fixture_tear_down (CloseFixture  *fixture,
                         gconstpointer  data)
{
  g_clear_object (&fixture->pool);
  tp_test_log_clear (&fixture->log);
}

static void
close_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (tp_pool_close_finish (TP_POOL (source), result, &error));
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

static void
test_close_drain (CloseFixture  *fixture,
                  gconstpointer  data)
{
  gboolean closed = FALSE;

  g_test_summary ("Closing drains by default: every queued job runs, then close completes");
  tp_pool_close_async (fixture->pool, TP_CLOSE_DRAIN, NULL, close_done_cb, &closed);
  g_assert_true (tp_pool_get_closed (fixture->pool));
  tp_test_submit (fixture->pool, &fixture->log, "late", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4,
                  NULL);
  tp_test_wait_count (&fixture->log.not_accepting, 1);
  g_assert_false (closed);

  tp_test_release (fixture->held[0]);
  tp_test_release (fixture->held[1]);
  tp_test_wait_flag (&closed);
  assert_exactly_once (&fixture->log, 8);
  g_assert_cmpuint (fixture->log.done, ==, 7);
  g_assert_cmpuint (fixture->log.not_accepting, ==, 1);
  g_assert_cmpuint (tp_pool_get_size (fixture->pool), ==, 0);
}

static void
test_close_discard (CloseFixture  *fixture,
                    gconstpointer  data)
{
  TpCloseFlags flags = GPOINTER_TO_UINT (data);
  gboolean closed = FALSE;

  g_test_summary ("TP_CLOSE_DISCARD_QUEUED, and TP_CLOSE_CANCEL_RUNNING which implies it, "
                  "complete queued and waiting jobs with TP_POOL_ERROR_CLOSED; running jobs "
                  "that ignore their cancellable still finish before close completes");
  tp_pool_close_async (fixture->pool, flags, NULL, close_done_cb, &closed);
  tp_test_wait_count (&fixture->log.closed, 5);
  g_assert_false (closed);
  tp_test_release (fixture->held[0]);
  tp_test_release (fixture->held[1]);
  tp_test_wait_flag (&closed);
  assert_exactly_once (&fixture->log, 7);
  g_assert_cmpuint (fixture->log.done, ==, 2);
  g_assert_cmpuint (fixture->log.closed, ==, 5);
}

static void
test_close_cancel_running (void)
{
  TpPool *pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 2, NULL);
  g_autoptr(GCancellable) own = g_cancellable_new ();
  gboolean drained = FALSE;
  gboolean cancelled = FALSE;
  TpTestLog log;

  g_test_summary ("Escalating a draining close to TP_CLOSE_CANCEL_RUNNING cancels the running "
                  "jobs' cancellables, theirs or the pool's, and both closes complete");
  tp_test_log_init (&log);
  tp_test_submit (pool, &log, "a", TP_TEST_JOB_WAIT_CANCEL, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "b", TP_TEST_JOB_WAIT_CANCEL, TP_SUBMIT_IN_THREAD, 4, own);
  tp_test_submit (pool, &log, "c", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 2);

  tp_pool_close_async (pool, TP_CLOSE_DRAIN, NULL, close_done_cb, &drained);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_false (drained);
  tp_pool_close_async (pool, TP_CLOSE_CANCEL_RUNNING, NULL, close_done_cb, &cancelled);
  g_object_unref (pool);  /* the jobs and closes keep it alive */
  tp_test_wait_flag (&cancelled);
  tp_test_wait_flag (&drained);
  assert_exactly_once (&log, 3);
  g_assert_true (g_cancellable_is_cancelled (own));
  g_assert_cmpuint (log.cancelled, ==, 2);
  g_assert_cmpuint (log.closed, ==, 1);
  tp_test_log_clear (&log);
}

/* What a close or a wait for idle saw when it called back */
typedef struct {
  TpTestLog *log;
  guint      callbacks;   /* the jobs' callbacks that had run */
  gboolean   done;
} Waited;

static void
waited_close_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Waited *waited = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (tp_pool_close_finish (TP_POOL (source), result, &error));
  g_assert_no_error (error);
  waited->callbacks = g_atomic_int_get (&waited->log->callbacks);
  waited->done = TRUE;
}

static void
waited_idle_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Waited *waited = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (tp_pool_wait_idle_finish (TP_POOL (source), result, &error));
  g_assert_no_error (error);
  waited->callbacks = g_atomic_int_get (&waited->log->callbacks);
  waited->done = TRUE;
}

typedef enum {
  AFTER_DRAIN_THREAD,     /* thread jobs, drained */
  AFTER_DRAIN_ASYNC,      /* async jobs completing from a timeout, drained */
  AFTER_DISCARD,          /* queued jobs discarded, running ones completing later */
  AFTER_CANCEL_RUNNING,   /* running jobs that end on their cancel, in and out of threads */
  AFTER_IDLE_THREAD,      /* wait_idle after thread jobs */
} AfterCase;

static void
test_waiters_after_callbacks (gconstpointer data)
{
  AfterCase which = GPOINTER_TO_UINT (data);
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 2,
                                             NULL);
  const guint n_jobs = 40;
  Waited waited = { 0 };
  TpTestLog log;

  g_test_summary ("A close or a wait for idle calls back after the callbacks of every job "
                  "submitted from its context, whatever way the jobs end");
  tp_test_log_init (&log);
  waited.log = &log;

  for (guint i = 0; i < n_jobs; i++)
    {
      g_autofree char *name = g_strdup_printf ("j%u", i);
      TpTestJob *job;

      switch (which)
        {
        case AFTER_DRAIN_THREAD:
        case AFTER_IDLE_THREAD:
          tp_test_submit (pool, &log, name, TP_TEST_JOB_RETURN, TP_SUBMIT_IN_THREAD, 0, NULL);
          break;
        case AFTER_DRAIN_ASYNC:
          job = tp_test_submit (pool, &log, name, TP_TEST_JOB_SLEEP, TP_SUBMIT_DEFAULT, 0, NULL);
          job->sleep_ms = 1;
          break;
        case AFTER_DISCARD:
        case AFTER_CANCEL_RUNNING:
          tp_test_submit (pool, &log, name, TP_TEST_JOB_WAIT_CANCEL,
                          i % 2 ? TP_SUBMIT_IN_THREAD : TP_SUBMIT_DEFAULT, 0, NULL);
          break;
        default:
          g_assert_not_reached ();
        }
    }

  switch (which)
    {
    case AFTER_IDLE_THREAD:
      tp_pool_wait_idle_async (pool, NULL, waited_idle_cb, &waited);
      break;
    case AFTER_DISCARD:
      tp_test_wait_count (&log.started, 2);
      tp_pool_close_async (pool, TP_CLOSE_DISCARD_QUEUED, NULL, waited_close_cb, &waited);
      tp_pool_close_async (pool, TP_CLOSE_CANCEL_RUNNING, NULL, NULL, NULL);
      break;
    case AFTER_CANCEL_RUNNING:
      tp_test_wait_count (&log.started, 2);
      tp_pool_close_async (pool, TP_CLOSE_CANCEL_RUNNING, NULL, waited_close_cb, &waited);
      break;
    default:
      tp_pool_close_async (pool, TP_CLOSE_DRAIN, NULL, waited_close_cb, &waited);
      break;
    }
  tp_test_wait_flag (&waited.done);
  g_assert_cmpuint (waited.callbacks, ==, n_jobs);
  tp_test_wait_count (&log.destroyed, n_jobs);
  g_assert_cmpuint (log.callbacks, ==, n_jobs);
  if (which == AFTER_IDLE_THREAD)
    tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_close_not_started (void)
{
  g_autoptr(TpPool) pool = tp_pool_new (NULL, NULL);
  gboolean closed = FALSE;

  g_test_summary ("Closing a pool that never started completes at once");
  g_assert_cmpstr (tp_pool_get_kind (pool), ==, "fixed-simple");
  tp_pool_close_async (pool, TP_CLOSE_DRAIN, NULL, close_done_cb, &closed);
  tp_test_wait_flag (&closed);
  g_assert_true (tp_pool_get_closed (pool));
}

static void
test_close_drain_scaled_to_zero (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple",
                                             "size", 1, NULL);
  TpTestJob *held;
  TpTestLog log;

  g_test_summary ("A draining close of a pool scaled to zero keeps one worker, so it never "
                  "hangs with jobs queued");
  tp_test_log_init (&log);
  held = tp_test_submit (pool, &log, "held", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "queued", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 1);
  g_assert_cmpint (tp_pool_scale (pool, -1), ==, 0);
  tp_test_release (held);
  tp_test_wait_count (&log.callbacks, 1);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 0);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 1);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  assert_exactly_once (&log, 2);
  g_assert_cmpuint (log.done, ==, 2);
  tp_test_log_clear (&log);
}

/* }}} */

/* Exactly once on odd paths {{{ */

static void
test_job_lost (gconstpointer data)
{
  TpSubmitFlags flags = GPOINTER_TO_UINT (data);
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple",
                                             "size", 1, NULL);
  TpTestLog log;

  g_test_summary ("A job that drops its GTask without completing it ends with "
                  "TP_POOL_ERROR_JOB_LOST and frees its worker");
  tp_test_log_init (&log);

  tp_test_submit (pool, &log, "lost", TP_TEST_JOB_DROP, flags, 4, NULL);
  tp_test_submit (pool, &log, "next", TP_TEST_JOB_RETURN, flags, 4, NULL);
  assert_exactly_once (&log, 2);
  g_assert_cmpuint (log.lost, ==, 1);
  g_assert_cmpuint (log.done, ==, 1);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 0);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

/* What a thread job saw of its task, and what its callback saw */
typedef struct {
  GCancellable *cancel_first;  /* the job cancels it before it returns */
  gboolean      hook_in_job;
  gboolean      completed_in_job;
  gboolean      hook_in_callback;
  guint         callbacks;
} ThreadJobSeen;

static gboolean
task_has_hook (GTask *task)
{
  GQuark hook = g_quark_try_string ("tp-pool-job");

  return hook != 0 && g_object_get_qdata (G_OBJECT (task), hook) != NULL;
}

static void
look_at_task_job (GTask        *task,
                  gpointer      pool,
                  gpointer      job_data,
                  GCancellable *cancellable)
{
  ThreadJobSeen *seen = job_data;

  seen->hook_in_job = task_has_hook (task);
  if (seen->cancel_first != NULL)
    g_cancellable_cancel (seen->cancel_first);
  g_task_return_pointer (task, seen, NULL);
  seen->completed_in_job = g_task_get_completed (task);
}

static void
look_at_task_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  ThreadJobSeen *seen = user_data;
  GError *error = NULL;

  g_assert_true (tp_pool_submit_finish (TP_POOL (source), result, &error) == seen);
  g_assert_no_error (error);
  g_assert_true (g_task_get_completed (G_TASK (result)));
  seen->hook_in_callback = task_has_hook (G_TASK (result));
  seen->callbacks++;
}

typedef struct {
  TpPool        *pool;
  ThreadJobSeen  seen;
  gboolean       finished;
} OtherContextSubmitter;

static gpointer
other_context_submit_thread (gpointer data)
{
  OtherContextSubmitter *submitter = data;
  GMainContext *context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  tp_pool_submit_in_thread_async (submitter->pool, look_at_task_job, &submitter->seen, NULL,
                                  NULL, look_at_task_done, &submitter->seen);
  while (submitter->seen.callbacks == 0)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  g_atomic_int_set (&submitter->finished, TRUE);
  g_main_context_wakeup (NULL);
  return NULL;
}

/* The worker hooks a thread job to its task only when the job returned
 * without completing it (then the task's finalization reports it lost:
 * /pool/exactly-once/lost-thread) or when its outcome goes on to another
 * context, which calls back after the pool let go of the job. A job that
 * completes and is delivered on the pool's context is freed there, with
 * the reference to the pool it holds, and its task carries nothing of the
 * pool's. */
static void
test_thread_task_qdata (void)
{
  TpPool *pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 1, NULL);
  ThreadJobSeen seen = { NULL, TRUE, FALSE, TRUE, 0 };
  OtherContextSubmitter submitter = { pool, { NULL, TRUE, FALSE, FALSE, 0 }, FALSE };
  GThread *thread;

  g_test_summary ("A thread job that completes its task is hooked to it only when its "
                  "outcome goes on to another context, and its record goes with delivery");
  g_object_add_weak_pointer (G_OBJECT (pool), (gpointer *) &pool);
  tp_pool_submit_in_thread_async (pool, look_at_task_job, &seen, NULL, NULL,
                                  look_at_task_done, &seen);
  while (seen.callbacks == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (seen.hook_in_job);
  g_assert_false (seen.hook_in_callback);
  g_assert_cmpuint (seen.callbacks, ==, 1);

  thread = g_thread_new ("other-context", other_context_submit_thread, &submitter);
  while (!g_atomic_int_get (&submitter.finished))
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (thread);
  g_assert_false (submitter.seen.hook_in_job);
  g_assert_true (submitter.seen.hook_in_callback);
  g_assert_cmpuint (submitter.seen.callbacks, ==, 1);

  /* Every record that held the pool is gone */
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  g_object_unref (pool);
  g_assert_null (pool);
}

/* A thread job's task completes on its worker as the job returns its
 * result, without an idle there (the worker runs the job from a source of
 * its context); one whose cancellable was cancelled completes in an idle
 * after the job, and is delivered all the same, once */
static void
test_thread_completes_in_job (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple",
                                             "size", 1, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  ThreadJobSeen plain = { NULL, FALSE, FALSE, FALSE, 0 };
  ThreadJobSeen cancelled = { cancellable, FALSE, TRUE, FALSE, 0 };

  g_test_summary ("A thread job's task completes inside its job, unless it was cancelled");
  tp_pool_submit_in_thread_async (pool, look_at_task_job, &plain, NULL, NULL,
                                  look_at_task_done, &plain);
  tp_pool_submit_in_thread_async (pool, look_at_task_job, &cancelled, NULL, cancellable,
                                  look_at_task_done, &cancelled);
  while (plain.callbacks + cancelled.callbacks < 2)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (plain.completed_in_job);
  g_assert_false (cancelled.completed_in_job);
  g_assert_cmpuint (plain.callbacks, ==, 1);
  g_assert_cmpuint (cancelled.callbacks, ==, 1);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
}

/* Completes its task at once but keeps a reference, stored in job_data */
typedef struct {
  GTask *kept;
  guint  destroyed;
  guint  callbacks;
  GError *error;
} KeptTask;

static void
keep_and_return_job (GTask        *task,
                     gpointer      pool,
                     gpointer      job_data,
                     GCancellable *cancellable)
{
  KeptTask *kept = job_data;

  kept->kept = g_object_ref (task);
  g_task_return_pointer (task, NULL, NULL);
}

static void
kept_destroy (gpointer data)
{
  ((KeptTask *) data)->destroyed++;
}

static void
kept_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  KeptTask *kept = user_data;

  tp_pool_submit_finish (TP_POOL (source), result, &kept->error);
  kept->callbacks++;
}

static void
test_job_keeps_completed_task (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple",
                                             "size", 1, NULL);
  KeptTask kept = { NULL, };

  g_test_summary ("A job that completes at once but keeps its task past the pool's hold gets "
                  "one callback, no TP_POOL_ERROR_JOB_LOST when it drops the task later, and "
                  "its job_data_destroy once, when the task goes");

  tp_pool_submit_async (pool, keep_and_return_job, &kept, kept_destroy, NULL, kept_done_cb, &kept);
  tp_test_wait_count (&kept.callbacks, 1);
  g_assert_no_error (kept.error);
  g_assert_nonnull (kept.kept);
  g_assert_cmpuint (kept.destroyed, ==, 0);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 0);

  g_clear_object (&kept.kept);
  /* Anything a dropped task would post (a lost-job error) would run now */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (kept.callbacks, ==, 1);
  g_assert_cmpuint (kept.destroyed, ==, 1);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
}

static void
test_job_fails (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-priority", "kind", "fixed-priority", NULL);
  TpTestLog log;

  g_test_summary ("A job's own error reaches submit_finish unchanged");
  tp_test_log_init (&log);
  tp_test_submit (pool, &log, "a", TP_TEST_JOB_FAIL, TP_SUBMIT_DEFAULT, 1, NULL);
  tp_test_submit (pool, &log, "t", TP_TEST_JOB_FAIL, TP_SUBMIT_IN_THREAD, 1, NULL);
  assert_exactly_once (&log, 2);
  g_assert_cmpuint (log.failed, ==, 2);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static gpointer
complete_later_thread (gpointer data)
{
  GTask *task = data;

  g_task_return_pointer (task, g_strdup ("ok:from-thread"), g_free);
  g_object_unref (task);
  return NULL;
}

static void
complete_elsewhere_job (GTask        *task,
                        gpointer      pool,
                        gpointer      job_data,
                        GCancellable *cancellable)
{
  g_thread_unref (g_thread_new ("completer", complete_later_thread, g_object_ref (task)));
}

static void
test_complete_from_thread (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-lifo", "kind", "fixed-lifo", NULL);
  TpTestLog log;

  g_test_summary ("An async job may complete its task from another thread; the callback "
                  "still runs in the submitter's context");
  tp_test_log_init (&log);
  for (guint i = 0; i < 8; i++)
    {
      TpTestJob *job = tp_test_job_new (&log, "x", TP_TEST_JOB_RETURN);

      tp_pool_submit_async (pool, complete_elsewhere_job, job, tp_test_job_free, NULL,
                            tp_test_job_done_cb, &log);
    }
  assert_exactly_once (&log, 8);
  g_assert_cmpuint (log.done, ==, 8);
  g_assert_cmpstr (log.results->pdata[0], ==, "ok:from-thread");
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

/* A thread job that hands its task to another thread, which completes it
 * while the same worker runs the next job */
typedef enum {
  LATE_STARTED,
  LATE_NEXT_RUNNING,
  LATE_COMPLETED,
} LateStage;

typedef struct {
  GMutex    mutex;
  GCond     cond;
  LateStage stage;
  guint     callbacks;
  char     *late_result;
  char     *next_result;
} LateDuringNext;

static void
late_stage_set (LateDuringNext *late,
                LateStage       stage)
{
  g_mutex_lock (&late->mutex);
  late->stage = stage;
  g_cond_broadcast (&late->cond);
  g_mutex_unlock (&late->mutex);
}

static void
late_stage_wait (LateDuringNext *late,
                 LateStage       stage)
{
  g_mutex_lock (&late->mutex);
  while (late->stage != stage)
    g_cond_wait (&late->cond, &late->mutex);
  g_mutex_unlock (&late->mutex);
}

static LateDuringNext *late_during_next;

static gpointer
late_completer_thread (gpointer data)
{
  GTask *task = data;

  late_stage_wait (late_during_next, LATE_NEXT_RUNNING);
  g_task_return_pointer (task, g_strdup ("late"), g_free);
  g_object_unref (task);
  late_stage_set (late_during_next, LATE_COMPLETED);
  return NULL;
}

static void
late_handing_job (GTask        *task,
                  gpointer      pool,
                  gpointer      job_data,
                  GCancellable *cancellable)
{
  g_thread_unref (g_thread_new ("late-completer", late_completer_thread, g_object_ref (task)));
}

static void
late_next_job (GTask        *task,
               gpointer      pool,
               gpointer      job_data,
               GCancellable *cancellable)
{
  late_stage_set (late_during_next, LATE_NEXT_RUNNING);
  late_stage_wait (late_during_next, LATE_COMPLETED);
  g_task_return_pointer (task, g_strdup ("next"), g_free);
}

static void
late_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  char **where = user_data;
  GError *error = NULL;

  g_assert_null (*where);
  *where = tp_pool_submit_finish (TP_POOL (source), result, &error);
  g_assert_no_error (error);
  late_during_next->callbacks++;
}

/* The first job returns without completing its task; another thread
 * completes it while the same worker runs the second job, which completes
 * its own at once. The worker dispatches the late completion right after
 * the second job, although that one needed no idle: with no third job, it
 * would otherwise wait for the worker's thread to exit. */
static void
test_thread_late_during_next (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple",
                                             "size", 1, NULL);
  LateDuringNext late = { .stage = LATE_STARTED, };

  g_test_summary ("A thread job's task completed late, while its worker runs the next job, "
                  "is delivered once, after that job");
  g_mutex_init (&late.mutex);
  g_cond_init (&late.cond);
  late_during_next = &late;
  tp_pool_submit_in_thread_async (pool, late_handing_job, NULL, NULL, NULL, late_done_cb,
                                  &late.late_result);
  tp_pool_submit_in_thread_async (pool, late_next_job, NULL, NULL, NULL, late_done_cb,
                                  &late.next_result);
  while (late.callbacks < 2)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (late.late_result, ==, "late");
  g_assert_cmpstr (late.next_result, ==, "next");
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  g_assert_cmpuint (late.callbacks, ==, 2);
  late_during_next = NULL;
  g_free (late.late_result);
  g_free (late.next_result);
  g_cond_clear (&late.cond);
  g_mutex_clear (&late.mutex);
}

static void
test_released_in_flight (void)
{
  TpPool *pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", NULL);
  GWeakRef weak;
  TpTestLog log;

  g_test_summary ("A pool released while jobs are in flight stays alive until they complete");
  tp_test_log_init (&log);
  g_weak_ref_init (&weak, pool);
  for (guint i = 0; i < 10; i++)
    tp_test_submit (pool, &log, "j", TP_TEST_JOB_SLEEP, i % 2 ? TP_SUBMIT_IN_THREAD : 0, 4, NULL);
  g_object_unref (pool);
  assert_exactly_once (&log, 10);
  g_assert_cmpuint (log.done, ==, 10);
  /* The last task may be finalized on a worker thread just after its callback */
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
  tp_test_log_clear (&log);
}

static void
test_gtask_executor (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple",
                                             "executor", "gtask", "size", 2, NULL);
  TpTestLog log;

  g_test_summary ("The gtask executor runs thread jobs through g_task_run_in_thread() "
                  "within the pool's bound");
  tp_test_log_init (&log);
  g_assert_cmpstr (tp_pool_get_executor (pool), ==, "gtask");
  for (guint i = 0; i < 12; i++)
    tp_test_submit (pool, &log, "g", TP_TEST_JOB_SLEEP, TP_SUBMIT_IN_THREAD, 4, NULL);
  tp_test_submit (pool, &log, "lost", TP_TEST_JOB_DROP, TP_SUBMIT_IN_THREAD, 4, NULL);
  assert_exactly_once (&log, 13);
  g_assert_cmpuint (log.done, ==, 12);
  g_assert_cmpuint (log.lost, ==, 1);
  g_assert_cmpuint (log.peak, <=, 2);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

/* }}} */

/* Threads and contexts {{{ */

typedef struct {
  TpPool       *pool;
  GMainContext *context;
  GThread      *thread;
  TpTestLog     log;
  guint         wrong_context;
  guint         n_jobs;
  guint        *finished;
} Producer;

static void
producer_done_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Producer *producer = user_data;

  if (g_thread_self () != producer->thread || !g_main_context_is_owner (producer->context))
    producer->wrong_context++;
  tp_test_job_done_cb (source, result, &producer->log);
}

static gpointer
producer_thread (gpointer data)
{
  Producer *producer = data;

  producer->thread = g_thread_self ();
  g_main_context_push_thread_default (producer->context);
  for (guint i = 0; i < producer->n_jobs; i++)
    {
      TpTestJob *job = tp_test_job_new (&producer->log, "p", TP_TEST_JOB_SLEEP);

      job->sleep_ms = 1;
      tp_pool_submit_full_async (producer->pool, i % 3 ? TP_SUBMIT_IN_THREAD : 0, (int) i,
                                 tp_test_job_func, job, tp_test_job_free, NULL,
                                 producer_done_cb, producer);
    }
  while ((guint) g_atomic_int_get (&producer->log.callbacks) < producer->n_jobs ||
         (guint) g_atomic_int_get (&producer->log.destroyed) < producer->n_jobs)
    g_main_context_iteration (producer->context, TRUE);
  g_main_context_pop_thread_default (producer->context);
  g_atomic_int_inc (producer->finished);
  g_main_context_wakeup (NULL);
  return NULL;
}

static void
test_many_threads (gconstpointer data)
{
  const char *kind = data;
  g_autoptr(TpPool) pool = pool_of_three (kind);
  Producer producers[4];
  GThread *threads[4];
  guint finished = 0;
  guint peak = 0;

  g_test_summary ("Jobs submitted from several threads run within the bound, and each "
                  "callback runs in its own submitter's thread and context");
  for (guint i = 0; i < 4; i++)
    {
      producers[i].pool = pool;
      producers[i].context = g_main_context_new ();
      producers[i].wrong_context = 0;
      producers[i].n_jobs = 50;
      producers[i].finished = &finished;
      tp_test_log_init (&producers[i].log);
      producers[i].log.context = producers[i].context;
      threads[i] = g_thread_new ("producer", producer_thread, &producers[i]);
    }
  /* The pool's own context runs the async jobs; each producer wakes it when done */
  tp_test_wait_count (&finished, 4);
  for (guint i = 0; i < 4; i++)
    g_thread_join (threads[i]);
  for (guint i = 0; i < 4; i++)
    {
      g_assert_cmpuint (producers[i].wrong_context, ==, 0);
      g_assert_cmpuint (producers[i].log.callbacks, ==, 50);
      g_assert_cmpuint (producers[i].log.destroyed, ==, 50);
      g_assert_cmpuint (producers[i].log.done, ==, 50);
      peak = MAX (peak, producers[i].log.peak);
      tp_test_log_clear (&producers[i].log);
      g_main_context_unref (producers[i].context);
    }
  g_assert_cmpuint (peak, <=, 3);
  g_assert_cmpuint (tp_pool_get_submitted (pool), ==, 200);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
}

typedef struct {
  Producer      producer;
  GCancellable *cancellable;
  gint          submitted;
} NeverRan;

static gpointer
never_ran_thread (gpointer data)
{
  NeverRan *never = data;
  Producer *producer = &never->producer;

  producer->thread = g_thread_self ();
  g_main_context_push_thread_default (producer->context);
  for (guint i = 0; i < 3; i++)
    tp_pool_submit_async (producer->pool, tp_test_job_func,
                          tp_test_job_new (&producer->log, "never", TP_TEST_JOB_RETURN),
                          tp_test_job_free, i == 0 ? never->cancellable : NULL,
                          producer_done_cb, producer);
  g_atomic_int_set (&never->submitted, 1);
  g_main_context_wakeup (NULL);

  while ((guint) g_atomic_int_get (&producer->log.callbacks) < 3 ||
         (guint) g_atomic_int_get (&producer->log.destroyed) < 3)
    g_main_context_iteration (producer->context, TRUE);
  g_main_context_pop_thread_default (producer->context);
  return NULL;
}

static void
test_other_context_never_ran (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple",
                                             "size", 1, NULL);
  NeverRan never = { { NULL } };
  gboolean closed = FALSE;
  TpTestJob *held;
  GThread *thread;
  TpTestLog log;

  g_test_summary ("Async jobs submitted from another thread's context that are cancelled or "
                  "discarded, from a third thread, before they run call back exactly once on "
                  "their submitter's thread, and free their data once");
  tp_test_log_init (&log);
  never.producer.pool = pool;
  never.producer.context = g_main_context_new ();
  never.cancellable = g_cancellable_new ();
  tp_test_log_init (&never.producer.log);
  never.producer.log.context = never.producer.context;

  held = tp_test_submit (pool, &log, "held", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 1);
  thread = g_thread_new ("submitter", never_ran_thread, &never);
  tp_test_wait_flag (&never.submitted);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 3);

  g_cancellable_cancel (never.cancellable);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 2);
  tp_pool_close_async (pool, TP_CLOSE_DISCARD_QUEUED, NULL, close_done_cb, &closed);
  tp_test_release (held);
  tp_test_wait_flag (&closed);
  g_thread_join (thread);

  g_assert_cmpuint (never.producer.log.callbacks, ==, 3);
  g_assert_cmpuint (never.producer.log.destroyed, ==, 3);
  g_assert_cmpuint (never.producer.log.cancelled, ==, 1);
  g_assert_cmpuint (never.producer.log.closed, ==, 2);
  g_assert_cmpuint (never.producer.log.started, ==, 0);
  g_assert_cmpuint (never.producer.wrong_context, ==, 0);
  assert_exactly_once (&log, 1);
  g_assert_cmpuint (log.done, ==, 1);

  tp_test_log_clear (&never.producer.log);
  tp_test_log_clear (&log);
  g_main_context_unref (never.producer.context);
  g_object_unref (never.cancellable);
}

/* }}} */

/* Properties, notifications, idle {{{ */

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  GHashTable *counts = user_data;
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (counts, pspec->name));

  g_hash_table_insert (counts, (gpointer) pspec->name, GUINT_TO_POINTER (count + 1));
}

static guint
notify_count (GHashTable *counts,
              const char *name)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (counts, name));
}

static void
test_properties (void)
{
  g_autoptr(GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(TpPool) pool = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *kind = NULL;
  g_autofree char *executor = NULL;
  GMainContext *context = NULL;
  guint min_size, max_size, size, capacity;
  int weight;
  gboolean paused, closed;

  g_test_summary ("The contract's properties read back what was set, and notify fires on "
                  "the pool's context when size, paused and closed change");
  pool = g_initable_new (TP_TYPE_POOL, NULL, &error, "kind", "autoscale-priority",
                         "min-size", 2, "max-size", 5, "queue-capacity", 7,
                         "default-weight", 9, NULL);
  g_assert_no_error (error);
  g_signal_connect (pool, "notify", G_CALLBACK (count_notify_cb), counts);

  g_object_get (pool, "kind", &kind, "min-size", &min_size, "max-size", &max_size,
                "queue-capacity", &capacity, "default-weight", &weight, "executor", &executor,
                "main-context", &context, "size", &size, "paused", &paused, "closed", &closed,
                NULL);
  g_assert_cmpstr (kind, ==, "autoscale-priority");
  g_assert_cmpuint (min_size, ==, 2);
  g_assert_cmpuint (max_size, ==, 5);
  g_assert_cmpuint (capacity, ==, 7);
  g_assert_cmpint (weight, ==, 9);
  g_assert_cmpstr (executor, ==, "threads");
  g_assert_true (context == g_main_context_default ());
  g_assert_cmpuint (size, ==, 2);   /* before start: the size it starts with, min-size */
  g_assert_false (paused);
  g_assert_false (closed);
  g_main_context_unref (context);

  g_assert_true (tp_pool_start (pool, NULL));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (notify_count (counts, "size"), ==, 1);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 2);

  tp_pool_pause (pool);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (notify_count (counts, "paused"), ==, 1);
  tp_pool_resume (pool);
  tp_pool_pause (pool);
  tp_pool_resume (pool);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  /* Only a change notifies: paused ended FALSE again, after one notify for TRUE */
  g_assert_cmpuint (notify_count (counts, "paused"), ==, 2);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (notify_count (counts, "closed"), ==, 1);
  g_assert_cmpuint (notify_count (counts, "size"), ==, 2);
}

static void
idle_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_assert_true (tp_pool_wait_idle_finish (TP_POOL (source), result, NULL));
  *(gboolean *) user_data = TRUE;
}

static void
scale_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  *(int *) user_data = tp_pool_scale_finish (TP_POOL (source), result, &error);
  g_assert_no_error (error);
}

static void
test_wait_idle_and_scale_async (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple",
                                             "size", 2, NULL);
  TpTestJob *held[2];
  gboolean idle = FALSE;
  int scaled = -2;
  TpTestLog log;

  g_test_summary ("wait_idle completes when nothing runs or waits; scale_async when the "
                  "busy workers that retire have finished their jobs");
  tp_test_log_init (&log);
  held[0] = tp_test_submit (pool, &log, "a", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  held[1] = tp_test_submit (pool, &log, "b", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 2);

  tp_pool_wait_idle_async (pool, NULL, idle_done_cb, &idle);
  tp_pool_scale_async (pool, -2, NULL, scale_done_cb, &scaled);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_false (idle);
  g_assert_cmpint (scaled, ==, -2);
  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, 0);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 2);

  tp_test_release (held[0]);
  tp_test_wait_count (&log.callbacks, 1);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 1);
  g_assert_cmpint (scaled, ==, -2);
  tp_test_release (held[1]);
  tp_test_wait_flag (&idle);
  while (scaled == -2)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (scaled, ==, 0);
  assert_exactly_once (&log, 2);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_bad_construct (void)
{
  g_autoptr(GError) error = NULL;
  TpPool *pool;

  g_test_summary ("Invalid executors and sizes are TP_POOL_ERROR_CONFIG errors that name "
                  "the value and what is allowed");
  pool = g_initable_new (TP_TYPE_POOL, NULL, &error, "executor", "fibers", NULL);
  g_assert_null (pool);
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "fibers"));
  g_assert_nonnull (strstr (error->message, "threads"));
  g_clear_error (&error);

  pool = g_initable_new (TP_TYPE_POOL, NULL, &error, "kind", "autoscale-simple",
                         "min-size", 6, "max-size", 4, NULL);
  g_assert_null (pool);
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "min-size 6"));
  g_clear_error (&error);

  pool = tp_pool_new ("fixed", &error);
  g_assert_null (pool);
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "fixed-simple"));
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *p1 = g_strdup_printf ("/pool/%s/seed/await-submit", kinds[i]);
      g_autofree char *p2 = g_strdup_printf ("/pool/%s/seed/four-on-three", kinds[i]);
      g_autofree char *p3 = g_strdup_printf ("/pool/%s/seed/thread-jobs", kinds[i]);
      g_autofree char *p4 = g_strdup_printf ("/pool/%s/seed/start-close", kinds[i]);
      g_autofree char *p5 = g_strdup_printf ("/pool/%s/bound/mixed", kinds[i]);
      g_autofree char *p6 = g_strdup_printf ("/pool/%s/threads/producers", kinds[i]);

      g_test_add_data_func (p1, kinds[i], test_seed_await_submit);
      g_test_add_data_func (p2, kinds[i], test_seed_four_on_three);
      g_test_add_data_func (p3, kinds[i], test_seed_thread_jobs);
      g_test_add_data_func (p4, kinds[i], test_seed_start_close);
      g_test_add_data_func (p5, kinds[i], test_bound_mixed);
      g_test_add_data_func (p6, kinds[i], test_many_threads);
    }

  g_test_add_func ("/pool/submit/capacity", test_capacity);
  g_test_add_func ("/pool/pause/resume", test_pause_resume);
  g_test_add_func ("/pool/pause/not-started", test_pause_not_started);
  g_test_add_func ("/pool/cancel/queued", test_cancel_queued);
  g_test_add_data_func ("/pool/cancel/running-async", GUINT_TO_POINTER (TP_SUBMIT_DEFAULT),
                        test_cancel_running);
  g_test_add_data_func ("/pool/cancel/running-thread", GUINT_TO_POINTER (TP_SUBMIT_IN_THREAD),
                        test_cancel_running);
  g_test_add ("/pool/close/drain", CloseFixture, NULL, close_fixture_set_up, test_close_drain,
              close_fixture_tear_down);
  g_test_add ("/pool/close/discard-queued", CloseFixture,
              GUINT_TO_POINTER (TP_CLOSE_DISCARD_QUEUED), close_fixture_set_up,
              test_close_discard, close_fixture_tear_down);
  g_test_add ("/pool/close/cancel-running", CloseFixture,
              GUINT_TO_POINTER (TP_CLOSE_CANCEL_RUNNING), close_fixture_set_up,
              test_close_discard, close_fixture_tear_down);
  g_test_add_func ("/pool/close/cancel-running-jobs", test_close_cancel_running);
  g_test_add_data_func ("/pool/close/after-callbacks/drain-thread",
                        GUINT_TO_POINTER (AFTER_DRAIN_THREAD), test_waiters_after_callbacks);
  g_test_add_data_func ("/pool/close/after-callbacks/drain-async",
                        GUINT_TO_POINTER (AFTER_DRAIN_ASYNC), test_waiters_after_callbacks);
  g_test_add_data_func ("/pool/close/after-callbacks/discard",
                        GUINT_TO_POINTER (AFTER_DISCARD), test_waiters_after_callbacks);
  g_test_add_data_func ("/pool/close/after-callbacks/cancel-running",
                        GUINT_TO_POINTER (AFTER_CANCEL_RUNNING), test_waiters_after_callbacks);
  g_test_add_data_func ("/pool/wait-idle/after-callbacks",
                        GUINT_TO_POINTER (AFTER_IDLE_THREAD), test_waiters_after_callbacks);
  g_test_add_func ("/pool/close/not-started", test_close_not_started);
  g_test_add_func ("/pool/close/drain-scaled-to-zero", test_close_drain_scaled_to_zero);
  g_test_add_data_func ("/pool/exactly-once/lost-async", GUINT_TO_POINTER (TP_SUBMIT_DEFAULT),
                        test_job_lost);
  g_test_add_data_func ("/pool/exactly-once/lost-thread", GUINT_TO_POINTER (TP_SUBMIT_IN_THREAD),
                        test_job_lost);
  g_test_add_func ("/pool/exactly-once/job-error", test_job_fails);
  g_test_add_func ("/pool/thread/task-qdata", test_thread_task_qdata);
  g_test_add_func ("/pool/thread/completes-in-job", test_thread_completes_in_job);
  g_test_add_func ("/pool/exactly-once/keeps-completed-task", test_job_keeps_completed_task);
  g_test_add_func ("/pool/exactly-once/complete-from-thread", test_complete_from_thread);
  g_test_add_func ("/pool/exactly-once/late-during-next", test_thread_late_during_next);
  g_test_add_func ("/pool/exactly-once/released-in-flight", test_released_in_flight);
  g_test_add_func ("/pool/exactly-once/other-context-never-ran", test_other_context_never_ran);
  g_test_add_func ("/pool/executor/gtask", test_gtask_executor);
  g_test_add_func ("/pool/properties/notify", test_properties);
  g_test_add_func ("/pool/wait-idle/scale-async", test_wait_idle_and_scale_async);
  g_test_add_func ("/pool/construct/bad", test_bad_construct);

  return g_test_run ();
}

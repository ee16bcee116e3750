/* test-deadlines.c: queue and run timeouts
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The timeouts are of 1 ms: the tests iterate the main context until the
 * outcome arrives, and assert outcomes and counts, never durations.
 */

#include "tp-test-util.h"
#include "tp-pool-private.h"

static void
assert_exactly_once (TpTestLog *log,
                     guint      n_jobs)
{
  tp_test_wait_count (&log->callbacks, n_jobs);
  tp_test_wait_count (&log->destroyed, n_jobs);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (log->callbacks, ==, n_jobs);
  g_assert_cmpuint (log->destroyed, ==, n_jobs);
}

static TpJobOptions *
options_with_timeouts (guint queue_timeout_ms,
                       guint run_timeout_ms)
{
  TpJobOptions *options = tp_job_options_new ();

  if (queue_timeout_ms != G_MAXUINT)
    tp_job_options_set_queue_timeout (options, queue_timeout_ms);
  if (run_timeout_ms != G_MAXUINT)
    tp_job_options_set_run_timeout (options, run_timeout_ms);
  return options;
}

/* Queue timeouts {{{ */

static void
test_queue_timeout (gconstpointer data)
{
  const char *kind = data;
  /* One worker: an autoscale pool's bounds make it so */
  g_autoptr(TpPool) pool = g_str_has_prefix (kind, "autoscale")
    ? tp_test_pool_new (kind, "kind", kind, "min-size", 1, "max-size", 1, NULL)
    : tp_test_pool_new (kind, "kind", kind, "size", 1, NULL);
  g_autoptr(TpJobOptions) options = options_with_timeouts (1, G_MAXUINT);
  g_autofree char *order = NULL;
  TpTestJob *blocker;
  TpTestLog log;

  g_test_summary ("A job that does not get a worker within its queue timeout completes with "
                  "TP_POOL_ERROR_TIMED_OUT and never runs; its data is freed once; jobs "
                  "without a timeout still run; no deadline is left behind");
  tp_test_log_init (&log);

  blocker = tp_test_submit (pool, &log, "blocker", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 1);
  tp_test_submit_with_options (pool, &log, "late", TP_TEST_JOB_RETURN, options, NULL);
  tp_test_submit (pool, &log, "patient", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 2);

  tp_test_wait_count (&log.timed_out, 1);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 1);
  g_assert_cmpuint (log.started, ==, 1);

  tp_test_release (blocker);
  assert_exactly_once (&log, 3);
  order = tp_test_log_order (&log);
  g_assert_cmpstr (order, ==, "blocker patient");
  g_assert_cmpuint (log.done, ==, 2);
  g_assert_cmpuint (log.timed_out, ==, 1);
  g_assert_cmpint (tp_pool_get_ready_time (pool), ==, -1);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_queue_timeout_backlog (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 1,
                                             "queue-capacity", 1, NULL);
  g_autoptr(TpJobOptions) options = options_with_timeouts (1, G_MAXUINT);
  TpTestJob *blocker;
  TpTestLog log;

  g_test_summary ("A submission waiting for room in a full queue (the backlog) times out too: "
                  "the timeout counts from the submission");
  tp_test_log_init (&log);

  blocker = tp_test_submit (pool, &log, "blocker", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "queued", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit_with_options (pool, &log, "backlog", TP_TEST_JOB_RETURN, options, NULL);
  g_assert_cmpuint (tp_pool_get_backlog (pool), ==, 1);

  tp_test_wait_count (&log.timed_out, 1);
  g_assert_cmpuint (tp_pool_get_backlog (pool), ==, 0);

  tp_test_release (blocker);
  assert_exactly_once (&log, 3);
  g_assert_cmpuint (log.done, ==, 2);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_queue_timeout_started_in_time (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 1,
                                             NULL);
  g_autoptr(TpJobOptions) options = options_with_timeouts (1, G_MAXUINT);
  TpTestJob *held;
  TpTestLog log;

  g_test_summary ("A job that got a worker in time keeps running past its queue timeout: the "
                  "queue timeout ends when it starts");
  tp_test_log_init (&log);

  held = tp_test_submit_with_options (pool, &log, "held", TP_TEST_JOB_HOLD, options, NULL);
  tp_test_wait_count (&log.started, 1);
  g_assert_cmpint (tp_pool_get_ready_time (pool), ==, -1);
  tp_test_release (held);
  assert_exactly_once (&log, 1);
  g_assert_cmpuint (log.done, ==, 1);
  g_assert_cmpuint (log.timed_out, ==, 0);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_queue_timeout_cancelled (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 1,
                                             NULL);
  g_autoptr(TpJobOptions) options = options_with_timeouts (60000, G_MAXUINT);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  TpTestJob *blocker;
  TpTestLog log;

  g_test_summary ("A job cancelled before its queue timeout is cancelled, not timed out, and "
                  "its deadline goes with it: the pool's source is not armed for it");
  tp_test_log_init (&log);

  blocker = tp_test_submit (pool, &log, "blocker", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 1);
  tp_test_submit_with_options (pool, &log, "queued", TP_TEST_JOB_RETURN, options, cancellable);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  /* Armed for its deadline, an hour away */
  g_assert_cmpint (tp_pool_get_ready_time (pool), >, g_get_monotonic_time ());
  g_cancellable_cancel (cancellable);
  tp_test_wait_count (&log.cancelled, 1);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpint (tp_pool_get_ready_time (pool), ==, -1);

  tp_test_release (blocker);
  assert_exactly_once (&log, 2);
  g_assert_cmpuint (log.timed_out, ==, 0);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_queue_timeout_defaults (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 1,
                                             "queue-timeout", 1, NULL);
  g_autoptr(TpJobOptions) patient = options_with_timeouts (0, G_MAXUINT);
  g_autoptr(TpJobOptions) unset = tp_job_options_new ();
  TpTestJob *blocker;
  TpTestLog log;

  g_test_summary ("The pool's queue-timeout applies to every job whose options set none; an "
                  "option of 0 lifts it for that job");
  tp_test_log_init (&log);
  g_assert_cmpuint (tp_pool_get_queue_timeout (pool), ==, 1);

  blocker = tp_test_submit (pool, &log, "blocker", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 1);
  tp_test_submit (pool, &log, "plain", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit_with_options (pool, &log, "unset", TP_TEST_JOB_RETURN, unset, NULL);
  tp_test_submit_with_options (pool, &log, "patient", TP_TEST_JOB_RETURN, patient, NULL);

  tp_test_wait_count (&log.timed_out, 2);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 1);
  tp_test_release (blocker);
  assert_exactly_once (&log, 4);
  g_assert_cmpuint (log.done, ==, 2);
  g_assert_cmpuint (log.timed_out, ==, 2);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_queue_timeout_many (void)
{
  const guint n_jobs = 200;
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-priority", "kind", "fixed-priority",
                                             "size", 1, NULL);
  TpTestJob *blocker;
  TpTestLog log;
  guint n_patient = 0;

  g_test_summary ("Many jobs with timeouts in random order: those with a timeout of 1 ms time "
                  "out, those of an hour run, each exactly once (the deadlines' heap keeps "
                  "its order through removals)");
  tp_test_log_init (&log);

  blocker = tp_test_submit (pool, &log, "blocker", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 1);
  for (guint i = 0; i < n_jobs; i++)
    {
      gboolean patient = g_test_rand_bit ();
      g_autoptr(TpJobOptions) options = options_with_timeouts (patient ? 3600000 : 1,
                                                               G_MAXUINT);
      g_autofree char *name = g_strdup_printf ("j%u", i);

      tp_job_options_set_weight (options, g_test_rand_int_range (0, 10));
      tp_test_submit_with_options (pool, &log, name, TP_TEST_JOB_RETURN, options, NULL);
      n_patient += patient;
    }
  tp_test_wait_count (&log.timed_out, n_jobs - n_patient);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, n_patient);
  tp_test_release (blocker);
  assert_exactly_once (&log, n_jobs + 1);
  g_assert_cmpuint (log.done, ==, n_patient + 1);
  g_assert_cmpint (tp_pool_get_ready_time (pool), ==, -1);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

/* }}} */

/* Run timeouts {{{ */

static void
test_run_timeout (gconstpointer data)
{
  TpSubmitFlags flags = GPOINTER_TO_UINT (data);
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 1,
                                             NULL);
  g_autoptr(TpJobOptions) options = options_with_timeouts (G_MAXUINT, 1);
  TpTestLog log;

  g_test_summary ("At its run timeout the pool cancels the job's cancellable; a job that "
                  "gives up with G_IO_ERROR_CANCELLED is delivered as G_IO_ERROR_TIMED_OUT; "
                  "its worker is busy until then; async and thread jobs alike");
  tp_test_log_init (&log);

  tp_job_options_set_flags (options, flags);
  tp_test_submit_with_options (pool, &log, "slow", TP_TEST_JOB_WAIT_CANCEL, options, NULL);
  tp_test_submit (pool, &log, "next", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);

  assert_exactly_once (&log, 2);
  g_assert_cmpuint (log.run_timed_out, ==, 1);
  g_assert_cmpuint (log.cancelled, ==, 0);
  g_assert_cmpuint (log.done, ==, 1);
  g_assert_cmpuint (log.peak, ==, 1);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

/* An async job that waits for its cancellation in a nested main loop, inside
 * its start, and gives up before it returns */
static void
nested_wait_cancel_job (GTask        *task,
                        gpointer      pool,
                        gpointer      job_data,
                        GCancellable *cancellable)
{
  guint *started = job_data;

  (*started)++;
  while (!g_cancellable_is_cancelled (cancellable))
    g_main_context_iteration (NULL, TRUE);
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "gave up");
}

typedef struct {
  guint   callbacks;
  GError *error;
} NestedOutcome;

static void
nested_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  NestedOutcome *outcome = user_data;

  g_assert_null (tp_pool_submit_finish (TP_POOL (source), result, &outcome->error));
  outcome->callbacks++;
}

static void
test_run_timeout_nested (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 1,
                                             NULL);
  g_autoptr(TpJobOptions) options = options_with_timeouts (G_MAXUINT, 1);
  NestedOutcome outcome = { 0, NULL };
  guint started = 0;

  g_test_summary ("An async job whose run deadline passes while its start runs a nested main "
                  "loop, and which gives up before its start returns: it is delivered once, as "
                  "G_IO_ERROR_TIMED_OUT, and its record lives until then (the error travels in "
                  "a task of its own, after the start returned; under AddressSanitizer or "
                  "valgrind a record freed at the start's return is a read after free)");

  tp_pool_submit_with_options_async (pool, options, nested_wait_cancel_job, &started, NULL, NULL,
                                     nested_done_cb, &outcome);
  tp_test_wait_count (&outcome.callbacks, 1);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (started, ==, 1);
  g_assert_cmpuint (outcome.callbacks, ==, 1);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&outcome.error);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
}

static void
test_run_timeout_own_cancel (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 1,
                                             NULL);
  g_autoptr(TpJobOptions) options = options_with_timeouts (G_MAXUINT, 3600000);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  TpTestLog log;

  g_test_summary ("A job with a run timeout cancelled by its submitter before the deadline "
                  "sees the cancel (its own cancellable follows the submitter's) and is "
                  "delivered as cancelled, not timed out");
  tp_test_log_init (&log);

  tp_test_submit_with_options (pool, &log, "slow", TP_TEST_JOB_WAIT_CANCEL, options, cancellable);
  tp_test_wait_count (&log.started, 1);
  g_cancellable_cancel (cancellable);
  assert_exactly_once (&log, 1);
  g_assert_cmpuint (log.cancelled, ==, 1);
  g_assert_cmpuint (log.run_timed_out, ==, 0);
  g_assert_cmpint (tp_pool_get_ready_time (pool), ==, -1);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_run_timeout_ignored (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 1,
                                             "run-timeout", 1, NULL);
  TpTestJob *held;
  TpTestLog log;

  g_test_summary ("A job never interrupted: one that ignores the cancellation of its run "
                  "timeout (the pool's run-timeout) and returns a result delivers that "
                  "result; one that fails otherwise delivers its own error");
  tp_test_log_init (&log);
  g_assert_cmpuint (tp_pool_get_run_timeout (pool), ==, 1);

  held = tp_test_submit (pool, &log, "stubborn", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 1);
  /* Past its deadline: the pool's source fires, and nothing else happens */
  while (tp_pool_get_ready_time (pool) != -1)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (log.callbacks, ==, 0);
  tp_test_release (held);
  tp_test_submit (pool, &log, "failing", TP_TEST_JOB_FAIL, TP_SUBMIT_DEFAULT, 4, NULL);
  assert_exactly_once (&log, 2);
  g_assert_cmpuint (log.done, ==, 1);
  g_assert_cmpuint (log.failed, ==, 1);
  g_assert_cmpuint (log.run_timed_out, ==, 0);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_run_timeout_close_cancel (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 1,
                                             NULL);
  g_autoptr(TpJobOptions) options = options_with_timeouts (G_MAXUINT, 3600000);
  TpTestLog log;

  g_test_summary ("TP_CLOSE_CANCEL_RUNNING reaches a job that has a cancellable of its own for "
                  "its run timeout: it is delivered as cancelled");
  tp_test_log_init (&log);
  tp_test_submit_with_options (pool, &log, "slow", TP_TEST_JOB_WAIT_CANCEL, options, NULL);
  tp_test_wait_count (&log.started, 1);
  tp_test_pool_close (pool, TP_CLOSE_CANCEL_RUNNING);
  assert_exactly_once (&log, 1);
  g_assert_cmpuint (log.cancelled, ==, 1);
  tp_test_log_clear (&log);
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/deadlines/queue/fixed-simple", "fixed-simple", test_queue_timeout);
  g_test_add_data_func ("/deadlines/queue/fixed-lifo", "fixed-lifo", test_queue_timeout);
  g_test_add_data_func ("/deadlines/queue/autoscale-priority", "autoscale-priority",
                        test_queue_timeout);
  g_test_add_func ("/deadlines/queue/backlog", test_queue_timeout_backlog);
  g_test_add_func ("/deadlines/queue/started-in-time", test_queue_timeout_started_in_time);
  g_test_add_func ("/deadlines/queue/cancelled", test_queue_timeout_cancelled);
  g_test_add_func ("/deadlines/queue/defaults", test_queue_timeout_defaults);
  g_test_add_func ("/deadlines/queue/many", test_queue_timeout_many);
  g_test_add_data_func ("/deadlines/run/async", GUINT_TO_POINTER (TP_SUBMIT_DEFAULT),
                        test_run_timeout);
  g_test_add_data_func ("/deadlines/run/thread", GUINT_TO_POINTER (TP_SUBMIT_IN_THREAD),
                        test_run_timeout);
  g_test_add_func ("/deadlines/run/nested-give-up", test_run_timeout_nested);
  g_test_add_func ("/deadlines/run/own-cancel", test_run_timeout_own_cancel);
  g_test_add_func ("/deadlines/run/ignored", test_run_timeout_ignored);
  g_test_add_func ("/deadlines/run/close-cancel-running", test_run_timeout_close_cancel);

  return g_test_run ();
}

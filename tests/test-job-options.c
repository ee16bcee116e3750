/* test-job-options.c: TpJobOptions, and submitting with them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
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

static void
test_defaults (void)
{
  g_autoptr(TpJobOptions) options = tp_job_options_new ();

  g_test_summary ("New options change nothing: an async job, no weight, key or timeout");
  g_assert_cmpint (tp_job_options_get_flags (options), ==, TP_SUBMIT_DEFAULT);
  g_assert_false (tp_job_options_get_weight_set (options));
  g_assert_cmpint (tp_job_options_get_weight (options), ==, 0);
  g_assert_null (tp_job_options_get_key (options));
  g_assert_cmpuint (tp_job_options_get_queue_timeout (options), ==, 0);
  g_assert_cmpuint (tp_job_options_get_run_timeout (options), ==, 0);
}

static void
test_setters (void)
{
  TpJobOptions *options = tp_job_options_new ();
  TpJobOptions *copy;
  char key[] = "host.example";

  g_test_summary ("Setters and getters agree; the key is copied; a reference keeps the options "
                  "alive; the boxed type copies by reference");
  tp_job_options_set_flags (options, TP_SUBMIT_IN_THREAD | TP_SUBMIT_NO_WAIT);
  tp_job_options_set_weight (options, -7);
  tp_job_options_set_key (options, key);
  key[0] = 'X';
  tp_job_options_set_queue_timeout (options, 1500);
  tp_job_options_set_run_timeout (options, 250);

  g_assert_cmpint (tp_job_options_get_flags (options), ==, TP_SUBMIT_IN_THREAD | TP_SUBMIT_NO_WAIT);
  g_assert_true (tp_job_options_get_weight_set (options));
  g_assert_cmpint (tp_job_options_get_weight (options), ==, -7);
  g_assert_cmpstr (tp_job_options_get_key (options), ==, "host.example");
  g_assert_cmpuint (tp_job_options_get_queue_timeout (options), ==, 1500);
  g_assert_cmpuint (tp_job_options_get_run_timeout (options), ==, 250);

  tp_job_options_set_key (options, NULL);
  g_assert_null (tp_job_options_get_key (options));

  copy = g_boxed_copy (TP_TYPE_JOB_OPTIONS, options);
  g_assert_true (copy == options);
  tp_job_options_unref (options);
  g_assert_cmpuint (tp_job_options_get_run_timeout (copy), ==, 250);
  g_boxed_free (TP_TYPE_JOB_OPTIONS, copy);
}

static void
test_bad_flags (void)
{
  g_autoptr(TpJobOptions) options = tp_job_options_new ();

  g_test_summary ("Unknown submission flags are refused with a critical and change nothing");
  g_test_expect_message ("TaskPool", G_LOG_LEVEL_CRITICAL, "*flags*");
  tp_job_options_set_flags (options, 1 << 7);
  g_test_assert_expected_messages ();
  g_assert_cmpint (tp_job_options_get_flags (options), ==, TP_SUBMIT_DEFAULT);
}

static void
test_weight_and_thread (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-priority", "kind", "fixed-priority",
                                             "size", 1, NULL);
  g_autoptr(TpJobOptions) urgent = tp_job_options_new ();
  g_autoptr(TpJobOptions) in_thread = tp_job_options_new ();
  g_autofree char *order = NULL;
  TpTestJob *blocker;
  TpTestLog log;

  g_test_summary ("Options give a job its weight (a priority pool runs it first) and run it "
                  "on a thread; NULL options are the pool's defaults; the flags and weight "
                  "are read at submission, not later");
  tp_test_log_init (&log);

  blocker = tp_test_submit (pool, &log, "blocker", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 0, NULL);
  tp_test_wait_count (&log.started, 1);

  tp_job_options_set_weight (urgent, 1);
  tp_job_options_set_flags (in_thread, TP_SUBMIT_IN_THREAD);
  tp_test_submit_with_options (pool, &log, "default", TP_TEST_JOB_RETURN, NULL, NULL);
  tp_test_submit_with_options (pool, &log, "thread", TP_TEST_JOB_SLEEP, in_thread, NULL);
  tp_test_submit_with_options (pool, &log, "urgent", TP_TEST_JOB_RETURN, urgent, NULL);
  /* Changing the options now changes no job already submitted */
  tp_job_options_set_weight (urgent, 100);
  tp_job_options_set_flags (in_thread, TP_SUBMIT_DEFAULT);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 3);

  tp_test_release (blocker);
  assert_exactly_once (&log, 4);
  order = tp_test_log_order (&log);
  /* "urgent" by its weight 1; then the two of weight 4 in submission order */
  g_assert_cmpstr (order, ==, "blocker urgent default thread");
  g_assert_cmpuint (log.done, ==, 4);
  g_assert_cmpuint (log.peak, ==, 1);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
key_job (GTask        *task,
         gpointer      pool,
         gpointer      job_data,
         GCancellable *cancellable)
{
  g_task_return_boolean (task, TRUE);
}

static void
no_wait_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GError **error = user_data;

  g_assert_null (tp_pool_submit_finish (TP_POOL (source), result, error));
}

static void
test_no_wait (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 1,
                                             "queue-capacity", 1, NULL);
  g_autoptr(TpJobOptions) options = tp_job_options_new ();
  g_autoptr(GError) error = NULL;
  TpTestJob *blocker;
  TpTestLog log;

  g_test_summary ("TP_SUBMIT_NO_WAIT in the options fails a submission to a full queue with "
                  "FULL at once");
  tp_test_log_init (&log);
  blocker = tp_test_submit (pool, &log, "blocker", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 0, NULL);
  tp_test_submit (pool, &log, "queued", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 0, NULL);
  tp_test_wait_count (&log.started, 1);

  tp_job_options_set_flags (options, TP_SUBMIT_NO_WAIT);
  tp_pool_submit_with_options_async (pool, options, key_job, NULL, NULL, NULL, no_wait_cb, &error);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_FULL);

  tp_test_release (blocker);
  assert_exactly_once (&log, 2);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_key_reaches_strategy (void)
{
  g_autoptr(TpJobOptions) options = tp_job_options_new ();
  TpJob *job;

  g_test_summary ("Keys are interned: a job's key is the very string of the options that "
                  "gave it, so that gates and queues compare keys by address");
  tp_job_options_set_key (options, "example.org");
  job = tp_job_new_detached (4, 0, "example.org", FALSE);
  g_assert_cmpstr (tp_job_get_key (job), ==, "example.org");
  /* One string for one key */
  g_assert_true (tp_job_get_key (job) == tp_job_options_get_key (options));
  tp_job_free_detached (job);
  job = tp_job_new_detached (4, 1, NULL, FALSE);
  g_assert_null (tp_job_get_key (job));
  tp_job_free_detached (job);
}

static void
test_key_ref (void)
{
  g_autoptr(TpJobOptions) options = tp_job_options_new ();
  g_autoptr(TpJobOptions) again = tp_job_options_new ();
  const char *kept;
  TpJob *job;

  g_test_summary ("A key referenced with tp_key_ref() outlives its job and options, and the "
                  "jobs of that key submitted later have it at the same address");
  tp_job_options_set_key (options, "kept.example.org");
  job = tp_job_new_detached (0, 0, "kept.example.org", FALSE);
  kept = tp_key_ref (tp_job_get_key (job));
  g_assert_true (kept == tp_job_get_key (job));
  tp_job_free_detached (job);
  g_clear_pointer (&options, tp_job_options_unref);

  /* Only the strategy's reference is left: the key is still interned */
  g_assert_cmpstr (kept, ==, "kept.example.org");
  tp_job_options_set_key (again, "kept.example.org");
  g_assert_true (tp_job_options_get_key (again) == kept);
  job = tp_job_new_detached (0, 1, "kept.example.org", FALSE);
  g_assert_true (tp_job_get_key (job) == kept);
  tp_job_free_detached (job);
  tp_key_unref (kept);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/job-options/defaults", test_defaults);
  g_test_add_func ("/job-options/setters", test_setters);
  g_test_add_func ("/job-options/bad-flags", test_bad_flags);
  g_test_add_func ("/job-options/key", test_key_reaches_strategy);
  g_test_add_func ("/job-options/key/ref", test_key_ref);
  g_test_add_func ("/job-options/submit/weight-and-thread", test_weight_and_thread);
  g_test_add_func ("/job-options/submit/no-wait", test_no_wait);

  return g_test_run ();
}

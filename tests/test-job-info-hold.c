/* test-job-info-hold.c: the state a list of jobs shows while the pool is held
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * TP_JOB_STATE_HELD is a job waiting because a gate holds it for its key,
 * or because the pool is held. A window whose Hold toggle is on
 * (examples/gtk-downloads) shows its rows by that state.
 */

#include "tp-test-util.h"

static void
drain_pending (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static TpJobState
state_at (GListModel *jobs,
          guint       position)
{
  g_autoptr(TpJobInfo) info = g_list_model_get_item (jobs, position);

  return tp_job_info_get_state (info);
}

static void
test_held_pool (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 1,
                                             "held", TRUE, NULL);
  g_autoptr(GListModel) jobs = tp_pool_get_jobs (pool);
  g_autoptr(TpJobOptions) options = tp_job_options_new ();
  TpTestLog log;

  g_test_summary ("A labelled job submitted to a held pool shows as held, as TpJobState "
                  "documents; unheld, it runs and leaves the list");
  tp_test_log_init (&log);
  tp_job_options_set_label (options, "waits");
  tp_test_submit_with_options (pool, &log, "waits", TP_TEST_JOB_RETURN, options, NULL);
  drain_pending ();
  g_assert_cmpuint (g_list_model_get_n_items (jobs), ==, 1);
  g_assert_true (tp_pool_get_held (pool));
  g_assert_cmpint (state_at (jobs, 0), ==, TP_JOB_STATE_HELD);

  tp_pool_unhold (pool);
  tp_test_wait_count (&log.callbacks, 1);
  tp_test_wait_count (&log.destroyed, 1);
  drain_pending ();
  g_assert_cmpuint (log.done, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (jobs), ==, 0);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_hold_while_waiting (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 1,
                                             NULL);
  g_autoptr(GListModel) jobs = tp_pool_get_jobs (pool);
  g_autoptr(TpJobOptions) options = tp_job_options_new ();
  TpTestJob *blocker;
  TpTestLog log;

  g_test_summary ("A labelled job queued behind a busy worker shows as queued; holding the "
                  "pool shows it held, unholding queued again; then it runs");
  tp_test_log_init (&log);
  blocker = tp_test_submit (pool, &log, "blocker", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 0, NULL);
  tp_test_wait_count (&log.started, 1);
  tp_job_options_set_label (options, "later");
  tp_test_submit_with_options (pool, &log, "later", TP_TEST_JOB_RETURN, options, NULL);
  drain_pending ();
  g_assert_cmpint (state_at (jobs, 0), ==, TP_JOB_STATE_QUEUED);

  tp_pool_hold (pool);
  drain_pending ();
  g_assert_cmpint (state_at (jobs, 0), ==, TP_JOB_STATE_HELD);
  tp_pool_unhold (pool);
  drain_pending ();
  g_assert_cmpint (state_at (jobs, 0), ==, TP_JOB_STATE_QUEUED);

  tp_test_release (blocker);
  tp_test_wait_count (&log.callbacks, 2);
  tp_test_wait_count (&log.destroyed, 2);
  drain_pending ();
  g_assert_cmpuint (log.done, ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (jobs), ==, 0);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/job-info/state/held-pool", test_held_pool);
  g_test_add_func ("/job-info/state/hold-while-waiting", test_hold_while_waiting);
  return g_test_run ();
}

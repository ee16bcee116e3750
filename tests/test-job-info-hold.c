/* test-job-info-hold.c: the state a list of jobs shows while the pool is held
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * TpJobState's documentation says TP_JOB_STATE_HELD is a job "waiting
 * because a gate holds it … or the pool is held". A window whose Hold toggle
 * is on (examples/gtk-downloads) shows its rows by that state.
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
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 2,
                                             "held", TRUE, NULL);
  g_autoptr(GListModel) jobs = tp_pool_get_jobs (pool);
  g_autoptr(TpJobOptions) options = tp_job_options_new ();
  TpTestLog log;

  g_test_summary ("While the pool is held, a labelled job that waits shows as held, as "
                  "TpJobState documents; unheld, it runs");
  tp_test_log_init (&log);
  tp_job_options_set_label (options, "waits");
  tp_test_submit_with_options (pool, &log, "waits", TP_TEST_JOB_RETURN, options, NULL);
  drain_pending ();
  g_assert_cmpuint (g_list_model_get_n_items (jobs), ==, 1);
  g_assert_true (tp_pool_get_held (pool));
  if (state_at (jobs, 0) != TP_JOB_STATE_HELD)
    {
      /* Known: the core keeps such a job QUEUED; see the documentation of
       * TP_JOB_STATE_HELD in tp-job-info.h */
      g_test_incomplete ("a job waiting in a held pool shows as queued, not held");
    }
  else
    g_assert_cmpint (state_at (jobs, 0), ==, TP_JOB_STATE_HELD);

  tp_pool_unhold (pool);
  tp_test_wait_count (&log.callbacks, 1);
  tp_test_wait_count (&log.destroyed, 1);
  g_assert_cmpuint (log.done, ==, 1);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/job-info/state/held-pool", test_held_pool);
  return g_test_run ();
}

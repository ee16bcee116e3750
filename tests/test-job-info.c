/* test-job-info.c: labelled jobs in a list model, progress, and the counters
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "tp-test-util.h"
#include "tp-pool-private.h"

static void
drain_pending (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
assert_exactly_once (TpTestLog *log,
                     guint      n_jobs)
{
  tp_test_wait_count (&log->callbacks, n_jobs);
  tp_test_wait_count (&log->destroyed, n_jobs);
  drain_pending ();
  g_assert_cmpuint (log->callbacks, ==, n_jobs);
  g_assert_cmpuint (log->destroyed, ==, n_jobs);
}

static TpTestJob *
submit_labelled (TpPool        *pool,
                 TpTestLog     *log,
                 const char    *label,
                 TpTestJobMode  mode,
                 TpSubmitFlags  flags)
{
  g_autoptr(TpJobOptions) options = tp_job_options_new ();

  tp_job_options_set_label (options, label);
  tp_job_options_set_key (options, "example.org");
  tp_job_options_set_weight (options, 7);
  tp_job_options_set_flags (options, flags);
  return tp_test_submit_with_options (pool, log, label, mode, options, NULL);
}

/* What a list model said, in order */
typedef struct {
  GString *changes;   /* "pos-removed+added " per items-changed */
  guint    n_changes;
} ModelWatch;

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  gpointer    user_data)
{
  ModelWatch *watch = user_data;

  g_string_append_printf (watch->changes, "%u-%u+%u ", position, removed, added);
  watch->n_changes++;
}

static const char *
label_at (GListModel *model,
          guint       position)
{
  g_autoptr(TpJobInfo) info = g_list_model_get_item (model, position);

  return tp_job_info_get_label (info);
}

static void
test_model_lifecycle (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 1,
                                             NULL);
  g_autoptr(GListModel) jobs = tp_pool_get_jobs (pool);
  g_autoptr(TpJobInfo) first_info = NULL;
  ModelWatch watch = { g_string_new (NULL), 0 };
  TpTestJob *first;
  TpTestLog log;

  g_test_summary ("Labelled jobs appear in the pool's list in submission order, with one "
                  "items-changed per dispatch; unlabelled jobs never do; an info tells its "
                  "label, key, weight and state; a job leaves the list when it completes");
  tp_test_log_init (&log);
  g_signal_connect (jobs, "items-changed", G_CALLBACK (items_changed_cb), &watch);
  g_assert_true (g_list_model_get_item_type (jobs) == TP_TYPE_JOB_INFO);
  g_assert_cmpuint (g_list_model_get_n_items (jobs), ==, 0);

  first = submit_labelled (pool, &log, "first", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT);
  tp_test_submit (pool, &log, "plain", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  submit_labelled (pool, &log, "second", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT);
  submit_labelled (pool, &log, "third", TP_TEST_JOB_RETURN, TP_SUBMIT_IN_THREAD);
  /* Nothing changes before the pool's context runs */
  g_assert_cmpuint (g_list_model_get_n_items (jobs), ==, 0);

  tp_test_wait_count (&log.started, 1);
  drain_pending ();
  g_assert_cmpstr (watch.changes->str, ==, "0-0+3 ");
  g_assert_cmpuint (g_list_model_get_n_items (jobs), ==, 3);
  g_assert_cmpstr (label_at (jobs, 0), ==, "first");
  g_assert_cmpstr (label_at (jobs, 1), ==, "second");
  g_assert_cmpstr (label_at (jobs, 2), ==, "third");
  first_info = g_list_model_get_item (jobs, 0);
  g_assert_cmpstr (tp_job_info_get_key (first_info), ==, "example.org");
  g_assert_cmpint (tp_job_info_get_weight (first_info), ==, 7);
  g_assert_cmpint (tp_job_info_get_state (first_info), ==, TP_JOB_STATE_RUNNING);
  g_assert_cmpint (tp_job_info_get_start_time (first_info), >=,
                   tp_job_info_get_submit_time (first_info));
  {
    g_autoptr(TpJobInfo) second = g_list_model_get_item (jobs, 1);

    g_assert_cmpint (tp_job_info_get_state (second), ==, TP_JOB_STATE_QUEUED);
    g_assert_cmpint (tp_job_info_get_start_time (second), ==, 0);
  }

  tp_test_release (first);
  assert_exactly_once (&log, 4);
  g_assert_cmpuint (g_list_model_get_n_items (jobs), ==, 0);
  /* The removals came in runs, never more than one per job */
  g_assert_cmpuint (watch.n_changes, <=, 4);
  g_assert_null (g_list_model_get_item (jobs, 0));

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  g_string_free (watch.changes, TRUE);
  tp_test_log_clear (&log);
}

static void
test_model_coalesced (void)
{
  const guint n_jobs = 200;
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 1,
                                             "held", TRUE, NULL);
  g_autoptr(GListModel) jobs = tp_pool_get_jobs (pool);
  ModelWatch watch = { g_string_new (NULL), 0 };
  TpTestLog log;

  g_test_summary ("200 labelled jobs submitted at once appear with one items-changed; "
                  "discarded by a close, they leave with one");
  tp_test_log_init (&log);
  g_signal_connect (jobs, "items-changed", G_CALLBACK (items_changed_cb), &watch);
  for (guint i = 0; i < n_jobs; i++)
    submit_labelled (pool, &log, "job", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT);
  drain_pending ();
  g_assert_cmpstr (watch.changes->str, ==, "0-0+200 ");

  tp_pool_close_async (pool, TP_CLOSE_DISCARD_QUEUED, NULL, NULL, NULL);
  assert_exactly_once (&log, n_jobs);
  g_assert_cmpuint (log.closed, ==, n_jobs);
  g_assert_cmpstr (watch.changes->str, ==, "0-0+200 0-200+0 ");
  g_string_free (watch.changes, TRUE);
  tp_test_log_clear (&log);
}

/* Progress {{{ */

typedef struct {
  guint   n_reports;
  GMutex  lock;
  GCond   cond;
  gboolean go;
} ProgressJob;

static void
progress_job (GTask        *task,
              gpointer      pool,
              gpointer      job_data,
              GCancellable *cancellable)
{
  ProgressJob *job = job_data;

  g_mutex_lock (&job->lock);
  while (!job->go)
    g_cond_wait (&job->cond, &job->lock);
  g_mutex_unlock (&job->lock);
  for (guint i = 1; i <= job->n_reports; i++)
    tp_task_set_progress (task, (double) i / job->n_reports);
  tp_task_set_progress (task, 5.0);   /* clamped */
  g_task_return_boolean (task, TRUE);
}

static void
notify_count_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  guint *count = user_data;

  (*count)++;
}

static void
done_flag_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  gboolean *done = user_data;

  g_assert_true (g_task_propagate_boolean (G_TASK (result), NULL));
  *done = TRUE;
}

static void
test_progress (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 1,
                                             NULL);
  g_autoptr(GListModel) jobs = tp_pool_get_jobs (pool);
  g_autoptr(TpJobOptions) options = tp_job_options_new ();
  g_autoptr(TpJobInfo) info = NULL;
  ProgressJob job = { 1000, };
  gboolean done = FALSE;
  guint notified = 0;
  double last = -1;

  g_test_summary ("A thread job reports its progress 1000 times: the info's progress is "
                  "notified on the pool's context far fewer times, never going back, and "
                  "ends at 1 (reports above 1 are clamped)");
  g_mutex_init (&job.lock);
  g_cond_init (&job.cond);
  tp_job_options_set_label (options, "download");
  tp_job_options_set_flags (options, TP_SUBMIT_IN_THREAD);
  tp_pool_submit_with_options_async (pool, options, progress_job, &job, NULL, NULL,
                                     done_flag_cb, &done);
  while (g_list_model_get_n_items (jobs) == 0)
    g_main_context_iteration (NULL, TRUE);
  info = g_list_model_get_item (jobs, 0);
  g_signal_connect (info, "notify::progress", G_CALLBACK (notify_count_cb), &notified);

  g_mutex_lock (&job.lock);
  job.go = TRUE;
  g_cond_signal (&job.cond);
  g_mutex_unlock (&job.lock);

  while (!done)
    {
      g_main_context_iteration (NULL, TRUE);
      g_assert_cmpfloat (tp_job_info_get_progress (info), >=, last);
      last = tp_job_info_get_progress (info);
    }
  drain_pending ();
  g_assert_cmpfloat (tp_job_info_get_progress (info), ==, 1.0);
  g_assert_cmpuint (notified, >=, 1);
  g_assert_cmpuint (notified, <, job.n_reports);
  g_assert_cmpuint (g_list_model_get_n_items (jobs), ==, 0);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  g_mutex_clear (&job.lock);
  g_cond_clear (&job.cond);
}

static void
unlabelled_progress_job (GTask        *task,
                         gpointer      pool,
                         gpointer      job_data,
                         GCancellable *cancellable)
{
  tp_task_set_progress (task, 0.5);
  g_task_return_boolean (task, TRUE);
}

static void
test_progress_unlabelled (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", NULL);
  g_autoptr(GListModel) jobs = tp_pool_get_jobs (pool);
  gboolean done = FALSE;

  g_test_summary ("tp_task_set_progress() on a job without a label does nothing");
  tp_pool_submit_async (pool, unlabelled_progress_job, NULL, NULL, NULL, done_flag_cb, &done);
  tp_test_wait_flag (&done);
  g_assert_cmpuint (g_list_model_get_n_items (jobs), ==, 0);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
}

/* }}} */

/* Cancelling from the list {{{ */

static void
test_cancel (gconstpointer data)
{
  TpSubmitFlags flags = GPOINTER_TO_UINT (data);
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 1,
                                             NULL);
  g_autoptr(GListModel) jobs = tp_pool_get_jobs (pool);
  g_autoptr(TpJobInfo) running = NULL;
  g_autoptr(TpJobInfo) queued = NULL;
  TpTestLog log;

  g_test_summary ("tp_job_info_cancel() on a queued job completes it with CANCELLED at once; "
                  "on a running one, its own cancellable fires and it decides (here: "
                  "cancelled), without cancelling other jobs; each exactly once; cancelling "
                  "again, or a completed job, does nothing");
  tp_test_log_init (&log);

  submit_labelled (pool, &log, "running", TP_TEST_JOB_WAIT_CANCEL, flags);
  submit_labelled (pool, &log, "queued", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT);
  tp_test_submit (pool, &log, "plain", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 1);
  drain_pending ();
  running = g_list_model_get_item (jobs, 0);
  queued = g_list_model_get_item (jobs, 1);

  tp_job_info_cancel (queued);
  tp_test_wait_count (&log.cancelled, 1);
  g_assert_cmpuint (log.started, ==, 1);
  tp_job_info_cancel (running);
  tp_job_info_cancel (running);
  assert_exactly_once (&log, 3);
  g_assert_cmpuint (log.cancelled, ==, 2);
  g_assert_cmpuint (log.done, ==, 1);
  tp_job_info_cancel (queued);
  drain_pending ();
  g_assert_cmpuint (log.callbacks, ==, 3);
  g_assert_cmpuint (g_list_model_get_n_items (jobs), ==, 0);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

/* }}} */

/* Counters {{{ */

static guint64
count (TpPool     *pool,
       const char *name)
{
  guint64 value;

  g_object_get (pool, name, &value, NULL);
  return value;
}

static void
test_counters (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 1,
                                             "queue-capacity", 2, NULL);
  g_autoptr(TpJobOptions) timeout = tp_job_options_new ();
  g_autoptr(TpJobOptions) run_timeout = tp_job_options_new ();
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  guint notified = 0;
  TpTestJob *blocker;
  TpTestLog log;

  g_test_summary ("Every submission counts in submitted, and once completed in exactly one of "
                  "succeeded, failed, cancelled and timed-out; the counters are properties, "
                  "notified on the pool's context");
  tp_test_log_init (&log);
  g_signal_connect (pool, "notify::submitted", G_CALLBACK (notify_count_cb), &notified);
  tp_job_options_set_queue_timeout (timeout, 1);
  tp_job_options_set_run_timeout (run_timeout, 1);
  g_cancellable_cancel (cancelled);

  tp_test_submit (pool, &log, "ok", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "fail", TP_TEST_JOB_FAIL, TP_SUBMIT_IN_THREAD, 4, NULL);
  tp_test_submit (pool, &log, "drop", TP_TEST_JOB_DROP, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "pre-cancelled", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4,
                  cancelled);
  tp_test_submit_with_options (pool, &log, "slow", TP_TEST_JOB_WAIT_CANCEL, run_timeout, NULL);
  assert_exactly_once (&log, 5);

  blocker = tp_test_submit (pool, &log, "blocker", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 5);
  tp_test_submit_with_options (pool, &log, "late", TP_TEST_JOB_RETURN, timeout, NULL);
  tp_test_wait_count (&log.timed_out, 1);
  tp_test_submit (pool, &log, "a", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "b", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "full", TP_TEST_JOB_RETURN, TP_SUBMIT_NO_WAIT, 4, NULL);
  tp_test_wait_count (&log.full, 1);
  tp_pool_close_async (pool, TP_CLOSE_DISCARD_QUEUED, NULL, NULL, NULL);
  tp_test_wait_count (&log.closed, 2);
  tp_test_release (blocker);
  tp_test_submit (pool, &log, "refused", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  assert_exactly_once (&log, 11);

  g_assert_cmpuint (count (pool, "submitted"), ==, 11);
  g_assert_cmpuint (count (pool, "succeeded"), ==, 2);        /* ok, blocker */
  g_assert_cmpuint (count (pool, "failed"), ==, 4);           /* fail, drop, full, refused */
  g_assert_cmpuint (count (pool, "cancelled"), ==, 3);        /* pre-cancelled, a, b */
  g_assert_cmpuint (count (pool, "timed-out"), ==, 2);        /* slow, late */
  g_assert_cmpuint (tp_pool_get_n_submitted (pool), ==, 11);
  g_assert_cmpuint (tp_pool_get_n_succeeded (pool) + tp_pool_get_n_failed (pool) +
                    tp_pool_get_n_cancelled (pool) + tp_pool_get_n_timed_out (pool), ==, 11);
  g_assert_cmpuint (notified, >=, 1);
  g_assert_cmpuint (notified, <, 11);
  tp_test_log_clear (&log);
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/job-info/model/lifecycle", test_model_lifecycle);
  g_test_add_func ("/job-info/model/coalesced", test_model_coalesced);
  g_test_add_func ("/job-info/progress/coalesced", test_progress);
  g_test_add_func ("/job-info/progress/unlabelled", test_progress_unlabelled);
  g_test_add_data_func ("/job-info/cancel/async", GUINT_TO_POINTER (TP_SUBMIT_DEFAULT),
                        test_cancel);
  g_test_add_data_func ("/job-info/cancel/thread", GUINT_TO_POINTER (TP_SUBMIT_IN_THREAD),
                        test_cancel);
  g_test_add_func ("/job-info/counters", test_counters);

  return g_test_run ();
}

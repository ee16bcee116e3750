/* test-broken.c: a strategy that breaks its contract is a plugin bug the app survives
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The strategies come from the `broken` fixture plugin (tests/plugins/broken):
 * FIFOs that go wrong after three good pops, scalers that ask for absurd
 * next checks, a gate that refuses with retry times in the past.
 */

#include <glib/gstdio.h>

#include "tp-test-util.h"
#include "tp-pool-private.h"

static char *fixture_dir;

static void
fixture_dir_link (gboolean link)
{
  for (guint i = 0; i < 2; i++)
    {
      const char *file = i == 0 ? "broken." G_MODULE_SUFFIX : "broken.plugin";
      g_autofree char *target = g_build_filename (TP_TEST_FIXTURES_DIR, file, NULL);
      g_autofree char *path = g_build_filename (fixture_dir, file, NULL);

      if (link)
        g_assert_cmpint (symlink (target, path), ==, 0);
      else
        g_assert_cmpint (g_unlink (path), ==, 0);
    }
}

static TpPool *
broken_pool_new (const char *group_data)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autofree char *data = g_strdup_printf ("[pool]\nplugin-path=%s\n%s", fixture_dir, group_data);
  g_autoptr(GError) error = NULL;
  TpPool *pool;

  g_assert_true (g_key_file_load_from_data (keyfile, data, -1, G_KEY_FILE_NONE, NULL));
  pool = tp_pool_new_from_keyfile (keyfile, "pool", &error);
  g_assert_no_error (error);
  g_assert_true (tp_pool_start (pool, &error));
  g_assert_no_error (error);
  return pool;
}

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

/* Broken queues {{{ */

typedef struct {
  const char *queue;
  const char *complaint;
} BrokenQueue;

static const BrokenQueue broken_queues[] = {
  { "popnull", "*Plugin broken*queue strategy “popnull”*pop() returned no job*" },
  { "popdup", "*Plugin broken*queue strategy “popdup”*reports * jobs after pop()*" },
  { "popstale", "*Plugin broken*queue strategy “popstale”*pop() returned a job that is not queued*" },
  { "removenop", "*Plugin broken*queue strategy “removenop”*after remove()*" },
  { "liar", "*Plugin broken*queue strategy “liar”*reports * jobs*" },
};

/* Queues @n_jobs jobs (every third a thread job), expects @complaint, and
 * cancels the sixth, which a strategy's remove() then takes out */
static void
queue_and_cancel_one (TpPool       *pool,
                      TpTestLog    *log,
                      guint         n_jobs,
                      GCancellable *cancellable,
                      const char   *complaint)
{
  for (guint i = 0; i < n_jobs; i++)
    {
      g_autofree char *name = g_strdup_printf ("j%u", i);

      tp_test_submit (pool, log, name, TP_TEST_JOB_RETURN,
                      i % 3 == 0 ? TP_SUBMIT_IN_THREAD : TP_SUBMIT_DEFAULT, 4,
                      i == 5 ? cancellable : NULL);
    }
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, n_jobs);

  g_test_expect_message ("TaskPool", G_LOG_LEVEL_CRITICAL, complaint);
  g_cancellable_cancel (cancellable);
  tp_test_wait_count (&log->cancelled, 1);
}

static void
test_queue (gconstpointer data)
{
  const BrokenQueue *test = data;
  const guint n_jobs = 24;
  g_autofree char *group = g_strdup_printf ("kind=fixed-%s\nsize=1\n", test->queue);
  g_autoptr(TpPool) pool = broken_pool_new (group);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  TpTestJob *blocker;
  TpTestLog log;

  g_test_summary ("A queue strategy that breaks its contract (a NULL or repeated pop, a remove "
                  "that removes nothing, a length that lies) gets one critical naming the "
                  "plugin and the strategy; every job is still delivered exactly once, waiting "
                  "stays the pool's own count, and close completes");
  tp_test_log_init (&log);

  blocker = tp_test_submit (pool, &log, "blocker", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 1);
  queue_and_cancel_one (pool, &log, n_jobs, cancellable, test->complaint);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, n_jobs - 1);
  tp_test_release (blocker);
  assert_exactly_once (&log, n_jobs + 1);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (log.done, ==, n_jobs);
  g_assert_cmpuint (log.cancelled, ==, 1);
  g_assert_cmpuint (log.peak, ==, 1);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 0);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_queue_batch (gconstpointer data)
{
  const BrokenQueue *test = data;
  const guint n_jobs = 24;
  const guint workers = 8;
  g_autofree char *group = g_strdup_printf ("kind=fixed-%s\nsize=0\n", test->queue);
  g_autoptr(TpPool) pool = broken_pool_new (group);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  TpTestLog log;

  g_test_summary ("A queue strategy that breaks its contract in the middle of the pops that "
                  "fill several idle workers at once (a scale up by eight): one critical "
                  "naming it; the jobs it gave before are started once, those after it stay "
                  "the pool's and run once too");
  tp_test_log_init (&log);
  queue_and_cancel_one (pool, &log, n_jobs, cancellable, test->complaint);
  /* The strategy goes wrong at its fourth pop, in the first eight */
  tp_pool_scale (pool, (int) workers);
  assert_exactly_once (&log, n_jobs);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (log.done, ==, n_jobs - 1);
  g_assert_cmpuint (log.cancelled, ==, 1);
  g_assert_cmpuint (log.peak, <=, workers);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 0);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_queue_close (gconstpointer data)
{
  const BrokenQueue *test = data;
  const guint n_jobs = 12;
  g_autofree char *group = g_strdup_printf ("kind=fixed-%s\nsize=2\n", test->queue);
  g_autoptr(TpPool) pool = broken_pool_new (group);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  TpTestJob *blockers[2];
  TpTestLog log;

  g_test_summary ("Jobs a broken queue strategy held are delivered by a discarding close, each "
                  "exactly once, with CLOSED");
  tp_test_log_init (&log);
  blockers[0] = tp_test_submit (pool, &log, "b0", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  blockers[1] = tp_test_submit (pool, &log, "b1", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 2);
  for (guint i = 0; i < n_jobs; i++)
    tp_test_submit (pool, &log, "q", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4,
                    i == n_jobs - 1 ? cancellable : NULL);
  /* Let the strategy go wrong on a remove or its pops: cancel the last job,
   * release and refill the workers */
  g_test_expect_message ("TaskPool", G_LOG_LEVEL_CRITICAL, "*Plugin broken*");
  g_cancellable_cancel (cancellable);
  tp_test_release (blockers[0]);
  tp_test_release (blockers[1]);
  tp_test_wait_count (&log.callbacks, 2);
  tp_pool_close_async (pool, TP_CLOSE_DISCARD_QUEUED, NULL, NULL, NULL);
  assert_exactly_once (&log, n_jobs + 2);
  g_test_assert_expected_messages ();
  /* Jobs ran until the close, the rest were discarded */
  g_assert_cmpuint (log.cancelled, ==, 1);
  g_assert_cmpuint (log.done + log.closed, ==, n_jobs + 1);
  if (log.closed == 0)
    g_test_message ("every job ran before the close");
  tp_test_log_clear (&log);
}

/* }}} */

/* Broken scalers and gates {{{ */

static void
test_scaler_far_check (void)
{
  g_autoptr(TpPool) pool = broken_pool_new ("kind=farcheck-simple\n");
  gint64 ready_time;
  TpTestLog log;

  g_test_summary ("A scaler that asks to be consulted again in G_MAXINT64 µs: the pool's "
                  "wake-up time saturates instead of overflowing into the past, so an idle "
                  "pool does not spin");
  tp_test_log_init (&log);
  tp_test_submit (pool, &log, "j", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  assert_exactly_once (&log, 1);
  ready_time = tp_pool_get_ready_time (pool);
  g_assert_true (ready_time == -1 || ready_time > g_get_monotonic_time ());
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_scaler_negative_check (void)
{
  g_autoptr(TpPool) pool = NULL;
  TpTestLog log;

  g_test_summary ("A scaler that asks for a next check of -7 µs gets one critical naming it, "
                  "and is taken as asking for none");
  tp_test_log_init (&log);
  g_test_expect_message ("TaskPool", G_LOG_LEVEL_CRITICAL,
                         "*Plugin broken*scaling strategy “negcheck”*-7*");
  pool = broken_pool_new ("kind=negcheck-simple\n");
  tp_test_submit (pool, &log, "j", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  assert_exactly_once (&log, 1);
  g_test_assert_expected_messages ();
  g_assert_cmpint (tp_pool_get_ready_time (pool), ==, -1);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_gate_past_retry (void)
{
  g_autoptr(TpPool) pool = broken_pool_new ("kind=fixed-simple\ngates=pastretry\n");
  TpTestLog log;

  g_test_summary ("A gate that refuses with a retry time in the past is asked again a "
                  "millisecond later at the soonest, not in a loop: after a refusal the pool's "
                  "wake-up is in the future; the job runs once the gate admits it");
  tp_test_log_init (&log);
  tp_test_submit (pool, &log, "j", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  if (log.callbacks == 0)
    g_assert_cmpint (tp_pool_get_ready_time (pool), >, g_get_monotonic_time () - 1000);
  assert_exactly_once (&log, 1);
  g_assert_cmpuint (log.done, ==, 1);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  fixture_dir = g_dir_make_tmp ("test-broken-XXXXXX", &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (fixture_dir, 0755), ==, 0);
  fixture_dir_link (TRUE);

  for (guint i = 0; i < G_N_ELEMENTS (broken_queues); i++)
    {
      g_autofree char *path = g_strdup_printf ("/broken/queue/%s", broken_queues[i].queue);
      g_autofree char *close_path = g_strdup_printf ("/broken/queue/%s/close",
                                                     broken_queues[i].queue);
      g_autofree char *batch_path = g_strdup_printf ("/broken/queue/%s/batch",
                                                     broken_queues[i].queue);

      g_test_add_data_func (path, &broken_queues[i], test_queue);
      g_test_add_data_func (close_path, &broken_queues[i], test_queue_close);
      g_test_add_data_func (batch_path, &broken_queues[i], test_queue_batch);
    }
  g_test_add_func ("/broken/scaler/far-check", test_scaler_far_check);
  g_test_add_func ("/broken/scaler/negative-check", test_scaler_negative_check);
  g_test_add_func ("/broken/gate/past-retry", test_gate_past_retry);

  status = g_test_run ();
  fixture_dir_link (FALSE);
  g_assert_cmpint (g_rmdir (fixture_dir), ==, 0);
  g_free (fixture_dir);
  return status;
}

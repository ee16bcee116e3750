/* test-hold.c: a held pool accepts jobs and starts none
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
drain_pending (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
test_start_held (gconstpointer data)
{
  const char *kind = data;
  const int weights[] = { 5, 3, 9, 1, 3 };
  /* Two workers: an autoscale pool's bounds make it so */
  g_autoptr(TpPool) pool = g_str_has_prefix (kind, "autoscale")
    ? tp_test_pool_new (kind, "kind", kind, "min-size", 2, "max-size", 2, "held", TRUE, NULL)
    : tp_test_pool_new (kind, "kind", kind, "size", 2, "held", TRUE, NULL);
  g_autofree char *order = NULL;
  TpTestLog log;

  g_test_summary ("A pool started held accepts and queues jobs but starts none; unheld, it "
                  "runs them in strict queue order (by weight in a priority pool, ties in "
                  "submission order), not in the order they were submitted");
  tp_test_log_init (&log);
  g_assert_true (tp_pool_get_held (pool));

  for (guint i = 0; i < G_N_ELEMENTS (weights); i++)
    {
      g_autofree char *name = g_strdup_printf ("w%d.%u", weights[i], i);

      tp_test_submit (pool, &log, name, TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, weights[i], NULL);
    }
  drain_pending ();
  g_assert_cmpuint (log.started, ==, 0);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, G_N_ELEMENTS (weights));
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 0);

  tp_pool_unhold (pool);
  g_assert_false (tp_pool_get_held (pool));
  assert_exactly_once (&log, G_N_ELEMENTS (weights));
  order = tp_test_log_order (&log);
  if (g_str_has_suffix (kind, "priority"))
    g_assert_cmpstr (order, ==, "w1.3 w3.1 w3.4 w5.0 w9.2");
  else if (g_str_has_suffix (kind, "lifo"))
    g_assert_cmpstr (order, ==, "w3.4 w1.3 w9.2 w3.1 w5.0");
  else
    g_assert_cmpstr (order, ==, "w5.0 w3.1 w9.2 w1.3 w3.4");
  g_assert_cmpuint (log.done, ==, G_N_ELEMENTS (weights));

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_hold_running (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 2,
                                             NULL);
  TpTestJob *a;
  TpTestJob *b;
  TpTestLog log;

  g_test_summary ("Holding a running pool lets running jobs go on and their workers idle; "
                  "queued jobs wait; holding twice is once; unhold starts them");
  tp_test_log_init (&log);

  a = tp_test_submit (pool, &log, "a", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  b = tp_test_submit (pool, &log, "b", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 2);
  tp_pool_hold (pool);
  tp_pool_hold (pool);
  tp_test_submit (pool, &log, "c", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "d", TP_TEST_JOB_RETURN, TP_SUBMIT_IN_THREAD, 4, NULL);
  tp_test_release (a);
  tp_test_release (b);
  tp_test_wait_count (&log.callbacks, 2);
  drain_pending ();
  g_assert_cmpuint (log.started, ==, 2);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 2);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 0);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 2);

  tp_pool_unhold (pool);
  assert_exactly_once (&log, 4);
  g_assert_cmpuint (log.done, ==, 4);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
close_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  gboolean *closed = user_data;

  g_assert_true (tp_pool_close_finish (TP_POOL (source), result, NULL));
  *closed = TRUE;
}

static void
test_hold_close (gconstpointer data)
{
  TpCloseFlags flags = GPOINTER_TO_UINT (data);
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 1,
                                             "held", TRUE, NULL);
  gboolean closed = FALSE;
  TpTestLog log;

  g_test_summary ("Closing a held pool: a discarding close fails the queued jobs with CLOSED at "
                  "once; a draining close waits until the pool is unheld, then runs them");
  tp_test_log_init (&log);

  tp_test_submit (pool, &log, "a", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "b", TP_TEST_JOB_RETURN, TP_SUBMIT_IN_THREAD, 4, NULL);
  tp_pool_close_async (pool, flags, NULL, close_done_cb, &closed);

  if (flags & TP_CLOSE_DISCARD_QUEUED)
    {
      tp_test_wait_flag (&closed);
      assert_exactly_once (&log, 2);
      g_assert_cmpuint (log.closed, ==, 2);
    }
  else
    {
      drain_pending ();
      g_assert_false (closed);
      g_assert_cmpuint (log.started, ==, 0);
      tp_pool_unhold (pool);
      tp_test_wait_flag (&closed);
      assert_exactly_once (&log, 2);
      g_assert_cmpuint (log.done, ==, 2);
    }
  tp_test_log_clear (&log);
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
test_held_property (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", NULL);
  gboolean held = TRUE;
  guint notified = 0;

  g_test_summary ("held is a read-write property: setting it holds and unholds the pool, and "
                  "its notify is emitted on the pool's context once per change");
  g_signal_connect (pool, "notify::held", G_CALLBACK (notify_count_cb), &notified);

  g_object_get (pool, "held", &held, NULL);
  g_assert_false (held);
  g_object_set (pool, "held", TRUE, NULL);
  g_assert_true (tp_pool_get_held (pool));
  drain_pending ();
  g_assert_cmpuint (notified, ==, 1);
  g_object_set (pool, "held", TRUE, NULL);
  drain_pending ();
  g_assert_cmpuint (notified, ==, 1);
  g_object_set (pool, "held", FALSE, NULL);
  drain_pending ();
  g_assert_cmpuint (notified, ==, 2);
  g_assert_false (tp_pool_get_held (pool));
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
}

static void
test_held_no_growth (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("autoscale-simple", "kind", "autoscale-simple",
                                             "min-size", 1, "max-size", 8, "held", TRUE, NULL);
  TpTestLog log;

  g_test_summary ("An autoscale pool does not grow for jobs that wait only because it is held; "
                  "unheld, it grows for them");
  tp_test_log_init (&log);
  for (guint i = 0; i < 6; i++)
    tp_test_submit (pool, &log, "j", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  drain_pending ();
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 1);
  tp_pool_unhold (pool);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 6);
  tp_test_wait_count (&log.started, 6);
  tp_pool_close_async (pool, TP_CLOSE_CANCEL_RUNNING, NULL, NULL, NULL);
  tp_test_log_clear (&log);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/hold/start-held/fixed-simple", "fixed-simple", test_start_held);
  g_test_add_data_func ("/hold/start-held/fixed-lifo", "fixed-lifo", test_start_held);
  g_test_add_data_func ("/hold/start-held/fixed-priority", "fixed-priority", test_start_held);
  g_test_add_data_func ("/hold/start-held/autoscale-priority", "autoscale-priority",
                        test_start_held);
  g_test_add_func ("/hold/running", test_hold_running);
  g_test_add_data_func ("/hold/close/drain", GUINT_TO_POINTER (TP_CLOSE_DRAIN), test_hold_close);
  g_test_add_data_func ("/hold/close/discard", GUINT_TO_POINTER (TP_CLOSE_DISCARD_QUEUED),
                        test_hold_close);
  g_test_add_func ("/hold/property", test_held_property);
  g_test_add_func ("/hold/no-growth", test_held_no_growth);

  return g_test_run ();
}

/* test-gates.c: how the pool drives gates
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The gates here come from the `gates` fixture plugin (tests/plugins/gates):
 * `ticket` admits at most `ticket-limit` started jobs that have not ended,
 * and refuses every job otherwise (TP_GATE_HOLD); `minimal` admits all.
 * The bundled gates have test files of their own.
 */

#include <glib/gstdio.h>

#include "tp-test-util.h"
#include "tp-pool-private.h"

static char *fixture_dir;

/* A folder of plugins with only the `gates` fixture in it */
static void
fixture_dir_make (void)
{
  g_autoptr(GError) error = NULL;

  fixture_dir = g_dir_make_tmp ("test-gates-XXXXXX", &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (fixture_dir, 0755), ==, 0);
  for (guint i = 0; i < 2; i++)
    {
      const char *file = i == 0 ? "gates." G_MODULE_SUFFIX : "gates.plugin";
      g_autofree char *target = g_build_filename (TP_TEST_FIXTURES_DIR, file, NULL);
      g_autofree char *link = g_build_filename (fixture_dir, file, NULL);

      g_assert_cmpint (symlink (target, link), ==, 0);
    }
}

static void
fixture_dir_remove (void)
{
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *link = g_build_filename (fixture_dir, i == 0 ? "gates." G_MODULE_SUFFIX
                                                                    : "gates.plugin", NULL);

      g_assert_cmpint (g_unlink (link), ==, 0);
    }
  g_assert_cmpint (g_rmdir (fixture_dir), ==, 0);
  g_clear_pointer (&fixture_dir, g_free);
}

static TpPool *
gated_pool_new (const char  *group_data,
                GError     **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autofree char *data = g_strdup_printf ("[pool]\nplugin-path=%s\n%s", fixture_dir, group_data);
  TpPool *pool;

  g_assert_true (g_key_file_load_from_data (keyfile, data, -1, G_KEY_FILE_NONE, NULL));
  pool = tp_pool_new_from_keyfile (keyfile, "pool", error);
  if (pool != NULL)
    g_assert_true (tp_pool_start (pool, NULL));
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

static void
test_bound (gconstpointer data)
{
  TpSubmitFlags flags = GPOINTER_TO_UINT (data);
  const guint n_jobs = 40;
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = gated_pool_new ("kind=fixed-simple\nsize=4\ngates=minimal;ticket\n"
                                           "ticket-limit=2\n", &error);
  g_autofree char *order = NULL;
  g_autoptr(GString) expected = g_string_new (NULL);
  TpTestLog log;

  g_test_summary ("A gate that admits two jobs at once in a pool of four: never more than two "
                  "run, each exactly once, async ones in queue order; the gate is told of "
                  "every start and end (its destroy asserts nothing runs)");
  g_assert_no_error (error);
  tp_test_log_init (&log);
  g_assert_cmpstr (tp_pool_get_gates (pool)[0], ==, "minimal");
  g_assert_cmpstr (tp_pool_get_gates (pool)[1], ==, "ticket");

  for (guint i = 0; i < n_jobs; i++)
    {
      g_autofree char *name = g_strdup_printf ("j%u", i);

      tp_test_submit (pool, &log, name, TP_TEST_JOB_SLEEP, flags, 4, NULL);
      g_string_append_printf (expected, "%s%s", i > 0 ? " " : "", name);
    }
  assert_exactly_once (&log, n_jobs);
  g_assert_cmpuint (log.done, ==, n_jobs);
  g_assert_cmpuint (log.peak, ==, 2);
  /* Two thread jobs admitted in turn may enter their bodies in either order */
  order = tp_test_log_order (&log);
  if (flags == TP_SUBMIT_DEFAULT)
    g_assert_cmpstr (order, ==, expected->str);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_closed_gate_keeps_order (void)
{
  const int weights[] = { 5, 3, 9, 1, 3, 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = gated_pool_new ("kind=fixed-priority\nsize=3\ngates=ticket\n",
                                           &error);
  g_autofree char *order = NULL;
  TpTestJob *first;
  TpTestLog log;

  g_test_summary ("A job a closed gate refused goes back to the queue at its place: a job of "
                  "smaller weight submitted later still starts before it");
  g_assert_no_error (error);
  tp_test_log_init (&log);

  first = tp_test_submit (pool, &log, "first", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 1);
  for (guint i = 0; i < G_N_ELEMENTS (weights); i++)
    {
      g_autofree char *name = g_strdup_printf ("w%d.%u", weights[i], i);

      tp_test_submit (pool, &log, name, TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, weights[i], NULL);
    }
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, G_N_ELEMENTS (weights));
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 1);

  tp_test_release (first);
  assert_exactly_once (&log, G_N_ELEMENTS (weights) + 1);
  order = tp_test_log_order (&log);
  g_assert_cmpstr (order, ==, "first w0.5 w1.3 w3.1 w3.4 w5.0 w9.2");
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_ended_on_every_path (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = gated_pool_new ("kind=fixed-simple\nsize=2\ngates=ticket\n", &error);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  TpTestLog log;

  g_test_summary ("The gate hears of a job's end on every path — a result, an error, a job "
                  "that drops its task, a cancelled running job — so that the next job "
                  "starts; jobs cancelled while the gate holds them never started, and leave");
  g_assert_no_error (error);
  tp_test_log_init (&log);

  tp_test_submit (pool, &log, "ok", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "fail", TP_TEST_JOB_FAIL, TP_SUBMIT_IN_THREAD, 4, NULL);
  tp_test_submit (pool, &log, "drop", TP_TEST_JOB_DROP, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "cancelled", TP_TEST_JOB_WAIT_CANCEL, TP_SUBMIT_DEFAULT, 4,
                  cancellable);
  tp_test_submit (pool, &log, "queued", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 4);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 1);
  g_cancellable_cancel (cancellable);
  assert_exactly_once (&log, 5);
  g_assert_cmpuint (log.done, ==, 2);
  g_assert_cmpuint (log.failed, ==, 1);
  g_assert_cmpuint (log.lost, ==, 1);
  g_assert_cmpuint (log.cancelled, ==, 1);
  g_assert_cmpuint (log.peak, ==, 1);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_close_discards_held (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = gated_pool_new ("kind=fixed-simple\nsize=3\ngates=ticket\n"
                                           "queue-timeout-ms=3600000\n", &error);
  TpTestJob *running;
  TpTestLog log;

  g_test_summary ("Closing with TP_CLOSE_DISCARD_QUEUED fails the jobs a closed gate keeps "
                  "from starting with CLOSED, each once; the running one completes");
  g_assert_no_error (error);
  tp_test_log_init (&log);
  g_assert_cmpuint (tp_pool_get_queue_timeout (pool), ==, 3600000);

  running = tp_test_submit (pool, &log, "running", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  for (guint i = 0; i < 5; i++)
    tp_test_submit (pool, &log, "waiting", TP_TEST_JOB_RETURN, TP_SUBMIT_IN_THREAD, 4, NULL);
  tp_test_wait_count (&log.started, 1);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 5);
  tp_pool_close_async (pool, TP_CLOSE_DISCARD_QUEUED, NULL, NULL, NULL);
  tp_test_wait_count (&log.closed, 5);
  tp_test_release (running);
  assert_exactly_once (&log, 6);
  g_assert_cmpuint (log.done, ==, 1);
  tp_test_log_clear (&log);
}

static void
test_queue_timeout_behind_gate (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = gated_pool_new ("kind=fixed-simple\nsize=2\ngates=ticket\n",
                                           &error);
  g_autoptr(TpJobOptions) options = tp_job_options_new ();
  TpTestJob *running;
  TpTestLog log;

  g_test_summary ("A job a closed gate keeps from starting times out like any waiting job");
  g_assert_no_error (error);
  tp_test_log_init (&log);
  tp_job_options_set_queue_timeout (options, 1);

  running = tp_test_submit (pool, &log, "running", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 1);
  tp_test_submit_with_options (pool, &log, "late", TP_TEST_JOB_RETURN, options, NULL);
  tp_test_wait_count (&log.timed_out, 1);
  tp_test_release (running);
  assert_exactly_once (&log, 2);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_bad_config (void)
{
  const struct {
    const char *data;
    int         code;
    const char *words[3];
  } cases[] = {
    { "gates=nosuch\n", TP_POOL_ERROR_PLUGIN,
      { "key “gates” in group “pool”", "No gate “nosuch”", "ticket" } },
    { "gates=ticket;minimal;ticket\n", TP_POOL_ERROR_CONFIG,
      { "key “gates” in group “pool”", "“ticket” is listed twice", NULL } },
    { "ticket-limit=2\n", TP_POOL_ERROR_CONFIG,
      { "Unknown key “ticket-limit” in group “pool”", NULL } },
    { "gates=ticket\nticket-limit=0\n", TP_POOL_ERROR_CONFIG,
      { "“0” for key “ticket-limit” in group “pool”", NULL } },
    { "held=yes\n", TP_POOL_ERROR_CONFIG,
      { "“yes” for key “held” in group “pool”", "true or false", NULL } },
    { "queue-timeout-ms=-5\n", TP_POOL_ERROR_CONFIG,
      { "“-5” for key “queue-timeout-ms” in group “pool”", NULL } },
    { "run-timeout-ms=soon\n", TP_POOL_ERROR_CONFIG,
      { "“soon” for key “run-timeout-ms” in group “pool”", NULL } },
  };

  g_test_summary ("Bad gates and keys: an unknown gate, a gate listed twice, a gate's key "
                  "without the gate, bad values; each a clear error naming group, key and "
                  "value");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TpPool) pool = gated_pool_new (cases[i].data, &error);

      g_assert_null (pool);
      g_assert_error (error, TP_POOL_ERROR, cases[i].code);
      for (guint w = 0; w < G_N_ELEMENTS (cases[i].words) && cases[i].words[w] != NULL; w++)
        if (strstr (error->message, cases[i].words[w]) == NULL)
          g_error ("case %u: “%s” lacks “%s”", i, error->message, cases[i].words[w]);
    }
}

static void
test_application_keys (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = gated_pool_new ("kind=fixed-simple\nX-Downloads-Folder=/tmp\n"
                                           "X-Icon=folder\nheld=true\n", &error);

  g_test_summary ("Keys that begin with X- are the application's own and ignored; held=true "
                  "makes the pool start held");
  g_assert_no_error (error);
  g_assert_true (tp_pool_get_held (pool));
  g_assert_null (tp_pool_get_gates (pool));
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
}

static void
test_gates_property (void)
{
  const char * const gates[] = { "minimal", NULL };
  g_auto(GStrv) read = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = NULL;
  g_autofree char *env = g_strdup_printf ("%s:%s", fixture_dir, g_getenv ("TASKPOOL_PLUGIN_PATH"));

  g_test_summary ("The gates property takes the gates at construction and reads them back; "
                  "an unknown one fails construction with an error listing those there are");
  g_setenv ("TASKPOOL_PLUGIN_PATH", env, TRUE);
  pool = g_initable_new (TP_TYPE_POOL, NULL, &error, "gates", gates, NULL);
  g_assert_no_error (error);
  g_object_get (pool, "gates", &read, NULL);
  g_assert_cmpstrv (read, gates);
  g_clear_object (&pool);

  {
    const char * const bad[] = { "nosuch", NULL };

    pool = g_initable_new (TP_TYPE_POOL, NULL, &error, "gates", bad, NULL);
    g_assert_null (pool);
    g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
    g_assert_nonnull (strstr (error->message, "minimal"));
  }
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  fixture_dir_make ();

  g_test_add_data_func ("/gates/bound/async", GUINT_TO_POINTER (TP_SUBMIT_DEFAULT), test_bound);
  g_test_add_data_func ("/gates/bound/thread", GUINT_TO_POINTER (TP_SUBMIT_IN_THREAD),
                        test_bound);
  g_test_add_func ("/gates/closed/keeps-order", test_closed_gate_keeps_order);
  g_test_add_func ("/gates/ended/every-path", test_ended_on_every_path);
  g_test_add_func ("/gates/close/discard", test_close_discards_held);
  g_test_add_func ("/gates/queue-timeout", test_queue_timeout_behind_gate);
  g_test_add_func ("/gates/config/bad", test_bad_config);
  g_test_add_func ("/gates/config/application-keys", test_application_keys);
  g_test_add_func ("/gates/config/property", test_gates_property);

  status = g_test_run ();
  fixture_dir_remove ();
  return status;
}

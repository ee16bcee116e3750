/* sdk-driver.c: runs the out-of-tree aging plugin through an installed libtaskpool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: sdk-driver PLUGIN_DIR BROKEN_DIR
 *
 * PLUGIN_DIR holds aging.so and aging.plugin, BROKEN_DIR a declared file
 * that is not a module. The bundled strategies come from
 * TASKPOOL_PLUGIN_PATH. Every check prints "ok - …" or "FAIL - …"; the exit
 * status is 1 if one failed.
 *
 * Every scenario runs on a pool of one worker, held by a first job while the
 * others are queued, and asserts the order in which they start. Where time
 * matters, the driver only waits for a lower bound on the gap between two
 * submissions: a slow machine widens gaps, so it cannot change the outcome.
 */

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include <taskpool/taskpool.h>

#define GROUP "sdk"
#define ONE_DAY_MS "86400000"
#define WATCHDOG_S 240

static guint n_failures;

static void check (gboolean    ok,
                   const char *format,
                   ...) G_GNUC_PRINTF (2, 3);

static void
check (gboolean    ok,
       const char *format,
       ...)
{
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);

  g_print ("%s - %s\n", ok ? "ok" : "FAIL", what);
  if (!ok)
    n_failures++;
}

static gboolean
watchdog_cb (gpointer user_data G_GNUC_UNUSED)
{
  g_print ("FAIL - the driver did not finish within %d s\n", WATCHDOG_S);
  exit (1);
}

/* What one scenario's jobs did */
typedef struct {
  GString  *order;        /* names of the jobs, in the order they started */
  GTask    *held;         /* the blocker's task, until it is released */
  gboolean  blocker_started;
  guint     callbacks;
  guint     succeeded;
  guint     cancelled;
  guint     other_errors;
} Run;

typedef struct {
  Run  *run;
  char *name;
} Job;

static void
job_free (gpointer data)
{
  Job *job = data;

  g_free (job->name);
  g_free (job);
}

/* The blocker keeps its task, and with it the pool's only worker; the others
 * note that they started and return at once */
static void
job_func (GTask        *task,
          gpointer      pool G_GNUC_UNUSED,
          gpointer      job_data,
          GCancellable *cancellable G_GNUC_UNUSED)
{
  Job *job = job_data;

  if (g_str_equal (job->name, "blocker"))
    {
      job->run->held = g_object_ref (task);
      job->run->blocker_started = TRUE;
      return;
    }

  if (job->run->order->len > 0)
    g_string_append_c (job->run->order, ' ');
  g_string_append (job->run->order, job->name);
  g_task_return_pointer (task, g_strdup (job->name), g_free);
}

static void
job_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Run *run = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *value = tp_pool_submit_finish (TP_POOL (source), result, &error);

  run->callbacks++;
  if (value != NULL)
    run->succeeded++;
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    run->cancelled++;
  else
    {
      g_print ("# unexpected job error: %s\n", error->message);
      run->other_errors++;
    }
}

static void
submit (TpPool       *pool,
        Run          *run,
        const char   *name,
        int           weight,
        GCancellable *cancellable)
{
  Job *job = g_new0 (Job, 1);

  job->run = run;
  job->name = g_strdup (name);
  tp_pool_submit_full_async (pool, TP_SUBMIT_DEFAULT, weight, job_func, job, job_free,
                             cancellable, job_done_cb, run);
}

static void
wait_until_count (const guint *counter,
                  guint        target)
{
  while (*counter < target)
    g_main_context_iteration (NULL, TRUE);
}

static void
wait_until_flag (const gboolean *flag)
{
  while (!*flag)
    g_main_context_iteration (NULL, TRUE);
}

/* Lets the monotonic clock pass @deadline; only a lower bound matters */
static void
sleep_until (gint64 deadline)
{
  gint64 now;

  while ((now = g_get_monotonic_time ()) <= deadline)
    g_usleep (deadline - now + 1);
}

static void
pool_closed_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  gboolean *closed = user_data;
  g_autoptr(GError) error = NULL;

  check (tp_pool_close_finish (TP_POOL (source), result, &error) && error == NULL,
         "the pool closes cleanly");
  *closed = TRUE;
}

static void
pool_close (TpPool *pool)
{
  gboolean closed = FALSE;

  tp_pool_close_async (pool, TP_CLOSE_DRAIN, NULL, pool_closed_cb, &closed);
  wait_until_flag (&closed);
}

/* A pool of @kind configured by @keys ("key=value" lines), or NULL */
static TpPool *
pool_new (const char  *kind,
          const char  *plugin_path,
          const char  *keys,
          GError     **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autofree char *text = NULL;
  const char *size_keys = g_str_has_prefix (kind, "fixed-") ? "size=1\n"
                                                              : "min-size=1\nmax-size=1\n";

  text = g_strdup_printf ("[" GROUP "]\nkind=%s\nplugin-path=%s\n%s%s\n",
                          kind, plugin_path, size_keys, keys);
  if (!g_key_file_load_from_data (keyfile, text, -1, G_KEY_FILE_NONE, error))
    return NULL;

  return tp_pool_new_from_keyfile (keyfile, GROUP, error);
}

typedef struct {
  const char *name;
  int         weight;
  gint64      gap_us;   /* at least this long after the previous submission returned */
  gboolean    cancel;   /* cancelled while queued */
} Submission;

typedef struct {
  const char       *title;
  const char       *keys;
  const Submission *submissions;
  guint             n_submissions;
  const char       *expected;   /* names, in start order */
} Scenario;

static void
run_submit_all (TpPool           *pool,
                Run              *run,
                const Scenario   *scenario,
                GPtrArray        *cancellables)
{
  gint64 last = g_get_monotonic_time ();

  for (guint i = 0; i < scenario->n_submissions; i++)
    {
      const Submission *sub = &scenario->submissions[i];
      GCancellable *cancellable = sub->cancel ? g_cancellable_new () : NULL;

      if (sub->gap_us > 0)
        sleep_until (last + sub->gap_us);
      submit (pool, run, sub->name, sub->weight, cancellable);
      last = g_get_monotonic_time ();
      if (cancellable != NULL)
        g_ptr_array_add (cancellables, cancellable);
    }
}

static void
run_scenario (const char     *kind,
              const char     *plugin_path,
              const Scenario *scenario)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = NULL;
  g_autoptr(GPtrArray) cancellables = g_ptr_array_new_with_free_func (g_object_unref);
  Run run = { .order = g_string_new (NULL) };
  guint n = scenario->n_submissions;
  guint n_cancel;

  g_print ("# %s: %s\n", kind, scenario->title);
  pool = pool_new (kind, plugin_path, scenario->keys, &error);
  if (pool != NULL)
    tp_pool_start (pool, &error);
  check (error == NULL, "%s: the pool is made and started%s%s", kind,
         error != NULL ? ": " : "", error != NULL ? error->message : "");
  if (error != NULL)
    {
      g_string_free (run.order, TRUE);
      return;
    }
  check (tp_pool_get_size (pool) == 1, "%s: one worker (size %u)", kind, tp_pool_get_size (pool));

  submit (pool, &run, "blocker", 0, NULL);
  wait_until_flag (&run.blocker_started);
  run_submit_all (pool, &run, scenario, cancellables);
  check (tp_pool_get_running (pool) == 1 && tp_pool_get_waiting (pool) == n,
         "%s: the blocker runs and %u jobs wait (running %u, waiting %u)", kind, n,
         tp_pool_get_running (pool), tp_pool_get_waiting (pool));

  n_cancel = cancellables->len;
  for (guint i = 0; i < cancellables->len; i++)
    g_cancellable_cancel (cancellables->pdata[i]);
  wait_until_count (&run.cancelled, n_cancel);
  check (tp_pool_get_waiting (pool) == n - n_cancel,
         "%s: %u queued jobs cancelled, %u wait (waiting %u)", kind, n_cancel, n - n_cancel,
         tp_pool_get_waiting (pool));

  g_task_return_pointer (run.held, g_strdup ("blocker"), g_free);
  g_clear_object (&run.held);
  wait_until_count (&run.callbacks, n + 1);

  check (g_str_equal (run.order->str, scenario->expected), "%s: start order “%s” (expected “%s”)",
         kind, run.order->str, scenario->expected);
  check (run.succeeded == n + 1 - n_cancel && run.cancelled == n_cancel && run.other_errors == 0,
         "%s: %u jobs succeeded, %u cancelled, %u failed otherwise", kind, run.succeeded,
         run.cancelled, run.other_errors);
  pool_close (pool);
  g_string_free (run.order, TRUE);
}

/* With an interval of a day, no job ages by a whole weight unit while the
 * scenario runs: plain priority order, ties in submission order */
static const Submission static_order[] = {
  { "a5", 5, 0, FALSE },
  { "b3", 3, 0, FALSE },
  { "c9", 9, 0, FALSE },
  { "d3", 3, 0, FALSE },
  { "e1", 1, 0, FALSE },
  { "max", G_MAXINT, 0, FALSE },
  { "min", G_MININT, 0, FALSE },
  { "zero", 0, 0, FALSE },
};

/* With an interval of 1 ms, a job submitted (w_prev - w) ms after one of
 * weight w_prev runs after it: here in submission order, the reverse of
 * plain priority. "urgent" would need 24 days of waiting to lose its lead. */
static const Submission aging_order[] = {
  { "w30", 30, 0, FALSE },
  { "w20", 20, 10 * 1000 + 1, FALSE },
  { "w10", 10, 10 * 1000 + 1, FALSE },
  { "urgent", G_MININT, 0, FALSE },
};

/* A million seconds is 11 days: the default interval of a second keeps
 * the lighter job first */
static const Submission default_order[] = {
  { "heavy", 1000 * 1000, 0, FALSE },
  { "light", 0, 0, FALSE },
};

/* Cancelled jobs leave the heap from its root, its middle and its leaves */
static const Submission cancel_order[] = {
  { "j7", 7, 0, FALSE },
  { "j3", 3, 0, FALSE },
  { "j9", 9, 0, TRUE },
  { "j1", 1, 0, TRUE },
  { "j5", 5, 0, FALSE },
  { "j8", 8, 0, FALSE },
  { "j2", 2, 0, FALSE },
  { "j6", 6, 0, TRUE },
  { "j4", 4, 0, FALSE },
  { "j0", 0, 0, TRUE },
};

static const Scenario scenarios[] = {
  { "a long interval: smallest weight first, ties in submission order",
    "aging-interval-ms=" ONE_DAY_MS, static_order, G_N_ELEMENTS (static_order),
    "min zero e1 b3 d3 a5 c9 max" },
  { "an interval of 1 ms: waiting lowers the weight",
    "aging-interval-ms=1", aging_order, G_N_ELEMENTS (aging_order),
    "urgent w30 w20 w10" },
  { "the default interval", "", default_order, G_N_ELEMENTS (default_order),
    "light heavy" },
  { "cancelled jobs are removed from the heap",
    "aging-interval-ms=" ONE_DAY_MS, cancel_order, G_N_ELEMENTS (cancel_order),
    "j2 j3 j4 j5 j7 j8" },
};

static void
check_config_error (const char *plugin_path,
                    const char *keys,
                    const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = pool_new ("fixed-aging", plugin_path, keys, &error);

  check (pool == NULL && g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG) &&
         strstr (error->message, needle) != NULL,
         "“%s” is a configuration error that names “%s”: %s", keys, needle,
         error != NULL ? error->message : "(no error)");
}

static void
check_config (const char *plugin_path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = pool_new ("fixed-aging", plugin_path, "default-weight=-7", &error);

  g_print ("# keyfile keys\n");
  check (pool != NULL && tp_pool_get_default_weight (pool) == -7,
         "the pool reads default-weight for the aging queue");
  check_config_error (plugin_path, "aging-interval-ms=0", "aging-interval-ms");
  check_config_error (plugin_path, "aging-interval-ms=-5", "aging-interval-ms");
  check_config_error (plugin_path, "aging-interval-ms=soon", "aging-interval-ms");
  check_config_error (plugin_path, "aging-interval-ms=4294967296", "aging-interval-ms");
  check_config_error (plugin_path, "aging-interval=5", "aging-interval-ms");
}

/* Runs first, so that the broken file is the first the registry meets */
static void
check_broken_plugin (const char *plugin_dir,
                     const char *broken_dir)
{
  g_autofree char *plugin_path = g_strdup_printf ("%s;%s", broken_dir, plugin_dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = pool_new ("fixed-aging", plugin_path, "", &error);
  g_autoptr(TpPool) unknown = NULL;

  g_print ("# a broken plugin in the plugin path\n");
  check (pool != NULL && error == NULL, "fixed-aging loads past a broken plugin%s%s",
         error != NULL ? ": " : "", error != NULL ? error->message : "");
  g_clear_error (&error);

  unknown = pool_new ("fixed-nosuch", plugin_path, "", &error);
  check (unknown == NULL && g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN),
         "an unknown kind is a plugin error");
  check (error != NULL && strstr (error->message, "broken.so") != NULL &&
         strstr (error->message, "not a loadable module") != NULL,
         "the error names the broken file and why it failed");
  check (error != NULL && strstr (error->message, "aging") != NULL &&
         strstr (error->message, "fixed-aging") != NULL,
         "the error lists the aging queue and its kinds");
  if (error != NULL)
    g_print ("# the error: %s\n", error->message);
}

int
main (int    argc,
      char **argv)
{
  if (argc != 3)
    {
      g_printerr ("Usage: %s PLUGIN_DIR BROKEN_DIR\n", argv[0]);
      return 2;
    }

  setlocale (LC_ALL, "");
  g_timeout_add_seconds (WATCHDOG_S, watchdog_cb, NULL);

  check_broken_plugin (argv[1], argv[2]);
  check_config (argv[1]);
  for (guint i = 0; i < G_N_ELEMENTS (scenarios); i++)
    {
      run_scenario ("fixed-aging", argv[1], &scenarios[i]);
      run_scenario ("autoscale-aging", argv[1], &scenarios[i]);
    }

  g_print ("# %u failed\n", n_failures);
  return n_failures == 0 ? 0 : 1;
}

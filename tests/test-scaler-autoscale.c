/* test-scaler-autoscale.c: the autoscale scaling strategy: defaults, burst growth, idle
 * shrinking without wake-ups, steady load and manual scaling
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "tp-test-util.h"
#include "tp-pool-private.h"

/* Runs what is due now without blocking; the bound catches a source that re-arms forever */
static void
drain_pending (void)
{
  guint i;

  for (i = 0; i < 10000 && g_main_context_iteration (NULL, FALSE); i++)
    ;
  g_assert_cmpuint (i, <, 10000);
}

static TpPool *
pool_from_keyfile (const char *data,
                   const char *group)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  TpPool *pool;

  g_assert_true (g_key_file_load_from_data (keyfile, data, -1, G_KEY_FILE_NONE, &error));
  g_assert_no_error (error);
  pool = tp_pool_new_from_keyfile (keyfile, group, &error);
  g_assert_no_error (error);
  g_assert_nonnull (pool);
  return pool;
}

static void
start_pool (TpPool *pool)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (tp_pool_start (pool, &error));
  g_assert_no_error (error);
}

/* The sizes a pool notified, to see it never left a range */
typedef struct {
  guint n_notified;
  guint smallest;
  guint largest;
} SizeWatch;

static void
size_notify_cb (GObject    *object,
                GParamSpec *pspec,
                gpointer    user_data)
{
  SizeWatch *watch = user_data;
  guint size = tp_pool_get_size (TP_POOL (object));

  watch->n_notified++;
  watch->smallest = MIN (watch->smallest, size);
  watch->largest = MAX (watch->largest, size);
}

static void
size_watch_init (SizeWatch *watch,
                 TpPool    *pool)
{
  watch->n_notified = 0;
  watch->smallest = watch->largest = tp_pool_get_size (pool);
}

/* Submits @n_jobs HOLD jobs named j0, j1 … */
static TpTestJob **
submit_holds (TpPool    *pool,
              TpTestLog *log,
              guint      n_jobs)
{
  TpTestJob **jobs = g_new0 (TpTestJob *, n_jobs);

  for (guint i = 0; i < n_jobs; i++)
    {
      g_autofree char *name = g_strdup_printf ("j%u", i);

      jobs[i] = tp_test_submit (pool, log, name, TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
    }
  return jobs;
}

/* Releases FIFO-ordered HOLD jobs one by one as they start, and waits for all callbacks */
static void
release_in_order (TpTestLog  *log,
                  TpTestJob **jobs,
                  guint       n_jobs)
{
  for (guint i = 0; i < n_jobs; i++)
    {
      tp_test_wait_count (&log->started, i + 1);
      tp_test_release (jobs[i]);
    }
  tp_test_wait_count (&log->callbacks, n_jobs);
  tp_test_wait_count (&log->destroyed, n_jobs);
  g_assert_cmpuint (log->done, ==, n_jobs);
}

/* Growth {{{ */

static void
test_burst (void)
{
  const guint n_jobs = 100;
  g_autoptr(TpPool) pool = tp_test_pool_new ("autoscale-simple", "kind", "autoscale-simple",
                                             "min-size", 3, "max-size", 32, NULL);
  g_autofree TpTestJob **jobs = g_new0 (TpTestJob *, n_jobs);
  TpTestLog log;

  g_test_summary ("A burst of 100 jobs on a pool of min-size 3, max-size 32: the pool grows "
                  "as each job has to wait, is at 32 as soon as they are submitted, and never "
                  "runs more than 32 at once");
  tp_test_log_init (&log);

  g_assert_cmpuint (tp_pool_get_size (pool), ==, 3);
  for (guint i = 0; i < n_jobs; i++)
    {
      g_autofree char *name = g_strdup_printf ("j%u", i);

      jobs[i] = tp_test_submit (pool, &log, name, TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
      /* Three idle workers take the first three; then one more worker per waiting job */
      g_assert_cmpuint (tp_pool_get_size (pool), ==, CLAMP (i + 1, 3, 32));
    }
  /* The decision happened on submission, before any main-loop iteration */
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 32);
  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, 32);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 32);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, n_jobs - 32);

  tp_test_wait_count (&log.started, 32);
  drain_pending ();
  g_assert_cmpuint (log.started, ==, 32);
  g_assert_cmpuint (log.running, ==, 32);
  g_assert_cmpuint (log.peak, ==, 32);

  release_in_order (&log, jobs, n_jobs);
  g_assert_cmpuint (log.peak, ==, 32);
  g_assert_cmpuint (tp_pool_get_size (pool), <=, 32);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_no_growth_without_wait (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("autoscale-simple", "kind", "autoscale-simple",
                                             "min-size", 3, "max-size", 8, NULL);
  g_autofree TpTestJob **jobs = NULL;
  TpTestLog log;

  g_test_summary ("While idle workers take every job, nothing waits and the pool does not "
                  "grow");
  tp_test_log_init (&log);

  jobs = submit_holds (pool, &log, 3);
  tp_test_wait_count (&log.started, 3);
  drain_pending ();
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 3);
  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, 3);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 0);

  release_in_order (&log, jobs, 3);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 3);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

/* }}} */

/* Shrinking and wake-ups {{{ */

static void
test_shrink_after_idle (void)
{
  const guint n_jobs = 10;
  g_autoptr(TpPool) pool = pool_from_keyfile ("[burst]\n"
                                              "kind=autoscale-simple\n"
                                              "min-size=2\n"
                                              "max-size=6\n"
                                              "idle-timeout-ms=1\n"
                                              "scale-interval-ms=1\n",
                                              "burst");
  g_autofree TpTestJob **jobs = NULL;
  SizeWatch watch;
  gulong handler;
  TpTestLog log;

  g_test_summary ("After a burst, workers idle for idle-timeout-ms retire down to min-size, "
                  "on the pool's own timer; then the pool arms no further timer");
  tp_test_log_init (&log);

  start_pool (pool);
  g_assert_cmpuint (tp_pool_get_min_size (pool), ==, 2);
  g_assert_cmpuint (tp_pool_get_max_size (pool), ==, 6);

  jobs = submit_holds (pool, &log, n_jobs);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 6);
  tp_test_wait_count (&log.started, 6);
  size_watch_init (&watch, pool);
  handler = g_signal_connect (pool, "notify::size", G_CALLBACK (size_notify_cb), &watch);

  release_in_order (&log, jobs, n_jobs);
  g_assert_cmpuint (log.peak, ==, 6);

  /* Terminates only if the pool wakes itself up to retire idle workers */
  while (tp_pool_get_size (pool) > 2)
    g_main_context_iteration (NULL, TRUE);
  drain_pending ();

  g_assert_cmpuint (tp_pool_get_size (pool), ==, 2);
  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, 2);
  g_assert_cmpint (tp_pool_get_ready_time (pool), ==, -1);
  g_assert_cmpuint (watch.smallest, ==, 2);
  g_assert_cmpuint (watch.largest, ==, 6);
  g_assert_cmpuint (watch.n_notified, >=, 1);

  g_signal_handler_disconnect (pool, handler);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_idle_no_wakeup (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("autoscale-simple", "kind", "autoscale-simple",
                                             "min-size", 3, "max-size", 8, NULL);

  g_test_summary ("An idle autoscale pool at min-size arms no timer: right after start at "
                  "most an immediate notification is due, then nothing");

  /* A pending notify::size for the start may be due at once; no timer */
  g_assert_cmpint (tp_pool_get_ready_time (pool), <=, 0);
  drain_pending ();
  g_assert_cmpint (tp_pool_get_ready_time (pool), ==, -1);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 3);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
}

/* }}} */

/* Steady load {{{ */

typedef struct {
  TpPool     *pool;
  TpTestLog   log;
  GPtrArray  *jobs;        /* TpTestJob, in submission order */
  guint       to_submit;
  guint       max_size;
  guint       sizes_seen;  /* callbacks that saw the size at max_size */
} SteadyLoad;

static void steady_submit (SteadyLoad *load);

static void
steady_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  SteadyLoad *load = user_data;

  /* The worker of this job is idle now, for as long as this callback runs */
  if (tp_pool_get_size (load->pool) == load->max_size &&
      tp_pool_get_target_size (load->pool) == load->max_size)
    load->sizes_seen++;
  tp_test_job_done_cb (source, result, &load->log);
  if (load->to_submit > 0)
    {
      load->to_submit--;
      steady_submit (load);
    }
}

static void
steady_submit (SteadyLoad *load)
{
  g_autofree char *name = g_strdup_printf ("j%u", load->jobs->len);
  TpTestJob *job = tp_test_job_new (&load->log, name, TP_TEST_JOB_HOLD);

  g_ptr_array_add (load->jobs, job);
  tp_pool_submit_full_async (load->pool, TP_SUBMIT_DEFAULT, 4, tp_test_job_func, job,
                             tp_test_job_free, NULL, steady_done_cb, load);
}

static void
test_steady_load (void)
{
  const guint n_rounds = 200;
  /* A worker is idle only while a callback runs: far less than the idle
   * timeout, even under valgrind on a loaded machine (with 1 ms, a thread
   * preempted between a job's end and the scaler's question retired a
   * worker that had never been idle that long) */
  g_autoptr(TpPool) pool = pool_from_keyfile ("[steady]\n"
                                              "kind=autoscale-simple\n"
                                              "min-size=2\n"
                                              "max-size=4\n"
                                              "idle-timeout-ms=250\n"
                                              "scale-interval-ms=1\n",
                                              "steady");
  SteadyLoad load = { pool, };
  SizeWatch watch;
  gulong handler;
  guint total;

  g_test_summary ("At a steady load of exactly max-size jobs (each one replaced as it ends), "
                  "the size stays at max-size: no retirement, no regrowth, no notify::size");
  tp_test_log_init (&load.log);
  load.jobs = g_ptr_array_new ();
  load.max_size = 4;
  load.to_submit = n_rounds;
  total = load.max_size + n_rounds;

  start_pool (pool);
  for (guint i = 0; i < load.max_size; i++)
    steady_submit (&load);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, load.max_size);
  tp_test_wait_count (&load.log.started, load.max_size);
  drain_pending ();

  size_watch_init (&watch, pool);
  handler = g_signal_connect (pool, "notify::size", G_CALLBACK (size_notify_cb), &watch);

  /* Release the oldest job; its callback submits the next one */
  for (guint i = 0; i < total; i++)
    {
      tp_test_wait_count (&load.log.started, MIN (i + load.max_size, total));
      g_assert_cmpuint (load.log.running, ==, MIN (load.max_size, total - i));
      g_assert_cmpuint (tp_pool_get_size (pool), ==, load.max_size);
      tp_test_release (g_ptr_array_index (load.jobs, i));
      tp_test_wait_count (&load.log.callbacks, i + 1);
      if (i + load.max_size < total)
        g_assert_cmpuint (tp_pool_get_running (pool), ==, load.max_size);
    }
  tp_test_wait_count (&load.log.destroyed, total);

  g_assert_cmpuint (load.jobs->len, ==, total);
  g_assert_cmpuint (load.log.done, ==, total);
  g_assert_cmpuint (load.log.peak, ==, load.max_size);
  g_assert_cmpuint (load.sizes_seen, ==, total);
  g_assert_cmpuint (watch.n_notified, ==, 0);
  g_assert_cmpuint (watch.smallest, ==, load.max_size);
  g_assert_cmpuint (watch.largest, ==, load.max_size);

  g_signal_handler_disconnect (pool, handler);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  g_ptr_array_unref (load.jobs);
  tp_test_log_clear (&load.log);
}

/* }}} */

/* Manual scaling and configuration {{{ */

static void
test_scale_clamp (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("autoscale-lifo", "kind", "autoscale-lifo",
                                             "min-size", 3, "max-size", 8, NULL);

  g_test_summary ("scale(delta) on an autoscale pool returns the new target clamped to "
                  "[min-size, max-size]");

  g_assert_cmpint (tp_pool_scale (pool, -100), ==, 3);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 3);
  g_assert_cmpint (tp_pool_scale (pool, -1), ==, 3);
  g_assert_cmpint (tp_pool_scale (pool, 100), ==, 8);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 8);
  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, 8);
  g_assert_cmpint (tp_pool_scale (pool, -2), ==, 6);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 6);
  g_assert_cmpint (tp_pool_scale (pool, G_MININT), ==, 3);
  g_assert_cmpint (tp_pool_scale (pool, G_MAXINT), ==, 8);
  g_assert_cmpint (tp_pool_scale (pool, -100), ==, 3);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 3);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
}

static void
test_invalid_keys (void)
{
  const char *values[][2] = {
    { "idle-timeout-ms", "-1" },
    { "idle-timeout-ms", "soon" },
    { "scale-interval-ms", "0" },
    { "scale-interval-ms", "99999999999999999999" },
  };

  g_test_summary ("Invalid idle-timeout-ms and scale-interval-ms values are "
                  "TP_POOL_ERROR_CONFIG errors naming the group, the key and the value");

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autoptr(GKeyFile) keyfile = g_key_file_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(TpPool) pool = NULL;
      g_autofree char *data = g_strdup_printf ("[timers]\nkind=autoscale-simple\n%s=%s\n",
                                               values[i][0], values[i][1]);

      g_assert_true (g_key_file_load_from_data (keyfile, data, -1, G_KEY_FILE_NONE, &error));
      g_assert_no_error (error);
      pool = tp_pool_new_from_keyfile (keyfile, "timers", &error);
      g_assert_null (pool);
      g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, "timers"));
      g_assert_nonnull (strstr (error->message, values[i][0]));
      g_assert_nonnull (strstr (error->message, values[i][1]));
    }
}

/* }}} */

/* Defaults {{{ */

static void
assert_limits (TpPool *pool,
               guint   min_size,
               guint   max_size,
               guint   size)
{
  g_assert_cmpuint (tp_pool_get_min_size (pool), ==, min_size);
  g_assert_cmpuint (tp_pool_get_max_size (pool), ==, max_size);
  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, size);
  start_pool (pool);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, size);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
}

static void
test_defaults (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = tp_pool_new ("autoscale-simple", &error);

  g_test_summary ("An autoscale pool made with no settings has min-size 3, max-size 8 "
                  "(min-size + 5) and starts with min-size workers");

  g_assert_no_error (error);
  g_assert_nonnull (pool);
  assert_limits (pool, 3, 8, 3);
}

static void
test_defaults_from_bounds (void)
{
  g_autoptr(TpPool) pool = NULL;

  g_test_summary ("Given only min-size, max-size is min-size + 5; a pool starts with "
                  "min-size workers; min-size 1 and max-size 1 make a pool of one");

  pool = g_initable_new (TP_TYPE_POOL, NULL, NULL, "kind", "autoscale-simple",
                         "min-size", 10, NULL);
  g_assert_nonnull (pool);
  assert_limits (pool, 10, 15, 10);
  g_clear_object (&pool);

  pool = g_initable_new (TP_TYPE_POOL, NULL, NULL, "kind", "autoscale-priority",
                         "min-size", 1, "max-size", 1, NULL);
  g_assert_nonnull (pool);
  assert_limits (pool, 1, 1, 1);
  g_clear_object (&pool);

  pool = g_initable_new (TP_TYPE_POOL, NULL, NULL, "kind", "autoscale-simple",
                         "min-size", 2, "max-size", 6, NULL);
  g_assert_nonnull (pool);
  assert_limits (pool, 2, 6, 2);
}

static void
test_defaults_keyfile (void)
{
  g_autoptr(TpPool) pool = NULL;

  g_test_summary ("From a keyfile: only a kind gives min-size 3, max-size 8 and 3 workers; "
                  "min-size 2 and max-size 6 give 2 workers at start");

  pool = pool_from_keyfile ("[auto]\nkind=autoscale-lifo\n", "auto");
  assert_limits (pool, 3, 8, 3);
  g_clear_object (&pool);

  pool = pool_from_keyfile ("[auto]\nkind=autoscale-lifo\nmin-size=2\nmax-size=6\n", "auto");
  assert_limits (pool, 2, 6, 2);
}

static void
test_defaults_idle_no_wakeup (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("autoscale-simple", "kind", "autoscale-simple",
                                             NULL);

  g_test_summary ("An idle autoscale pool with the default settings arms no timer after "
                  "start: it is at min-size, with nothing to scale");

  g_assert_cmpint (tp_pool_get_ready_time (pool), <=, 0);
  drain_pending ();
  g_assert_cmpint (tp_pool_get_ready_time (pool), ==, -1);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/scaler/autoscale/burst", test_burst);
  g_test_add_func ("/scaler/autoscale/no-growth-without-wait", test_no_growth_without_wait);
  g_test_add_func ("/scaler/autoscale/shrink-after-idle", test_shrink_after_idle);
  g_test_add_func ("/scaler/autoscale/idle-no-wakeup", test_idle_no_wakeup);
  g_test_add_func ("/scaler/autoscale/steady-load", test_steady_load);
  g_test_add_func ("/scaler/autoscale/scale-clamp", test_scale_clamp);
  g_test_add_func ("/scaler/autoscale/invalid-keys", test_invalid_keys);
  g_test_add_func ("/scaler/autoscale/defaults/new", test_defaults);
  g_test_add_func ("/scaler/autoscale/defaults/from-bounds", test_defaults_from_bounds);
  g_test_add_func ("/scaler/autoscale/defaults/keyfile", test_defaults_keyfile);
  g_test_add_func ("/scaler/autoscale/defaults/idle-no-wakeup", test_defaults_idle_no_wakeup);

  return g_test_run ();
}

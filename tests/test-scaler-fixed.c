/* test-scaler-fixed.c: the fixed scaling strategy: defaults, manual scaling and size checks
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

/* Whether @message has @value as a whole number (not a part of a longer one) */
static gboolean
message_has_number (const char *message,
                    guint64     value)
{
  const char *p = message;

  while (*p != '\0')
    {
      if (g_ascii_isdigit (*p))
        {
          char *end = NULL;
          guint64 number = g_ascii_strtoull (p, &end, 10);

          if (number == value)
            return TRUE;
          p = end;
        }
      else
        p++;
    }
  return FALSE;
}

/* Checks that the message of @error names @word and @value */
static void
assert_message_names (const GError *error,
                      const char   *word,
                      guint64       value)
{
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, word));
  g_assert_true (message_has_number (error->message, value));
}

typedef struct {
  gboolean done;
  int      size;
  GError  *error;
} ScaleResult;

static void
scale_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  ScaleResult *scale = user_data;

  g_assert_false (scale->done);
  scale->size = tp_pool_scale_finish (TP_POOL (source), result, &scale->error);
  scale->done = TRUE;
}

/* Defaults {{{ */

static void
test_defaults (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = tp_pool_new ("fixed-simple", &error);
  guint size = 0;

  g_test_summary ("A fixed pool made with no settings has size 3, min-size 0 and max-size "
                  "TP_POOL_MAX_SIZE (at least 4096); it has no workers before start, three "
                  "after, and arms no timer while idle");

  g_assert_no_error (error);
  g_assert_nonnull (pool);
  g_assert_cmpuint (TP_POOL_MAX_SIZE, >=, 4096);
  g_assert_cmpuint (tp_pool_get_min_size (pool), ==, 0);
  g_assert_cmpuint (tp_pool_get_max_size (pool), ==, TP_POOL_MAX_SIZE);
  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, 3);
  /* Before start, the size it will start with */
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 3);

  g_assert_true (tp_pool_start (pool, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 3);
  g_object_get (pool, "size", &size, NULL);
  g_assert_cmpuint (size, ==, 3);
  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, 3);

  drain_pending ();
  g_assert_cmpint (tp_pool_get_ready_time (pool), ==, -1);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
}

static void
test_defaults_keyfile (void)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = NULL;

  g_test_summary ("A fixed pool from a keyfile group with only a kind has the same defaults");

  g_assert_true (g_key_file_load_from_data (keyfile, "[pool]\nkind=fixed-lifo\n", -1,
                                            G_KEY_FILE_NONE, &error));
  g_assert_no_error (error);
  pool = tp_pool_new_from_keyfile (keyfile, "pool", &error);
  g_assert_no_error (error);
  g_assert_nonnull (pool);
  g_assert_cmpuint (tp_pool_get_min_size (pool), ==, 0);
  g_assert_cmpuint (tp_pool_get_max_size (pool), ==, TP_POOL_MAX_SIZE);
  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, 3);
  g_assert_true (tp_pool_start (pool, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 3);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
}

/* }}} */

/* scale() {{{ */

static void
test_scale_clamp (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", NULL);
  g_autoptr(TpPool) bounded = NULL;

  g_test_summary ("scale(delta) returns the new target, clamped to [min-size, max-size]: "
                  "[0, TP_POOL_MAX_SIZE] by default, the bounds given otherwise; idle "
                  "workers come and go at once");

  g_assert_cmpint (tp_pool_scale (pool, 2), ==, 5);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 5);
  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, 5);
  g_assert_cmpint (tp_pool_scale (pool, -1), ==, 4);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 4);
  g_assert_cmpint (tp_pool_scale (pool, 0), ==, 4);
  g_assert_cmpint (tp_pool_scale (pool, -100), ==, 0);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 0);
  g_assert_cmpint (tp_pool_scale (pool, -1), ==, 0);
  g_assert_cmpint (tp_pool_scale (pool, 1), ==, 1);
  g_assert_cmpint (tp_pool_scale (pool, G_MAXINT), ==, TP_POOL_MAX_SIZE);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, TP_POOL_MAX_SIZE);
  g_assert_cmpint (tp_pool_scale (pool, 1), ==, TP_POOL_MAX_SIZE);
  g_assert_cmpint (tp_pool_scale (pool, G_MININT), ==, 0);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 0);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);

  bounded = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple",
                              "min-size", 2, "max-size", 6, "size", 4, NULL);
  g_assert_cmpuint (tp_pool_get_size (bounded), ==, 4);
  g_assert_cmpint (tp_pool_scale (bounded, -100), ==, 2);
  g_assert_cmpuint (tp_pool_get_size (bounded), ==, 2);
  g_assert_cmpint (tp_pool_scale (bounded, 3), ==, 5);
  g_assert_cmpint (tp_pool_scale (bounded, 100), ==, 6);
  g_assert_cmpuint (tp_pool_get_size (bounded), ==, 6);
  g_assert_cmpint (tp_pool_scale (bounded, -3), ==, 3);
  g_assert_cmpuint (tp_pool_get_size (bounded), ==, 3);
  tp_test_pool_close (bounded, TP_CLOSE_DRAIN);
}

static void
test_scale_up_starts_queued (void)
{
  const char *names[] = { "a", "b", "c", "d", "e", "f" };
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple",
                                             "size", 2, NULL);
  g_autofree char *order = NULL;
  TpTestJob *jobs[G_N_ELEMENTS (names)];
  TpTestLog log;

  g_test_summary ("scale(+2) on a busy pool with queued jobs gives two of them a worker at "
                  "once (in queue order); the rest stays queued");
  tp_test_log_init (&log);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    jobs[i] = tp_test_submit (pool, &log, names[i], TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 2);
  drain_pending ();
  g_assert_cmpuint (log.started, ==, 2);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 2);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 4);

  g_assert_cmpint (tp_pool_scale (pool, 2), ==, 4);
  /* Without a main-loop iteration: the queued jobs own the new workers already */
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 4);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 4);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 2);

  tp_test_wait_count (&log.started, 4);
  drain_pending ();
  g_assert_cmpuint (log.started, ==, 4);
  g_assert_cmpuint (log.peak, ==, 4);
  order = tp_test_log_order (&log);
  g_assert_cmpstr (order, ==, "a b c d");

  /* Release in start order; e and f take the freed workers */
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      tp_test_wait_count (&log.started, i + 1);
      tp_test_release (jobs[i]);
    }
  tp_test_wait_count (&log.callbacks, G_N_ELEMENTS (names));
  tp_test_wait_count (&log.destroyed, G_N_ELEMENTS (names));
  g_assert_cmpuint (log.done, ==, G_N_ELEMENTS (names));
  g_assert_cmpuint (log.peak, ==, 4);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 4);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_scale_from_zero (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple",
                                             "size", 1, NULL);
  TpTestLog log;

  g_test_summary ("A pool scaled to 0 queues jobs without running them; scale(+1) starts "
                  "them");
  tp_test_log_init (&log);

  g_assert_cmpint (tp_pool_scale (pool, -1), ==, 0);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 0);
  tp_test_submit (pool, &log, "a", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "b", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  drain_pending ();
  g_assert_cmpuint (log.started, ==, 0);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 2);

  g_assert_cmpint (tp_pool_scale (pool, 1), ==, 1);
  tp_test_wait_count (&log.callbacks, 2);
  tp_test_wait_count (&log.destroyed, 2);
  g_assert_cmpuint (log.done, ==, 2);
  g_assert_cmpuint (log.peak, ==, 1);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_scale_down_busy (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple",
                                             "size", 4, NULL);
  g_autoptr(GCancellable) cancellable_a = g_cancellable_new ();
  g_autoptr(GCancellable) cancellable_b = g_cancellable_new ();
  TpTestJob *a;
  TpTestJob *b;
  TpTestLog log;

  g_test_summary ("scale(-3) on a pool of 4 with 2 busy workers retires the 2 idle ones at "
                  "once and each busy one only when its job ends; no running job is "
                  "cancelled or cut short");
  tp_test_log_init (&log);

  a = tp_test_submit (pool, &log, "a", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, cancellable_a);
  b = tp_test_submit (pool, &log, "b", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, cancellable_b);
  tp_test_wait_count (&log.started, 2);

  g_assert_cmpint (tp_pool_scale (pool, -3), ==, 1);
  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, 1);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 2);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 2);

  drain_pending ();
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 2);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 2);
  g_assert_cmpuint (log.callbacks, ==, 0);
  g_assert_cmpuint (log.running, ==, 2);
  g_assert_false (g_cancellable_is_cancelled (cancellable_a));
  g_assert_false (g_cancellable_is_cancelled (cancellable_b));

  tp_test_release (a);
  tp_test_wait_count (&log.callbacks, 1);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 1);
  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, 1);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 1);

  tp_test_release (b);
  tp_test_wait_count (&log.callbacks, 2);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 1);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 0);

  tp_test_wait_count (&log.destroyed, 2);
  g_assert_cmpuint (log.done, ==, 2);
  g_assert_cmpuint (log.cancelled, ==, 0);
  g_assert_cmpstr (log.results->pdata[0], ==, "ok:a");
  g_assert_cmpstr (log.results->pdata[1], ==, "ok:b");

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_scale_down_queued (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple",
                                             "size", 2, NULL);
  g_autofree char *order = NULL;
  TpTestJob *a;
  TpTestJob *b;
  TpTestJob *c;
  TpTestLog log;

  g_test_summary ("A busy worker that must retire does so when its job ends, even with jobs "
                  "queued: the queued job waits for a worker that stays");
  tp_test_log_init (&log);

  a = tp_test_submit (pool, &log, "a", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  b = tp_test_submit (pool, &log, "b", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  c = tp_test_submit (pool, &log, "c", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 2);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 1);

  g_assert_cmpint (tp_pool_scale (pool, -1), ==, 1);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 2);

  tp_test_release (a);
  tp_test_wait_count (&log.callbacks, 1);
  drain_pending ();
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 1);
  g_assert_cmpuint (log.started, ==, 2);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 1);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 1);

  tp_test_release (b);
  tp_test_wait_count (&log.started, 3);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 1);
  tp_test_release (c);
  tp_test_wait_count (&log.callbacks, 3);
  tp_test_wait_count (&log.destroyed, 3);
  g_assert_cmpuint (log.done, ==, 3);
  g_assert_cmpuint (log.peak, ==, 2);
  order = tp_test_log_order (&log);
  g_assert_cmpstr (order, ==, "a b c");

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

/* }}} */

/* scale_async() {{{ */

static void
test_scale_async_busy (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple",
                                             "size", 2, NULL);
  ScaleResult scale = { FALSE, -2, NULL };
  TpTestJob *a;
  TpTestJob *b;
  TpTestLog log;

  g_test_summary ("scale_async(-2) on a pool whose two workers are busy completes only once "
                  "both jobs ended and the live size reached 0");
  tp_test_log_init (&log);

  a = tp_test_submit (pool, &log, "a", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  b = tp_test_submit (pool, &log, "b", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 2);

  tp_pool_scale_async (pool, -2, NULL, scale_done_cb, &scale);
  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, 0);
  drain_pending ();
  g_assert_false (scale.done);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 2);

  tp_test_release (a);
  tp_test_wait_count (&log.callbacks, 1);
  drain_pending ();
  g_assert_false (scale.done);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 1);

  tp_test_release (b);
  tp_test_wait_flag (&scale.done);
  g_assert_no_error (scale.error);
  g_assert_cmpint (scale.size, ==, 0);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 0);
  tp_test_wait_count (&log.callbacks, 2);
  tp_test_wait_count (&log.destroyed, 2);
  g_assert_cmpuint (log.done, ==, 2);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_scale_async_idle (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", NULL);
  ScaleResult down = { FALSE, -2, NULL };
  ScaleResult up = { FALSE, -2, NULL };

  g_test_summary ("scale_async() on an idle pool completes with the new size: idle workers "
                  "retire and new ones come at once");

  tp_pool_scale_async (pool, -2, NULL, scale_done_cb, &down);
  tp_test_wait_flag (&down.done);
  g_assert_no_error (down.error);
  g_assert_cmpint (down.size, ==, 1);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 1);

  tp_pool_scale_async (pool, 4, NULL, scale_done_cb, &up);
  tp_test_wait_flag (&up.done);
  g_assert_no_error (up.error);
  g_assert_cmpint (up.size, ==, 5);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 5);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
}

static void
test_scale_async_cancel (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple",
                                             "size", 1, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  ScaleResult scale = { FALSE, -2, NULL };
  TpTestJob *a;
  TpTestLog log;

  g_test_summary ("Cancelling the wait of scale_async() completes it with "
                  "G_IO_ERROR_CANCELLED while the busy worker still runs; the scaling stays: "
                  "the worker retires when its job ends");
  tp_test_log_init (&log);

  a = tp_test_submit (pool, &log, "a", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 1);

  tp_pool_scale_async (pool, -1, cancellable, scale_done_cb, &scale);
  drain_pending ();
  g_assert_false (scale.done);

  g_cancellable_cancel (cancellable);
  drain_pending ();
  /* The job still holds the worker: only the cancellation can have completed the wait */
  g_assert_cmpuint (log.callbacks, ==, 0);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 1);
  g_assert_true (scale.done);
  g_assert_error (scale.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (scale.size, ==, -1);
  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, 0);

  tp_test_release (a);
  tp_test_wait_count (&log.callbacks, 1);
  tp_test_wait_count (&log.destroyed, 1);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 0);
  g_assert_cmpuint (log.done, ==, 1);

  g_clear_error (&scale.error);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

/* }}} */

/* Size checks {{{ */

static TpPool *
new_pool_expecting_error (GError     **error,
                          const char  *first_property,
                          ...)
{
  TpPool *pool;
  va_list args;

  va_start (args, first_property);
  pool = (TpPool *) g_initable_new_valist (TP_TYPE_POOL, first_property, args, NULL, error);
  va_end (args);
  return pool;
}

static void
test_invalid_sizes (void)
{
  g_autoptr(GError) error = NULL;
  TpPool *pool;

  g_test_summary ("min-size > max-size, size outside [min-size, max-size] and max-size 0 "
                  "are TP_POOL_ERROR_CONFIG errors whose messages name the values");

  pool = new_pool_expecting_error (&error, "kind", "fixed-simple",
                                   "min-size", 5, "max-size", 2, NULL);
  g_assert_null (pool);
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
  assert_message_names (error, "min-size", 5);
  assert_message_names (error, "max-size", 2);
  g_clear_error (&error);

  pool = new_pool_expecting_error (&error, "kind", "fixed-simple",
                                   "size", 10, "max-size", 4, NULL);
  g_assert_null (pool);
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
  assert_message_names (error, "size", 10);
  assert_message_names (error, "max-size", 4);
  g_clear_error (&error);

  pool = new_pool_expecting_error (&error, "kind", "fixed-simple",
                                   "size", 1, "min-size", 2, NULL);
  g_assert_null (pool);
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
  assert_message_names (error, "size", 1);
  assert_message_names (error, "min-size", 2);
  g_clear_error (&error);

  pool = new_pool_expecting_error (&error, "kind", "fixed-simple",
                                   "size", 0, "max-size", 0, NULL);
  g_assert_null (pool);
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
  assert_message_names (error, "max-size", 0);
  g_clear_error (&error);
}

static void
test_invalid_sizes_keyfile (void)
{
  const char *cases[][3] = {
    /* keys, a value the message must name, another one */
    { "min-size=5\nmax-size=2\n", "5", "2" },
    { "size=10\nmax-size=4\n", "10", "4" },
    { "size=0\nmax-size=0\n", "max-size", "0" },
  };

  g_test_summary ("The same invalid sizes from a keyfile are TP_POOL_ERROR_CONFIG errors "
                  "that name the group and the values");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GKeyFile) keyfile = g_key_file_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(TpPool) pool = NULL;
      g_autofree char *data = g_strdup_printf ("[sized]\nkind=fixed-simple\n%s", cases[i][0]);

      g_assert_true (g_key_file_load_from_data (keyfile, data, -1, G_KEY_FILE_NONE, &error));
      g_assert_no_error (error);
      pool = tp_pool_new_from_keyfile (keyfile, "sized", &error);
      g_assert_null (pool);
      g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, "sized"));
      for (guint j = 1; j < 3; j++)
        {
          if (g_ascii_isdigit (cases[i][j][0]))
            g_assert_true (message_has_number (error->message,
                                               g_ascii_strtoull (cases[i][j], NULL, 10)));
          else
            g_assert_nonnull (strstr (error->message, cases[i][j]));
        }
    }
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/scaler/fixed/defaults", test_defaults);
  g_test_add_func ("/scaler/fixed/defaults-keyfile", test_defaults_keyfile);
  g_test_add_func ("/scaler/fixed/scale/clamp", test_scale_clamp);
  g_test_add_func ("/scaler/fixed/scale/up-starts-queued", test_scale_up_starts_queued);
  g_test_add_func ("/scaler/fixed/scale/from-zero", test_scale_from_zero);
  g_test_add_func ("/scaler/fixed/scale/down-busy", test_scale_down_busy);
  g_test_add_func ("/scaler/fixed/scale/down-queued", test_scale_down_queued);
  g_test_add_func ("/scaler/fixed/scale-async/busy", test_scale_async_busy);
  g_test_add_func ("/scaler/fixed/scale-async/idle", test_scale_async_idle);
  g_test_add_func ("/scaler/fixed/scale-async/cancel", test_scale_async_cancel);
  g_test_add_func ("/scaler/fixed/invalid-sizes", test_invalid_sizes);
  g_test_add_func ("/scaler/fixed/invalid-sizes-keyfile", test_invalid_sizes_keyfile);

  return g_test_run ();
}

/* test-misuse.c: NULL arguments, calls in the wrong state, misbehaving jobs and callers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Programming errors get g_return_val_if_fail() criticals, never a crash:
 * each is expected with g_test_expect_message(). The last tests show how
 * callers that re-enter the pool's context, or leave their own context
 * alone for a while, are treated.
 */

#include "tp-test-util.h"
#include "tp-pool-private.h"

#include <taskpool/tp-plugin.h>

/* Expects one critical of the library, matching @pattern, from the statement */
#define EXPECT_CRITICAL(pattern, ...)                                          \
  G_STMT_START {                                                               \
    g_test_expect_message ("TaskPool", G_LOG_LEVEL_CRITICAL, pattern);         \
    __VA_ARGS__;                                                               \
    g_test_assert_expected_messages ();                                        \
  } G_STMT_END

static void
never_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_assert_not_reached ();
}

static void
never_job (GTask        *task,
           gpointer      pool,
           gpointer      job_data,
           GCancellable *cancellable)
{
  g_assert_not_reached ();
}

static void
ok_job (GTask        *task,
        gpointer      pool,
        gpointer      job_data,
        GCancellable *cancellable)
{
  g_task_return_pointer (task, g_strdup ("ok"), g_free);
}

/* Keeps the result given to a callback */
static void
store_result_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **out = user_data;

  g_assert_null (*out);
  *out = g_object_ref (result);
}

static void
wait_result (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

static void
drain_context (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Every submission's callback and job_data_destroy ran exactly once */
static void
assert_exactly_once (TpTestLog *log,
                     guint      submitted)
{
  tp_test_wait_count (&log->callbacks, submitted);
  tp_test_wait_count (&log->destroyed, submitted);
  drain_context ();
  g_assert_cmpuint (log->callbacks, ==, submitted);
  g_assert_cmpuint (log->destroyed, ==, submitted);
  g_assert_cmpuint (log->done + log->failed + log->cancelled + log->full + log->not_accepting +
                    log->closed + log->lost, ==, submitted);
}

/* The pool goes once the last task that holds it is finalized, which may
 * be on a worker thread just after the last callback */
static void
wait_finalized (GWeakRef *weak)
{
  for (;;)
    {
      GObject *still = g_weak_ref_get (weak);

      if (still == NULL)
        break;
      g_object_unref (still);
      g_thread_yield ();
      g_main_context_iteration (NULL, FALSE);
    }
}

/* NULL and invalid arguments {{{ */

static void
test_null_pool (void)
{
  g_autoptr(GObject) not_a_pool = g_object_new (G_TYPE_OBJECT, NULL);
  GError *error = NULL;

  g_test_summary ("Every public function given a NULL pool, or an object that is not a pool, "
                  "reports a critical and returns a neutral value; no callback ever runs");

  EXPECT_CRITICAL ("*TP_IS_POOL*", g_assert_false (tp_pool_start (NULL, &error)));
  g_assert_no_error (error);
  EXPECT_CRITICAL ("*TP_IS_POOL*",
                   tp_pool_submit_async (NULL, never_job, NULL, NULL, NULL, never_cb, NULL));
  EXPECT_CRITICAL ("*TP_IS_POOL*",
                   tp_pool_submit_in_thread_async (NULL, never_job, NULL, NULL, NULL, never_cb,
                                                   NULL));
  EXPECT_CRITICAL ("*TP_IS_POOL*",
                   tp_pool_submit_full_async (NULL, TP_SUBMIT_DEFAULT, 4, never_job, NULL, NULL,
                                              NULL, never_cb, NULL));
  EXPECT_CRITICAL ("*TP_IS_POOL*", g_assert_null (tp_pool_submit_finish (NULL, NULL, &error)));
  EXPECT_CRITICAL ("*TP_IS_POOL*", g_assert_cmpint (tp_pool_scale (NULL, 1), ==, 0));
  EXPECT_CRITICAL ("*TP_IS_POOL*", tp_pool_scale_async (NULL, 1, NULL, never_cb, NULL));
  EXPECT_CRITICAL ("*TP_IS_POOL*", g_assert_cmpint (tp_pool_scale_finish (NULL, NULL, &error),
                                                    ==, -1));
  EXPECT_CRITICAL ("*TP_IS_POOL*", tp_pool_pause (NULL));
  EXPECT_CRITICAL ("*TP_IS_POOL*", tp_pool_resume (NULL));
  EXPECT_CRITICAL ("*TP_IS_POOL*", tp_pool_close_async (NULL, TP_CLOSE_DRAIN, NULL, never_cb,
                                                        NULL));
  EXPECT_CRITICAL ("*TP_IS_POOL*", g_assert_false (tp_pool_close_finish (NULL, NULL, &error)));
  EXPECT_CRITICAL ("*TP_IS_POOL*", tp_pool_wait_idle_async (NULL, NULL, never_cb, NULL));
  EXPECT_CRITICAL ("*TP_IS_POOL*", g_assert_false (tp_pool_wait_idle_finish (NULL, NULL,
                                                                             &error)));
  g_assert_no_error (error);

  EXPECT_CRITICAL ("*TP_IS_POOL*", g_assert_null (tp_pool_get_kind (NULL)));
  EXPECT_CRITICAL ("*TP_IS_POOL*", g_assert_cmpuint (tp_pool_get_size (NULL), ==, 0));
  EXPECT_CRITICAL ("*TP_IS_POOL*", g_assert_cmpuint (tp_pool_get_target_size (NULL), ==, 0));
  EXPECT_CRITICAL ("*TP_IS_POOL*", g_assert_cmpuint (tp_pool_get_running (NULL), ==, 0));
  EXPECT_CRITICAL ("*TP_IS_POOL*", g_assert_cmpuint (tp_pool_get_waiting (NULL), ==, 0));
  EXPECT_CRITICAL ("*TP_IS_POOL*", g_assert_cmpuint (tp_pool_get_backlog (NULL), ==, 0));
  EXPECT_CRITICAL ("*TP_IS_POOL*", g_assert_cmpuint (tp_pool_get_min_size (NULL), ==, 0));
  EXPECT_CRITICAL ("*TP_IS_POOL*", g_assert_cmpuint (tp_pool_get_max_size (NULL), ==, 0));
  EXPECT_CRITICAL ("*TP_IS_POOL*", g_assert_cmpuint (tp_pool_get_queue_capacity (NULL), ==, 0));
  EXPECT_CRITICAL ("*TP_IS_POOL*", g_assert_cmpint (tp_pool_get_default_weight (NULL), ==, 0));
  EXPECT_CRITICAL ("*TP_IS_POOL*", g_assert_null (tp_pool_get_executor (NULL)));
  EXPECT_CRITICAL ("*TP_IS_POOL*", g_assert_null (tp_pool_get_main_context (NULL)));
  EXPECT_CRITICAL ("*TP_IS_POOL*", g_assert_false (tp_pool_get_paused (NULL)));
  EXPECT_CRITICAL ("*TP_IS_POOL*", g_assert_false (tp_pool_get_closed (NULL)));

  /* An object of another type is no better */
  EXPECT_CRITICAL ("*TP_IS_POOL*", g_assert_cmpuint (tp_pool_get_size ((TpPool *) not_a_pool),
                                                     ==, 0));
  EXPECT_CRITICAL ("*TP_IS_POOL*", tp_pool_submit_async ((TpPool *) not_a_pool, never_job, NULL,
                                                         NULL, NULL, never_cb, NULL));
  drain_context ();
}

static void
test_null_arguments (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", NULL);
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) set = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "already set");
  GError *error = set;
  guint value = 0;
  TpTestLog log;

  g_test_summary ("A NULL job function, keyfile, group, result or job, and an error that is "
                  "already set, are criticals; the pool goes on working");
  tp_test_log_init (&log);
  g_key_file_set_string (keyfile, "pool", "kind", "fixed-simple");

  EXPECT_CRITICAL ("*job_func != NULL*",
                   tp_pool_submit_full_async (pool, TP_SUBMIT_DEFAULT, 4, NULL, NULL, NULL, NULL,
                                              never_cb, NULL));
  EXPECT_CRITICAL ("*job_func != NULL*",
                   tp_pool_submit_async (pool, NULL, NULL, NULL, NULL, never_cb, NULL));
  EXPECT_CRITICAL ("*job_func != NULL*",
                   tp_pool_submit_in_thread_async (pool, NULL, NULL, NULL, NULL, never_cb, NULL));

  EXPECT_CRITICAL ("*keyfile != NULL*",
                   g_assert_null (tp_pool_new_from_keyfile (NULL, "pool", NULL)));
  EXPECT_CRITICAL ("*group != NULL*",
                   g_assert_null (tp_pool_new_from_keyfile (keyfile, NULL, NULL)));
  EXPECT_CRITICAL ("*error == NULL*",
                   g_assert_null (tp_pool_new_from_keyfile (keyfile, "pool", &error)));
  EXPECT_CRITICAL ("*error == NULL*", g_assert_false (tp_pool_start (pool, &error)));
  g_assert_true (error == set);

  EXPECT_CRITICAL ("*g_task_is_valid*", g_assert_null (tp_pool_submit_finish (pool, NULL, NULL)));
  EXPECT_CRITICAL ("*g_task_is_valid*", g_assert_cmpint (tp_pool_scale_finish (pool, NULL, NULL),
                                                         ==, -1));
  EXPECT_CRITICAL ("*g_task_is_valid*", g_assert_false (tp_pool_close_finish (pool, NULL, NULL)));
  EXPECT_CRITICAL ("*g_task_is_valid*",
                   g_assert_false (tp_pool_wait_idle_finish (pool, NULL, NULL)));

  /* The plugin SDK */
  EXPECT_CRITICAL ("*job != NULL*", g_assert_cmpint (tp_job_get_weight (NULL), ==, 0));
  EXPECT_CRITICAL ("*job != NULL*", g_assert_cmpuint (tp_job_get_sequence (NULL), ==, 0));
  EXPECT_CRITICAL ("*job != NULL*", g_assert_cmpint (tp_job_get_submit_time (NULL), ==, 0));
  EXPECT_CRITICAL ("*job != NULL*", g_assert_false (tp_job_get_in_thread (NULL)));
  EXPECT_CRITICAL ("*job != NULL*", g_assert_null (tp_job_get_queue_data (NULL)));
  EXPECT_CRITICAL ("*job != NULL*", tp_job_set_queue_data (NULL, NULL));
  EXPECT_CRITICAL ("*key != NULL*",
                   g_assert_false (tp_config_get_uint (keyfile, "pool", NULL, 0, 10, &value, NULL,
                                                       NULL)));
  EXPECT_CRITICAL ("*value != NULL*",
                   g_assert_false (tp_config_get_int (keyfile, "pool", "size", 0, 10, NULL, NULL,
                                                      NULL)));

  /* Nothing was submitted, and the pool still works */
  drain_context ();
  g_assert_cmpuint (tp_pool_get_submitted (pool), ==, 0);
  tp_test_submit (pool, &log, "after", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "after", TP_TEST_JOB_RETURN, TP_SUBMIT_IN_THREAD, 4, NULL);
  assert_exactly_once (&log, 2);
  g_assert_cmpuint (log.done, ==, 2);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_not_a_cancellable (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", NULL);
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);
  GCancellable *bogus = (GCancellable *) object;

  g_test_summary ("An object that is not a GCancellable, given as a cancellable, is a "
                  "critical for every call that takes one; nothing is submitted or closed");

  EXPECT_CRITICAL ("*G_IS_CANCELLABLE*",
                   tp_pool_submit_full_async (pool, TP_SUBMIT_DEFAULT, 4, never_job, NULL, NULL,
                                              bogus, never_cb, NULL));
  EXPECT_CRITICAL ("*G_IS_CANCELLABLE*",
                   tp_pool_submit_async (pool, never_job, NULL, NULL, bogus, never_cb, NULL));
  EXPECT_CRITICAL ("*G_IS_CANCELLABLE*",
                   tp_pool_submit_in_thread_async (pool, never_job, NULL, NULL, bogus, never_cb,
                                                   NULL));
  EXPECT_CRITICAL ("*G_IS_CANCELLABLE*", tp_pool_scale_async (pool, 2, bogus, never_cb, NULL));
  EXPECT_CRITICAL ("*G_IS_CANCELLABLE*", tp_pool_wait_idle_async (pool, bogus, never_cb, NULL));
  EXPECT_CRITICAL ("*G_IS_CANCELLABLE*",
                   tp_pool_close_async (pool, TP_CLOSE_DRAIN, bogus, never_cb, NULL));

  drain_context ();
  g_assert_cmpuint (tp_pool_get_submitted (pool), ==, 0);
  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, 3);
  g_assert_false (tp_pool_get_closed (pool));
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
}

/* }}} */

/* Finishing with the wrong result {{{ */

typedef struct {
  TpPool       *pool;
  TpPool       *other;
  GAsyncResult *submitted;
  GAsyncResult *scaled;
  GAsyncResult *idle;
  GAsyncResult *closed;
} Results;

static void
results_collect (Results *results)
{
  results->pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", NULL);
  results->other = tp_test_pool_new ("fixed-lifo", "kind", "fixed-lifo", NULL);
  tp_pool_submit_async (results->pool, ok_job, NULL, NULL, NULL, store_result_cb,
                        &results->submitted);
  wait_result (&results->submitted);
  tp_pool_scale_async (results->pool, 1, NULL, store_result_cb, &results->scaled);
  tp_pool_wait_idle_async (results->pool, NULL, store_result_cb, &results->idle);
  wait_result (&results->scaled);
  wait_result (&results->idle);
}

static void
results_clear (Results *results)
{
  g_clear_object (&results->submitted);
  g_clear_object (&results->scaled);
  g_clear_object (&results->idle);
  g_clear_object (&results->closed);
  tp_test_pool_close (results->other, TP_CLOSE_DRAIN);
  g_clear_object (&results->pool);
  g_clear_object (&results->other);
}

static void
test_finish_wrong_pool (void)
{
  Results results = { NULL };
  g_autofree char *value = NULL;

  g_test_summary ("A finish function given the result of another pool's operation reports a "
                  "critical; the right pool then gets the result");
  results_collect (&results);

  EXPECT_CRITICAL ("*g_task_is_valid*",
                   g_assert_null (tp_pool_submit_finish (results.other, results.submitted,
                                                         NULL)));
  EXPECT_CRITICAL ("*g_task_is_valid*",
                   g_assert_cmpint (tp_pool_scale_finish (results.other, results.scaled, NULL),
                                    ==, -1));
  EXPECT_CRITICAL ("*g_task_is_valid*",
                   g_assert_false (tp_pool_wait_idle_finish (results.other, results.idle, NULL)));

  value = tp_pool_submit_finish (results.pool, results.submitted, NULL);
  g_assert_cmpstr (value, ==, "ok");
  g_assert_cmpint (tp_pool_scale_finish (results.pool, results.scaled, NULL), ==, 4);
  g_assert_true (tp_pool_wait_idle_finish (results.pool, results.idle, NULL));

  tp_pool_close_async (results.pool, TP_CLOSE_DRAIN, NULL, store_result_cb, &results.closed);
  wait_result (&results.closed);
  EXPECT_CRITICAL ("*g_task_is_valid*",
                   g_assert_false (tp_pool_close_finish (results.other, results.closed, NULL)));
  g_assert_true (tp_pool_close_finish (results.pool, results.closed, NULL));
  results_clear (&results);
}

static void
test_finish_wrong_operation (void)
{
  Results results = { NULL };
  g_autoptr(GObject) stranger = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(GTask) untagged = NULL;
  g_autoptr(GTask) foreign = NULL;
  g_autofree char *value = NULL;

  g_test_summary ("A finish function given the result of another operation of the same pool, "
                  "or a GTask the pool did not make, reports a critical (source tag)");
  results_collect (&results);

  EXPECT_CRITICAL ("*tp_pool_submit_full_async*",
                   g_assert_null (tp_pool_submit_finish (results.pool, results.scaled, NULL)));
  EXPECT_CRITICAL ("*tp_pool_submit_full_async*",
                   g_assert_null (tp_pool_submit_finish (results.pool, results.idle, NULL)));
  EXPECT_CRITICAL ("*tp_pool_scale_async*",
                   g_assert_cmpint (tp_pool_scale_finish (results.pool, results.submitted, NULL),
                                    ==, -1));
  EXPECT_CRITICAL ("*tp_pool_close_async*",
                   g_assert_false (tp_pool_close_finish (results.pool, results.idle, NULL)));
  EXPECT_CRITICAL ("*tp_pool_close_async*",
                   g_assert_false (tp_pool_close_finish (results.pool, results.scaled, NULL)));
  EXPECT_CRITICAL ("*tp_pool_wait_idle_async*",
                   g_assert_false (tp_pool_wait_idle_finish (results.pool, results.submitted,
                                                             NULL)));

  /* A task on the pool without the pool's tag, and one on another object */
  untagged = g_task_new (results.pool, NULL, NULL, NULL);
  g_task_return_boolean (untagged, TRUE);
  foreign = g_task_new (stranger, NULL, NULL, NULL);
  g_task_return_pointer (foreign, NULL, NULL);
  EXPECT_CRITICAL ("*tp_pool_submit_full_async*",
                   g_assert_null (tp_pool_submit_finish (results.pool, G_ASYNC_RESULT (untagged),
                                                         NULL)));
  EXPECT_CRITICAL ("*tp_pool_wait_idle_async*",
                   g_assert_false (tp_pool_wait_idle_finish (results.pool,
                                                             G_ASYNC_RESULT (untagged), NULL)));
  EXPECT_CRITICAL ("*g_task_is_valid*",
                   g_assert_null (tp_pool_submit_finish (results.pool, G_ASYNC_RESULT (foreign),
                                                         NULL)));
  drain_context ();

  /* The results were not consumed */
  value = tp_pool_submit_finish (results.pool, results.submitted, NULL);
  g_assert_cmpstr (value, ==, "ok");
  g_assert_cmpint (tp_pool_scale_finish (results.pool, results.scaled, NULL), ==, 4);
  g_assert_true (tp_pool_wait_idle_finish (results.pool, results.idle, NULL));

  tp_pool_close_async (results.pool, TP_CLOSE_DRAIN, NULL, store_result_cb, &results.closed);
  wait_result (&results.closed);
  EXPECT_CRITICAL ("*tp_pool_submit_full_async*",
                   g_assert_null (tp_pool_submit_finish (results.pool, results.closed, NULL)));
  EXPECT_CRITICAL ("*tp_pool_wait_idle_async*",
                   g_assert_false (tp_pool_wait_idle_finish (results.pool, results.closed,
                                                             NULL)));
  g_assert_true (tp_pool_close_finish (results.pool, results.closed, NULL));
  results_clear (&results);
}

/* }}} */

/* Calls in the wrong state {{{ */

static void
expect_pause_resume_refused (TpPool *pool)
{
  EXPECT_CRITICAL ("*not started*running*", tp_pool_pause (pool));
  g_assert_false (tp_pool_get_paused (pool));
  EXPECT_CRITICAL ("*not started*running*", tp_pool_resume (pool));
  g_assert_false (tp_pool_get_paused (pool));
}

/* Another thread may close the pool at any time: no critical, no change */
static void
expect_pause_resume_ignored (TpPool *pool)
{
  tp_pool_pause (pool);
  g_assert_false (tp_pool_get_paused (pool));
  tp_pool_resume (pool);
  g_assert_false (tp_pool_get_paused (pool));
}

static void
test_pause_resume_wrong_state (void)
{
  g_autoptr(TpPool) pool = tp_pool_new ("fixed-simple", NULL);
  g_autoptr(GAsyncResult) closed = NULL;
  TpTestJob *held;
  TpTestLog log;

  g_test_summary ("Pausing or resuming a pool before start is a critical; while it closes and "
                  "once it is closed, a no-op without a critical (the caller cannot avoid "
                  "racing a close); the pool's state does not change");
  tp_test_log_init (&log);

  expect_pause_resume_refused (pool);

  g_assert_true (tp_pool_start (pool, NULL));
  held = tp_test_submit (pool, &log, "held", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 1);
  tp_pool_close_async (pool, TP_CLOSE_DRAIN, NULL, store_result_cb, &closed);
  expect_pause_resume_ignored (pool);   /* closing */

  tp_test_release (held);
  wait_result (&closed);
  g_assert_true (tp_pool_close_finish (pool, closed, NULL));
  expect_pause_resume_ignored (pool);   /* closed */

  assert_exactly_once (&log, 1);
  g_assert_cmpuint (log.done, ==, 1);
  tp_test_log_clear (&log);
}

static void
check_sizes_unchanged (TpPool *pool)
{
  guint size, min_size, max_size;

  g_object_get (pool, "size", &size, "min-size", &min_size, "max-size", &max_size, NULL);
  g_assert_cmpuint (size, ==, 3);   /* before start: the size it starts with */
  g_assert_cmpuint (min_size, ==, 0);
  g_assert_cmpuint (max_size, ==, TP_POOL_MAX_SIZE);
}

static void
test_properties_after_construction (void)
{
  g_autoptr(TpPool) pool = NULL;

  g_test_summary ("Setting size, min-size or max-size after construction reports a critical "
                  "and changes nothing; construct-only and read-only properties get GObject's "
                  "warnings");

  if (g_test_subprocess ())
    {
      /* TpPool reports this one with g_critical(), a structured log that
       * g_test_expect_message() cannot catch: let it through and check it
       * from the parent */
      g_log_set_always_fatal (G_LOG_FATAL_MASK);
      pool = tp_pool_new ("fixed-simple", NULL);
      g_object_set (pool, "min-size", 1, NULL);
      g_object_set (pool, "max-size", 2, NULL);
      g_object_set (pool, "size", 2, NULL);
      check_sizes_unchanged (pool);
      g_assert_true (tp_pool_start (pool, NULL));
      g_assert_cmpuint (tp_pool_get_size (pool), ==, 3);
      g_print ("sizes unchanged\n");
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*TpPool:min-size can only be set at construction*"
                             "*TpPool:max-size can only be set at construction*"
                             "*TpPool:size can only be set at construction*");
  g_test_trap_assert_stdout ("*sizes unchanged*");

  pool = tp_pool_new ("fixed-simple", NULL);
  g_test_expect_message ("GLib-GObject", G_LOG_LEVEL_WARNING,
                         "*construct property*kind*can't be set after construction*");
  g_object_set (pool, "kind", "fixed-lifo", NULL);
  g_test_assert_expected_messages ();
  g_test_expect_message ("GLib-GObject", G_LOG_LEVEL_WARNING, "*running*not writable*");
  g_object_set (pool, "running", 3, NULL);
  g_test_assert_expected_messages ();
  g_assert_cmpstr (tp_pool_get_kind (pool), ==, "fixed-simple");
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 0);
}

static void
test_properties_expect_message (void)
{
  g_autoptr(TpPool) pool = NULL;

  g_test_summary ("An application's test can expect the critical of a size set after "
                  "construction with g_test_expect_message(), as it can every other critical "
                  "of the library");
  g_test_set_nonfatal_assertions ();

  if (g_test_subprocess ())
    {
      pool = tp_pool_new ("fixed-simple", NULL);
      g_test_expect_message ("TaskPool", G_LOG_LEVEL_CRITICAL, "*can only be set at construction*");
      g_object_set (pool, "min-size", 1, NULL);
      g_test_assert_expected_messages ();
      return;
    }

  /* In a subprocess: an uncaught critical aborts it */
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* }}} */

/* Jobs that complete twice {{{ */

static guint twice_returned;

static void
twice_job (GTask        *task,
           gpointer      pool,
           gpointer      job_data,
           GCancellable *cancellable)
{
  g_task_return_pointer (task, g_strdup ("ok:twice"), g_free);
  /* GLib's critical: a task returns once */
  g_task_return_boolean (task, TRUE);
  /* A thread job: the callback may run before the second return */
  g_atomic_int_inc (&twice_returned);
  g_main_context_wakeup (NULL);
}

static void
test_complete_twice (gconstpointer data)
{
  TpSubmitFlags flags = GPOINTER_TO_UINT (data);
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple",
                                             "size", 1, NULL);
  TpTestLog log;

  g_test_summary ("A job that completes its task twice gets GLib's critical; its callback "
                  "still runs once, with the first result, and the pool stays consistent");
  tp_test_log_init (&log);
  twice_returned = 0;

  g_test_expect_message ("GLib-GIO", G_LOG_LEVEL_CRITICAL,
                         "*g_task_return_boolean*ever_returned*");
  tp_pool_submit_full_async (pool, flags, 4, twice_job, tp_test_job_new (&log, "twice",
                                                                         TP_TEST_JOB_RETURN),
                             tp_test_job_free, NULL, tp_test_job_done_cb, &log);
  tp_test_wait_count (&log.callbacks, 1);
  tp_test_wait_count (&twice_returned, 1);
  g_test_assert_expected_messages ();

  for (guint i = 0; i < 6; i++)
    tp_test_submit (pool, &log, "next", TP_TEST_JOB_RETURN, i % 2 ? TP_SUBMIT_IN_THREAD : 0, 4,
                    NULL);
  assert_exactly_once (&log, 7);
  g_assert_cmpuint (log.done, ==, 7);
  g_assert_cmpstr (log.results->pdata[0], ==, "ok:twice");
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 0);
  g_assert_cmpuint (tp_pool_get_completed (pool), ==, 7);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 1);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

/* }}} */

/* Releasing a pool with jobs in flight {{{ */

static void
test_finalize_in_flight (void)
{
  TpPool *pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 2,
                                   "queue-capacity", 2, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  TpTestJob *held[2];
  GWeakRef weak;
  TpTestLog log;

  g_test_summary ("Dropping the last reference to a pool while async and thread jobs run, "
                  "wait in the queue and wait for room is safe: every callback arrives once, "
                  "then the pool is finalized");
  tp_test_log_init (&log);

  held[0] = tp_test_submit (pool, &log, "held", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  held[1] = tp_test_submit (pool, &log, "held", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "queued", TP_TEST_JOB_SLEEP, TP_SUBMIT_IN_THREAD, 4, NULL);
  tp_test_submit (pool, &log, "lost", TP_TEST_JOB_DROP, TP_SUBMIT_IN_THREAD, 4, NULL);
  tp_test_submit (pool, &log, "backlog", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, cancellable);
  tp_test_submit (pool, &log, "backlog", TP_TEST_JOB_FAIL, TP_SUBMIT_IN_THREAD, 4, NULL);
  tp_test_wait_count (&log.started, 2);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 2);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 2);
  g_assert_cmpuint (tp_pool_get_backlog (pool), ==, 2);

  g_weak_ref_init (&weak, pool);
  g_object_unref (pool);
  pool = g_weak_ref_get (&weak);
  g_assert_nonnull (pool);   /* the jobs keep it */
  g_clear_object (&pool);

  g_cancellable_cancel (cancellable);
  tp_test_release (held[0]);
  tp_test_release (held[1]);
  assert_exactly_once (&log, 6);
  g_assert_cmpuint (log.done, ==, 3);
  g_assert_cmpuint (log.lost, ==, 1);
  g_assert_cmpuint (log.cancelled, ==, 1);
  g_assert_cmpuint (log.failed, ==, 1);
  wait_finalized (&weak);
  g_weak_ref_clear (&weak);
  tp_test_log_clear (&log);
}

static void
waiter_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (g_task_get_source_tag (G_TASK (result)) == tp_pool_scale_async)
    g_assert_cmpint (tp_pool_scale_finish (TP_POOL (source), result, &error), ==, 0);
  else
    g_assert_true (tp_pool_wait_idle_finish (TP_POOL (source), result, &error));
  g_assert_no_error (error);
  g_atomic_int_inc ((guint *) user_data);
}

static void
test_finalize_with_waiters (void)
{
  TpPool *pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 2, NULL);
  guint waiters_done = 0;
  TpTestJob *held;
  GWeakRef weak;
  TpTestLog log;

  g_test_summary ("Dropping the last reference to a paused pool with a job running and "
                  "wait_idle and scale_async pending is safe: they complete once the job ends, "
                  "then the pool is finalized");
  tp_test_log_init (&log);

  held = tp_test_submit (pool, &log, "held", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_count (&log.started, 1);
  tp_pool_pause (pool);
  tp_pool_wait_idle_async (pool, NULL, waiter_done_cb, &waiters_done);
  tp_pool_scale_async (pool, -2, NULL, waiter_done_cb, &waiters_done);
  drain_context ();
  g_assert_cmpuint (waiters_done, ==, 0);

  g_weak_ref_init (&weak, pool);
  g_object_unref (pool);
  tp_test_release (held);
  tp_test_wait_count (&waiters_done, 2);
  assert_exactly_once (&log, 1);
  g_assert_cmpuint (log.done, ==, 1);
  wait_finalized (&weak);
  g_assert_cmpuint (waiters_done, ==, 2);
  g_weak_ref_clear (&weak);
  tp_test_log_clear (&log);
}

typedef struct {
  GThread  *thread;   /* where the pool was finalized */
  gboolean  finalized;
} Finalized;

static void
pool_finalized_cb (gpointer  data,
                   GObject  *where_the_object_was)
{
  Finalized *finalized = data;

  finalized->thread = g_thread_self ();
  g_atomic_int_set (&finalized->finalized, TRUE);
  g_main_context_wakeup (NULL);
}

/* Returns, then keeps the worker a little: the worker, not the callback's
 * dispatch, usually drops the last reference to the task, and so to the pool */
static void
linger_job (GTask        *task,
            gpointer      pool,
            gpointer      job_data,
            GCancellable *cancellable)
{
  TpTestJob *job = job_data;

  g_task_return_pointer (task, g_strdup_printf ("ok:%s", job->name), g_free);
  g_usleep (10 * 1000);
}

static void
test_finalize_on_worker (gconstpointer data)
{
  const char *executor = data;
  TpPool *pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "executor", executor,
                                   "size", 2, NULL);
  Finalized finalized = { NULL, FALSE };
  TpTestLog log;

  g_test_summary ("A pool whose last reference goes on one of its worker threads is finalized "
                  "there safely, with either executor");
  tp_test_log_init (&log);
  g_object_weak_ref (G_OBJECT (pool), pool_finalized_cb, &finalized);
  for (guint i = 0; i < 4; i++)
    tp_pool_submit_in_thread_async (pool, linger_job, tp_test_job_new (&log, "linger",
                                                                       TP_TEST_JOB_RETURN),
                                    tp_test_job_free, NULL, tp_test_job_done_cb, &log);
  g_object_unref (pool);

  assert_exactly_once (&log, 4);
  g_assert_cmpuint (log.done, ==, 4);
  tp_test_wait_flag (&finalized.finalized);
  g_test_message ("finalized on %s", finalized.thread == g_thread_self () ? "the main thread"
                                                                          : "a worker thread");
  tp_test_log_clear (&log);
}

/* }}} */

/* Callers that re-enter the pool's context or leave theirs alone {{{ */

typedef struct {
  TpTestLog *log;
  gboolean   timed_out;
  gboolean   first_done;
  gboolean   second_done_inside;
} NestedLoop;

static gboolean
watchdog_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* A modal dialog or a synchronous helper: a callback that runs a nested
 * main loop until another job of the same pool is done */
static void
nested_loop_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  NestedLoop *nested = user_data;
  g_autofree char *value = tp_pool_submit_finish (TP_POOL (source), result, NULL);
  guint watchdog = g_timeout_add_seconds (5, watchdog_cb, &nested->timed_out);

  g_assert_cmpstr (value, ==, "ok");
  while (nested->log->callbacks < 1 && !nested->timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!nested->timed_out)
    g_source_remove (watchdog);
  nested->second_done_inside = nested->log->callbacks == 1;
  nested->first_done = TRUE;
}

static void
test_nested_loop_in_callback (void)
{
  g_autoptr(TpPool) pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple",
                                             "size", 2, NULL);
  NestedLoop nested = { NULL, FALSE, FALSE, FALSE };
  TpTestLog log;

  g_test_summary ("A callback on the pool's thread that runs a nested main loop until another "
                  "job of the pool is done does not stall the pool: that job runs, on a free "
                  "worker, inside the nested loop");
  g_test_set_nonfatal_assertions ();
  tp_test_log_init (&log);
  nested.log = &log;

  tp_pool_submit_async (pool, ok_job, NULL, NULL, NULL, nested_loop_cb, &nested);
  tp_test_submit (pool, &log, "second", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_wait_flag (&nested.first_done);
  g_assert_false (nested.timed_out);
  g_assert_true (nested.second_done_inside);

  assert_exactly_once (&log, 1);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

typedef struct {
  TpPool       *pool;
  GMainContext *context;
  GMutex        lock;
  GCond         cond;
  gboolean      go_on;
  gint          returned;   /* the producer's job returned its task */
  gint          callback;
} BusySubmitter;

static void
returns_job (GTask        *task,
             gpointer      pool,
             gpointer      job_data,
             GCancellable *cancellable)
{
  BusySubmitter *busy = job_data;

  g_task_return_pointer (task, g_strdup ("ok"), g_free);
  g_atomic_int_set (&busy->returned, 1);
}

static void
busy_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  BusySubmitter *busy = user_data;
  g_autofree char *value = tp_pool_submit_finish (TP_POOL (source), result, NULL);

  g_assert_cmpstr (value, ==, "ok");
  g_atomic_int_set (&busy->callback, 1);
}

/* Submits from its own context, then does something else for a while
 * before it iterates that context again */
static gpointer
busy_submitter_thread (gpointer data)
{
  BusySubmitter *busy = data;

  g_main_context_push_thread_default (busy->context);
  tp_pool_submit_async (busy->pool, returns_job, busy, NULL, NULL, busy_done_cb, busy);

  g_mutex_lock (&busy->lock);
  while (!busy->go_on)
    g_cond_wait (&busy->cond, &busy->lock);
  g_mutex_unlock (&busy->lock);

  while (!g_atomic_int_get (&busy->callback))
    g_main_context_iteration (busy->context, TRUE);
  g_main_context_pop_thread_default (busy->context);
  return NULL;
}

static void
test_busy_submitter (void)
{
  BusySubmitter busy = { NULL };
  gboolean timed_out = FALSE;
  GThread *thread;
  guint watchdog;
  TpTestLog log;

  g_test_summary ("An async job's worker is free once the job completed its task, even while "
                  "the thread that submitted it is busy and has not yet iterated its context "
                  "to run the callback");
  g_test_set_nonfatal_assertions ();
  tp_test_log_init (&log);
  busy.pool = tp_test_pool_new ("fixed-simple", "kind", "fixed-simple", "size", 1, NULL);
  busy.context = g_main_context_new ();
  g_mutex_init (&busy.lock);
  g_cond_init (&busy.cond);

  thread = g_thread_new ("busy-submitter", busy_submitter_thread, &busy);
  while (!g_atomic_int_get (&busy.returned))
    g_main_context_iteration (NULL, TRUE);

  /* The only worker is free again: the next job runs */
  tp_test_submit (busy.pool, &log, "next", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  watchdog = g_timeout_add_seconds (2, watchdog_cb, &timed_out);
  while (log.started < 1 && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (watchdog);
  g_assert_false (timed_out);
  g_assert_cmpuint (log.started, ==, 1);

  g_mutex_lock (&busy.lock);
  busy.go_on = TRUE;
  g_cond_signal (&busy.cond);
  g_mutex_unlock (&busy.lock);
  g_thread_join (thread);
  assert_exactly_once (&log, 1);
  g_assert_cmpuint (log.done, ==, 1);

  tp_test_pool_close (busy.pool, TP_CLOSE_DRAIN);
  g_clear_object (&busy.pool);
  g_main_context_unref (busy.context);
  g_mutex_clear (&busy.lock);
  g_cond_clear (&busy.cond);
  tp_test_log_clear (&log);
}

/* }}} */

/* A pool never initialized {{{ */

/* As bindings make it: `new TaskPool.Pool({kind: …})`, `TaskPool.Pool(kind=…)` */
static TpPool *
uninitialized_pool (const char *kind,
                    guint       size)
{
  return g_object_new (TP_TYPE_POOL, "kind", kind, "size", size, NULL);
}

static void
test_uninitialized_start (void)
{
  g_autoptr(TpPool) pool = uninitialized_pool ("fixed-priority", 2);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *value = NULL;

  g_test_summary ("A pool made with g_object_new() and never initialized initializes itself "
                  "at start, reads the size it will start with before, and runs jobs");

  g_assert_cmpuint (tp_pool_get_size (pool), ==, 2);
  g_assert_cmpuint (tp_pool_get_min_size (pool), ==, 0);
  g_assert_cmpuint (tp_pool_get_max_size (pool), ==, TP_POOL_MAX_SIZE);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 0);
  g_assert_true (tp_pool_start (pool, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 2);

  tp_pool_submit_async (pool, ok_job, NULL, NULL, NULL, store_result_cb, &result);
  wait_result (&result);
  value = tp_pool_submit_finish (pool, result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (value, ==, "ok");
}

static void
test_uninitialized_bad_kind (void)
{
  g_autoptr(TpPool) pool = uninitialized_pool ("fixed-nosuchqueue", 2);
  g_autoptr(GAsyncResult) submitted = NULL;
  g_autoptr(GAsyncResult) closed = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) again = NULL;
  g_autoptr(GError) refused = NULL;

  g_test_summary ("A pool that cannot initialize (an unknown kind) answers every getter and "
                  "scale without a crash, fails start with the error of its initialization, "
                  "twice the same, refuses jobs and closes");

  g_assert_cmpuint (tp_pool_get_size (pool), ==, 2);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 0);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 0);
  g_assert_cmpuint (tp_pool_get_backlog (pool), ==, 0);
  g_assert_cmpint (tp_pool_scale (pool, 1), ==, 0);
  g_assert_false (tp_pool_get_paused (pool));
  g_assert_false (tp_pool_get_closed (pool));

  g_assert_false (tp_pool_start (pool, &error));
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  g_assert_nonnull (strstr (error->message, "nosuchqueue"));
  g_assert_false (g_initable_init (G_INITABLE (pool), NULL, &again));
  g_assert_error (again, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  g_assert_cmpstr (again->message, ==, error->message);

  tp_pool_submit_async (pool, never_job, NULL, NULL, NULL, store_result_cb, &submitted);
  wait_result (&submitted);
  g_assert_null (tp_pool_submit_finish (pool, submitted, &refused));
  g_assert_error (refused, TP_POOL_ERROR, TP_POOL_ERROR_NOT_ACCEPTING);

  tp_pool_close_async (pool, TP_CLOSE_CANCEL_RUNNING, NULL, store_result_cb, &closed);
  wait_result (&closed);
  g_assert_true (tp_pool_close_finish (pool, closed, NULL));
  g_assert_true (tp_pool_get_closed (pool));
}

static void
test_uninitialized_close (gconstpointer data)
{
  TpCloseFlags flags = GPOINTER_TO_UINT (data);
  g_autoptr(TpPool) pool = uninitialized_pool ("autoscale-lifo", 4);
  g_autoptr(GAsyncResult) closed = NULL;
  g_autoptr(GAsyncResult) idle = NULL;
  GValue value = G_VALUE_INIT;
  GParamSpec **pspecs;
  guint n_pspecs;

  g_test_summary ("Every property of a pool never initialized can be read (as a tool that "
                  "dumps properties does), and closing it with any flags completes");

  pspecs = g_object_class_list_properties (G_OBJECT_GET_CLASS (pool), &n_pspecs);
  for (guint i = 0; i < n_pspecs; i++)
    {
      g_value_init (&value, pspecs[i]->value_type);
      g_object_get_property (G_OBJECT (pool), pspecs[i]->name, &value);
      g_value_unset (&value);
    }
  g_free (pspecs);
  g_assert_cmpuint (tp_pool_get_min_size (pool), ==, 3);
  g_assert_cmpuint (tp_pool_get_max_size (pool), ==, 8);

  tp_pool_wait_idle_async (pool, NULL, store_result_cb, &idle);
  tp_pool_close_async (pool, flags, NULL, store_result_cb, &closed);
  wait_result (&closed);
  wait_result (&idle);
  g_assert_true (tp_pool_close_finish (pool, closed, NULL));
  g_assert_true (tp_pool_wait_idle_finish (pool, idle, NULL));
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 0);
}

/* }}} */

/* Calls a caller cannot order {{{ */

static void
scale_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GError **error = user_data;

  g_assert_cmpint (tp_pool_scale_finish (TP_POOL (source), result, error), ==, -1);
}

static void
test_scale_async_not_started (void)
{
  TpPool *pool = tp_pool_new ("fixed-simple", NULL);
  g_autoptr(GError) error = NULL;

  g_test_summary ("scale_async on a pool that was never started fails at once with "
                  "NOT_ACCEPTING and changes nothing; the pool, dropped, is finalized");

  g_object_add_weak_pointer (G_OBJECT (pool), (gpointer *) &pool);
  tp_pool_scale_async (pool, 2, NULL, scale_done_cb, &error);
  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, 3);
  g_object_unref (pool);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_NOT_ACCEPTING);
  drain_context ();
  g_assert_null (pool);
}

typedef struct {
  TpPool *pool;
  int     rounds;
  int     stop;
} PauseRace;

static gpointer
pause_race_thread (gpointer data)
{
  PauseRace *race = data;

  while (!g_atomic_int_get (&race->stop))
    {
      tp_pool_pause (race->pool);
      tp_pool_resume (race->pool);
      g_atomic_int_inc (&race->rounds);
    }
  return NULL;
}

static void
test_pause_races_close (void)
{
  g_autoptr(TpPool) pool = tp_pool_new ("fixed-simple", NULL);
  g_autoptr(GAsyncResult) closed = NULL;
  PauseRace race = { pool, 0, 0 };
  GThread *threads[2];

  g_test_summary ("pause and resume from two threads while the main thread closes the pool: "
                  "no critical (the tests run with criticals fatal), and the pool closes");

  g_assert_true (tp_pool_start (pool, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("pause-race", pause_race_thread, &race);
  /* Close while they go on: once they have begun, and then some */
  while (g_atomic_int_get (&race.rounds) < 1000)
    g_thread_yield ();
  tp_pool_close_async (pool, TP_CLOSE_DRAIN, NULL, store_result_cb, &closed);
  wait_result (&closed);
  for (int target = g_atomic_int_get (&race.rounds) + 1000;
       g_atomic_int_get (&race.rounds) < target;)
    g_thread_yield ();
  g_atomic_int_set (&race.stop, 1);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  g_assert_true (tp_pool_close_finish (pool, closed, NULL));
  g_assert_true (tp_pool_get_closed (pool));
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/misuse/null/pool", test_null_pool);
  g_test_add_func ("/misuse/null/arguments", test_null_arguments);
  g_test_add_func ("/misuse/cancellable/not-a-cancellable", test_not_a_cancellable);
  g_test_add_func ("/misuse/finish/wrong-pool", test_finish_wrong_pool);
  g_test_add_func ("/misuse/finish/wrong-operation", test_finish_wrong_operation);
  g_test_add_func ("/misuse/state/pause-resume", test_pause_resume_wrong_state);
  g_test_add_func ("/misuse/state/pause-races-close", test_pause_races_close);
  g_test_add_func ("/misuse/state/scale-async-not-started", test_scale_async_not_started);
  g_test_add_func ("/misuse/uninitialized/start", test_uninitialized_start);
  g_test_add_func ("/misuse/uninitialized/bad-kind", test_uninitialized_bad_kind);
  g_test_add_data_func ("/misuse/uninitialized/close/drain",
                        GUINT_TO_POINTER (TP_CLOSE_DRAIN), test_uninitialized_close);
  g_test_add_data_func ("/misuse/uninitialized/close/discard",
                        GUINT_TO_POINTER (TP_CLOSE_DISCARD_QUEUED), test_uninitialized_close);
  g_test_add_data_func ("/misuse/uninitialized/close/cancel-running",
                        GUINT_TO_POINTER (TP_CLOSE_CANCEL_RUNNING), test_uninitialized_close);
  g_test_add_func ("/misuse/properties/after-construction", test_properties_after_construction);
  g_test_add_data_func ("/misuse/job/complete-twice-async", GUINT_TO_POINTER (TP_SUBMIT_DEFAULT),
                        test_complete_twice);
  g_test_add_data_func ("/misuse/job/complete-twice-thread",
                        GUINT_TO_POINTER (TP_SUBMIT_IN_THREAD), test_complete_twice);
  g_test_add_func ("/misuse/finalize/in-flight", test_finalize_in_flight);
  g_test_add_func ("/misuse/finalize/with-waiters", test_finalize_with_waiters);
  g_test_add_data_func ("/misuse/finalize/on-worker-threads", "threads", test_finalize_on_worker);
  g_test_add_data_func ("/misuse/finalize/on-worker-gtask", "gtask", test_finalize_on_worker);
  /* Last: they turn assertions non-fatal, to report and go on */
  g_test_add_func ("/misuse/logging/expect-message", test_properties_expect_message);
  g_test_add_func ("/misuse/reentrancy/nested-loop-in-callback", test_nested_loop_in_callback);
  g_test_add_func ("/misuse/reentrancy/busy-submitter", test_busy_submitter);

  return g_test_run ();
}

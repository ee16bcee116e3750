/* tp-test-util.c: helpers shared by the tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "tp-test-util.h"

void
tp_test_wait_flag (const gboolean *flag)
{
  while (!g_atomic_int_get (flag))
    g_main_context_iteration (NULL, TRUE);
}

void
tp_test_wait_count (const guint *counter,
                    guint        target)
{
  while ((guint) g_atomic_int_get (counter) < target)
    g_main_context_iteration (NULL, TRUE);
}

TpPool *
tp_test_pool_new (const char *kind,
                  const char *first_property,
                  ...)
{
  g_autoptr(GError) error = NULL;
  TpPool *pool;
  va_list args;

  va_start (args, first_property);
  pool = (TpPool *) g_initable_new_valist (TP_TYPE_POOL, first_property, args, NULL, &error);
  va_end (args);
  if (pool == NULL)
    {
      /* g_initable_new_valist() has no way to pass the kind first */
      g_assert_no_error (error);
    }
  g_assert_cmpstr (tp_pool_get_kind (pool), ==, kind);
  g_assert_true (tp_pool_start (pool, &error));
  g_assert_no_error (error);
  return pool;
}

static void
tp_test_bool_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (tp_pool_close_finish (TP_POOL (source), result, &error));
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

void
tp_test_pool_close (TpPool       *pool,
                    TpCloseFlags  flags)
{
  gboolean closed = FALSE;

  tp_pool_close_async (pool, flags, NULL, tp_test_bool_cb, &closed);
  tp_test_wait_flag (&closed);
  g_assert_true (tp_pool_get_closed (pool));
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 0);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 0);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 0);
}

void
tp_test_log_init (TpTestLog *log)
{
  memset (log, 0, sizeof *log);
  g_mutex_init (&log->lock);
  log->order = g_ptr_array_new_with_free_func (g_free);
  log->results = g_ptr_array_new_with_free_func (g_free);
  log->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  log->context = g_main_context_default ();
}

void
tp_test_log_clear (TpTestLog *log)
{
  g_clear_pointer (&log->order, g_ptr_array_unref);
  g_clear_pointer (&log->results, g_ptr_array_unref);
  g_clear_pointer (&log->errors, g_ptr_array_unref);
  g_mutex_clear (&log->lock);
}

char *
tp_test_log_order (TpTestLog *log)
{
  GString *out = g_string_new (NULL);

  g_mutex_lock (&log->lock);
  for (guint i = 0; i < log->order->len; i++)
    g_string_append_printf (out, "%s%s", i > 0 ? " " : "", (char *) log->order->pdata[i]);
  g_mutex_unlock (&log->lock);
  return g_string_free (out, FALSE);
}

TpTestJob *
tp_test_job_new (TpTestLog     *log,
                 const char    *name,
                 TpTestJobMode  mode)
{
  TpTestJob *job = g_new0 (TpTestJob, 1);

  job->log = log;
  job->name = g_strdup (name);
  job->mode = mode;
  job->sleep_ms = 5;
  return job;
}

void
tp_test_job_free (gpointer data)
{
  TpTestJob *job = data;

  TpTestLog *log = job->log;
  /* Referenced before counting: the waiter may free it once the count is reached */
  GMainContext *context = g_main_context_ref (log->context);

  g_free (job->name);
  g_free (job);
  g_atomic_int_inc (&log->destroyed);
  g_main_context_wakeup (context);
  g_main_context_unref (context);
}

static void
tp_test_job_enter (TpTestJob *job)
{
  TpTestLog *log = job->log;

  g_mutex_lock (&log->lock);
  log->running++;
  log->peak = MAX (log->peak, log->running);
  g_ptr_array_add (log->order, g_strdup (job->name));
  /* Atomic, though under the lock: tp_test_wait_count() reads it without */
  g_atomic_int_inc (&log->started);
  g_mutex_unlock (&log->lock);
  /* A thread job enters on a worker thread: wake whoever waits for it */
  g_main_context_wakeup (log->context);
}

static void
tp_test_job_leave (TpTestJob *job)
{
  g_mutex_lock (&job->log->lock);
  job->log->running--;
  g_mutex_unlock (&job->log->lock);
}

static void
tp_test_job_return (TpTestJob *job,
                    GTask     *task)
{
  tp_test_job_leave (job);
  if (job->mode == TP_TEST_JOB_FAIL)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "job %s failed", job->name);
  else
    g_task_return_pointer (task, g_strdup_printf ("ok:%s", job->name), g_free);
}

static gboolean
tp_test_job_timeout_cb (gpointer data)
{
  GTask *task = data;
  TpTestJob *job = g_task_get_task_data (task);

  tp_test_job_return (job, task);
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

static gboolean
tp_test_job_cleanup_cb (gpointer data)
{
  TpTestJob *job = data;

  /* Not from the handler itself: disconnecting there would deadlock */
  if (job->cancel_id != 0)
    g_cancellable_disconnect (job->cancellable, job->cancel_id);
  job->cancel_id = 0;
  g_clear_object (&job->cancellable);
  g_clear_object (&job->held);
  return G_SOURCE_REMOVE;
}

static void
tp_test_job_cancelled_cb (GCancellable *cancellable,
                          gpointer      data)
{
  TpTestJob *job = data;

  tp_test_job_leave (job);
  g_task_return_new_error (job->held, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           "job %s saw its cancellation", job->name);
  g_idle_add (tp_test_job_cleanup_cb, job);
}

void
tp_test_job_func (GTask        *task,
                  gpointer      pool,
                  gpointer      job_data,
                  GCancellable *cancellable)
{
  TpTestJob *job = job_data;
  gboolean in_thread = !g_main_context_is_owner (tp_pool_get_main_context (pool));

  g_assert_true (TP_IS_POOL (pool));
  g_assert_true (g_task_get_task_data (task) == job_data);
  tp_test_job_enter (job);

  switch (job->mode)
    {
    case TP_TEST_JOB_RETURN:
    case TP_TEST_JOB_FAIL:
      tp_test_job_return (job, task);
      break;
    case TP_TEST_JOB_HOLD:
      job->held = g_object_ref (task);
      break;
    case TP_TEST_JOB_SLEEP:
      if (in_thread)
        {
          g_usleep (job->sleep_ms * 1000);
          tp_test_job_return (job, task);
        }
      else
        g_timeout_add (job->sleep_ms, tp_test_job_timeout_cb, g_object_ref (task));
      break;
    case TP_TEST_JOB_DROP:
      tp_test_job_leave (job);
      break;
    case TP_TEST_JOB_WAIT_CANCEL:
      g_assert_nonnull (cancellable);
      if (in_thread)
        {
          /* A blocking job: wait for the cancellation without polling */
          GPollFD pollfd;

          g_assert_true (g_cancellable_make_pollfd (cancellable, &pollfd));
          while (!g_cancellable_is_cancelled (cancellable))
            g_poll (&pollfd, 1, -1);
          g_cancellable_release_fd (cancellable);
          tp_test_job_leave (job);
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                   "job %s saw its cancellation", job->name);
          break;
        }
      /* The handler runs at once if already cancelled */
      job->held = g_object_ref (task);
      job->cancellable = g_object_ref (cancellable);
      job->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (tp_test_job_cancelled_cb),
                                              job, NULL);
      break;
    default:
      g_assert_not_reached ();
    }
}

void
tp_test_job_done_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  TpTestLog *log = user_data;
  g_autoptr(GError) error = NULL;
  char *value = tp_pool_submit_finish (TP_POOL (source), result, &error);

  /* The counters are atomic, though under the lock: tp_test_wait_count()
   * reads them without it, from another thread than this one at times */
  g_mutex_lock (&log->lock);
  if (error != NULL)
    g_ptr_array_add (log->errors, g_error_copy (error));
  if (value != NULL)
    {
      g_atomic_int_inc (&log->done);
      g_ptr_array_add (log->results, value);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_atomic_int_inc (&log->cancelled);
  else if (g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_FULL))
    g_atomic_int_inc (&log->full);
  else if (g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_NOT_ACCEPTING))
    g_atomic_int_inc (&log->not_accepting);
  else if (g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_CLOSED))
    g_atomic_int_inc (&log->closed);
  else if (g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_JOB_LOST))
    g_atomic_int_inc (&log->lost);
  else if (g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_TIMED_OUT))
    g_atomic_int_inc (&log->timed_out);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    g_atomic_int_inc (&log->run_timed_out);
  else if (g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_UNAVAILABLE))
    g_atomic_int_inc (&log->unavailable);
  else
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
      g_atomic_int_inc (&log->failed);
    }
  g_mutex_unlock (&log->lock);
  g_atomic_int_inc (&log->callbacks);
}

TpTestJob *
tp_test_submit (TpPool        *pool,
                TpTestLog     *log,
                const char    *name,
                TpTestJobMode  mode,
                TpSubmitFlags  flags,
                int            weight,
                GCancellable  *cancellable)
{
  TpTestJob *job = tp_test_job_new (log, name, mode);

  tp_pool_submit_full_async (pool, flags, weight, tp_test_job_func, job, tp_test_job_free,
                             cancellable, tp_test_job_done_cb, log);
  return job;
}

void
tp_test_release (TpTestJob *job)
{
  GTask *task = g_steal_pointer (&job->held);

  g_assert_nonnull (task);
  tp_test_job_return (job, task);
  g_object_unref (task);
}

TpTestJob *
tp_test_submit_with_options (TpPool        *pool,
                             TpTestLog     *log,
                             const char    *name,
                             TpTestJobMode  mode,
                             TpJobOptions  *options,
                             GCancellable  *cancellable)
{
  TpTestJob *job = tp_test_job_new (log, name, mode);

  tp_pool_submit_with_options_async (pool, options, tp_test_job_func, job, tp_test_job_free,
                                     cancellable, tp_test_job_done_cb, log);
  return job;
}

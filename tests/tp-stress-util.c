/* tp-stress-util.c: what the stress and torture tests share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "tp-stress-util.h"

/* The canceller {{{ */

typedef struct {
  GCancellable *cancellable;
  gint64        due;
} CancelLater;

struct _StressCanceller
{
  GAsyncQueue *queue;
  GThread     *thread;
};

/* Pushed on the queue, tells the thread to stop */
static CancelLater cancel_stop;

static void
cancel_now (CancelLater *item)
{
  g_cancellable_cancel (item->cancellable);
  g_object_unref (item->cancellable);
  g_free (item);
}

/* Cancels what is due; returns the next due time, or G_MAXINT64 */
static gint64
canceller_fire (GPtrArray *pending,
                gint64     now)
{
  gint64 next = G_MAXINT64;
  guint i = 0;

  while (i < pending->len)
    {
      CancelLater *item = pending->pdata[i];

      if (item->due <= now)
        {
          g_ptr_array_remove_index_fast (pending, i);
          cancel_now (item);
        }
      else
        {
          next = MIN (next, item->due);
          i++;
        }
    }
  return next;
}

static gpointer
canceller_thread (gpointer data)
{
  StressCanceller *self = data;
  g_autoptr(GPtrArray) pending = g_ptr_array_new ();

  for (;;)
    {
      gint64 now = g_get_monotonic_time ();
      gint64 next = canceller_fire (pending, now);
      CancelLater *item;

      if (next == G_MAXINT64)
        item = g_async_queue_pop (self->queue);
      else
        item = g_async_queue_timeout_pop (self->queue, (guint64) (next - now));

      if (item == &cancel_stop)
        break;
      if (item != NULL)
        g_ptr_array_add (pending, item);
    }

  for (guint i = 0; i < pending->len; i++)
    cancel_now (pending->pdata[i]);
  return NULL;
}

StressCanceller *
stress_canceller_new (const char *thread_name)
{
  StressCanceller *self = g_new (StressCanceller, 1);

  self->queue = g_async_queue_new ();
  self->thread = g_thread_new (thread_name, canceller_thread, self);
  return self;
}

void
stress_canceller_cancel_later (StressCanceller *self,
                               GCancellable    *cancellable,
                               guint            delay_us)
{
  CancelLater *item = g_new (CancelLater, 1);

  item->cancellable = g_object_ref (cancellable);
  item->due = g_get_monotonic_time () + delay_us;
  g_async_queue_push (self->queue, item);
}

void
stress_canceller_free (StressCanceller *self)
{
  g_async_queue_push (self->queue, &cancel_stop);
  g_thread_join (self->thread);
  g_async_queue_unref (self->queue);
  g_free (self);
}

/* }}} */

/* The watchdog {{{ */

static int                   watchdog_progress;
static gpointer              watchdog_round;      /* atomic */
static GMutex                watchdog_lock;
static GCond                 watchdog_cond;
static gboolean              watchdog_stopping;
static GThread              *watchdog_thread;
static char                 *watchdog_name;
static guint                 watchdog_seconds;
static StressWatchdogReport  watchdog_report;

static gpointer
watchdog_func (gpointer data)
{
  int seen = g_atomic_int_get (&watchdog_progress);
  gint64 last_change = g_get_monotonic_time ();

  g_mutex_lock (&watchdog_lock);
  while (!watchdog_stopping)
    {
      gint64 now = g_get_monotonic_time ();
      int progress = g_atomic_int_get (&watchdog_progress);
      gpointer round = g_atomic_pointer_get (&watchdog_round);

      if (progress != seen || round == NULL)
        {
          seen = progress;
          last_change = now;
        }
      else if (now - last_change > (gint64) watchdog_seconds * G_USEC_PER_SEC)
        {
          watchdog_report (round);
          g_error ("%s watchdog: the round made no progress for %u s", watchdog_name,
                   watchdog_seconds);
        }
      g_cond_wait_until (&watchdog_cond, &watchdog_lock, now + G_USEC_PER_SEC);
    }
  g_mutex_unlock (&watchdog_lock);
  return NULL;
}

void
stress_watchdog_start (const char           *name,
                       guint                 seconds,
                       StressWatchdogReport  report)
{
  g_assert_null (watchdog_thread);
  watchdog_name = g_strdup (name);
  watchdog_seconds = seconds;
  watchdog_report = report;
  watchdog_stopping = FALSE;
  watchdog_thread = g_thread_new ("stress-watchdog", watchdog_func, NULL);
}

void
stress_watchdog_stop (void)
{
  g_mutex_lock (&watchdog_lock);
  watchdog_stopping = TRUE;
  g_cond_signal (&watchdog_cond);
  g_mutex_unlock (&watchdog_lock);
  g_thread_join (g_steal_pointer (&watchdog_thread));
  g_clear_pointer (&watchdog_name, g_free);
}

void
stress_watchdog_set_round (gpointer round)
{
  g_atomic_pointer_set (&watchdog_round, round);
}

void
stress_bump (void)
{
  g_atomic_int_inc (&watchdog_progress);
  g_main_context_wakeup (NULL);
}

/* }}} */

void
stress_atomic_max (int *max,
                   int  value)
{
  int seen = g_atomic_int_get (max);

  while (value > seen && !g_atomic_int_compare_and_exchange (max, seen, value))
    seen = g_atomic_int_get (max);
}

gboolean
stress_long_run (int   *argc,
                 char **argv)
{
  const char *env = g_getenv ("TP_STRESS_LONG");
  gboolean found = env != NULL && *env != '\0';
  int out = 1;

  for (int i = 1; i < *argc; i++)
    {
      if (g_strcmp0 (argv[i], "--long") == 0)
        found = TRUE;
      else
        argv[out++] = argv[i];
    }
  argv[out] = NULL;
  *argc = out;
  return found;
}

guint
stress_env_uint (const char *name,
                 guint       fallback,
                 guint       minimum)
{
  const char *value = g_getenv (name);
  guint64 parsed;

  if (value == NULL || *value == '\0')
    return fallback;
  if (!g_ascii_string_to_unsigned (value, 10, minimum, G_MAXUINT, &parsed, NULL))
    g_error ("%s=%s: expected a whole number of at least %u", name, value, minimum);
  return (guint) parsed;
}

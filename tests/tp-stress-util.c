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

/* bad-flags.c: queue strategy “badflags” asks for a flag this library does not know
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* A working FIFO queue, built against a later SDK that had a flag 1 << 5:
 * the registry cannot give it what it asks for, and refuses it. */

#include <taskpool/tp-plugin.h>

static gpointer
badflags_create (GKeyFile    *config,
                 const char  *group,
                 GError     **error)
{
  return g_queue_new ();
}

static void
badflags_destroy (gpointer queue)
{
  g_queue_free (queue);
}

static void
badflags_push (gpointer  queue,
               TpJob    *job)
{
  g_queue_push_tail (queue, job);
}

static TpJob *
badflags_pop (gpointer queue)
{
  return g_queue_pop_head (queue);
}

static void
badflags_remove (gpointer  queue,
                 TpJob    *job)
{
  g_queue_remove (queue, job);
}

static guint
badflags_length (gpointer queue)
{
  return g_queue_get_length (queue);
}

static const TpQueueStrategy badflags_strategy = {
  .struct_size = sizeof (TpQueueStrategy),
  .name = "badflags",
  .description = "A queue that asks for a flag from the future",
  .create = badflags_create,
  .destroy = badflags_destroy,
  .push = badflags_push,
  .pop = badflags_pop,
  .remove = badflags_remove,
  .length = badflags_length,
  .flags = TP_QUEUE_IGNORES_SUBMIT_TIME | 1 << 5,
};

static const TpQueueStrategy * const badflags_queues[] = { &badflags_strategy, NULL };

TP_PLUGIN_DEFINE ("bad-flags", "1.0", "A queue with an unknown flag", badflags_queues, NULL)

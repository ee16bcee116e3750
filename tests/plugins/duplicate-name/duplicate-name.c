/* duplicate-name.c: a module that provides a second queue strategy “simple”
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Broken for: “simple” is already provided by the bundled queue-simple plugin. */

#include <taskpool/tp-plugin.h>

/* A working FIFO: whichever module registers “simple” first wins, so this
 * one must behave should it be loaded before queue-simple. */

static gpointer
duplicate_create (GKeyFile    *config,
                  const char  *group,
                  GError     **error)
{
  return g_queue_new ();
}

static void
duplicate_destroy (gpointer queue)
{
  g_queue_free (queue);
}

static void
duplicate_push (gpointer  queue,
                TpJob    *job)
{
  g_queue_push_tail (queue, job);
}

static TpJob *
duplicate_pop (gpointer queue)
{
  return g_queue_pop_head (queue);
}

static void
duplicate_remove (gpointer  queue,
                  TpJob    *job)
{
  g_queue_remove (queue, job);
}

static guint
duplicate_length (gpointer queue)
{
  return g_queue_get_length (queue);
}

static const TpQueueStrategy duplicate_strategy = {
  .struct_size = sizeof (TpQueueStrategy),
  .name = "simple",
  .description = "Another first in, first out",
  .create = duplicate_create,
  .destroy = duplicate_destroy,
  .push = duplicate_push,
  .pop = duplicate_pop,
  .remove = duplicate_remove,
  .length = duplicate_length,
};

static const TpQueueStrategy * const duplicate_queues[] = { &duplicate_strategy, NULL };

TP_PLUGIN_DEFINE ("duplicate-name", "1.0", "A second “simple” queue", duplicate_queues, NULL)

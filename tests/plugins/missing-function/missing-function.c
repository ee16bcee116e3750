/* missing-function.c: a module whose queue strategy has no pop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Broken for: queue strategy “nopop” leaves the required “pop” NULL. */

#include <taskpool/tp-plugin.h>

static gpointer
nopop_create (GKeyFile    *config,
              const char  *group,
              GError     **error)
{
  return g_queue_new ();
}

static void
nopop_destroy (gpointer queue)
{
  g_queue_free (queue);
}

static void
nopop_push (gpointer  queue,
            TpJob    *job)
{
  g_queue_push_tail (queue, job);
}

static void
nopop_remove (gpointer  queue,
              TpJob    *job)
{
  g_queue_remove (queue, job);
}

static guint
nopop_length (gpointer queue)
{
  return g_queue_get_length (queue);
}

static const TpQueueStrategy nopop_strategy = {
  .struct_size = sizeof (TpQueueStrategy),
  .name = "nopop",
  .description = "A queue that cannot give its jobs back",
  .create = nopop_create,
  .destroy = nopop_destroy,
  .push = nopop_push,
  .pop = NULL,
  .remove = nopop_remove,
  .length = nopop_length,
};

static const TpQueueStrategy * const nopop_queues[] = { &nopop_strategy, NULL };

TP_PLUGIN_DEFINE ("missing-function", "1.0", "A queue without pop", nopop_queues, NULL)

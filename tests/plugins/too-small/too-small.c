/* too-small.c: a descriptor or a vtable smaller than the first size the registry accepts
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Broken for: one struct's `struct_size` is below its first size. Built
 * once per case, chosen with -DTOO_SMALL_CASE=:
 *   1 small-descriptor: the descriptor (queue strategy “smalld”)
 *   2 small-queue:      queue strategy “smallq”
 *   3 small-scale:      scaling strategy “smalls”
 *   4 small-gate:       gate “smallg”
 * Every strategy is otherwise complete, so that the size is the only
 * reason to refuse it. */

#include <taskpool/tp-plugin.h>

#ifndef TOO_SMALL_CASE
# error "build with -DTOO_SMALL_CASE=1 to 4"
#endif

static gpointer
small_queue_create (GKeyFile    *config,
                    const char  *group,
                    GError     **error)
{
  return g_queue_new ();
}

static void
small_queue_destroy (gpointer queue)
{
  g_queue_free (queue);
}

static void
small_queue_push (gpointer  queue,
                  TpJob    *job)
{
  g_queue_push_tail (queue, job);
}

static TpJob *
small_queue_pop (gpointer queue)
{
  return g_queue_pop_head (queue);
}

static void
small_queue_remove (gpointer  queue,
                    TpJob    *job)
{
  g_queue_remove (queue, job);
}

static guint
small_queue_length (gpointer queue)
{
  return g_queue_get_length (queue);
}

static gboolean
small_scale_init (GKeyFile       *config,
                  const char     *group,
                  TpScaleLimits  *limits,
                  gsize           limits_size,
                  gpointer       *scaler,
                  GError        **error)
{
  return TRUE;
}

static gboolean
small_gate_create (GKeyFile     *config,
                   const char   *group,
                   TpGateHost   *host,
                   gpointer     *gate,
                   GError      **error)
{
  return TRUE;
}

static TpGateVerdict
small_gate_admit (gpointer      gate,
                  const TpJob  *job,
                  gint64        now,
                  gint64       *retry_at,
                  GError      **error)
{
  return TP_GATE_ADMIT;
}

static void
small_gate_started (gpointer      gate,
                    const TpJob  *job,
                    gint64        now)
{
}

static const TpQueueStrategy small_queue = {
  .struct_size = TOO_SMALL_CASE == 2 ? TP_QUEUE_STRATEGY_SIZE_FIRST - 1 : sizeof (TpQueueStrategy),
  .name = TOO_SMALL_CASE == 1 ? "smalld" : "smallq",
  .description = "A queue",
  .create = small_queue_create,
  .destroy = small_queue_destroy,
  .push = small_queue_push,
  .pop = small_queue_pop,
  .remove = small_queue_remove,
  .length = small_queue_length,
};

static const TpScaleStrategy small_scale = {
  .struct_size = TP_SCALE_STRATEGY_SIZE_FIRST - sizeof (gpointer),
  .name = "smalls",
  .description = "A scaler",
  .init = small_scale_init,
};

static const TpGateStrategy small_gate = {
  .struct_size = TP_GATE_STRATEGY_SIZE_FIRST - sizeof (gpointer),
  .name = "smallg",
  .description = "A gate",
  .create = small_gate_create,
  .admit = small_gate_admit,
  .started = small_gate_started,
};

static const TpQueueStrategy * const small_queues[] = { &small_queue, NULL };
static const TpScaleStrategy * const small_scalers[] = { &small_scale, NULL };
static const TpGateStrategy * const small_gates[] = { &small_gate, NULL };

G_MODULE_EXPORT const TpPluginDescriptor *tp_plugin_get_descriptor (void);

G_MODULE_EXPORT const TpPluginDescriptor *
tp_plugin_get_descriptor (void)
{
  static const TpPluginDescriptor descriptor = {
    .abi_version = TP_PLUGIN_ABI_VERSION,
    .struct_size = TOO_SMALL_CASE == 1 ? TP_PLUGIN_DESCRIPTOR_SIZE_FIRST - 1
                                       : sizeof (TpPluginDescriptor),
    .name = "too-small",
    .version = "1.0",
    .description = "A plugin with a struct too small",
    .queue_strategies = TOO_SMALL_CASE <= 2 ? small_queues : NULL,
    .scale_strategies = TOO_SMALL_CASE == 3 ? small_scalers : NULL,
    .gate_strategies = TOO_SMALL_CASE == 4 ? small_gates : NULL,
  };

  return &descriptor;
}

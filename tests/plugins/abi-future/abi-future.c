/* abi-future.c: a module built for the next plugin ABI
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Broken for: its descriptor carries abi_version TP_PLUGIN_ABI_VERSION + 1. */

#include <taskpool/tp-plugin.h>

/* Another ABI may lay its vtables out differently: the registry must refuse
 * the module on its version alone, before it looks into this one, which has
 * no functions. */
static const TpQueueStrategy future_strategy = {
  .struct_size = sizeof (TpQueueStrategy),
  .name = "future",
  .description = "A queue of an ABI to come",
};

static const TpQueueStrategy * const future_queues[] = { &future_strategy, NULL };

G_MODULE_EXPORT const TpPluginDescriptor *tp_plugin_get_descriptor (void);

G_MODULE_EXPORT const TpPluginDescriptor *
tp_plugin_get_descriptor (void)
{
  static const TpPluginDescriptor descriptor = {
    .abi_version = TP_PLUGIN_ABI_VERSION + 1,
    .struct_size = sizeof (TpPluginDescriptor),
    .name = "abi-future",
    .version = "2.0",
    .description = "A plugin of the next ABI",
    .queue_strategies = future_queues,
  };

  return &descriptor;
}

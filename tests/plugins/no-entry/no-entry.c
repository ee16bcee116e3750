/* no-entry.c: a real module that does not export the entry symbol
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Broken for: the entry point lacks G_MODULE_EXPORT, so hidden visibility keeps it local. */

#include <taskpool/tp-plugin.h>

static const TpPluginDescriptor no_entry_descriptor = {
  .abi_version = TP_PLUGIN_ABI_VERSION,
  .struct_size = sizeof (TpPluginDescriptor),
  .name = "no-entry",
  .version = "1.0",
  .description = "A plugin whose entry point is not exported",
};

const TpPluginDescriptor *tp_plugin_get_descriptor (void);

const TpPluginDescriptor *
tp_plugin_get_descriptor (void)
{
  return &no_entry_descriptor;
}

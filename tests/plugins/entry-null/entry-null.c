/* entry-null.c: a module whose entry point returns NULL
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Broken for: the exported entry point returns no descriptor. */

#include <taskpool/tp-plugin.h>

G_MODULE_EXPORT const TpPluginDescriptor *tp_plugin_get_descriptor (void);

G_MODULE_EXPORT const TpPluginDescriptor *
tp_plugin_get_descriptor (void)
{
  return NULL;
}

/* evil.c: a library that must never be loaded, queue strategy “evil”
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Broken on purpose: its constructor kills the process, as a foreign
 * library put in a plugin folder could (a copy of libasan.so exits, one of
 * libmemusage.so takes over malloc). The tests put it where the registry
 * must not open it: undeclared, in a folder or as a file that others may
 * write, in a relative folder, or behind a FIFO's name. If it is ever
 * opened, the test fails with its message. */

#include <stdio.h>
#include <stdlib.h>

#include <taskpool/tp-plugin.h>

__attribute__((constructor)) static void
evil_constructor (void)
{
  fprintf (stderr, "evil: this library was loaded, and must not have been\n");
  abort ();
}

G_MODULE_EXPORT const TpPluginDescriptor *tp_plugin_get_descriptor (void);

G_MODULE_EXPORT const TpPluginDescriptor *
tp_plugin_get_descriptor (void)
{
  return NULL;
}

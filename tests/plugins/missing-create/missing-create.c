/* missing-create.c: a module whose scaling strategy has no create
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Broken for: scaling strategy “nocreate” leaves the required “create” NULL. */

#include <taskpool/tp-plugin.h>

static void
nocreate_destroy (gpointer scaler)
{
}

static const TpScaleStrategy nocreate_strategy = {
  .struct_size = sizeof (TpScaleStrategy),
  .name = "nocreate",
  .description = "A scaler that cannot be made",
  .create = NULL,
  .destroy = nocreate_destroy,
};

static const TpScaleStrategy * const nocreate_scalers[] = { &nocreate_strategy, NULL };

TP_PLUGIN_DEFINE ("missing-create", "1.0", "A scaler without create", NULL, nocreate_scalers)

/* bad-name.c: a module whose scaling strategy has a “-” in its name
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Broken for: a kind ends its scaler at the first “-”, so no kind could name “fixed-3”. */

#include <taskpool/tp-plugin.h>

static const char * const bad_name_keys[] = { "size", "min-size", "max-size", NULL };

static gpointer
bad_name_create (GKeyFile       *config,
                 const char     *group,
                 TpScaleLimits  *limits,
                 GError        **error)
{
  if (!limits->max_size_set)
    limits->max_size = TP_POOL_MAX_SIZE;
  if (!limits->size_set)
    limits->size = CLAMP (3, limits->min_size, limits->max_size);
  return (gpointer) bad_name_keys;
}

static void
bad_name_destroy (gpointer scaler)
{
}

static const TpScaleStrategy bad_name_strategy = {
  .struct_size = sizeof (TpScaleStrategy),
  .name = "fixed-3",
  .description = "Three workers, under a name no kind can spell",
  .keys = bad_name_keys,
  .create = bad_name_create,
  .destroy = bad_name_destroy,
};

static const TpScaleStrategy * const bad_name_scalers[] = { &bad_name_strategy, NULL };

TP_PLUGIN_DEFINE ("bad-name", "1.0", "A scaler with a dash in its name", NULL, bad_name_scalers)

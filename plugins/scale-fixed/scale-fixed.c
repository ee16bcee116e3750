/* scale-fixed.c: the fixed scaling strategy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The size stays what it was set to: 3 workers by default, changed only by
 * tp_pool_scale() within [min-size, max-size] (default [0, TP_POOL_MAX_SIZE]).
 */

#include <taskpool/tp-plugin.h>

#define FIXED_DEFAULT_SIZE 3

static const char * const fixed_keys[] = { "size", "min-size", "max-size", NULL };

static void
fixed_default_limits (TpScaleLimits *limits)
{
  if (!limits->min_size_set)
    limits->min_size = 0;
  if (!limits->max_size_set)
    limits->max_size = TP_POOL_MAX_SIZE;
  if (!limits->size_set)
    limits->size = CLAMP (FIXED_DEFAULT_SIZE, limits->min_size, limits->max_size);
}

/* Nothing to keep: the scaler is NULL */
static gboolean
fixed_init (GKeyFile       *config,
            const char     *group,
            TpScaleLimits  *limits,
            gsize           limits_size,
            gpointer       *scaler,
            GError        **error)
{
  fixed_default_limits (limits);
  *scaler = NULL;
  return TRUE;
}

static const TpScaleStrategy fixed_strategy = {
  .struct_size = sizeof (TpScaleStrategy),
  .name = "fixed",
  .description = "A fixed number of workers, changed only by tp_pool_scale()",
  .keys = fixed_keys,
  .init = fixed_init,
  .decide = NULL,
};

static const TpScaleStrategy * const fixed_scalers[] = { &fixed_strategy, NULL };

TP_PLUGIN_DEFINE ("scale-fixed", "1.0", "Fixed scaling strategy", NULL, fixed_scalers)

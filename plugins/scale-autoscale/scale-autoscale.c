/* scale-autoscale.c: the autoscale scaling strategy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Grows at once toward max-size while jobs wait: a burst reaches max-size in
 * the decision that sees it. Shrinks toward min-size as workers stay idle for
 * idle-timeout-ms, the longest idle first, checked at most every
 * scale-interval-ms. Asks for no timer while nothing can shrink, so an idle
 * pool never wakes up.
 */

#include <taskpool/tp-plugin.h>

#define AUTOSCALE_DEFAULT_MIN           3
#define AUTOSCALE_DEFAULT_SPAN          5
#define AUTOSCALE_DEFAULT_INTERVAL_MS   100
#define AUTOSCALE_DEFAULT_IDLE_MS       5000
#define AUTOSCALE_MAX_MS                (24 * 3600 * 1000)

typedef struct {
  gint64 interval_us;
  gint64 idle_timeout_us;
} Autoscale;

static const char * const autoscale_keys[] = {
  "size", "min-size", "max-size", "scale-interval-ms", "idle-timeout-ms", NULL
};

static void
autoscale_default_limits (TpScaleLimits *limits)
{
  if (!limits->min_size_set)
    limits->min_size = limits->max_size_set ? MIN (AUTOSCALE_DEFAULT_MIN, limits->max_size)
                                            : AUTOSCALE_DEFAULT_MIN;
  if (!limits->max_size_set)
    limits->max_size = MIN (limits->min_size + AUTOSCALE_DEFAULT_SPAN, TP_POOL_MAX_SIZE);
  if (!limits->size_set)
    limits->size = limits->min_size;
}

static gpointer
autoscale_create (GKeyFile       *config,
                  const char     *group,
                  TpScaleLimits  *limits,
                  GError        **error)
{
  guint interval_ms = AUTOSCALE_DEFAULT_INTERVAL_MS;
  guint idle_ms = AUTOSCALE_DEFAULT_IDLE_MS;
  Autoscale *self;

  if (!tp_config_get_uint (config, group, "scale-interval-ms", 1, AUTOSCALE_MAX_MS,
                           &interval_ms, NULL, error) ||
      !tp_config_get_uint (config, group, "idle-timeout-ms", 0, AUTOSCALE_MAX_MS,
                           &idle_ms, NULL, error))
    return NULL;

  autoscale_default_limits (limits);

  self = g_new0 (Autoscale, 1);
  self->interval_us = (gint64) interval_ms * 1000;
  self->idle_timeout_us = (gint64) idle_ms * 1000;
  return self;
}

static void
autoscale_destroy (gpointer scaler)
{
  g_free (scaler);
}

/* Jobs that wait for a worker, queued or waiting for room in a full queue.
 * A pool that predates the backlog field counted it in waiting already. */
static guint
autoscale_waiting (const TpScaleStats *stats)
{
  if (stats->struct_size < G_STRUCT_OFFSET (TpScaleStats, backlog) + sizeof (stats->backlog))
    return stats->waiting;
  return stats->waiting + stats->backlog;
}

static guint
autoscale_decide (gpointer            scaler,
                  const TpScaleStats *stats,
                  gint64             *next_check_us)
{
  Autoscale *self = scaler;
  guint waiting;

  *next_check_us = -1;

  waiting = autoscale_waiting (stats);
  if (waiting > 0)
    return MAX (stats->target, stats->running + waiting);

  if (stats->idle_workers == 0 || stats->target <= stats->min_size)
    return stats->target;

  if (stats->longest_idle_us >= self->idle_timeout_us)
    {
      /* One at a time: the pool asks again with the next longest idle */
      *next_check_us = 0;
      return stats->target - 1;
    }

  *next_check_us = MAX (self->idle_timeout_us - stats->longest_idle_us, self->interval_us);
  return stats->target;
}

static const TpScaleStrategy autoscale_strategy = {
  .struct_size = sizeof (TpScaleStrategy),
  .name = "autoscale",
  .description = "Grows while jobs wait, shrinks after workers idle for idle-timeout-ms",
  .keys = autoscale_keys,
  .create = autoscale_create,
  .destroy = autoscale_destroy,
  .decide = autoscale_decide,
};

static const TpScaleStrategy * const autoscale_scalers[] = { &autoscale_strategy, NULL };

TP_PLUGIN_DEFINE ("scale-autoscale", "1.0", "Autoscale scaling strategy", NULL, autoscale_scalers)

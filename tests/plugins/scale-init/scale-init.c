/* scale-init.c: scaling strategies made with init, and strategies whose create fails without saying why
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Loads; the tests make each strategy through the registry's wrappers.
 *   initonly:     init without state; no create, no destroy
 *   initstate:    init with state, freed by destroy
 *   initboth:     init and create: init must be the one called
 *   initfails:    init fails with an error of its own
 *   initsilent:   init fails without setting an error
 *   initstray:    init succeeds and sets an error anyway
 *   createsilent: create (no init) returns NULL without setting an error
 *   silentq:      a queue whose create returns NULL without setting an error
 * scale_init_get_counts() says how many scalers were made and destroyed. */

#include <taskpool/tp-plugin.h>

#define SCALE_INIT_SIZE 2

G_MODULE_EXPORT void scale_init_get_counts (guint *made,
                                            guint *destroyed);

static guint n_made;
static guint n_destroyed;

G_MODULE_EXPORT void
scale_init_get_counts (guint *made,
                       guint *destroyed)
{
  *made = n_made;
  *destroyed = n_destroyed;
}

static const char * const init_keys[] = { "size", "min-size", "max-size", NULL };

static gboolean
initonly_init (GKeyFile       *config,
               const char     *group,
               TpScaleLimits  *limits,
               gsize           limits_size,
               gpointer       *scaler,
               GError        **error)
{
  g_assert_cmpuint (limits_size, >=, TP_SCALE_LIMITS_SIZE_FIRST);
  g_assert_true (TP_STRUCT_SIZE_HAS (TpScaleLimits, limits_size, max_size_set));

  if (!limits->min_size_set)
    limits->min_size = 0;
  if (!limits->max_size_set)
    limits->max_size = TP_POOL_MAX_SIZE;
  if (!limits->size_set)
    limits->size = SCALE_INIT_SIZE;
  *scaler = NULL;
  return TRUE;
}

static gboolean
initstate_init (GKeyFile       *config,
                const char     *group,
                TpScaleLimits  *limits,
                gsize           limits_size,
                gpointer       *scaler,
                GError        **error)
{
  initonly_init (config, group, limits, limits_size, scaler, error);
  *scaler = g_new0 (guint, 1);
  n_made++;
  return TRUE;
}

static void
initstate_destroy (gpointer scaler)
{
  g_free (scaler);
  n_destroyed++;
}

static gpointer
initboth_create (GKeyFile       *config,
                 const char     *group,
                 TpScaleLimits  *limits,
                 GError        **error)
{
  g_error ("scale-init: create called on a strategy that has init");
  return NULL;
}

static gboolean
initfails_init (GKeyFile       *config,
                const char     *group,
                TpScaleLimits  *limits,
                gsize           limits_size,
                gpointer       *scaler,
                GError        **error)
{
  g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG, "initfails: no, because");
  return FALSE;
}

static gboolean
initsilent_init (GKeyFile       *config,
                 const char     *group,
                 TpScaleLimits  *limits,
                 gsize           limits_size,
                 gpointer       *scaler,
                 GError        **error)
{
  return FALSE;
}

static gboolean
initstray_init (GKeyFile       *config,
                const char     *group,
                TpScaleLimits  *limits,
                gsize           limits_size,
                gpointer       *scaler,
                GError        **error)
{
  initonly_init (config, group, limits, limits_size, scaler, error);
  g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG, "initstray: a stray error");
  return TRUE;
}

static gpointer
createsilent_create (GKeyFile       *config,
                     const char     *group,
                     TpScaleLimits  *limits,
                     GError        **error)
{
  return NULL;
}

static void
createsilent_destroy (gpointer scaler)
{
  g_error ("scale-init: createsilent made nothing to destroy");
}

#define INIT_STRATEGY(id, init_func, create_func, destroy_func) \
  static const TpScaleStrategy id##_strategy = {                \
    .struct_size = sizeof (TpScaleStrategy),                    \
    .name = #id,                                                \
    .description = "A scaler of the tests",                     \
    .keys = init_keys,                                          \
    .init = init_func,                                          \
    .create = create_func,                                      \
    .destroy = destroy_func,                                    \
  }

INIT_STRATEGY (initonly, initonly_init, NULL, NULL);
INIT_STRATEGY (initstate, initstate_init, NULL, initstate_destroy);
INIT_STRATEGY (initboth, initstate_init, initboth_create, initstate_destroy);
INIT_STRATEGY (initfails, initfails_init, NULL, NULL);
INIT_STRATEGY (initsilent, initsilent_init, NULL, NULL);
INIT_STRATEGY (initstray, initstray_init, NULL, NULL);
INIT_STRATEGY (createsilent, NULL, createsilent_create, createsilent_destroy);

static gpointer
silentq_create (GKeyFile    *config,
                const char  *group,
                GError     **error)
{
  return NULL;
}

static void
silentq_destroy (gpointer queue)
{
}

static void
silentq_push (gpointer  queue,
              TpJob    *job)
{
}

static TpJob *
silentq_pop (gpointer queue)
{
  return NULL;
}

static void
silentq_remove (gpointer  queue,
                TpJob    *job)
{
}

static guint
silentq_length (gpointer queue)
{
  return 0;
}

static const TpQueueStrategy silentq_strategy = {
  .struct_size = sizeof (TpQueueStrategy),
  .name = "silentq",
  .description = "Cannot be made, and does not say why",
  .create = silentq_create,
  .destroy = silentq_destroy,
  .push = silentq_push,
  .pop = silentq_pop,
  .remove = silentq_remove,
  .length = silentq_length,
};

static const TpScaleStrategy * const init_scalers[] = {
  &initonly_strategy, &initstate_strategy, &initboth_strategy, &initfails_strategy,
  &initsilent_strategy, &initstray_strategy, &createsilent_strategy, NULL
};
static const TpQueueStrategy * const init_queues[] = { &silentq_strategy, NULL };

TP_PLUGIN_DEFINE ("scale-init", "1.0", "Scalers made with init", init_queues, init_scalers)

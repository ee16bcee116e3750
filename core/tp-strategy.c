/* tp-strategy.c: what the core knows of a strategy's vtable: its checks, and making its state
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A vtable comes from a plugin built against some version of the SDK: it is
 * checked field by field before it is registered, fields added after its
 * first size are read only when its size covers them, and whatever a
 * strategy's create answers is checked here, so that a broken plugin is an
 * error that names it rather than a crash.
 */

#include "config.h"

#include "tp-registry-private.h"

const TpStrategyKindInfo tp_strategy_kinds[TP_N_STRATEGY_KINDS] = {
  [TP_STRATEGY_QUEUE] = { "queue strategy", "queue strategies", "Queues", TRUE },
  [TP_STRATEGY_SCALE] = { "scaling strategy", "scaling strategies", "Scalers", FALSE },
  [TP_STRATEGY_GATE] = { "gate", "gates", "Gates", TRUE },
};

/* Names {{{ */

/* ASCII letters, digits, '_', and '-' but in a scaler's name: the first
 * '-' of a kind ends its scaler */
gboolean
tp_strategy_name_is_valid (const char     *name,
                           TpStrategyKind  kind)
{
  gboolean allow_dash = tp_strategy_kinds[kind].allow_dash;

  if (name == NULL || name[0] == '\0')
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '_' && !(allow_dash && *p == '-'))
        return FALSE;
    }
  return TRUE;
}

void
tp_strategy_set_name_error (GError         **error,
                            TpStrategyKind   kind,
                            const char      *name)
{
  g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
               "%s name “%s” is not valid (%s)", tp_strategy_kinds[kind].what,
               name ? name : "(null)",
               tp_strategy_kinds[kind].allow_dash ? "letters, digits, “-” and “_”"
                                                  : "letters, digits and “_”");
}

/* }}} */

/* Checking a vtable {{{ */

static gboolean
tp_strategy_set_missing (GError         **error,
                         TpStrategyKind   kind,
                         const char      *name,
                         const char      *missing)
{
  if (missing == NULL)
    return TRUE;
  g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
               "%s “%s” lacks the required function “%s”",
               tp_strategy_kinds[kind].what, name, missing);
  return FALSE;
}

static gboolean
tp_strategy_check_size (GError         **error,
                        TpStrategyKind   kind,
                        gsize            struct_size,
                        gsize            size_first)
{
  if (struct_size >= size_first)
    return TRUE;
  g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
               "%s vtable is %" G_GSIZE_FORMAT " bytes, expected at least %" G_GSIZE_FORMAT,
               tp_strategy_kinds[kind].what, struct_size, size_first);
  return FALSE;
}

static gboolean
tp_strategy_check_queue (const TpQueueStrategy  *queue,
                         GError                **error)
{
  const char *missing = NULL;

  if (!tp_strategy_check_size (error, TP_STRATEGY_QUEUE, queue->struct_size,
                               TP_QUEUE_STRATEGY_SIZE_FIRST))
    return FALSE;
  if (!tp_strategy_name_is_valid (queue->name, TP_STRATEGY_QUEUE))
    {
      tp_strategy_set_name_error (error, TP_STRATEGY_QUEUE, queue->name);
      return FALSE;
    }

  if (queue->create == NULL)
    missing = "create";
  else if (queue->destroy == NULL)
    missing = "destroy";
  else if (queue->push == NULL)
    missing = "push";
  else if (queue->pop == NULL)
    missing = "pop";
  else if (queue->remove == NULL)
    missing = "remove";
  else if (queue->length == NULL)
    missing = "length";
  if (!tp_strategy_set_missing (error, TP_STRATEGY_QUEUE, queue->name, missing))
    return FALSE;

  if ((tp_queue_strategy_get_flags (queue) & ~TP_QUEUE_KNOWN_FLAGS) != 0)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "queue strategy “%s” has unknown flags 0x%x (known: 0x%x, "
                   "TP_QUEUE_IGNORES_SUBMIT_TIME)",
                   queue->name, (guint) tp_queue_strategy_get_flags (queue),
                   (guint) TP_QUEUE_KNOWN_FLAGS);
      return FALSE;
    }
  return TRUE;
}

static gboolean
tp_strategy_check_scale (const TpScaleStrategy  *scale,
                         GError                **error)
{
  const char *missing = NULL;

  if (!tp_strategy_check_size (error, TP_STRATEGY_SCALE, scale->struct_size,
                               TP_SCALE_STRATEGY_SIZE_FIRST))
    return FALSE;
  if (!tp_strategy_name_is_valid (scale->name, TP_STRATEGY_SCALE))
    {
      tp_strategy_set_name_error (error, TP_STRATEGY_SCALE, scale->name);
      return FALSE;
    }

  /* With init, create and destroy are optional; without, both are needed */
  if (tp_scale_strategy_get_init (scale) == NULL)
    {
      if (scale->create == NULL)
        missing = "create";
      else if (scale->destroy == NULL)
        missing = "destroy";
    }
  return tp_strategy_set_missing (error, TP_STRATEGY_SCALE, scale->name, missing);
}

static gboolean
tp_strategy_check_gate (const TpGateStrategy  *gate,
                        GError               **error)
{
  const char *missing = NULL;

  if (!tp_strategy_check_size (error, TP_STRATEGY_GATE, gate->struct_size,
                               TP_GATE_STRATEGY_SIZE_FIRST))
    return FALSE;
  if (!tp_strategy_name_is_valid (gate->name, TP_STRATEGY_GATE))
    {
      tp_strategy_set_name_error (error, TP_STRATEGY_GATE, gate->name);
      return FALSE;
    }

  if (gate->create == NULL)
    missing = "create";
  else if (gate->admit == NULL)
    missing = "admit";
  else if (gate->started == NULL)
    missing = "started";
  return tp_strategy_set_missing (error, TP_STRATEGY_GATE, gate->name, missing);
}

const char *
tp_strategy_get_name (TpStrategyKind kind,
                      gconstpointer  vtable)
{
  switch (kind)
    {
    case TP_STRATEGY_QUEUE:
      return ((const TpQueueStrategy *) vtable)->name;
    case TP_STRATEGY_SCALE:
      return ((const TpScaleStrategy *) vtable)->name;
    case TP_STRATEGY_GATE:
    case TP_N_STRATEGY_KINDS:
    default:
      return ((const TpGateStrategy *) vtable)->name;
    }
}

gboolean
tp_strategy_check (TpStrategyKind   kind,
                   gconstpointer    vtable,
                   GError         **error)
{
  switch (kind)
    {
    case TP_STRATEGY_QUEUE:
      return tp_strategy_check_queue (vtable, error);
    case TP_STRATEGY_SCALE:
      return tp_strategy_check_scale (vtable, error);
    case TP_STRATEGY_GATE:
    case TP_N_STRATEGY_KINDS:
    default:
      return tp_strategy_check_gate (vtable, error);
    }
}

/* The descriptor's NULL-terminated list of @kind, or NULL */
const gconstpointer *
tp_plugin_descriptor_get_strategies (const TpPluginDescriptor *descriptor,
                                     TpStrategyKind            kind)
{
  switch (kind)
    {
    case TP_STRATEGY_QUEUE:
      return (const gconstpointer *) descriptor->queue_strategies;
    case TP_STRATEGY_SCALE:
      return (const gconstpointer *) descriptor->scale_strategies;
    case TP_STRATEGY_GATE:
    case TP_N_STRATEGY_KINDS:
    default:
      return (const gconstpointer *) tp_plugin_descriptor_get_gate_strategies (descriptor);
    }
}

/* }}} */

/* Making a strategy's state {{{ */

/* A strategy's create said nothing of why it failed, or said it failed and
 * then succeeded: a plugin bug, blamed on the plugin */
static void
tp_strategy_set_silent_failure (GError        **error,
                                gconstpointer   vtable,
                                const char     *what,
                                const char     *name,
                                const char     *function,
                                const char     *returned)
{
  g_autofree char *blame = tp_registry_describe_strategy (vtable);

  if (blame == NULL)
    blame = g_strdup_printf ("%s “%s”", what, name);
  g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
               "%s: %s returned %s without setting an error", blame, function, returned);
}

static void
tp_strategy_drop_stray_error (GError         *error,
                              gconstpointer   vtable,
                              const char     *name,
                              const char     *function)
{
  g_autofree char *blame = NULL;

  if (error == NULL)
    return;
  blame = tp_registry_describe_strategy (vtable);
  /* g_log(), not g_critical(): with structured logging the latter cannot
   * be caught by g_test_expect_message() */
  g_log (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL,
         "%s: %s succeeded but set an error, which is ignored: %s",
         blame != NULL ? blame : name, function, error->message);
  g_error_free (error);
}

/**
 * tp_queue_strategy_create:
 * @vt: a registered queue strategy
 * @config: (nullable): the pool's keyfile
 * @group: (nullable): the pool's group
 * @error: return location for a #GError
 *
 * Makes an empty queue with @vt's create. A create that returns %NULL
 * without setting an error fails with %TP_POOL_ERROR_PLUGIN naming the
 * plugin and the strategy.
 *
 * Returns: (transfer full): the queue, or %NULL with @error set
 */
gpointer
tp_queue_strategy_create (const TpQueueStrategy  *vt,
                          GKeyFile               *config,
                          const char             *group,
                          GError                **error)
{
  GError *local_error = NULL;
  gpointer queue = vt->create (config, group, &local_error);

  if (queue == NULL)
    {
      if (local_error != NULL)
        g_propagate_error (error, local_error);
      else
        tp_strategy_set_silent_failure (error, vt, "Queue strategy", vt->name, "create", "NULL");
      return NULL;
    }
  tp_strategy_drop_stray_error (local_error, vt, vt->name, "create");
  return queue;
}

/**
 * tp_scale_strategy_create:
 * @vt: a registered scaling strategy
 * @config: (nullable): the pool's keyfile
 * @group: (nullable): the pool's group
 * @limits: the pool's limits, of the size this library has
 * @scaler: (out): the scaler, which may be %NULL for a strategy with `init`
 * @error: return location for a #GError
 *
 * Makes a scaler with @vt's `init` when it has one, its `create` otherwise.
 * A failure without an error (`init` returning %FALSE, `create` returning
 * %NULL) is a %TP_POOL_ERROR_PLUGIN naming the plugin and the strategy.
 * Free the scaler with tp_scale_strategy_destroy().
 *
 * Returns: %TRUE if the scaler was made
 */
gboolean
tp_scale_strategy_create (const TpScaleStrategy  *vt,
                          GKeyFile               *config,
                          const char             *group,
                          TpScaleLimits          *limits,
                          gpointer               *scaler,
                          GError                **error)
{
  TpScaleInitFunc init = tp_scale_strategy_get_init (vt);
  GError *local_error = NULL;
  gpointer state = NULL;

  *scaler = NULL;
  if (init != NULL)
    {
      if (!init (config, group, limits, sizeof (TpScaleLimits), &state, &local_error))
        {
          if (local_error != NULL)
            g_propagate_error (error, local_error);
          else
            tp_strategy_set_silent_failure (error, vt, "Scaling strategy", vt->name, "init",
                                            "FALSE");
          return FALSE;
        }
    }
  else
    {
      state = vt->create (config, group, limits, &local_error);
      if (state == NULL)
        {
          if (local_error != NULL)
            g_propagate_error (error, local_error);
          else
            tp_strategy_set_silent_failure (error, vt, "Scaling strategy", vt->name, "create",
                                            "NULL");
          return FALSE;
        }
    }
  tp_strategy_drop_stray_error (local_error, vt, vt->name, init != NULL ? "init" : "create");
  *scaler = state;
  return TRUE;
}

/**
 * tp_scale_strategy_destroy:
 * @vt: a registered scaling strategy
 * @scaler: (nullable): what tp_scale_strategy_create() made
 *
 * Frees a scaler: calls @vt's `destroy`, when it has one, on a scaler that
 * is not %NULL.
 */
void
tp_scale_strategy_destroy (const TpScaleStrategy *vt,
                           gpointer               scaler)
{
  if (scaler != NULL && vt->destroy != NULL)
    vt->destroy (scaler);
}

/**
 * tp_gate_strategy_create:
 * @vt: a registered gate
 * @config: (nullable): the pool's keyfile
 * @group: (nullable): the pool's group
 * @host: the gate's host
 * @gate: (out): the gate's state, which may be %NULL
 * @error: return location for a #GError
 *
 * Makes a gate with @vt's create. A create that returns %FALSE without
 * setting an error fails with %TP_POOL_ERROR_PLUGIN naming the plugin and
 * the gate.
 *
 * Returns: %TRUE if the gate was made
 */
gboolean
tp_gate_strategy_create (const TpGateStrategy  *vt,
                         GKeyFile              *config,
                         const char            *group,
                         TpGateHost            *host,
                         gpointer              *gate,
                         GError               **error)
{
  GError *local_error = NULL;
  gpointer state = NULL;

  *gate = NULL;
  if (!vt->create (config, group, host, &state, &local_error))
    {
      if (local_error != NULL)
        g_propagate_error (error, local_error);
      else
        tp_strategy_set_silent_failure (error, vt, "Gate", vt->name, "create", "FALSE");
      return FALSE;
    }
  tp_strategy_drop_stray_error (local_error, vt, vt->name, "create");
  *gate = state;
  return TRUE;
}

/* }}} */

/* tp-pool-config.c: what a pool is made of: its kind and its keyfile group
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A kind `<scaler>-<queue>` names two strategies, which the registry finds
 * in plugins. The keyfile's group is read strictly: every key must be one
 * the pool or one of its strategies reads, with a valid value.
 */

#include "config.h"

#include "tp-config-private.h"
#include "tp-pool-private.h"
#include "tp-registry-private.h"

static const char * const tp_pool_core_keys[] = {
  "kind", "executor", "queue-capacity", "plugin-path", "gates", "held", "queue-timeout-ms",
  "run-timeout-ms", NULL
};

/* "Invalid kind “x”" or, from a keyfile, which group and key said so */
static char *
tp_pool_describe_kind (TpPool     *self,
                       const char *adjective)
{
  if (self->group != NULL && g_key_file_has_key (self->config, self->group, "kind", NULL))
    return g_strdup_printf ("Invalid value “%s” for key “kind” in group “%s”",
                            self->kind, self->group);
  return g_strdup_printf ("%s kind “%s”", adjective, self->kind);
}

static gboolean
tp_pool_split_kind (TpPool      *self,
                    const char * const *extra_dirs,
                    char       **scale_name,
                    char       **queue_name,
                    GError     **error)
{
  const char *kind = self->kind;
  const char *dash = strchr (kind, '-');

  if (dash == NULL || dash == kind || dash[1] == '\0')
    {
      g_autofree char *kinds = tp_registry_describe (extra_dirs);
      g_autofree char *what = tp_pool_describe_kind (self, "Invalid");

      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                   "%s: a kind is <scaler>-<queue>; available kinds: %s", what, kinds);
      return FALSE;
    }

  *scale_name = g_strndup (kind, dash - kind);
  *queue_name = g_strdup (dash + 1);
  return TRUE;
}

/* The gates the keyfile's `gates` lists (names separated by “;”), or the
 * gates property */
static gboolean
tp_pool_read_gate_names (TpPool  *self,
                         GError **error)
{
  g_autofree char *raw = NULL;
  g_autoptr(GPtrArray) names = NULL;
  g_auto(GStrv) parts = NULL;
  gboolean set;

  if (!tp_config_get_string (self->config, self->group, "gates", &raw, &set, error))
    return FALSE;
  if (!set)
    return TRUE;

  names = g_ptr_array_new_with_free_func (g_free);
  parts = g_strsplit (raw, ";", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_strstrip (parts[i]);
      if (parts[i][0] == '\0')
        continue;
      if (g_ptr_array_find_with_equal_func (names, parts[i], g_str_equal, NULL))
        {
          g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                       "Invalid value “%s” for key “gates” in group “%s”: the gate “%s” is "
                       "listed twice; a gate is passed once",
                       raw, self->group, parts[i]);
          return FALSE;
        }
      g_ptr_array_add (names, g_strdup (parts[i]));
    }
  g_ptr_array_add (names, NULL);
  g_strfreev (self->gate_names);
  self->gate_names = (char **) g_ptr_array_free (g_steal_pointer (&names), FALSE);
  return TRUE;
}

static gboolean
tp_pool_find_gates (TpPool              *self,
                    const char * const  *extra_dirs,
                    GError             **error)
{
  guint n_gates;

  if (!tp_pool_read_gate_names (self, error))
    return FALSE;
  n_gates = self->gate_names != NULL ? g_strv_length (self->gate_names) : 0;
  if (n_gates == 0)
    return TRUE;

  self->gate_vts = g_new0 (const TpGateStrategy *, n_gates + 1);
  for (guint i = 0; i < n_gates; i++)
    {
      g_autoptr(GError) local_error = NULL;

      self->gate_vts[i] = tp_registry_lookup_gate (extra_dirs, self->gate_names[i], &local_error);
      if (self->gate_vts[i] != NULL)
        continue;
      if (self->group != NULL && g_key_file_has_key (self->config, self->group, "gates", NULL))
        g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                     "Invalid value for key “gates” in group “%s”: %s",
                     self->group, local_error->message);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

static gboolean
tp_pool_find_strategies (TpPool  *self,
                         GError **error)
{
  g_autofree char *scale_name = NULL;
  g_autofree char *queue_name = NULL;
  g_auto(GStrv) extra_dirs = NULL;
  g_autoptr(GError) local_error = NULL;

  if (!tp_config_get_plugin_path (self->config, self->group, &extra_dirs, error))
    return FALSE;
  if (!tp_pool_split_kind (self, (const char * const *) extra_dirs, &scale_name, &queue_name,
                           error))
    return FALSE;

  self->scale_vt = tp_registry_lookup_scale ((const char * const *) extra_dirs, scale_name, &local_error);
  if (self->scale_vt != NULL)
    self->queue_vt = tp_registry_lookup_queue ((const char * const *) extra_dirs, queue_name, &local_error);

  if (self->scale_vt == NULL || self->queue_vt == NULL)
    {
      g_autofree char *kinds = tp_registry_describe ((const char * const *) extra_dirs);
      g_autofree char *what = tp_pool_describe_kind (self, "Unknown");

      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "%s: %s; available kinds: %s", what, local_error->message, kinds);
      return FALSE;
    }
  self->time_submissions =
    (tp_queue_strategy_get_flags (self->queue_vt) & TP_QUEUE_IGNORES_SUBMIT_TIME) == 0;
  return tp_pool_find_gates (self, (const char * const *) extra_dirs, error);
}

static gboolean
tp_pool_strategy_reads (const char * const *keys,
                        const char         *key)
{
  return keys != NULL && g_strv_contains (keys, key);
}

/* Reads the keys the pool reads on behalf of its strategies */
static gboolean
tp_pool_read_config (TpPool  *self,
                     GError **error)
{
  const char * const *scale_keys = self->scale_vt->keys;
  g_autoptr(GPtrArray) key_lists = g_ptr_array_new ();
  g_autofree char *executor = NULL;
  gboolean set;

  if (self->config == NULL)
    return TRUE;

  /* The keys of the pool, its strategies and its gates: a NULL ends the list */
  g_ptr_array_add (key_lists, (gpointer) tp_pool_core_keys);
  if (scale_keys != NULL)
    g_ptr_array_add (key_lists, (gpointer) scale_keys);
  if (self->queue_vt->keys != NULL)
    g_ptr_array_add (key_lists, (gpointer) self->queue_vt->keys);
  for (guint i = 0; self->gate_vts != NULL && self->gate_vts[i] != NULL; i++)
    {
      if (self->gate_vts[i]->keys != NULL)
        g_ptr_array_add (key_lists, (gpointer) self->gate_vts[i]->keys);
    }
  g_ptr_array_add (key_lists, NULL);
  if (!tp_config_check_keys (self->config, self->group, self->kind,
                             (const char * const * const *) key_lists->pdata, error))
    return FALSE;

  if (!tp_config_get_boolean (self->config, self->group, "held", &self->held, NULL, error) ||
      !tp_config_get_uint (self->config, self->group, "queue-timeout-ms", 0, G_MAXUINT,
                           &self->queue_timeout_ms, NULL, error) ||
      !tp_config_get_uint (self->config, self->group, "run-timeout-ms", 0, G_MAXUINT,
                           &self->run_timeout_ms, NULL, error))
    return FALSE;

  if (!tp_config_get_uint (self->config, self->group, "queue-capacity", 0, G_MAXINT,
                           &self->queue_capacity, NULL, error) ||
      !tp_config_get_string (self->config, self->group, "executor", &executor, NULL, error))
    return FALSE;
  if (executor != NULL)
    {
      g_free (self->executor);
      self->executor = g_steal_pointer (&executor);
    }

  if (tp_pool_strategy_reads (self->queue_vt->keys, "default-weight") &&
      !tp_config_get_int (self->config, self->group, "default-weight", G_MININT, G_MAXINT,
                          &self->default_weight, NULL, error))
    return FALSE;

  if (tp_pool_strategy_reads (scale_keys, "size"))
    {
      if (!tp_config_get_uint (self->config, self->group, "size", 0, TP_POOL_MAX_SIZE,
                               &self->limits.size, &set, error))
        return FALSE;
      self->limits.size_set |= set;
    }
  if (tp_pool_strategy_reads (scale_keys, "min-size"))
    {
      if (!tp_config_get_uint (self->config, self->group, "min-size", 0, TP_POOL_MAX_SIZE,
                               &self->limits.min_size, &set, error))
        return FALSE;
      self->limits.min_size_set |= set;
    }
  if (tp_pool_strategy_reads (scale_keys, "max-size"))
    {
      if (!tp_config_get_uint (self->config, self->group, "max-size", 1, TP_POOL_MAX_SIZE,
                               &self->limits.max_size, &set, error))
        return FALSE;
      self->limits.max_size_set |= set;
    }
  return TRUE;
}

const char *
tp_pool_where (TpPool *self)
{
  return self->group != NULL ? self->group : self->kind;
}

static gboolean
tp_pool_check_limits (TpPool  *self,
                      GError **error)
{
  const TpScaleLimits *limits = &self->limits;

  if (limits->max_size < 1 || limits->max_size > TP_POOL_MAX_SIZE)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                   "Invalid max-size %u for “%s”: expected a whole number from 1 to %d",
                   limits->max_size, tp_pool_where (self), TP_POOL_MAX_SIZE);
      return FALSE;
    }
  if (limits->min_size > limits->max_size)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                   "Invalid sizes for “%s”: min-size %u is greater than max-size %u",
                   tp_pool_where (self), limits->min_size, limits->max_size);
      return FALSE;
    }
  if (limits->size < limits->min_size || limits->size > limits->max_size)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                   "Invalid size %u for “%s”: expected a size from min-size %u to max-size %u",
                   limits->size, tp_pool_where (self), limits->min_size, limits->max_size);
      return FALSE;
    }
  return TRUE;
}

static gboolean
tp_pool_check_executor (TpPool  *self,
                        GError **error)
{
  if (g_strcmp0 (self->executor, "threads") == 0)
    return TRUE;
  if (g_strcmp0 (self->executor, "gtask") == 0)
    {
      self->use_gtask = TRUE;
      return TRUE;
    }

  g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
               "Unknown executor “%s” for “%s”: expected “threads” or “gtask”",
               self->executor, tp_pool_where (self));
  return FALSE;
}

/* Finds the strategies, reads the keyfile and makes the scaler and the
 * queue: everything a pool needs before it can start */
gboolean
tp_pool_configure (TpPool  *self,
                   GError **error)
{
  gpointer queue;

  if (!tp_pool_find_strategies (self, error) ||
      !tp_pool_read_config (self, error) ||
      !tp_pool_check_executor (self, error))
    return FALSE;

  if (!tp_scale_strategy_create (self->scale_vt, self->config, self->group, &self->limits,
                                 &self->scaler, error))
    return FALSE;
  if (!tp_pool_check_limits (self, error))
    goto fail;

  queue = tp_queue_strategy_create (self->queue_vt, self->config, self->group, error);
  if (queue == NULL)
    goto fail;
  tp_queue_init (&self->queue, queue);

  self->target = self->limits.size;

  /* Gates attach what drives them to the pool's context */
  if (self->context == NULL)
    self->context = g_main_context_ref_thread_default ();
  if (!tp_pool_make_gates (self, error))
    {
      tp_pool_queue_clear (self, &self->queue);
      goto fail;
    }
  return TRUE;

fail:
  tp_scale_strategy_destroy (self->scale_vt, g_steal_pointer (&self->scaler));
  return FALSE;
}

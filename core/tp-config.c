/* tp-config.c: strict keyfile parsing shared by the pool and the strategies
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tp-config-private.h"
#include "tp-registry-private.h"

static gboolean
tp_config_get_raw (GKeyFile    *config,
                   const char  *group,
                   const char  *key,
                   char       **raw)
{
  *raw = NULL;
  if (config == NULL || group == NULL || !g_key_file_has_key (config, group, key, NULL))
    return FALSE;
  *raw = g_key_file_get_value (config, group, key, NULL);
  if (*raw != NULL)
    g_strstrip (*raw);
  return *raw != NULL;
}

/* Reads a whole number in [min_value, max_value] strictly: unlike GKeyFile,
 * no '+', no '-' when negative numbers are not allowed (not even "-0"), no
 * trailing garbage and no clamping. Returns FALSE with @error set when the
 * key is there and invalid; *found says whether it is there. */
static gboolean
tp_config_get_whole_number (GKeyFile     *config,
                            const char   *group,
                            const char   *key,
                            gint64        min_value,
                            gint64        max_value,
                            gint64       *value,
                            gboolean     *found,
                            GError      **error)
{
  g_autofree char *raw = NULL;

  *found = tp_config_get_raw (config, group, key, &raw);
  if (!*found)
    return TRUE;

  if (raw[0] == '+' || (raw[0] == '-' && min_value >= 0) ||
      !g_ascii_string_to_signed (raw, 10, min_value, max_value, value, NULL))
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                   "Invalid value “%s” for key “%s” in group “%s”: "
                   "expected a whole number from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT,
                   raw, key, group, min_value, max_value);
      return FALSE;
    }
  return TRUE;
}

/**
 * tp_config_get_uint:
 * @config: (nullable): a keyfile, or %NULL for none
 * @group: the pool's group
 * @key: the key to read
 * @min_value: smallest value allowed
 * @max_value: largest value allowed
 * @value: (inout): keeps its value when the key is absent
 * @was_set: (out) (optional): whether the key is present
 * @error: return location for a #GError
 *
 * Reads an unsigned integer strictly: unlike g_key_file_get_uint64() it
 * refuses signs, trailing garbage and values out of `[min_value, max_value]`
 * with a %TP_POOL_ERROR_CONFIG that names the group, key, value and range.
 *
 * Returns: %TRUE when the key is absent or valid
 *
 * Since: 1.0
 */
gboolean
tp_config_get_uint (GKeyFile    *config,
                    const char  *group,
                    const char  *key,
                    guint        min_value,
                    guint        max_value,
                    guint       *value,
                    gboolean    *was_set,
                    GError     **error)
{
  gboolean found;
  gint64 parsed;

  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  if (was_set != NULL)
    *was_set = FALSE;
  if (!tp_config_get_whole_number (config, group, key, min_value, max_value, &parsed, &found,
                                   error))
    return FALSE;
  if (found)
    *value = (guint) parsed;
  if (was_set != NULL)
    *was_set = found;
  return TRUE;
}

/**
 * tp_config_get_int:
 * @config: (nullable): a keyfile, or %NULL for none
 * @group: the pool's group
 * @key: the key to read
 * @min_value: smallest value allowed
 * @max_value: largest value allowed
 * @value: (inout): keeps its value when the key is absent
 * @was_set: (out) (optional): whether the key is present
 * @error: return location for a #GError
 *
 * Reads a signed integer strictly, like tp_config_get_uint().
 *
 * Returns: %TRUE when the key is absent or valid
 *
 * Since: 1.0
 */
gboolean
tp_config_get_int (GKeyFile    *config,
                   const char  *group,
                   const char  *key,
                   int          min_value,
                   int          max_value,
                   int         *value,
                   gboolean    *was_set,
                   GError     **error)
{
  gboolean found;
  gint64 parsed;

  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  if (was_set != NULL)
    *was_set = FALSE;
  if (!tp_config_get_whole_number (config, group, key, min_value, max_value, &parsed, &found,
                                   error))
    return FALSE;
  if (found)
    *value = (int) parsed;
  if (was_set != NULL)
    *was_set = found;
  return TRUE;
}

/**
 * tp_config_get_string:
 * @config: (nullable): a keyfile, or %NULL for none
 * @group: the pool's group
 * @key: the key to read
 * @value: (inout) (transfer full): keeps its value when the key is absent;
 *   otherwise the old value is freed and replaced by the key's, stripped of
 *   the spaces around it
 * @was_set: (out) (optional): whether the key is present
 * @error: return location for a #GError
 *
 * Reads a string, with the keyfile's escapes (`\s`, `\n` …) decoded; a
 * bad escape is a %TP_POOL_ERROR_CONFIG that names the group and the key.
 *
 * Returns: %TRUE when the key is absent or valid
 *
 * Since: 1.2
 */
gboolean
tp_config_get_string (GKeyFile    *config,
                      const char  *group,
                      const char  *key,
                      char       **value,
                      gboolean    *was_set,
                      GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *parsed = NULL;

  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  if (was_set != NULL)
    *was_set = FALSE;
  if (config == NULL || group == NULL || !g_key_file_has_key (config, group, key, NULL))
    return TRUE;

  parsed = g_key_file_get_string (config, group, key, &local_error);
  if (parsed == NULL)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                   "Invalid value for key “%s” in group “%s”: %s",
                   key, group, local_error->message);
      return FALSE;
    }

  g_strstrip (parsed);
  g_free (*value);
  *value = g_steal_pointer (&parsed);
  if (was_set != NULL)
    *was_set = TRUE;
  return TRUE;
}

/**
 * tp_config_get_boolean:
 * @config: (nullable): a keyfile, or %NULL for none
 * @group: the pool's group
 * @key: the key to read
 * @value: (inout): keeps its value when the key is absent
 * @was_set: (out) (optional): whether the key is present
 * @error: return location for a #GError
 *
 * Reads a boolean strictly: `true` or `false`, as desktop entries write
 * them. Anything else (`yes`, `1`, `True`) is a %TP_POOL_ERROR_CONFIG that
 * names the group, the key, the value and what is allowed.
 *
 * Returns: %TRUE when the key is absent or valid
 *
 * Since: 1.2
 */
gboolean
tp_config_get_boolean (GKeyFile    *config,
                       const char  *group,
                       const char  *key,
                       gboolean    *value,
                       gboolean    *was_set,
                       GError     **error)
{
  g_autofree char *raw = NULL;

  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  if (was_set != NULL)
    *was_set = FALSE;
  if (!tp_config_get_raw (config, group, key, &raw))
    return TRUE;

  if (g_str_equal (raw, "true"))
    *value = TRUE;
  else if (g_str_equal (raw, "false"))
    *value = FALSE;
  else
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                   "Invalid value “%s” for key “%s” in group “%s”: expected true or false",
                   raw, key, group);
      return FALSE;
    }

  if (was_set != NULL)
    *was_set = TRUE;
  return TRUE;
}

static void
tp_config_append_keys (GPtrArray          *valid,
                       const char * const *keys)
{
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      if (!g_ptr_array_find_with_equal_func (valid, keys[i], g_str_equal, NULL))
        g_ptr_array_add (valid, (gpointer) keys[i]);
    }
}

static int
tp_config_compare_keys (gconstpointer a,
                        gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/* Every key of @group must be one of @key_lists (a NULL-terminated array of
 * NULL-terminated lists), or begin with “X-”: those are the application's
 * own, as in desktop entries. */
gboolean
tp_config_check_keys (GKeyFile                   *config,
                      const char                 *group,
                      const char                 *kind,
                      const char * const * const *key_lists,
                      GError                    **error)
{
  g_autoptr(GPtrArray) valid = g_ptr_array_new ();
  g_auto(GStrv) keys = NULL;

  if (config == NULL)
    return TRUE;

  for (guint i = 0; key_lists[i] != NULL; i++)
    tp_config_append_keys (valid, key_lists[i]);
  g_ptr_array_sort (valid, tp_config_compare_keys);

  keys = g_key_file_get_keys (config, group, NULL, NULL);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      g_autofree char *list = NULL;

      if (g_str_has_prefix (keys[i], "X-") ||
          g_ptr_array_find_with_equal_func (valid, keys[i], g_str_equal, NULL))
        continue;

      g_ptr_array_add (valid, NULL);
      list = g_strjoinv (", ", (char **) valid->pdata);
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                   "Unknown key “%s” in group “%s” for kind “%s”: valid keys are %s, "
                   "and keys that begin with “X-”",
                   keys[i], group, kind, list);
      return FALSE;
    }

  return TRUE;
}

/* The keyfile's plugin-path: ';'-separated folders, each stripped of the
 * spaces around it, empty ones dropped. A relative folder is an error: the
 * pool does not know where its keyfile was, and the working directory is no
 * place to load code from. A folder that exists must be safe (see
 * tp_plugin_check_folder()): refused now, whichever strategy is wanted,
 * rather than skipped when the registry happens to look into it. */
gboolean
tp_config_get_plugin_path (GKeyFile     *config,
                           const char   *group,
                           char       ***dirs,
                           GError      **error)
{
  g_autofree char *raw = NULL;
  g_auto(GStrv) parts = NULL;
  g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func (g_free);

  *dirs = NULL;
  if (!tp_config_get_string (config, group, "plugin-path", &raw, NULL, error))
    return FALSE;
  if (raw == NULL)
    return TRUE;

  parts = g_strsplit (raw, ";", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_autoptr(GError) local_error = NULL;

      g_strstrip (parts[i]);
      if (parts[i][0] == '\0')
        continue;
      if (!g_path_is_absolute (parts[i]))
        {
          g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                       "Invalid value “%s” for key “plugin-path” in group “%s”: “%s” is "
                       "a relative folder; expected absolute folders separated by “;”",
                       raw, group, parts[i]);
          return FALSE;
        }
      if (!tp_plugin_check_folder (parts[i], &local_error))
        {
          g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                       "Refused folder in key “plugin-path” of group “%s”: %s",
                       group, local_error->message);
          return FALSE;
        }
      g_ptr_array_add (kept, g_strdup (parts[i]));
    }
  g_ptr_array_add (kept, NULL);
  *dirs = (char **) g_ptr_array_free (g_steal_pointer (&kept), FALSE);
  return TRUE;
}

/* taskpool-run-config.c: the pool's configuration
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The pool is always made from a keyfile: the group of --config, or a group
 * of its own made from the options, so that one set of checks and messages
 * covers both.
 */

#include "taskpool-run-private.h"

static GKeyFile *
options_load_keyfile (Options  *opts,
                      GError  **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) groups = NULL;
  g_autofree char *list = NULL;

  if (opts->config_file == NULL)
    return g_steal_pointer (&keyfile);

  if (!g_key_file_load_from_file (keyfile, opts->config_file, G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "--config: cannot read “%s”: %s", opts->config_file, local_error->message);
      return NULL;
    }
  if (g_key_file_has_group (keyfile, opts->pool_group))
    return g_steal_pointer (&keyfile);

  groups = g_key_file_get_groups (keyfile, NULL);
  list = groups[0] != NULL ? g_strjoinv (", ", groups) : g_strdup ("none");
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
               "--pool: “%s” has no group “%s”; its groups are: %s",
               opts->config_file, opts->pool_group, list);
  return NULL;
}

static void
options_set_key (GKeyFile   *keyfile,
                 const char *group,
                 const char *key,
                 const char *value)
{
  if (value != NULL)
    g_key_file_set_value (keyfile, group, key, value);
}

/* --plugin-path folders come first, then the keyfile's own plugin-path. The
 * library takes only absolute folders: one given on the command line is
 * relative to the working directory, as any file named there; one in the
 * --config file is relative to that file's folder, wherever the program
 * runs. */
static void
options_add_dirs (GPtrArray  *dirs,
                  const char *list,
                  const char *separator,
                  const char *relative_to)
{
  g_auto(GStrv) parts = g_strsplit (list, separator, -1);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_strstrip (parts[i]);
      if (parts[i][0] != '\0')
        g_ptr_array_add (dirs, g_canonicalize_filename (parts[i], relative_to));
    }
}

static void
options_set_plugin_path (Options    *opts,
                         GKeyFile   *keyfile,
                         const char *group)
{
  g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *configured = g_key_file_get_string (keyfile, group, "plugin-path", NULL);
  g_autofree char *config_dir = NULL;
  g_autofree char *joined = NULL;

  for (guint i = 0; opts->plugin_path != NULL && opts->plugin_path[i] != NULL; i++)
    options_add_dirs (dirs, opts->plugin_path[i], G_SEARCHPATH_SEPARATOR_S, NULL);
  if (configured != NULL)
    {
      g_autofree char *config_path = g_canonicalize_filename (opts->config_file, NULL);

      config_dir = g_path_get_dirname (config_path);
      options_add_dirs (dirs, configured, ";", config_dir);
    }
  if (dirs->len == 0)
    return;
  g_ptr_array_add (dirs, NULL);

  joined = g_strjoinv (";", (char **) dirs->pdata);
  g_key_file_set_string (keyfile, group, "plugin-path", joined);
}

/* --per-key and --rate add their gates to the group's, per-key first: a job
 * whose key is busy then waits for its key without being counted by rate */
static void
options_set_gates (Options    *opts,
                   GKeyFile   *keyfile,
                   const char *group)
{
  g_auto(GStrv) configured = g_key_file_get_string_list (keyfile, group, "gates", NULL, NULL);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) gates = NULL;
  gboolean changed = FALSE;

  if (configured != NULL)
    g_strv_builder_addv (builder, (const char **) configured);
  if (opts->per_key_limit != NULL &&
      (configured == NULL || !g_strv_contains ((const char * const *) configured, "per-key")))
    {
      g_strv_builder_add (builder, "per-key");
      changed = TRUE;
    }
  if (opts->rate_limit != NULL &&
      (configured == NULL || !g_strv_contains ((const char * const *) configured, "rate")))
    {
      g_strv_builder_add (builder, "rate");
      changed = TRUE;
    }
  if (!changed)
    return;

  gates = g_strv_builder_end (builder);
  g_key_file_set_string_list (keyfile, group, "gates", (const char * const *) gates,
                              g_strv_length (gates));
}

/* Command-line values replace the group's: the pool is always made from a
 * keyfile, so that one set of checks and messages covers both. */
static void
options_apply (Options    *opts,
               GKeyFile   *keyfile,
               const char *group)
{
  const char *kind = opts->kind;

  if (kind == NULL && !g_key_file_has_key (keyfile, group, "kind", NULL))
    kind = opts->weights ? "fixed-priority" : "fixed-simple";

  options_set_key (keyfile, group, "kind", kind);
  options_set_key (keyfile, group, "size", opts->size);
  options_set_key (keyfile, group, "min-size", opts->min_size);
  options_set_key (keyfile, group, "max-size", opts->max_size);
  options_set_key (keyfile, group, "queue-capacity", opts->queue_capacity);
  options_set_key (keyfile, group, "queue-timeout-ms", opts->queue_timeout_ms);
  options_set_key (keyfile, group, "run-timeout-ms", opts->run_timeout_ms);
  options_set_gates (opts, keyfile, group);
  options_set_key (keyfile, group, "per-key-limit", opts->per_key_limit);
  options_set_key (keyfile, group, "rate-limit", opts->rate_limit);
  options_set_key (keyfile, group, "rate-interval-ms", opts->rate_interval_ms);
  if (opts->rate_per_key)
    options_set_key (keyfile, group, "rate-per-key", "true");
  options_set_plugin_path (opts, keyfile, group);
}

TpPool *
options_create_pool (Options  *opts,
                     GError  **error)
{
  g_autoptr(GKeyFile) keyfile = options_load_keyfile (opts, error);
  const char *group = opts->pool_group != NULL ? opts->pool_group : CLI_GROUP;
  TpPool *pool;

  if (keyfile == NULL)
    return NULL;

  options_apply (opts, keyfile, group);
  pool = tp_pool_new_from_keyfile (keyfile, group, error);
  if (pool == NULL && opts->config_file != NULL)
    g_prefix_error (error, "--config “%s”: ", opts->config_file);
  return pool;
}

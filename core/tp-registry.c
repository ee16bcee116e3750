/* tp-registry.c: loads strategy plugins with GModule and finds strategies by name
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The registry is process-wide: a module is opened once, made resident, and
 * its strategies stay registered for the life of the process. Names are
 * process-wide too: the first module that registers a name owns it, and a
 * later module that brings the same name is refused as a whole. Folders are
 * scanned lazily, in search order, only until the wanted name is found; a
 * module that fails is remembered with its reason, so that a failed lookup
 * can say why.
 */

#include "config.h"

#include "tp-registry-private.h"

#include <stdlib.h>

typedef struct {
  const TpQueueStrategy *queue;
  const TpScaleStrategy *scale;
  char                  *path;
} TpRegistryEntry;

typedef struct {
  GMutex      mutex;
  GHashTable *queues;          /* name → TpRegistryEntry */
  GHashTable *scales;          /* name → TpRegistryEntry */
  GHashTable *files;           /* canonical path → NULL (loaded) or reason */
  GHashTable *scanned_dirs;    /* canonical path → NULL */
  GPtrArray  *failures;        /* "path: reason" in load order */
} TpRegistry;

static void
tp_registry_entry_free (gpointer data)
{
  TpRegistryEntry *entry = data;

  g_free (entry->path);
  g_free (entry);
}

static TpRegistry *
tp_registry_get (void)
{
  static TpRegistry *registry;

  if (g_once_init_enter (&registry))
    {
      TpRegistry *self = g_new0 (TpRegistry, 1);

      g_mutex_init (&self->mutex);
      self->queues = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, tp_registry_entry_free);
      self->scales = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, tp_registry_entry_free);
      self->files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      self->scanned_dirs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      self->failures = g_ptr_array_new_with_free_func (g_free);
      g_once_init_leave (&registry, self);
    }

  return registry;
}

static gboolean
tp_registry_name_is_valid (const char *name,
                           gboolean    allow_dash)
{
  if (name == NULL || name[0] == '\0')
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '_' && !(allow_dash && *p == '-'))
        return FALSE;
    }
  return TRUE;
}

static gboolean
tp_registry_check_queue (const TpQueueStrategy  *queue,
                         GError                **error)
{
  const char *missing = NULL;

  if (queue->struct_size < TP_QUEUE_STRATEGY_SIZE_FIRST)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "queue strategy vtable is %" G_GSIZE_FORMAT " bytes, expected at least %" G_GSIZE_FORMAT,
                   queue->struct_size, (gsize) TP_QUEUE_STRATEGY_SIZE_FIRST);
      return FALSE;
    }
  if (!tp_registry_name_is_valid (queue->name, TRUE))
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "queue strategy name “%s” is not valid (letters, digits, “-” and “_”)",
                   queue->name ? queue->name : "(null)");
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

  if (missing != NULL)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "queue strategy “%s” lacks the required function “%s”", queue->name, missing);
      return FALSE;
    }

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
tp_registry_check_scale (const TpScaleStrategy  *scale,
                         GError                **error)
{
  const char *missing = NULL;

  if (scale->struct_size < sizeof (TpScaleStrategy))
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "scaling strategy vtable is %" G_GSIZE_FORMAT " bytes, expected at least %" G_GSIZE_FORMAT,
                   scale->struct_size, sizeof (TpScaleStrategy));
      return FALSE;
    }
  if (!tp_registry_name_is_valid (scale->name, FALSE))
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "scaling strategy name “%s” is not valid (letters, digits and “_”)",
                   scale->name ? scale->name : "(null)");
      return FALSE;
    }

  if (scale->create == NULL)
    missing = "create";
  else if (scale->destroy == NULL)
    missing = "destroy";

  if (missing != NULL)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "scaling strategy “%s” lacks the required function “%s”", scale->name, missing);
      return FALSE;
    }
  return TRUE;
}

static gboolean
tp_registry_check_name_free (TpRegistry  *self,
                             GHashTable  *table,
                             const char  *what,
                             const char  *name,
                             GHashTable  *seen,
                             GError     **error)
{
  TpRegistryEntry *entry = g_hash_table_lookup (table, name);

  if (entry != NULL)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "%s strategy “%s” is already provided by %s", what, name, entry->path);
      return FALSE;
    }
  if (!g_hash_table_add (seen, (gpointer) name))
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "%s strategy “%s” is listed twice", what, name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
tp_registry_check_descriptor (TpRegistry                *self,
                              const TpPluginDescriptor  *descriptor,
                              GError                   **error)
{
  g_autoptr(GHashTable) seen_queues = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) seen_scales = g_hash_table_new (g_str_hash, g_str_equal);

  if (descriptor->abi_version != TP_PLUGIN_ABI_VERSION)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "plugin ABI version %u is not supported: this libtaskpool supports version %u",
                   descriptor->abi_version, TP_PLUGIN_ABI_VERSION);
      return FALSE;
    }
  if (descriptor->struct_size < TP_PLUGIN_DESCRIPTOR_SIZE_FIRST)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "plugin descriptor is %" G_GSIZE_FORMAT " bytes, expected at least %" G_GSIZE_FORMAT,
                   descriptor->struct_size, (gsize) TP_PLUGIN_DESCRIPTOR_SIZE_FIRST);
      return FALSE;
    }

  for (guint i = 0; descriptor->queue_strategies && descriptor->queue_strategies[i]; i++)
    {
      const TpQueueStrategy *queue = descriptor->queue_strategies[i];

      if (!tp_registry_check_queue (queue, error) ||
          !tp_registry_check_name_free (self, self->queues, "queue", queue->name, seen_queues, error))
        return FALSE;
    }
  for (guint i = 0; descriptor->scale_strategies && descriptor->scale_strategies[i]; i++)
    {
      const TpScaleStrategy *scale = descriptor->scale_strategies[i];

      if (!tp_registry_check_scale (scale, error) ||
          !tp_registry_check_name_free (self, self->scales, "scaling", scale->name, seen_scales, error))
        return FALSE;
    }
  return TRUE;
}

static void
tp_registry_register (TpRegistry               *self,
                      const TpPluginDescriptor *descriptor,
                      const char               *path)
{
  for (guint i = 0; descriptor->queue_strategies && descriptor->queue_strategies[i]; i++)
    {
      TpRegistryEntry *entry = g_new0 (TpRegistryEntry, 1);

      entry->queue = descriptor->queue_strategies[i];
      entry->path = g_strdup (path);
      g_hash_table_insert (self->queues, (gpointer) entry->queue->name, entry);
    }
  for (guint i = 0; descriptor->scale_strategies && descriptor->scale_strategies[i]; i++)
    {
      TpRegistryEntry *entry = g_new0 (TpRegistryEntry, 1);

      entry->scale = descriptor->scale_strategies[i];
      entry->path = g_strdup (path);
      g_hash_table_insert (self->scales, (gpointer) entry->scale->name, entry);
    }
}

static gboolean
tp_registry_open (TpRegistry  *self,
                  const char  *path,
                  GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  const TpPluginDescriptor *descriptor;
  TpPluginEntryFunc entry_func;
  GModule *module;

  /* Not G_MODULE_BIND_LAZY: a plugin that needs a symbol this library lacks
   * (built against a newer SDK) must be refused now, not kill the process at
   * its first call. */
  module = g_module_open_full (path, G_MODULE_BIND_LOCAL, &local_error);
  if (module == NULL)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "not a loadable module: %s", local_error->message);
      return FALSE;
    }

  if (!g_module_symbol (module, TP_PLUGIN_ENTRY_SYMBOL, (gpointer *) &entry_func) ||
      entry_func == NULL)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "the module does not export the entry symbol “%s”", TP_PLUGIN_ENTRY_SYMBOL);
      g_module_close (module);
      return FALSE;
    }

  descriptor = entry_func ();
  if (descriptor == NULL)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "the entry point “%s” returned NULL", TP_PLUGIN_ENTRY_SYMBOL);
      g_module_close (module);
      return FALSE;
    }

  if (!tp_registry_check_descriptor (self, descriptor, error))
    {
      g_module_close (module);
      return FALSE;
    }

  g_module_make_resident (module);
  tp_registry_register (self, descriptor, path);
  return TRUE;
}

/* Called with the lock held. Returns FALSE (and records why) if the file fails. */
/* The file's real path, so that a module reached through a symbolic link is
 * the same module (dlopen() thinks so too). */
static char *
tp_registry_real_path (const char *path)
{
  g_autofree char *canonical = g_canonicalize_filename (path, NULL);
  char *resolved = realpath (canonical, NULL);
  char *result;

  if (resolved == NULL)
    return g_steal_pointer (&canonical);

  result = g_strdup (resolved);
  free (resolved);
  return result;
}

static gboolean
tp_registry_load_locked (TpRegistry  *self,
                         const char  *path,
                         GError     **error)
{
  /* Known by its real path; reported by the path it was found at */
  g_autofree char *identity = tp_registry_real_path (path);
  g_autofree char *canonical = g_canonicalize_filename (path, NULL);
  g_autoptr(GError) local_error = NULL;
  const char *reason;

  if (g_hash_table_lookup_extended (self->files, identity, NULL, (gpointer *) &reason))
    {
      if (reason == NULL)
        return TRUE;
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "Plugin %s failed to load: %s", canonical, reason);
      return FALSE;
    }

  if (tp_registry_open (self, canonical, &local_error))
    {
      g_hash_table_insert (self->files, g_steal_pointer (&identity), NULL);
      return TRUE;
    }

  g_debug ("Plugin %s failed to load: %s", canonical, local_error->message);
  g_hash_table_insert (self->files, g_steal_pointer (&identity), g_strdup (local_error->message));
  g_ptr_array_add (self->failures, g_strdup_printf ("%s: %s", canonical, local_error->message));
  g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
               "Plugin %s failed to load: %s", canonical, local_error->message);
  return FALSE;
}

/**
 * tp_registry_load_file:
 * @path: a plugin file
 * @error: return location for a #GError
 *
 * Loads one plugin file now. Loading a file twice is not an error.
 *
 * Returns: %TRUE if the plugin is (or was already) loaded
 */
gboolean
tp_registry_load_file (const char  *path,
                       GError     **error)
{
  TpRegistry *self = tp_registry_get ();
  gboolean loaded;

  g_mutex_lock (&self->mutex);
  loaded = tp_registry_load_locked (self, path, error);
  g_mutex_unlock (&self->mutex);
  return loaded;
}

static int
tp_registry_compare_strings (gconstpointer a,
                             gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

static void
tp_registry_scan_dir_locked (TpRegistry *self,
                             const char *dir)
{
  g_autofree char *canonical = g_canonicalize_filename (dir, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) gdir = NULL;
  const char *name;

  if (g_hash_table_contains (self->scanned_dirs, canonical))
    return;

  /* A folder that does not exist yet is looked at again next time */
  gdir = g_dir_open (canonical, 0, NULL);
  if (gdir == NULL)
    return;
  g_hash_table_add (self->scanned_dirs, g_strdup (canonical));

  while ((name = g_dir_read_name (gdir)) != NULL)
    {
      if (g_str_has_suffix (name, "." G_MODULE_SUFFIX))
        g_ptr_array_add (names, g_strdup (name));
    }
  /* Sorted, so that which of two modules that provide one name wins does not
   * depend on the file system's order. */
  g_ptr_array_sort (names, tp_registry_compare_strings);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (canonical, names->pdata[i], NULL);

      tp_registry_load_locked (self, path, NULL);
    }
}

static GPtrArray *
tp_registry_search_path (const char * const *extra_dirs)
{
  GPtrArray *dirs = g_ptr_array_new_with_free_func (g_free);
  const char *env = g_getenv ("TASKPOOL_PLUGIN_PATH");

  for (guint i = 0; extra_dirs != NULL && extra_dirs[i] != NULL; i++)
    {
      if (extra_dirs[i][0] != '\0')
        g_ptr_array_add (dirs, g_strdup (extra_dirs[i]));
    }
  if (env != NULL)
    {
      g_auto(GStrv) parts = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);

      for (guint i = 0; parts[i] != NULL; i++)
        {
          if (parts[i][0] != '\0')
            g_ptr_array_add (dirs, g_strdup (parts[i]));
        }
    }
  g_ptr_array_add (dirs, g_strdup (TP_PLUGINSDIR));
  return dirs;
}

static char *
tp_registry_list_names (GHashTable *table)
{
  g_autofree const char **names = (const char **) g_hash_table_get_keys_as_array (table, NULL);

  if (names[0] == NULL)
    return g_strdup ("none");

  qsort (names, g_strv_length ((char **) names), sizeof (char *), tp_registry_compare_strings);
  return g_strjoinv (", ", (char **) names);
}

static char *
tp_registry_list_failures (TpRegistry *self)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < self->failures->len; i++)
    g_string_append_printf (out, "\n  %s", (const char *) self->failures->pdata[i]);
  return g_string_free (out, FALSE);
}

static TpRegistryEntry *
tp_registry_lookup (TpRegistry          *self,
                    GHashTable          *table,
                    const char * const  *extra_dirs,
                    const char          *name,
                    const char          *what,
                    GError             **error)
{
  g_autoptr(GPtrArray) dirs = NULL;
  g_autofree char *available = NULL;
  g_autofree char *failures = NULL;
  g_autofree char *path = NULL;
  TpRegistryEntry *entry;

  entry = g_hash_table_lookup (table, name);
  if (entry != NULL)
    return entry;

  dirs = tp_registry_search_path (extra_dirs);
  for (guint i = 0; i < dirs->len && entry == NULL; i++)
    {
      tp_registry_scan_dir_locked (self, dirs->pdata[i]);
      entry = g_hash_table_lookup (table, name);
    }
  if (entry != NULL)
    return entry;

  g_ptr_array_add (dirs, NULL);
  path = g_strjoinv (G_SEARCHPATH_SEPARATOR_S, (char **) dirs->pdata);
  available = tp_registry_list_names (table);
  failures = tp_registry_list_failures (self);
  g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
               "No %s strategy “%s” in the plugin path %s; available %s strategies: %s%s%s",
               what, name, path, what, available,
               failures[0] != '\0' ? "; plugins that failed to load:" : "", failures);
  return NULL;
}

const TpQueueStrategy *
tp_registry_lookup_queue (const char * const  *extra_dirs,
                          const char          *name,
                          GError             **error)
{
  TpRegistry *self = tp_registry_get ();
  TpRegistryEntry *entry;

  g_mutex_lock (&self->mutex);
  entry = tp_registry_lookup (self, self->queues, extra_dirs, name, "queue", error);
  g_mutex_unlock (&self->mutex);
  /* Entries are never removed: the pointer stays valid */
  return entry != NULL ? entry->queue : NULL;
}

const TpScaleStrategy *
tp_registry_lookup_scale (const char * const  *extra_dirs,
                          const char          *name,
                          GError             **error)
{
  TpRegistry *self = tp_registry_get ();
  TpRegistryEntry *entry;

  g_mutex_lock (&self->mutex);
  entry = tp_registry_lookup (self, self->scales, extra_dirs, name, "scaling", error);
  g_mutex_unlock (&self->mutex);
  /* Entries are never removed: the pointer stays valid */
  return entry != NULL ? entry->scale : NULL;
}

/* The kinds available once every folder of the search path is loaded */
char *
tp_registry_describe (const char * const *extra_dirs)
{
  TpRegistry *self = tp_registry_get ();
  g_autoptr(GPtrArray) dirs = tp_registry_search_path (extra_dirs);
  g_autofree const char **scales = NULL;
  g_autofree const char **queues = NULL;
  g_autoptr(GPtrArray) kinds = g_ptr_array_new_with_free_func (g_free);

  g_mutex_lock (&self->mutex);
  for (guint i = 0; i < dirs->len; i++)
    tp_registry_scan_dir_locked (self, dirs->pdata[i]);

  scales = (const char **) g_hash_table_get_keys_as_array (self->scales, NULL);
  queues = (const char **) g_hash_table_get_keys_as_array (self->queues, NULL);
  for (guint s = 0; scales[s] != NULL; s++)
    for (guint q = 0; queues[q] != NULL; q++)
      g_ptr_array_add (kinds, g_strdup_printf ("%s-%s", scales[s], queues[q]));
  g_mutex_unlock (&self->mutex);

  if (kinds->len == 0)
    return g_strdup ("none");

  g_ptr_array_sort (kinds, tp_registry_compare_strings);
  g_ptr_array_add (kinds, NULL);
  return g_strjoinv (", ", (char **) kinds->pdata);
}

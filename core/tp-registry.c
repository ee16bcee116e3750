/* tp-registry.c: finds strategies by name in declared plugins, and loads them with GModule
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The registry reads the metadata files of a folder (tp-plugin-info.c)
 * without opening a module, and opens only the module that declares the
 * strategy it looks for; an undeclared file is never opened.
 *
 * The registry is process-wide: a module is opened once, made resident, and
 * its strategies stay registered for the life of the process. Names are
 * process-wide too: the first module that registers a name owns it, and a
 * later module that brings the same name is refused as a whole. A module
 * file name found again in a later folder is shadowed by the first, as
 * commands are on $PATH. A plugin that fails is remembered with its
 * reason, so that a failed lookup can say why.
 *
 * No plugin code runs under the registry's lock: a module is opened and its
 * entry point called with the lock released and the plugin marked as being
 * loaded by the calling thread. Another thread that wants it waits; the same
 * thread asking for it again (an entry point or a constructor that makes a
 * pool of its own kind) gets an error instead of a deadlock.
 */

#include "config.h"

#include "tp-registry-private.h"

#include <stdlib.h>

#define TP_PLUGIN_INFO_SUFFIX ".plugin"

typedef enum {
  TP_PLUGIN_UNLOADED,
  TP_PLUGIN_LOADING,
  TP_PLUGIN_LOADED,
  TP_PLUGIN_FAILED,
} TpPluginState;

/* One module, however many metadata files or links lead to it */
typedef struct {
  char          *info_path;      /* the metadata file it was first found by */
  char          *module_name;    /* its Module: the name that shadows */
  char          *module_path;    /* the module beside the metadata file */
  GStrv          declared[TP_N_STRATEGY_KINDS];
  TpPluginState  state;
  GThread       *loader;         /* while TP_PLUGIN_LOADING */
  char          *reason;         /* when TP_PLUGIN_FAILED */
} TpPlugin;

typedef struct {
  gconstpointer  vtable;
  const char    *name;
  TpPlugin      *plugin;
} TpRegistryEntry;

typedef struct {
  GMutex      mutex;
  GCond       loaded;          /* a plugin left TP_PLUGIN_LOADING */
  GHashTable *strategies[TP_N_STRATEGY_KINDS];   /* name → TpRegistryEntry */
  GPtrArray  *plugins;         /* every TpPlugin: owns them */
  GHashTable *by_info;         /* canonical path of a metadata file → TpPlugin */
  GHashTable *by_module;       /* real path of a module → TpPlugin */
  GHashTable *by_module_name;  /* Module → the TpPlugin that shadows the others */
  GHashTable *scanned_dirs;    /* canonical folder → GPtrArray of TpPlugin, in name order */
  GPtrArray  *failures;        /* "path: reason" in the order they happened */
} TpRegistry;

static void
tp_plugin_free (gpointer data)
{
  TpPlugin *plugin = data;

  g_free (plugin->info_path);
  g_free (plugin->module_name);
  g_free (plugin->module_path);
  for (guint k = 0; k < TP_N_STRATEGY_KINDS; k++)
    g_strfreev (plugin->declared[k]);
  g_free (plugin->reason);
  g_free (plugin);
}

static TpRegistry *
tp_registry_get (void)
{
  static TpRegistry *registry;

  if (g_once_init_enter (&registry))
    {
      TpRegistry *self = g_new0 (TpRegistry, 1);

      g_mutex_init (&self->mutex);
      g_cond_init (&self->loaded);
      for (guint k = 0; k < TP_N_STRATEGY_KINDS; k++)
        self->strategies[k] = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
      self->plugins = g_ptr_array_new_with_free_func (tp_plugin_free);
      self->by_info = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      self->by_module = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      self->by_module_name = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      self->scanned_dirs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                  (GDestroyNotify) g_ptr_array_unref);
      self->failures = g_ptr_array_new_with_free_func (g_free);
      g_once_init_leave (&registry, self);
    }

  return registry;
}

static int
tp_registry_compare_strings (gconstpointer a,
                             gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/* Checking a descriptor {{{ */

static gboolean
tp_registry_check_name_free (TpRegistry      *self,
                             TpStrategyKind   kind,
                             const char      *name,
                             GHashTable      *seen,
                             GError         **error)
{
  TpRegistryEntry *entry = g_hash_table_lookup (self->strategies[kind], name);

  if (entry != NULL)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "%s “%s” is already provided by %s", tp_strategy_kinds[kind].what, name,
                   entry->plugin->module_path);
      return FALSE;
    }
  if (!g_hash_table_add (seen, (gpointer) name))
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "%s “%s” is listed twice", tp_strategy_kinds[kind].what, name);
      return FALSE;
    }
  return TRUE;
}

/* What the metadata says is what the module brings: the registry trusts the
 * metadata to find a strategy without opening every module. */
static gboolean
tp_registry_check_declared (TpPlugin        *plugin,
                            TpStrategyKind   kind,
                            GHashTable      *provided,
                            GError         **error)
{
  const TpStrategyKindInfo *info = &tp_strategy_kinds[kind];
  GHashTableIter iter;
  const char *name;

  for (guint i = 0; plugin->declared[kind][i] != NULL; i++)
    {
      if (!g_hash_table_contains (provided, plugin->declared[kind][i]))
        {
          g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                       "%s declares %s “%s” (key %s), which the module does not provide",
                       plugin->info_path, info->what, plugin->declared[kind][i], info->info_key);
          return FALSE;
        }
    }
  g_hash_table_iter_init (&iter, provided);
  while (g_hash_table_iter_next (&iter, (gpointer *) &name, NULL))
    {
      if (!g_strv_contains ((const char * const *) plugin->declared[kind], name))
        {
          g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                       "the module provides %s “%s”, which %s does not declare (key %s)",
                       info->what, name, plugin->info_path, info->info_key);
          return FALSE;
        }
    }
  return TRUE;
}

/* Called with the lock held: reads the plugin's data, runs none of its code */
static gboolean
tp_registry_check_descriptor (TpRegistry                *self,
                              TpPlugin                  *plugin,
                              const TpPluginDescriptor  *descriptor,
                              GError                   **error)
{
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
                   "plugin descriptor is %" G_GSIZE_FORMAT " bytes, expected at least %"
                   G_GSIZE_FORMAT,
                   descriptor->struct_size, (gsize) TP_PLUGIN_DESCRIPTOR_SIZE_FIRST);
      return FALSE;
    }

  for (guint k = 0; k < TP_N_STRATEGY_KINDS; k++)
    {
      const gconstpointer *vtables = tp_plugin_descriptor_get_strategies (descriptor, k);
      g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

      for (guint i = 0; vtables != NULL && vtables[i] != NULL; i++)
        {
          if (!tp_strategy_check (k, vtables[i], error) ||
              !tp_registry_check_name_free (self, k, tp_strategy_get_name (k, vtables[i]),
                                            seen, error))
            return FALSE;
        }
      if (!tp_registry_check_declared (plugin, k, seen, error))
        return FALSE;
    }
  return TRUE;
}

static void
tp_registry_register (TpRegistry               *self,
                      TpPlugin                 *plugin,
                      const TpPluginDescriptor *descriptor)
{
  for (guint k = 0; k < TP_N_STRATEGY_KINDS; k++)
    {
      const gconstpointer *vtables = tp_plugin_descriptor_get_strategies (descriptor, k);

      for (guint i = 0; vtables != NULL && vtables[i] != NULL; i++)
        {
          TpRegistryEntry *entry = g_new0 (TpRegistryEntry, 1);

          entry->vtable = vtables[i];
          entry->name = tp_strategy_get_name (k, vtables[i]);
          entry->plugin = plugin;
          g_hash_table_insert (self->strategies[k], (gpointer) entry->name, entry);
        }
    }
}

/* }}} */
/* Loading a module {{{ */

/* Called without the lock: this is where plugin code runs */
static const TpPluginDescriptor *
tp_registry_open_module (const char  *path,
                         GModule    **module_out,
                         GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  const TpPluginDescriptor *descriptor;
  TpPluginEntryFunc entry_func;
  struct stat st;
  GModule *module;

  if (!tp_plugin_check_file (path, "module", &st, error))
    return NULL;

  /* Not G_MODULE_BIND_LAZY: a plugin that needs a symbol this library lacks
   * (built against a newer SDK) must be refused now, not kill the process at
   * its first call. */
  module = g_module_open_full (path, G_MODULE_BIND_LOCAL, &local_error);
  if (module == NULL)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "not a loadable module: %s", local_error->message);
      return NULL;
    }
  *module_out = module;

  if (!g_module_symbol (module, TP_PLUGIN_ENTRY_SYMBOL, (gpointer *) &entry_func) ||
      entry_func == NULL)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "module %s does not export the entry symbol “%s”", path,
                   TP_PLUGIN_ENTRY_SYMBOL);
      return NULL;
    }

  descriptor = entry_func ();
  if (descriptor == NULL)
    g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                 "the entry point “%s” returned NULL", TP_PLUGIN_ENTRY_SYMBOL);
  return descriptor;
}

static void
tp_registry_fail (TpRegistry *self,
                  TpPlugin   *plugin,
                  const char *reason)
{
  g_debug ("Plugin %s failed to load: %s", plugin->info_path, reason);
  plugin->state = TP_PLUGIN_FAILED;
  plugin->reason = g_strdup (reason);
  g_ptr_array_add (self->failures, g_strdup_printf ("%s: %s", plugin->info_path, reason));
}

/* Called with the lock held, which it releases while the module's code
 * runs; returns with it held, and @plugin loaded or failed. */
static void
tp_registry_load_locked (TpRegistry *self,
                         TpPlugin   *plugin)
{
  g_autoptr(GError) error = NULL;
  const TpPluginDescriptor *descriptor;
  GModule *module = NULL;

  g_assert (plugin->state == TP_PLUGIN_UNLOADED);
  plugin->state = TP_PLUGIN_LOADING;
  plugin->loader = g_thread_self ();

  g_mutex_unlock (&self->mutex);
  descriptor = tp_registry_open_module (plugin->module_path, &module, &error);
  g_mutex_lock (&self->mutex);

  plugin->loader = NULL;
  /* A module that was opened stays, even when it is refused: closing it
   * would run more of its code (its destructors), and unmap code that its
   * constructors may have left running (a thread, an atexit() handler) */
  if (module != NULL)
    g_module_make_resident (module);
  if (descriptor != NULL && tp_registry_check_descriptor (self, plugin, descriptor, &error))
    {
      tp_registry_register (self, plugin, descriptor);
      plugin->state = TP_PLUGIN_LOADED;
    }
  else
    tp_registry_fail (self, plugin, error->message);
  g_cond_broadcast (&self->loaded);
}

static void
tp_registry_set_reentered (TpPlugin  *plugin,
                           GError   **error)
{
  g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
               "Plugin %s is being loaded by this thread: its entry point or a constructor "
               "asked for a strategy of its own, which cannot be used before it is loaded",
               plugin->info_path);
}

/* Called with the lock held. Returns once @plugin is loaded or failed, or
 * FALSE if it is being loaded by this very thread. */
static gboolean
tp_registry_ensure_loaded_locked (TpRegistry  *self,
                                  TpPlugin    *plugin,
                                  GError     **error)
{
  while (plugin->state == TP_PLUGIN_LOADING)
    {
      if (plugin->loader == g_thread_self ())
        {
          tp_registry_set_reentered (plugin, error);
          return FALSE;
        }
      g_cond_wait (&self->loaded, &self->mutex);
    }
  if (plugin->state == TP_PLUGIN_UNLOADED)
    tp_registry_load_locked (self, plugin);
  return TRUE;
}

/* Called with the lock held: the plugin @info describes, known from now on */
static TpPlugin *
tp_registry_add_info_locked (TpRegistry   *self,
                             TpPluginInfo *info)
{
  TpPlugin *plugin = g_hash_table_lookup (self->by_info, info->info_path);

  if (plugin != NULL)
    return plugin;
  if (info->error == NULL)
    plugin = g_hash_table_lookup (self->by_module, info->module_identity);

  if (plugin == NULL)
    {
      plugin = g_new0 (TpPlugin, 1);
      plugin->info_path = g_strdup (info->info_path);
      g_ptr_array_add (self->plugins, plugin);
      if (info->error != NULL)
        tp_registry_fail (self, plugin, info->error->message);
      else
        {
          plugin->module_name = g_strdup (info->module_name);
          plugin->module_path = g_strdup (info->module_path);
          for (guint k = 0; k < TP_N_STRATEGY_KINDS; k++)
            plugin->declared[k] = g_strdupv (info->declared[k]);
          g_hash_table_insert (self->by_module, g_strdup (info->module_identity), plugin);
        }
    }
  g_hash_table_insert (self->by_info, g_strdup (info->info_path), plugin);
  return plugin;
}

/**
 * tp_registry_load_file:
 * @path: a plugin's metadata file (`name.plugin`)
 * @error: return location for a #GError
 *
 * Loads one plugin now, whatever the search path holds. Loading a plugin
 * twice is not an error; a plugin that failed fails again with the same
 * message.
 *
 * Returns: %TRUE if the plugin is (or was already) loaded
 */
gboolean
tp_registry_load_file (const char  *path,
                       GError     **error)
{
  TpRegistry *self = tp_registry_get ();
  /* Not the real path: what a metadata file means depends on the folder it
   * is found in, where its module is */
  g_autofree char *identity = g_canonicalize_filename (path, NULL);
  g_autoptr(TpPluginInfo) info = NULL;
  gboolean loaded = FALSE;
  TpPlugin *plugin;

  g_mutex_lock (&self->mutex);
  plugin = g_hash_table_lookup (self->by_info, identity);
  g_mutex_unlock (&self->mutex);

  if (plugin == NULL)
    info = tp_plugin_info_read (path);

  g_mutex_lock (&self->mutex);
  if (plugin == NULL)
    plugin = tp_registry_add_info_locked (self, info);
  if (tp_registry_ensure_loaded_locked (self, plugin, error))
    {
      loaded = plugin->state == TP_PLUGIN_LOADED;
      if (!loaded)
        g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                     "Plugin %s failed to load: %s", plugin->info_path, plugin->reason);
    }
  g_mutex_unlock (&self->mutex);
  return loaded;
}

/* }}} */
/* Folders {{{ */

/* Called without the lock: file system work only */
static GPtrArray *
tp_registry_read_dir (const char  *dir,
                      GError     **error)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) infos =
    g_ptr_array_new_with_free_func ((GDestroyNotify) tp_plugin_info_free);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GDir) gdir = NULL;
  const char *name;

  if (!tp_plugin_check_folder (dir, error))
    return NULL;
  gdir = g_dir_open (dir, 0, &local_error);
  if (gdir == NULL)
    {
      if (!g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                     "plugin folder %s cannot be read: %s", dir, local_error->message);
      return NULL;
    }

  while ((name = g_dir_read_name (gdir)) != NULL)
    {
      if (g_str_has_suffix (name, TP_PLUGIN_INFO_SUFFIX) && name[0] != '.')
        g_ptr_array_add (names, g_strdup (name));
    }
  /* Sorted, so that which of two plugins that declare one name wins does not
   * depend on the file system's order. */
  g_ptr_array_sort (names, tp_registry_compare_strings);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, names->pdata[i], NULL);

      g_ptr_array_add (infos, tp_plugin_info_read (path));
    }
  return g_steal_pointer (&infos);
}

/* Called with the lock held: what @dir holds, by the module names that
 * shadow the others; a module already found under its name in another
 * folder stands for this one. */
static void
tp_registry_add_dir_locked (TpRegistry *self,
                            const char *dir,
                            GPtrArray  *infos)
{
  GPtrArray *plugins = g_ptr_array_new ();

  for (guint i = 0; i < infos->len; i++)
    {
      TpPluginInfo *info = infos->pdata[i];
      TpPlugin *plugin = g_hash_table_lookup (self->by_info, info->info_path);

      if (plugin == NULL && info->error == NULL)
        plugin = g_hash_table_lookup (self->by_module, info->module_identity);
      if (plugin == NULL && info->error == NULL)
        {
          plugin = g_hash_table_lookup (self->by_module_name, info->module_name);
          if (plugin != NULL)
            g_debug ("Plugin %s is shadowed by %s, found first", info->info_path,
                     plugin->info_path);
        }
      if (plugin == NULL)
        plugin = tp_registry_add_info_locked (self, info);

      if (plugin->module_name != NULL &&
          !g_hash_table_contains (self->by_module_name, plugin->module_name))
        g_hash_table_insert (self->by_module_name, g_strdup (plugin->module_name), plugin);
      if (!g_ptr_array_find (plugins, plugin, NULL))
        g_ptr_array_add (plugins, plugin);
    }
  g_hash_table_insert (self->scanned_dirs, g_strdup (dir), plugins);
}

/* Called with the lock held, which it may release: the plugins of @dir, or
 * NULL for a folder that does not exist (yet) */
static GPtrArray *
tp_registry_scan_dir_locked (TpRegistry *self,
                             const char *dir)
{
  g_autoptr(GPtrArray) infos = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *plugins = g_hash_table_lookup (self->scanned_dirs, dir);

  if (plugins != NULL)
    return plugins;

  g_mutex_unlock (&self->mutex);
  infos = tp_registry_read_dir (dir, &error);
  g_mutex_lock (&self->mutex);

  /* Another thread may have scanned it meanwhile */
  plugins = g_hash_table_lookup (self->scanned_dirs, dir);
  if (plugins != NULL)
    return plugins;

  if (error != NULL)
    {
      /* A refused folder is remembered, and reported once */
      g_debug ("Plugin folder %s refused: %s", dir, error->message);
      g_ptr_array_add (self->failures, g_strdup_printf ("%s: %s", dir, error->message));
      infos = g_ptr_array_new ();
    }
  if (infos == NULL)
    return NULL;
  tp_registry_add_dir_locked (self, dir, infos);
  return g_hash_table_lookup (self->scanned_dirs, dir);
}

static void
tp_registry_add_search_dir (GPtrArray  *dirs,
                            const char *dir,
                            const char *where)
{
  if (dir[0] == '\0')
    return;
  if (!g_path_is_absolute (dir))
    {
      g_debug ("Plugin folder “%s” of %s ignored: a relative folder would depend on the "
               "working directory", dir, where);
      return;
    }
  g_ptr_array_add (dirs, g_canonicalize_filename (dir, NULL));
}

static GPtrArray *
tp_registry_search_path (const char * const *extra_dirs)
{
  GPtrArray *dirs = g_ptr_array_new_with_free_func (g_free);
  const char *env = g_getenv ("TASKPOOL_PLUGIN_PATH");

  for (guint i = 0; extra_dirs != NULL && extra_dirs[i] != NULL; i++)
    tp_registry_add_search_dir (dirs, extra_dirs[i], "plugin-path");
  if (env != NULL)
    {
      g_auto(GStrv) parts = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);

      for (guint i = 0; parts[i] != NULL; i++)
        tp_registry_add_search_dir (dirs, parts[i], "TASKPOOL_PLUGIN_PATH");
    }
  tp_registry_add_search_dir (dirs, TP_PLUGINSDIR, "the installed plugins");
  return dirs;
}

/* }}} */
/* Lookups {{{ */

/* Called with the lock held, which it may release: the first plugin of the
 * search path that declares @name and has not failed */
static TpPlugin *
tp_registry_find_declared_locked (TpRegistry     *self,
                                  GPtrArray      *dirs,
                                  TpStrategyKind  kind,
                                  const char     *name)
{
  for (guint d = 0; d < dirs->len; d++)
    {
      GPtrArray *plugins = tp_registry_scan_dir_locked (self, dirs->pdata[d]);

      for (guint i = 0; plugins != NULL && i < plugins->len; i++)
        {
          TpPlugin *plugin = plugins->pdata[i];

          if (plugin->state != TP_PLUGIN_FAILED &&
              g_strv_contains ((const char * const *) plugin->declared[kind], name))
            return plugin;
        }
    }
  return NULL;
}

/* Called with the lock held, which it may release: loads every plugin of
 * the search path, so that a listing says what is there and what failed */
static void
tp_registry_load_all_locked (TpRegistry *self,
                             GPtrArray  *dirs)
{
  for (guint d = 0; d < dirs->len; d++)
    {
      GPtrArray *plugins = tp_registry_scan_dir_locked (self, dirs->pdata[d]);

      /* Plugins are never removed: the array only grows, and so may be
       * walked while the lock is released */
      for (guint i = 0; plugins != NULL && i < plugins->len; i++)
        tp_registry_ensure_loaded_locked (self, plugins->pdata[i], NULL);
    }
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

/* Called with the lock held */
static void
tp_registry_set_not_found (TpRegistry      *self,
                           GPtrArray       *dirs,
                           TpStrategyKind   kind,
                           const char      *name,
                           GError         **error)
{
  g_autofree char *path = NULL;
  g_autofree char *available = NULL;
  g_autofree char *failures = NULL;

  g_ptr_array_add (dirs, NULL);
  path = g_strjoinv (G_SEARCHPATH_SEPARATOR_S, (char **) dirs->pdata);
  g_ptr_array_remove_index (dirs, dirs->len - 1);
  available = tp_registry_list_names (self->strategies[kind]);
  failures = tp_registry_list_failures (self);
  g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
               "No %s “%s” in the plugin path %s; available %s: %s%s%s",
               tp_strategy_kinds[kind].what, name, path, tp_strategy_kinds[kind].plural,
               available, failures[0] != '\0' ? "; plugins that failed to load:" : "", failures);
}

static gconstpointer
tp_registry_lookup (TpStrategyKind       kind,
                    const char * const  *extra_dirs,
                    const char          *name,
                    GError             **error)
{
  TpRegistry *self = tp_registry_get ();
  g_autoptr(GPtrArray) dirs = tp_registry_search_path (extra_dirs);
  TpRegistryEntry *entry;
  TpPlugin *plugin;

  g_mutex_lock (&self->mutex);
  while ((entry = g_hash_table_lookup (self->strategies[kind], name)) == NULL)
    {
      plugin = tp_registry_find_declared_locked (self, dirs, kind, name);
      /* Loaded, a plugin provides what it declares: this one is not it */
      if (plugin == NULL || plugin->state == TP_PLUGIN_LOADED)
        {
          tp_registry_load_all_locked (self, dirs);
          entry = g_hash_table_lookup (self->strategies[kind], name);
          if (entry == NULL)
            tp_registry_set_not_found (self, dirs, kind, name, error);
          break;
        }
      if (!tp_registry_ensure_loaded_locked (self, plugin, error))
        break;
    }
  g_mutex_unlock (&self->mutex);

  /* Entries are never removed: the pointer stays valid */
  return entry != NULL ? entry->vtable : NULL;
}

const TpQueueStrategy *
tp_registry_lookup_queue (const char * const  *extra_dirs,
                          const char          *name,
                          GError             **error)
{
  return tp_registry_lookup (TP_STRATEGY_QUEUE, extra_dirs, name, error);
}

const TpScaleStrategy *
tp_registry_lookup_scale (const char * const  *extra_dirs,
                          const char          *name,
                          GError             **error)
{
  return tp_registry_lookup (TP_STRATEGY_SCALE, extra_dirs, name, error);
}

const TpGateStrategy *
tp_registry_lookup_gate (const char * const  *extra_dirs,
                         const char          *name,
                         GError             **error)
{
  return tp_registry_lookup (TP_STRATEGY_GATE, extra_dirs, name, error);
}

/* The kinds available once every plugin of the search path is loaded */
char *
tp_registry_describe (const char * const *extra_dirs)
{
  TpRegistry *self = tp_registry_get ();
  g_autoptr(GPtrArray) dirs = tp_registry_search_path (extra_dirs);
  g_autofree const char **scales = NULL;
  g_autofree const char **queues = NULL;
  g_autoptr(GPtrArray) kinds = g_ptr_array_new_with_free_func (g_free);

  g_mutex_lock (&self->mutex);
  tp_registry_load_all_locked (self, dirs);
  scales = (const char **) g_hash_table_get_keys_as_array (self->strategies[TP_STRATEGY_SCALE],
                                                           NULL);
  queues = (const char **) g_hash_table_get_keys_as_array (self->strategies[TP_STRATEGY_QUEUE],
                                                           NULL);
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

/* }}} */
/* Blame {{{ */

char *
tp_registry_describe_strategy (gconstpointer vtable)
{
  TpRegistry *self = tp_registry_get ();
  char *description = NULL;

  g_mutex_lock (&self->mutex);
  for (guint k = 0; k < TP_N_STRATEGY_KINDS && description == NULL; k++)
    {
      const char *name = tp_strategy_get_name (k, vtable);
      TpRegistryEntry *entry = g_hash_table_lookup (self->strategies[k], name);

      if (entry != NULL && entry->vtable == vtable)
        description = g_strdup_printf ("Plugin %s (%s), %s “%s”", entry->plugin->module_name,
                                       entry->plugin->info_path, tp_strategy_kinds[k].what,
                                       name);
    }
  g_mutex_unlock (&self->mutex);
  return description;
}

/* }}} */

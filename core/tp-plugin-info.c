/* tp-plugin-info.c: a plugin's metadata file, and the places plugins may be loaded from
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A plugin is declared by a metadata file beside its module
 * (`queue-simple.plugin` for `queue-simple.so`): a GKeyFile whose group
 * [Plugin] names the module and the strategies it provides. Reading one runs
 * no plugin code. A file is read, and a module later opened, only if it is
 * a regular file (a FIFO would block open() and dlopen()), in a folder, that
 * nobody but its owner may write, and whose owner is root or the process's
 * user: the rule of OpenSSH's StrictModes.
 */

#include "config.h"

#include "tp-registry-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <glib/gstdio.h>

/* Larger metadata files are refused unread */
#define TP_PLUGIN_INFO_MAX_SIZE (64 * 1024)
#define TP_PLUGIN_INFO_GROUP "Plugin"

/* Safe places {{{ */

static const char *
tp_plugin_file_type (mode_t mode)
{
  if (S_ISFIFO (mode))
    return "a FIFO";
  if (S_ISDIR (mode))
    return "a folder";
  if (S_ISCHR (mode))
    return "a character device";
  if (S_ISBLK (mode))
    return "a block device";
  if (S_ISSOCK (mode))
    return "a socket";
  return "not a regular file";
}

/* The OpenSSH StrictModes rule: code comes only from files and folders that
 * nobody but their owner may change, and whose owner is root or us. */
gboolean
tp_plugin_check_owner_and_mode (const char        *path,
                                const struct stat *st,
                                uid_t              euid,
                                GError           **error)
{
  if (st->st_uid != 0 && st->st_uid != euid)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "%s is owned by user %u: plugin files and folders must be owned by root "
                   "or by this process's user (%u)",
                   path, (guint) st->st_uid, (guint) euid);
      return FALSE;
    }
  if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "%s is writable by its group or by others (mode 0%03o): plugin files and "
                   "folders must be writable by their owner only",
                   path, (guint) (st->st_mode & 07777));
      return FALSE;
    }
  return TRUE;
}

static gboolean
tp_plugin_stat (const char   *path,
                const char   *what,
                struct stat  *st,
                GError      **error)
{
  if (g_stat (path, st) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "%s %s cannot be read: %s", what, path, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

gboolean
tp_plugin_check_folder (const char  *dir,
                        GError     **error)
{
  struct stat st;

  if (g_stat (dir, &st) != 0)
    {
      int saved_errno = errno;

      if (saved_errno == ENOENT)
        return TRUE;
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "plugin folder %s cannot be read: %s", dir, g_strerror (saved_errno));
      return FALSE;
    }
  if (!S_ISDIR (st.st_mode))
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "plugin folder %s is %s", dir,
                   S_ISREG (st.st_mode) ? "a regular file" : tp_plugin_file_type (st.st_mode));
      return FALSE;
    }
  if (!tp_plugin_check_owner_and_mode (dir, &st, geteuid (), error))
    {
      g_prefix_error (error, "plugin folder ");
      return FALSE;
    }
  return TRUE;
}

/* The file's real path, so that a file reached through a symbolic link is
 * the same file (dlopen() thinks so too). */
char *
tp_plugin_real_path (const char *path)
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
tp_plugin_check_parent (const char  *path,
                        GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  struct stat st;

  if (!tp_plugin_stat (dir, "plugin folder", &st, error))
    return FALSE;
  if (!tp_plugin_check_owner_and_mode (dir, &st, geteuid (), error))
    {
      g_prefix_error (error, "plugin folder ");
      return FALSE;
    }
  return TRUE;
}

/* A regular file, safe, in a safe folder: both the one it is found in and
 * the one a link leads to. */
gboolean
tp_plugin_check_file (const char   *path,
                      const char   *what,
                      struct stat  *st,
                      GError      **error)
{
  g_autofree char *real = NULL;

  if (!tp_plugin_stat (path, what, st, error))
    return FALSE;
  if (!S_ISREG (st->st_mode))
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "%s %s is %s, not a regular file", what, path,
                   tp_plugin_file_type (st->st_mode));
      return FALSE;
    }
  if (!tp_plugin_check_owner_and_mode (path, st, geteuid (), error))
    {
      g_prefix_error (error, "%s ", what);
      return FALSE;
    }

  real = tp_plugin_real_path (path);
  return tp_plugin_check_parent (path, error) &&
         (g_str_equal (real, path) || tp_plugin_check_parent (real, error));
}

/* }}} */

/* Metadata files {{{ */

void
tp_plugin_info_free (TpPluginInfo *info)
{
  g_free (info->info_path);
  g_free (info->module_name);
  g_free (info->module_path);
  g_free (info->module_identity);
  for (guint k = 0; k < TP_N_STRATEGY_KINDS; k++)
    g_strfreev (info->declared[k]);
  g_clear_error (&info->error);
  g_free (info);
}

/* A file name, never a path: letters, digits, '-', '_' and '.', not first */
static gboolean
tp_plugin_module_name_is_valid (const char *name)
{
  if (name[0] == '\0' || name[0] == '.')
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-' && *p != '.')
        return FALSE;
    }
  return TRUE;
}

/* Reads a metadata file without ever blocking: opened non-blocking, and
 * only if it is still the regular file that was checked. */
static char *
tp_plugin_info_read_contents (const char  *path,
                              gsize       *length,
                              GError     **error)
{
  struct stat checked, opened;
  g_autofree char *contents = NULL;
  gssize n_read;
  int fd;

  if (!tp_plugin_check_file (path, "plugin file", &checked, error))
    return NULL;
  if (checked.st_size > TP_PLUGIN_INFO_MAX_SIZE)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "plugin file %s is larger than %d bytes", path, TP_PLUGIN_INFO_MAX_SIZE);
      return NULL;
    }

  fd = g_open (path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "plugin file %s cannot be read: %s", path, g_strerror (saved_errno));
      return NULL;
    }
  if (fstat (fd, &opened) != 0 || opened.st_dev != checked.st_dev ||
      opened.st_ino != checked.st_ino)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "plugin file %s changed while it was being read", path);
      g_close (fd, NULL);
      return NULL;
    }

  /* One byte more than allowed, to tell a file that grew */
  contents = g_malloc (TP_PLUGIN_INFO_MAX_SIZE + 1);
  do
    n_read = read (fd, contents, TP_PLUGIN_INFO_MAX_SIZE + 1);
  while (n_read < 0 && errno == EINTR);
  g_close (fd, NULL);
  if (n_read < 0 || n_read > TP_PLUGIN_INFO_MAX_SIZE)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "plugin file %s cannot be read: %s", path,
                   n_read < 0 ? g_strerror (errno) : "it grew while it was being read");
      return NULL;
    }

  *length = (gsize) n_read;
  return g_steal_pointer (&contents);
}

static gboolean
tp_plugin_info_parse_declared (TpPluginInfo  *info,
                               GKeyFile      *keyfile,
                               GError       **error)
{
  gboolean declares = FALSE;

  for (guint k = 0; k < TP_N_STRATEGY_KINDS; k++)
    {
      const char *key = tp_strategy_kinds[k].info_key;
      g_autoptr(GError) local_error = NULL;
      g_auto(GStrv) names = NULL;

      if (!g_key_file_has_key (keyfile, TP_PLUGIN_INFO_GROUP, key, NULL))
        names = g_new0 (char *, 1);
      else
        names = g_key_file_get_string_list (keyfile, TP_PLUGIN_INFO_GROUP, key, NULL,
                                            &local_error);
      if (names == NULL)
        {
          g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                       "invalid key “%s”: %s", key, local_error->message);
          return FALSE;
        }
      for (guint i = 0; names[i] != NULL; i++)
        {
          if (!tp_strategy_name_is_valid (names[i], k))
            {
              tp_strategy_set_name_error (error, k, names[i]);
              g_prefix_error (error, "key “%s”: ", key);
              return FALSE;
            }
          declares = TRUE;
        }
      info->declared[k] = g_steal_pointer (&names);
    }

  if (!declares)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "declares no strategy: it needs at least one of the keys Queues, Scalers "
                   "and Gates");
      return FALSE;
    }
  return TRUE;
}

static gboolean
tp_plugin_info_parse (TpPluginInfo  *info,
                      GError       **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *module = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *file = NULL;
  gsize length;

  contents = tp_plugin_info_read_contents (info->info_path, &length, error);
  if (contents == NULL)
    return FALSE;

  if (!g_key_file_load_from_data (keyfile, contents, length, G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "not a valid plugin file: %s", local_error->message);
      return FALSE;
    }
  if (!g_key_file_has_group (keyfile, TP_PLUGIN_INFO_GROUP))
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "not a plugin file: it has no group [%s]", TP_PLUGIN_INFO_GROUP);
      return FALSE;
    }

  module = g_key_file_get_string (keyfile, TP_PLUGIN_INFO_GROUP, "Module", &local_error);
  if (module == NULL)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "invalid or missing key “Module”: %s", local_error->message);
      return FALSE;
    }
  g_strstrip (module);
  if (!tp_plugin_module_name_is_valid (module))
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN,
                   "Module “%s” is not a module's file name without its suffix (letters, "
                   "digits, “-”, “_” and “.”, not first)", module);
      return FALSE;
    }
  if (!tp_plugin_info_parse_declared (info, keyfile, error))
    return FALSE;

  dir = g_path_get_dirname (info->info_path);
  file = g_strconcat (module, "." G_MODULE_SUFFIX, NULL);
  info->module_path = g_build_filename (dir, file, NULL);
  info->module_identity = tp_plugin_real_path (info->module_path);
  info->module_name = g_steal_pointer (&module);
  return TRUE;
}

/* Reads @path: never fails, but may carry its error */
TpPluginInfo *
tp_plugin_info_read (const char *path)
{
  TpPluginInfo *info = g_new0 (TpPluginInfo, 1);

  info->info_path = g_canonicalize_filename (path, NULL);
  tp_plugin_info_parse (info, &info->error);
  return info;
}

/* }}} */

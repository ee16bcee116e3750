/* fuzz-keyfile.c: libFuzzer target for the keyfile front end
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each input is loaded as a GKeyFile; each of its first groups configures a
 * pool. A pool that builds is started, given a few no-op jobs, closed with
 * TP_CLOSE_CANCEL_RUNNING and freed. Configuration errors are expected
 * outcomes; crashes, sanitizer reports, criticals and hangs are not.
 *
 * `plugin-path` is fuzzed too, inside a scratch folder the target makes at
 * start (see plugin_scratch_new()): every absolute folder of an input is
 * moved into it, and relative ones are left as they are, for the library to
 * refuse. The scratch folder holds a plugin that works, a declared library
 * that is not a plugin, FIFOs named like plugins, and a library that aborts
 * the process when loaded, in places the registry must refuse: folders and
 * files others may write, undeclared, and in the working folder, where a
 * relative folder would lead. After each input the target checks that no
 * library was loaded from anywhere but the bundled plugins' folders and the
 * scratch folder's two loadable plugins. The scratch folder is made in
 * $TP_FUZZ_SCRATCH_PARENT, or else the working folder, which must allow
 * running code (not noexec), and removed at exit.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <taskpool/taskpool.h>

#define MAX_GROUPS       8
#define N_JOBS           2
#define MAX_ITERATIONS   1000

int LLVMFuzzerInitialize (int    *argc,
                          char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

/* The scratch folder: root/ is where an input's absolute folders lead, cwd/
 * the working folder; and where libraries may come from */
static char       *scratch;
static char       *root;
static GPtrArray  *allowed_dirs;
static GHashTable *loaded_at_start;

typedef struct {
  guint    done;
  gboolean closed;
} FuzzState;

static void
fuzz_noop_job (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  g_task_return_boolean (task, TRUE);
}

static void
fuzz_job_done_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  FuzzState *state = user_data;
  g_autoptr(GError) error = NULL;

  tp_pool_submit_finish (TP_POOL (object), result, &error);
  state->done++;
}

static void
fuzz_close_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  FuzzState *state = user_data;
  g_autoptr(GError) error = NULL;

  tp_pool_close_finish (TP_POOL (object), result, &error);
  state->closed = TRUE;
}

/* Gives the jobs a bounded chance to run: a pool of size 0 never runs
 * them, and nothing here waits on a timer. */
static void
fuzz_iterate_jobs (FuzzState *state,
                   guint      n_submitted)
{
  for (guint i = 0; i < MAX_ITERATIONS && state->done < n_submitted; i++)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_thread_yield ();
    }
}

static void
fuzz_run_pool (TpPool *pool)
{
  FuzzState state = { 0, FALSE };
  g_autoptr(GError) error = NULL;

  if (!tp_pool_start (pool, &error))
    return;

  for (guint i = 0; i < N_JOBS; i++)
    {
      tp_pool_submit_async (pool, fuzz_noop_job, NULL, NULL, NULL, fuzz_job_done_cb, &state);
      tp_pool_submit_in_thread_async (pool, fuzz_noop_job, NULL, NULL, NULL,
                                      fuzz_job_done_cb, &state);
    }
  fuzz_iterate_jobs (&state, 2 * N_JOBS);

  /* Closing completes every job, queued or waiting for room, so this
   * terminates; a pool that does not is a hang for libFuzzer to report. */
  tp_pool_close_async (pool, TP_CLOSE_CANCEL_RUNNING, NULL, fuzz_close_cb, &state);
  while (!state.closed || state.done < 2 * N_JOBS)
    g_main_context_iteration (NULL, TRUE);
}

/* The scratch folder {{{ */

static void
scratch_fail (const char *what,
              const char *path)
{
  fprintf (stderr, "fuzz-keyfile: cannot make the scratch folder: %s %s: %s\n", what, path,
           g_strerror (errno));
  abort ();
}

static char *
scratch_dir (const char *name,
             int         mode)
{
  char *path = g_build_filename (root, name, NULL);

  if (g_mkdir_with_parents (path, 0755) != 0 || g_chmod (path, mode) != 0)
    scratch_fail ("mkdir", path);
  return path;
}

/* A copy (not a link: nothing in the folder may lead out of it) of the
 * built fixture file @fixture, as @dir/@name with @mode */
static void
scratch_copy (const char *fixture,
              const char *dir,
              const char *name,
              int         mode)
{
  g_autofree char *source = g_build_filename (TP_TEST_FIXTURES_DIR, fixture, NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *contents = NULL;
  gsize length;

  if (!g_file_get_contents (source, &contents, &length, NULL))
    scratch_fail ("read", source);
  if (!g_file_set_contents (path, contents, (gssize) length, NULL) || g_chmod (path, mode) != 0)
    scratch_fail ("write", path);
}

static void
scratch_write (const char *dir,
               const char *name,
               const char *contents,
               int         mode)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  if (!g_file_set_contents (path, contents, -1, NULL) || g_chmod (path, mode) != 0)
    scratch_fail ("write", path);
}

static void
scratch_fifo (const char *dir,
              const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  if (mkfifo (path, 0644) != 0)
    scratch_fail ("mkfifo", path);
}

/* The evil library, declared, in @dir */
static void
scratch_evil (const char *dir,
              int         mode)
{
  scratch_copy ("evil." G_MODULE_SUFFIX, dir, "evil." G_MODULE_SUFFIX, mode);
  scratch_copy ("evil.plugin", dir, "evil.plugin", mode);
}

static void
scratch_remove (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;
  struct stat st;

  if (g_lstat (path, &st) != 0)
    return;
  if (!S_ISDIR (st.st_mode))
    {
      g_unlink (path);
      return;
    }
  g_chmod (path, 0700);
  dir = g_dir_open (path, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      scratch_remove (child);
    }
  g_rmdir (path);
}

static void
scratch_remove_at_exit (void)
{
  scratch_remove (scratch);
}

/* The folders an input's plugin-path can reach in root/, by name (“/good”):
 *   good/            the fixture “good”: loads, provides fixed2 and fifo2
 *   foreign/         a library that is not a plugin (no entry point), declared
 *   fifo/            fifo.so a FIFO declared by fifo.plugin; x.plugin and
 *                    y.so FIFOs; good.plugin a folder
 *   world-writable/, group-writable/, sticky/
 *                    the evil library, declared, in a folder others may write
 *   writable-files/  the evil library declared by files others may write
 *   undeclared/      the evil library and a copy of libmemusage.so, undeclared
 * and, beside root/ where no absolute folder leads, cwd/: the working folder,
 * with a folder of each name above where the evil library is declared as the
 * plugin “relative”, with a queue and a scaler “relative”: a kind
 * fixed-relative or relative-simple, or any lookup that fails, would load
 * it if a relative folder were resolved. */
static void
plugin_scratch_new (void)
{
  static const char * const names[] = {
    "good", "foreign", "fifo", "world-writable", "group-writable", "sticky", "writable-files",
    "undeclared", NULL
  };
  const char *parent = g_getenv ("TP_FUZZ_SCRATCH_PARENT");
  g_autofree char *here = g_get_current_dir ();
  g_autofree char *cwd = NULL;
  g_autofree char *template = g_build_filename (parent != NULL ? parent : here,
                                                "fuzz-plugins-XXXXXX", NULL);

  scratch = g_mkdtemp_full (template, 0755) != NULL ? g_steal_pointer (&template) : NULL;
  if (scratch == NULL)
    scratch_fail ("mkdtemp", "fuzz-plugins-XXXXXX");
  atexit (scratch_remove_at_exit);
  root = g_build_filename (scratch, "root", NULL);

  {
    g_autofree char *good = scratch_dir ("good", 0755);
    g_autofree char *foreign = scratch_dir ("foreign", 0755);
    g_autofree char *fifo = scratch_dir ("fifo", 0755);
    g_autofree char *folder = g_build_filename (fifo, "good.plugin", NULL);
    g_autofree char *undeclared = scratch_dir ("undeclared", 0755);
    g_autofree char *writable = scratch_dir ("writable-files", 0755);
    g_autofree char *memusage = NULL;

    scratch_copy ("good." G_MODULE_SUFFIX, good, "good." G_MODULE_SUFFIX, 0644);
    scratch_copy ("good.plugin", good, "good.plugin", 0644);
    scratch_copy ("no-entry." G_MODULE_SUFFIX, foreign, "no-entry." G_MODULE_SUFFIX, 0644);
    scratch_copy ("no-entry.plugin", foreign, "no-entry.plugin", 0644);
    scratch_fifo (fifo, "fifo." G_MODULE_SUFFIX);
    scratch_write (fifo, "fifo.plugin", "[Plugin]\nModule=fifo\nQueues=fifo\n", 0644);
    scratch_fifo (fifo, "x.plugin");
    scratch_fifo (fifo, "y." G_MODULE_SUFFIX);
    if (g_mkdir (folder, 0755) != 0)
      scratch_fail ("mkdir", folder);
    scratch_copy ("evil." G_MODULE_SUFFIX, undeclared, "evil." G_MODULE_SUFFIX, 0644);
    memusage = g_build_filename ("/usr/lib", "x86_64-linux-gnu", "libmemusage.so", NULL);
    if (g_file_test (memusage, G_FILE_TEST_IS_REGULAR))
      {
        g_autofree char *contents = NULL;
        g_autofree char *copy = g_build_filename (undeclared, "memusage." G_MODULE_SUFFIX, NULL);
        gsize length;

        if (g_file_get_contents (memusage, &contents, &length, NULL))
          g_file_set_contents (copy, contents, (gssize) length, NULL);
      }
    scratch_copy ("evil." G_MODULE_SUFFIX, writable, "evil." G_MODULE_SUFFIX, 0666);
    scratch_copy ("evil.plugin", writable, "evil.plugin", 0644);
    scratch_copy ("evil." G_MODULE_SUFFIX, writable, "mod." G_MODULE_SUFFIX, 0644);
    scratch_write (writable, "mod.plugin", "[Plugin]\nModule=mod\nQueues=evil\n", 0666);
  }
  for (guint i = 0; i < 3; i++)
    {
      static const struct { const char *name; int mode; } unsafe[] = {
        { "world-writable", 0777 }, { "group-writable", 0775 }, { "sticky", 01777 },
      };
      g_autofree char *dir = scratch_dir (unsafe[i].name, 0755);

      scratch_evil (dir, 0644);
      if (g_chmod (dir, unsafe[i].mode) != 0)
        scratch_fail ("chmod", dir);
    }

  /* A relative folder resolved against the working folder finds evil */
  cwd = g_build_filename (scratch, "cwd", NULL);
  if (g_mkdir (cwd, 0755) != 0)
    scratch_fail ("mkdir", cwd);
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *dir = g_build_filename (cwd, names[i], NULL);

      if (g_mkdir (dir, 0755) != 0)
        scratch_fail ("mkdir", dir);
      scratch_copy ("evil." G_MODULE_SUFFIX, dir, "relative." G_MODULE_SUFFIX, 0644);
      scratch_write (dir, "relative.plugin",
                     "[Plugin]\nModule=relative\nQueues=relative\nScalers=relative\n", 0644);
    }
  if (g_chdir (cwd) != 0)
    scratch_fail ("chdir", cwd);
}

/* }}} */

/* Where libraries come from {{{ */

static int
loaded_add_cb (struct dl_phdr_info *info,
               size_t               size,
               void                *data)
{
  GHashTable *loaded = data;

  if (info->dlpi_name != NULL && info->dlpi_name[0] != '\0')
    g_hash_table_add (loaded, g_strdup (info->dlpi_name));
  return 0;
}

static GHashTable *
loaded_new (void)
{
  GHashTable *loaded = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  dl_iterate_phdr (loaded_add_cb, loaded);
  return loaded;
}

static gboolean
loaded_is_allowed (const char *path)
{
  for (guint i = 0; i < allowed_dirs->len; i++)
    {
      const char *dir = allowed_dirs->pdata[i];

      if (g_str_has_prefix (path, dir) && path[strlen (dir)] == G_DIR_SEPARATOR &&
          strchr (path + strlen (dir) + 1, G_DIR_SEPARATOR) == NULL)
        return TRUE;
    }
  return FALSE;
}

/* Aborts if a library was loaded from anywhere else than allowed */
static void
loaded_check (void)
{
  g_autoptr(GHashTable) loaded = loaded_new ();
  GHashTableIter iter;
  const char *path;

  g_hash_table_iter_init (&iter, loaded);
  while (g_hash_table_iter_next (&iter, (gpointer *) &path, NULL))
    {
      if (g_hash_table_contains (loaded_at_start, path) || loaded_is_allowed (path))
        continue;
      fprintf (stderr, "fuzz-keyfile: %s was loaded from outside the allowed folders\n", path);
      abort ();
    }
}

/* The bundled plugins, and every library they need, loaded before fuzzing */
static void
loaded_start (void)
{
  static const char * const kinds[] = { "fixed-simple", "fixed-lifo", "autoscale-priority", NULL };
  const char *env = g_getenv ("TASKPOOL_PLUGIN_PATH");

  allowed_dirs = g_ptr_array_new_with_free_func (g_free);
  if (env != NULL)
    {
      g_auto(GStrv) dirs = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);

      for (guint i = 0; dirs[i] != NULL; i++)
        if (g_path_is_absolute (dirs[i]))
          g_ptr_array_add (allowed_dirs, g_canonicalize_filename (dirs[i], NULL));
    }
  g_ptr_array_add (allowed_dirs, g_build_filename (root, "good", NULL));
  g_ptr_array_add (allowed_dirs, g_build_filename (root, "foreign", NULL));

  for (guint i = 0; kinds[i] != NULL; i++)
    {
      g_autoptr(TpPool) pool = tp_pool_new (kinds[i], NULL);

      if (pool == NULL)
        {
          fprintf (stderr, "fuzz-keyfile: the bundled kind %s is not available: set "
                   "TASKPOOL_PLUGIN_PATH to the bundled plugins' folders\n", kinds[i]);
          abort ();
        }
    }

  /* A gate nobody provides: looking it up loads every plugin of the path
   * (the bundled gates with the libraries they link, such as hiredis), as
   * a fuzzed keyfile naming an unknown strategy does */
  {
    g_autoptr(GKeyFile) keyfile = g_key_file_new ();
    g_autoptr(GError) error = NULL;
    g_autoptr(TpPool) pool = NULL;

    g_key_file_set_string (keyfile, "all", "kind", "fixed-simple");
    g_key_file_set_string (keyfile, "all", "gates", "no-such-gate");
    pool = tp_pool_new_from_keyfile (keyfile, "all", &error);
    if (pool != NULL || !g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN))
      {
        fprintf (stderr, "fuzz-keyfile: an unknown gate was not refused as a plugin error\n");
        abort ();
      }
  }
  loaded_at_start = loaded_new ();
}

/* }}} */

/* plugin-path: each absolute folder moved into root/, “..” resolved first so
 * that none leads out of it; relative folders kept, for the library to
 * refuse */
static void
fuzz_move_plugin_path (GKeyFile   *keyfile,
                       const char *group)
{
  g_autofree char *value = g_key_file_get_string (keyfile, group, "plugin-path", NULL);
  g_auto(GStrv) parts = NULL;
  g_autofree char *moved = NULL;

  if (value == NULL)
    {
      /* Absent, or unreadable: then the library refuses it as it is, unless
       * it is there but could be read otherwise; never let it through */
      if (g_key_file_has_key (keyfile, group, "plugin-path", NULL))
        g_key_file_set_value (keyfile, group, "plugin-path", "\\x");
      return;
    }

  parts = g_strsplit (value, ";", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_strstrip (parts[i]);
      if (g_path_is_absolute (parts[i]))
        {
          g_autofree char *inside = g_canonicalize_filename (parts[i], "/");
          char *path = g_strconcat (root, inside, NULL);

          g_free (parts[i]);
          parts[i] = path;
        }
    }
  moved = g_strjoinv (";", parts);
  g_key_file_set_string (keyfile, group, "plugin-path", moved);
}

static void
fuzz_group (GKeyFile   *keyfile,
            const char *group)
{
  g_autoptr(TpPool) pool = NULL;
  g_autoptr(GError) error = NULL;

  fuzz_move_plugin_path (keyfile, group);

  pool = tp_pool_new_from_keyfile (keyfile, group, &error);
  if (pool != NULL)
    fuzz_run_pool (pool);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  /* A critical means a precondition of the library failed: a bug to find */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_FATAL_MASK);
  plugin_scratch_new ();
  loaded_start ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_auto(GStrv) groups = NULL;

  if (!g_key_file_load_from_data (keyfile, (const char *) data, size, G_KEY_FILE_NONE, NULL))
    return 0;

  groups = g_key_file_get_groups (keyfile, NULL);
  for (guint i = 0; groups[i] != NULL && i < MAX_GROUPS; i++)
    fuzz_group (keyfile, groups[i]);

  loaded_check ();
  return 0;
}

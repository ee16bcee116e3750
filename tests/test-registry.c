/* test-registry.c: the plugin registry, fed with the broken plugins of tests/plugins/
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The registry is process-wide and cannot be reset: every test that loads a
 * fixture or changes the environment runs in a subprocess of its own. When a
 * test needs a folder of fixtures, the parent makes it (so that it can remove
 * it whatever becomes of the child) and names it in TP_TEST_PLUGIN_DIR. The
 * kind tests load only the bundled plugins and run in the test process.
 *
 * The fixtures find libtaskpool-1 through a run path relative to their build
 * folder; linked from a temporary folder, they need the LD_LIBRARY_PATH that
 * `meson test` sets.
 */

#include <string.h>

#include <glib/gstdio.h>
#include <unistd.h>

#include "tp-registry-private.h"
#include "tp-test-util.h"

#define FIXTURE_DIR_VAR "TP_TEST_PLUGIN_DIR"

/* Asserts that @needle is (or is not) part of @haystack, showing both if not */
#define assert_contains(haystack, needle)                                                  \
  G_STMT_START {                                                                           \
    const char *h__ = (haystack), *n__ = (needle);                                         \
    if (strstr (h__, n__) == NULL)                                                         \
      g_assertion_message_cmpstr (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC,             \
                                  #haystack " contains " #needle, h__, "lacks", n__);      \
  } G_STMT_END
#define assert_not_contains(haystack, needle)                                              \
  G_STMT_START {                                                                           \
    const char *h__ = (haystack), *n__ = (needle);                                         \
    if (strstr (h__, n__) != NULL)                                                         \
      g_assertion_message_cmpstr (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC,             \
                                  #haystack " lacks " #needle, h__, "contains", n__);      \
  } G_STMT_END

/* An item of a list made by list_after() */
#define ITEM(name) ", " name ", "

typedef struct {
  const char *name;         /* the fixture */
  const char *reasons[4];   /* what the error says about it */
} BrokenCase;

static const BrokenCase broken_cases[] = {
  { "not-a-module", { "not a loadable module", NULL } },
  { "no-entry", { "does not export the entry symbol", "“" TP_PLUGIN_ENTRY_SYMBOL "”", NULL } },
  { "entry-null", { "entry point “" TP_PLUGIN_ENTRY_SYMBOL "” returned NULL", NULL } },
  { "abi-future", { "plugin ABI version", "is not supported", NULL } },
  { "duplicate-name", { "queue strategy “simple” is already provided by",
                        "queue-simple." G_MODULE_SUFFIX, NULL } },
  { "missing-function", { "queue strategy “nopop”", "lacks the required function “pop”",
                          NULL } },
  { "missing-create", { "scaling strategy “nocreate”", "lacks the required function “create”",
                        NULL } },
  { "bad-name", { "scaling strategy name “fixed-3” is not valid", NULL } },
  { "bad-flags", { "queue strategy “badflags”", "has unknown flags 0x21",
                   "TP_QUEUE_IGNORES_SUBMIT_TIME", NULL } },
};

/* Helpers {{{ */

static char *
fixture_path (const char *dir,
              const char *name)
{
  g_autofree char *file = g_strconcat (name, "." G_MODULE_SUFFIX, NULL);
  g_autofree char *path = g_build_filename (dir, file, NULL);

  /* The registry names files by their canonical path */
  return g_canonicalize_filename (path, NULL);
}

/* Makes a temporary folder with a link to each built fixture of @names. Links,
 * not copies: the temporary folder may be on a noexec file system. */
static char *
fixture_dir_new (const char * const *names)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("test-registry-XXXXXX", &error);

  g_assert_no_error (error);
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *target = fixture_path (TP_TEST_FIXTURES_DIR, names[i]);
      g_autofree char *link = fixture_path (dir, names[i]);

      g_assert_true (g_file_test (target, G_FILE_TEST_IS_REGULAR));
      g_assert_cmpint (symlink (target, link), ==, 0);
    }
  return dir;
}

static void
fixture_dir_remove (const char *dir)
{
  g_autoptr(GDir) gdir = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (gdir);
  while ((name = g_dir_read_name (gdir)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_assert_cmpint (g_unlink (path), ==, 0);
    }
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* The folder the parent made for this subprocess */
static char *
fixture_dir_get (void)
{
  const char *dir = g_getenv (FIXTURE_DIR_VAR);

  g_assert_nonnull (dir);
  return g_canonicalize_filename (dir, NULL);
}

static void
assert_trap_clean (void)
{
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr_unmatched ("*CRITICAL*");
  g_test_trap_assert_stderr_unmatched ("*WARNING*");
}

/* Runs the current test again in a subprocess, with a folder of the fixtures @names */
static void
run_with_fixture_dir (const char * const *names)
{
  g_autofree char *dir = fixture_dir_new (names);

  g_setenv (FIXTURE_DIR_VAR, dir, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv (FIXTURE_DIR_VAR);
  fixture_dir_remove (dir);
  assert_trap_clean ();
}

/* The items of the list that follows @label in @message, as “, a, b, ”, so
 * that ITEM ("a") finds whole items only */
static char *
list_after (const char *message,
            const char *label)
{
  const char *start = strstr (message, label);

  assert_contains (message, label);
  start += strlen (label);
  return g_strdup_printf (", %.*s, ", (int) strcspn (start, ";\n"), start);
}

/* The reason given for @path in the list of plugins that failed to load */
static char *
failure_reason (const char *message,
                const char *path)
{
  g_autofree char *needle = g_strdup_printf ("\n  %s: ", path);
  const char *start = strstr (message, needle);

  assert_contains (message, needle);
  start += strlen (needle);
  return g_strndup (start, strcspn (start, "\n"));
}

static void
assert_reasons (const char       *message,
                const BrokenCase *test)
{
  for (guint i = 0; test->reasons[i] != NULL; i++)
    assert_contains (message, test->reasons[i]);
}

/* A pool of @kind with one worker */
static TpPool *
pool_new (const char  *kind,
          GError     **error)
{
  return g_initable_new (TP_TYPE_POOL, NULL, error, "kind", kind, "size", (guint) 1, NULL);
}

/* A pool of @kind with one worker, configured by a keyfile that sets @plugin_path */
static TpPool *
keyfile_pool_new (const char  *kind,
                  const char  *plugin_path,
                  GError     **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();

  g_key_file_set_string (keyfile, "test", "kind", kind);
  g_key_file_set_string (keyfile, "test", "size", "1");
  g_key_file_set_string (keyfile, "test", "plugin-path", plugin_path);
  return tp_pool_new_from_keyfile (keyfile, "test", error);
}

/* Starts @pool, which has one worker, queues four jobs behind a held one,
 * checks that they run first in, first out, and closes the pool */
static void
run_jobs (TpPool *pool)
{
  static const char * const names[] = { "a", "b", "c", "d", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *order = NULL;
  TpTestJob *held;
  TpTestLog log;

  g_assert_true (tp_pool_start (pool, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 1);

  tp_test_log_init (&log);
  held = tp_test_submit (pool, &log, "held", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 0, NULL);
  tp_test_wait_count (&log.started, 1);
  for (guint i = 0; names[i] != NULL; i++)
    tp_test_submit (pool, &log, names[i], TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 0, NULL);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 4);

  tp_test_release (held);
  tp_test_wait_count (&log.callbacks, 5);
  order = tp_test_log_order (&log);
  g_assert_cmpstr (order, ==, "held a b c d");
  g_assert_cmpuint (log.done, ==, 5);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_wait_count (&log.destroyed, 5);
  tp_test_log_clear (&log);
}

/* }}} */

/* Loading one file {{{ */

static void
test_load_broken (gconstpointer data)
{
  const BrokenCase *test = data;
  g_autofree char *path = fixture_path (TP_TEST_FIXTURES_DIR, test->name);
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) again = NULL;
  g_autoptr(GError) lookup_error = NULL;
  g_autofree char *reason = NULL;

  g_test_summary ("A broken plugin file is refused with a TP_POOL_ERROR_PLUGIN that names the "
                  "file and the reason, is refused again the same way, and is listed with its "
                  "reason when a lookup fails");

  if (g_test_subprocess ())
    {
      /* The bundled “simple” first, as in a program that made a pool */
      g_assert_nonnull (tp_registry_lookup_queue (NULL, "simple", &error));
      g_assert_no_error (error);

      g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
      g_assert_false (tp_registry_load_file (path, &error));
      g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
      assert_contains (error->message, path);
      assert_reasons (error->message, test);

      g_assert_false (tp_registry_load_file (path, &again));
      g_assert_error (again, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
      g_assert_cmpstr (again->message, ==, error->message);

      g_assert_null (tp_registry_lookup_queue (NULL, "nosuch", &lookup_error));
      g_assert_error (lookup_error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
      assert_contains (lookup_error->message, "plugins that failed to load");
      reason = failure_reason (lookup_error->message, path);
      assert_reasons (reason, test);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  assert_trap_clean ();
}

static void
test_load_missing_file (void)
{
  g_autofree char *path = fixture_path (TP_TEST_FIXTURES_DIR, "no-such-plugin");
  g_autoptr(GError) error = NULL;

  g_test_summary ("A plugin file that does not exist is a TP_POOL_ERROR_PLUGIN naming it");

  if (g_test_subprocess ())
    {
      g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
      g_assert_false (tp_registry_load_file (path, &error));
      g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
      assert_contains (error->message, path);
      assert_contains (error->message, "not a loadable module");
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  assert_trap_clean ();
}

static void
test_load_twice (void)
{
  static const char * const fixtures[] = { "good", NULL };
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *dotted = NULL;
  g_autoptr(GError) error = NULL;
  const TpPluginDescriptor *descriptor;
  const TpQueueStrategy *queue;
  const TpScaleStrategy *scale;
  TpPluginEntryFunc entry;
  GModule *module;

  g_test_summary ("Loading a plugin file again, by the same or an equivalent name, succeeds "
                  "without registering it again, and pools share the one loaded module");

  if (!g_test_subprocess ())
    {
      run_with_fixture_dir (fixtures);
      return;
    }

  dir = fixture_dir_get ();
  path = fixture_path (dir, "good");
  dotted = g_build_filename (dir, ".", "good." G_MODULE_SUFFIX, NULL);

  g_assert_true (tp_registry_load_file (path, &error));
  g_assert_no_error (error);
  g_assert_true (tp_registry_load_file (path, &error));
  g_assert_no_error (error);
  g_assert_true (tp_registry_load_file (dotted, &error));
  g_assert_no_error (error);

  queue = tp_registry_lookup_queue (NULL, "fifo2", &error);
  g_assert_no_error (error);
  scale = tp_registry_lookup_scale (NULL, "fixed2", &error);
  g_assert_no_error (error);

  /* Three pools through the keyfile, whose folder holds the module already loaded */
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(TpPool) pool = keyfile_pool_new ("fixed2-fifo2", dir, &error);

      g_assert_no_error (error);
      run_jobs (pool);
    }
  g_assert_true (tp_registry_load_file (path, &error));
  g_assert_no_error (error);

  /* What is registered is the descriptor of the one copy of the module in the process */
  module = g_module_open_full (path, G_MODULE_BIND_LOCAL | G_MODULE_BIND_LAZY, &error);
  g_assert_no_error (error);
  g_assert_true (g_module_symbol (module, TP_PLUGIN_ENTRY_SYMBOL, (gpointer *) &entry));
  descriptor = entry ();
  g_assert_true (descriptor->queue_strategies[0] == queue);
  g_assert_true (descriptor->scale_strategies[0] == scale);
  g_assert_true (tp_registry_lookup_queue (NULL, "fifo2", NULL) == queue);
  g_assert_true (g_module_close (module));

  /* Nothing was refused as a duplicate of itself */
  g_assert_null (tp_registry_lookup_queue (NULL, "nosuch", &error));
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  assert_not_contains (error->message, "failed to load");
}

/* }}} */

/* Scanning folders {{{ */

static void
test_dir_mixed (void)
{
  static const char * const fixtures[] = {
    "not-a-module", "no-entry", "entry-null", "abi-future", "duplicate-name",
    "missing-function", "missing-create", "bad-name", "bad-flags", "good", NULL
  };
  g_autofree char *dir = NULL;
  g_autofree char *plugin_path = NULL;
  g_autofree char *good = NULL;
  g_autofree char *queues = NULL;
  g_autofree char *kinds = NULL;
  g_autoptr(GError) error = NULL;
  TpPool *pool;

  g_test_summary ("In a folder of broken plugins and a good one, given as the keyfile's "
                  "plugin-path, the good one loads and works, and an unknown strategy lists "
                  "the available ones and every module that failed with its reason");

  if (!g_test_subprocess ())
    {
      run_with_fixture_dir (fixtures);
      return;
    }

  dir = fixture_dir_get ();
  plugin_path = g_strconcat ("/nonexistent/taskpool-plugins;", dir, NULL);

  /* A name goes to the first module that registers it: loaded first, the
   * bundled “simple” is the one duplicate-name conflicts with. */
  pool = tp_pool_new ("fixed-simple", &error);
  g_assert_no_error (error);
  g_clear_object (&pool);

  pool = keyfile_pool_new ("fixed-fifo2", plugin_path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tp_pool_get_kind (pool), ==, "fixed-fifo2");
  run_jobs (pool);
  g_clear_object (&pool);

  pool = keyfile_pool_new ("fixed2-simple", dir, &error);
  g_assert_no_error (error);
  run_jobs (pool);
  g_clear_object (&pool);

  pool = keyfile_pool_new ("fixed2-fifo2", dir, &error);
  g_assert_no_error (error);
  run_jobs (pool);
  g_clear_object (&pool);

  pool = keyfile_pool_new ("fixed-nosuch", dir, &error);
  g_assert_null (pool);
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  assert_contains (error->message, "“fixed-nosuch”");
  assert_contains (error->message, "No queue strategy “nosuch”");

  queues = list_after (error->message, "available queue strategies: ");
  assert_contains (queues, ITEM ("simple"));
  assert_contains (queues, ITEM ("fifo2"));
  assert_contains (queues, ITEM ("lifo"));
  assert_not_contains (queues, ITEM ("nopop"));
  assert_not_contains (queues, ITEM ("future"));
  assert_not_contains (queues, ITEM ("badflags"));

  kinds = list_after (error->message, "available kinds: ");
  assert_contains (kinds, ITEM ("fixed-fifo2"));
  assert_contains (kinds, ITEM ("fixed2-fifo2"));
  assert_contains (kinds, ITEM ("fixed2-simple"));
  assert_not_contains (kinds, "nocreate");
  assert_not_contains (kinds, "fixed-3");

  assert_contains (error->message, "plugins that failed to load");
  for (guint i = 0; i < G_N_ELEMENTS (broken_cases); i++)
    {
      g_autofree char *path = fixture_path (dir, broken_cases[i].name);
      g_autofree char *reason = failure_reason (error->message, path);

      assert_reasons (reason, &broken_cases[i]);
    }
  good = fixture_path (dir, "good");
  assert_not_contains (error->message, good);
}

/* The probe weight of the fixture's fifo2untimed */
#define FIFO2_PROBE_WEIGHT 13

static void
test_queue_flags (void)
{
  static const char * const fixtures[] = { "good", NULL };
  static const char * const timed_kinds[] = { "fixed-fifo2", "fixed-fifo2old", NULL };
  g_autofree char *dir = NULL;
  g_autoptr(GError) error = NULL;
  TpTestLog log;
  TpPool *pool;

  g_test_summary ("A queue strategy gets each job's submission time unless it sets "
                  "TP_QUEUE_IGNORES_SUBMIT_TIME, and one built before TpQueueStrategy had "
                  "flags has none; a strategy that said it ignores the time and reads it "
                  "gets 0 and a critical warning");

  if (!g_test_subprocess ())
    {
      run_with_fixture_dir (fixtures);
      return;
    }

  dir = fixture_dir_get ();

  /* fifo2 and fifo2old assert in push that the job has its time */
  for (guint i = 0; timed_kinds[i] != NULL; i++)
    {
      pool = keyfile_pool_new (timed_kinds[i], dir, &error);
      g_assert_no_error (error);
      run_jobs (pool);
      g_clear_object (&pool);
    }

  pool = keyfile_pool_new ("fixed-fifo2untimed", dir, &error);
  g_assert_no_error (error);
  run_jobs (pool);
  g_clear_object (&pool);

  /* fifo2untimed reads the time of a job of the probe weight, at submission */
  pool = keyfile_pool_new ("fixed-fifo2untimed", dir, &error);
  g_assert_no_error (error);
  g_assert_true (tp_pool_start (pool, &error));
  g_assert_no_error (error);
  tp_test_log_init (&log);
  g_test_expect_message ("TaskPool", G_LOG_LEVEL_CRITICAL, "*tp_job_get_submit_time*job->timed*");
  tp_test_submit (pool, &log, "probe", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, FIFO2_PROBE_WEIGHT,
                  NULL);
  g_test_assert_expected_messages ();
  tp_test_wait_count (&log.callbacks, 1);
  g_assert_cmpuint (log.done, ==, 1);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_wait_count (&log.destroyed, 1);
  tp_test_log_clear (&log);
  g_clear_object (&pool);
}

static void
test_env_plugin_path (void)
{
  static const char * const fixtures[] = { "good", NULL };
  g_autofree char *dir = NULL;
  g_autofree char *bundled = NULL;
  g_autofree char *both = NULL;
  g_autofree char *searched = NULL;
  g_auto(GStrv) bundled_dirs = NULL;
  g_autoptr(GError) error = NULL;
  TpPool *pool;

  g_test_summary ("TASKPOOL_PLUGIN_PATH is a “:”-separated list of folders that the registry "
                  "searches, read again on each lookup");

  if (!g_test_subprocess ())
    {
      run_with_fixture_dir (fixtures);
      return;
    }

  dir = fixture_dir_get ();
  bundled = g_strdup (g_getenv ("TASKPOOL_PLUGIN_PATH"));
  g_assert_nonnull (bundled);
  bundled_dirs = g_strsplit (bundled, G_SEARCHPATH_SEPARATOR_S, -1);

  /* The good fixture's folder alone */
  g_assert_true (g_setenv ("TASKPOOL_PLUGIN_PATH", dir, TRUE));
  pool = pool_new ("fixed2-fifo2", &error);
  g_assert_no_error (error);
  run_jobs (pool);
  g_clear_object (&pool);

  pool = pool_new ("fixed2-nosuch", &error);
  g_assert_null (pool);
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  searched = g_strconcat ("in the plugin path ", dir, G_SEARCHPATH_SEPARATOR_S, NULL);
  assert_contains (error->message, searched);
  assert_not_contains (error->message, bundled_dirs[0]);
  g_clear_error (&error);

  /* Then with the bundled folders after it, empty entries ignored */
  both = g_strjoin (G_SEARCHPATH_SEPARATOR_S, "", dir, "", bundled, NULL);
  g_assert_true (g_setenv ("TASKPOOL_PLUGIN_PATH", both, TRUE));
  pool = pool_new ("fixed-fifo2", &error);
  g_assert_no_error (error);
  run_jobs (pool);
  g_clear_object (&pool);

  pool = pool_new ("fixed2-simple", &error);
  g_assert_no_error (error);
  run_jobs (pool);
  g_clear_object (&pool);
}

/* }}} */

/* Kinds through the public API {{{ */

typedef struct {
  const char  *path;
  const char  *kind;
  TpPoolError  code;
  const char  *says[3];
  const char  *label;       /* a list the message must have, besides the available kinds */
  const char  *listed[4];   /* items of that list */
} KindCase;

static const KindCase kind_cases[] = {
  { "/registry/kind/no-dash", "nodash", TP_POOL_ERROR_CONFIG,
    { "Invalid kind “nodash”", "<scaler>-<queue>", NULL } },
  { "/registry/kind/empty", "", TP_POOL_ERROR_CONFIG,
    { "Invalid kind “”", "<scaler>-<queue>", NULL } },
  { "/registry/kind/no-scaler", "-simple", TP_POOL_ERROR_CONFIG,
    { "Invalid kind “-simple”", "<scaler>-<queue>", NULL } },
  { "/registry/kind/no-queue", "fixed-", TP_POOL_ERROR_CONFIG,
    { "Invalid kind “fixed-”", "<scaler>-<queue>", NULL } },
  { "/registry/kind/unknown-scaler", "nosuch-simple", TP_POOL_ERROR_PLUGIN,
    { "Unknown kind “nosuch-simple”", "No scaling strategy “nosuch”", NULL },
    "available scaling strategies: ", { ITEM ("fixed"), ITEM ("autoscale"), NULL } },
  { "/registry/kind/unknown-queue", "fixed-nosuch", TP_POOL_ERROR_PLUGIN,
    { "Unknown kind “fixed-nosuch”", "No queue strategy “nosuch”", NULL },
    "available queue strategies: ", { ITEM ("simple"), ITEM ("lifo"), ITEM ("priority"), NULL } },
};

static void
test_kind_error (gconstpointer data)
{
  const KindCase *test = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = NULL;
  g_autofree char *kinds = NULL;

  g_test_summary ("tp_pool_new() refuses a malformed kind with TP_POOL_ERROR_CONFIG and a kind "
                  "no plugin provides with TP_POOL_ERROR_PLUGIN, listing the available kinds");

  pool = tp_pool_new (test->kind, &error);
  g_assert_null (pool);
  g_assert_error (error, TP_POOL_ERROR, (int) test->code);
  for (guint i = 0; test->says[i] != NULL; i++)
    assert_contains (error->message, test->says[i]);

  kinds = list_after (error->message, "available kinds: ");
  assert_contains (kinds, ITEM ("fixed-simple"));
  assert_contains (kinds, ITEM ("autoscale-priority"));

  if (test->label != NULL)
    {
      g_autofree char *list = list_after (error->message, test->label);

      for (guint i = 0; test->listed[i] != NULL; i++)
        assert_contains (list, test->listed[i]);
    }
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (broken_cases); i++)
    {
      g_autofree char *path = g_strconcat ("/registry/load/", broken_cases[i].name, NULL);

      g_test_add_data_func (path, &broken_cases[i], test_load_broken);
    }
  g_test_add_func ("/registry/load/missing-file", test_load_missing_file);
  g_test_add_func ("/registry/load/twice", test_load_twice);
  g_test_add_func ("/registry/dir/mixed", test_dir_mixed);
  g_test_add_func ("/registry/env/plugin-path", test_env_plugin_path);
  g_test_add_func ("/registry/queue-flags", test_queue_flags);
  for (guint i = 0; i < G_N_ELEMENTS (kind_cases); i++)
    g_test_add_data_func (kind_cases[i].path, &kind_cases[i], test_kind_error);

  return g_test_run ();
}

/* test-registry.c: the plugin registry, fed with the plugins of tests/plugins/
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The registry is process-wide and cannot be reset: every test that loads a
 * fixture or changes the environment runs in a subprocess of its own, with a
 * timeout, so that a registry that blocks (on a FIFO, on its own lock) fails
 * the test instead of hanging the suite. When a test needs a folder of
 * plugins, the parent makes it (so that it can remove it whatever becomes of
 * the child) and names it in TP_TEST_PLUGIN_DIR. The kind tests load only
 * the bundled plugins and run in the test process.
 *
 * A plugin is a module and the metadata file that declares it, both linked
 * from the build folder of the fixtures. Links, not copies, for what must
 * load: the temporary folder may be on a noexec file system. The fixture
 * “evil” aborts the process if it is ever loaded: it stands for what the
 * registry must never open.
 *
 * The fixtures find libtaskpool-1 through a run path relative to their build
 * folder; linked from a temporary folder, they need the LD_LIBRARY_PATH that
 * `meson test` sets.
 */

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "tp-gate-private.h"
#include "tp-registry-private.h"
#include "tp-test-util.h"

#define FIXTURE_DIR_VAR "TP_TEST_PLUGIN_DIR"
#define TRAP_TIMEOUT_US (120 * G_USEC_PER_SEC)

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
  const char *first;        /* a fixture to load before it, or NULL */
  const char *reasons[4];   /* what the error says about it */
} BrokenCase;

static const BrokenCase broken_cases[] = {
  { "not-a-module", NULL, { "not a loadable module", NULL } },
  { "no-entry", NULL, { "does not export the entry symbol", "“" TP_PLUGIN_ENTRY_SYMBOL "”",
                        "no-entry." G_MODULE_SUFFIX, NULL } },
  { "entry-null", NULL, { "entry point “" TP_PLUGIN_ENTRY_SYMBOL "” returned NULL", NULL } },
  { "abi-future", NULL, { "plugin ABI version", "is not supported", NULL } },
  { "duplicate-name", NULL, { "queue strategy “simple” is already provided by",
                              "queue-simple." G_MODULE_SUFFIX, NULL } },
  { "missing-function", NULL, { "queue strategy “nopop”", "lacks the required function “pop”",
                                NULL } },
  { "missing-create", NULL, { "scaling strategy “nocreate”",
                              "lacks the required function “create”", NULL } },
  { "bad-name", NULL, { "scaling strategy name “fixed-3” is not valid", NULL } },
  { "bad-flags", NULL, { "queue strategy “badflags”", "has unknown flags 0x21",
                         "TP_QUEUE_IGNORES_SUBMIT_TIME", NULL } },
  { "small-descriptor", NULL, { "plugin descriptor is", "bytes, expected at least", NULL } },
  { "small-queue", NULL, { "queue strategy vtable is", "bytes, expected at least", NULL } },
  { "small-scale", NULL, { "scaling strategy vtable is", "bytes, expected at least", NULL } },
  { "small-gate", NULL, { "gate vtable is", "bytes, expected at least", NULL } },
  { "gate-no-create", NULL, { "gate “nocreate” lacks the required function “create”", NULL } },
  { "gate-no-admit", NULL, { "gate “noadmit” lacks the required function “admit”", NULL } },
  { "gate-no-started", NULL, { "gate “nostarted” lacks the required function “started”",
                               NULL } },
  { "gate-bad-name", NULL, { "gate name “bad.name” is not valid",
                             "letters, digits, “-” and “_”", NULL } },
  { "gate-twice", NULL, { "gate “twice” is listed twice", NULL } },
  { "gate-taken", "gates", { "gate “ticket” is already provided by", "gates." G_MODULE_SUFFIX,
                             NULL } },
};

/* Helpers {{{ */

static char *
fixture_file (const char *dir,
              const char *name,
              const char *suffix)
{
  g_autofree char *file = g_strconcat (name, suffix, NULL);
  g_autofree char *path = g_build_filename (dir, file, NULL);

  /* The registry names files by their canonical path */
  return g_canonicalize_filename (path, NULL);
}

/* A plugin's metadata file: what the registry loads and names */
static char *
fixture_path (const char *dir,
              const char *name)
{
  return fixture_file (dir, name, ".plugin");
}

static char *
fixture_module (const char *dir,
                const char *name)
{
  return fixture_file (dir, name, "." G_MODULE_SUFFIX);
}

static void
link_file (const char *target,
           const char *link)
{
  g_assert_true (g_file_test (target, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint (symlink (target, link), ==, 0);
}

/* Links the built fixture @name's module and metadata into @dir, as @as */
static void
link_fixture_as (const char *dir,
                 const char *name,
                 const char *as)
{
  g_autofree char *module = fixture_module (TP_TEST_FIXTURES_DIR, name);
  g_autofree char *info = fixture_path (TP_TEST_FIXTURES_DIR, name);
  g_autofree char *module_link = fixture_module (dir, as);
  g_autofree char *info_link = fixture_path (dir, as);

  link_file (module, module_link);
  link_file (info, info_link);
}

static void
link_fixture (const char *dir,
              const char *name)
{
  link_fixture_as (dir, name, name);
}

static void
write_file (const char *dir,
            const char *name,
            const char *contents)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

/* A copy, for a file whose mode the test changes or that must be another
 * file than the build's: never one that is loaded */
static void
copy_file (const char *source,
           const char *dir,
           const char *name)
{
  g_autofree char *contents = NULL;
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;
  gsize length;

  g_file_get_contents (source, &contents, &length, &error);
  g_assert_no_error (error);
  g_file_set_contents (path, contents, (gssize) length, &error);
  g_assert_no_error (error);
}

static char *
make_subdir (const char *dir,
             const char *name,
             int         mode)
{
  char *path = g_build_filename (dir, name, NULL);

  g_assert_cmpint (g_mkdir (path, 0755), ==, 0);
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
  return path;
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) gdir = NULL;
  const char *name;
  struct stat st;

  g_assert_cmpint (g_lstat (path, &st), ==, 0);
  if (!S_ISDIR (st.st_mode))
    {
      g_assert_cmpint (g_unlink (path), ==, 0);
      return;
    }

  g_assert_cmpint (g_chmod (path, 0700), ==, 0);
  gdir = g_dir_open (path, 0, NULL);
  g_assert_nonnull (gdir);
  while ((name = g_dir_read_name (gdir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      remove_tree (child);
    }
  g_assert_cmpint (g_rmdir (path), ==, 0);
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
  g_test_trap_assert_stderr_unmatched ("*evil: this library was loaded*");
}

typedef void (*FillFunc) (const char *dir);

/* Runs the current test again in a subprocess, with a temporary folder that
 * @fill populated; @debug_domain, if not NULL, is logged at debug level */
static void
run_in_scratch_full (FillFunc    fill,
                     const char *debug_domain)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-registry-XXXXXX", &error);

  g_assert_no_error (error);
  /* A folder of plugins is writable by its owner only, whatever the umask */
  g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
  fill (dir);

  g_setenv (FIXTURE_DIR_VAR, dir, TRUE);
  if (debug_domain != NULL)
    g_setenv ("G_MESSAGES_DEBUG", debug_domain, TRUE);
  g_test_trap_subprocess (NULL, TRAP_TIMEOUT_US, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv ("G_MESSAGES_DEBUG");
  g_unsetenv (FIXTURE_DIR_VAR);
  remove_tree (dir);
  assert_trap_clean ();
}

static void
run_in_scratch (FillFunc fill)
{
  run_in_scratch_full (fill, NULL);
}

/* Runs the current test again in a subprocess, with a folder of the fixtures @names */
static void
run_with_fixture_dir (const char * const *names)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-registry-XXXXXX", &error);

  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
  for (guint i = 0; names[i] != NULL; i++)
    link_fixture (dir, names[i]);

  g_setenv (FIXTURE_DIR_VAR, dir, TRUE);
  g_test_trap_subprocess (NULL, TRAP_TIMEOUT_US, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv (FIXTURE_DIR_VAR);
  remove_tree (dir);
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

/* The search path of a lookup given @dir as its keyfile's plugin-path */
#define EXTRA_DIRS(dir) ((const char * const []) { (dir), NULL })

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

/* Loading one plugin {{{ */

static void
test_load_broken (gconstpointer data)
{
  const BrokenCase *test = data;
  g_autofree char *path = fixture_path (TP_TEST_FIXTURES_DIR, test->name);
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) again = NULL;
  g_autoptr(GError) lookup_error = NULL;
  g_autofree char *reason = NULL;

  g_test_summary ("A broken plugin is refused with a TP_POOL_ERROR_PLUGIN that names its "
                  "file and the reason, is refused again the same way, and is listed with its "
                  "reason when a lookup fails");

  if (g_test_subprocess ())
    {
      /* The bundled “simple” first, as in a program that made a pool */
      g_assert_nonnull (tp_registry_lookup_queue (NULL, "simple", &error));
      g_assert_no_error (error);
      if (test->first != NULL)
        {
          g_autofree char *first = fixture_path (TP_TEST_FIXTURES_DIR, test->first);

          g_assert_true (tp_registry_load_file (first, &error));
          g_assert_no_error (error);
        }

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

  g_test_trap_subprocess (NULL, TRAP_TIMEOUT_US, G_TEST_SUBPROCESS_DEFAULT);
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
      assert_contains (error->message, "cannot be read");
      assert_contains (error->message, g_strerror (ENOENT));
      return;
    }

  g_test_trap_subprocess (NULL, TRAP_TIMEOUT_US, G_TEST_SUBPROCESS_DEFAULT);
  assert_trap_clean ();
}

static void
test_load_twice (void)
{
  static const char * const fixtures[] = { "good", NULL };
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *dotted = NULL;
  g_autofree char *module_path = NULL;
  g_autoptr(GError) error = NULL;
  const TpPluginDescriptor *descriptor;
  const TpQueueStrategy *queue;
  const TpScaleStrategy *scale;
  TpPluginEntryFunc entry;
  GModule *module;

  g_test_summary ("Loading a plugin again, by the same or an equivalent name, succeeds "
                  "without registering it again, and pools share the one loaded module");

  if (!g_test_subprocess ())
    {
      run_with_fixture_dir (fixtures);
      return;
    }

  dir = fixture_dir_get ();
  path = fixture_path (dir, "good");
  dotted = g_build_filename (dir, ".", "good.plugin", NULL);
  module_path = fixture_module (dir, "good");

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

  /* Three pools through the keyfile, whose folder holds the plugin already loaded */
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(TpPool) pool = keyfile_pool_new ("fixed2-fifo2", dir, &error);

      g_assert_no_error (error);
      run_jobs (pool);
    }
  g_assert_true (tp_registry_load_file (path, &error));
  g_assert_no_error (error);

  /* What is registered is the descriptor of the one copy of the module in the process */
  module = g_module_open_full (module_path, G_MODULE_BIND_LOCAL | G_MODULE_BIND_LAZY, &error);
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

typedef struct {
  const char *name;
  GMutex      lock;
  GCond       cond;
  gboolean    go;
  const char *dir;
} RaceStart;

static gpointer
lookup_thread (gpointer data)
{
  RaceStart *start = data;
  g_autoptr(GError) error = NULL;
  gconstpointer queue;

  g_mutex_lock (&start->lock);
  while (!start->go)
    g_cond_wait (&start->cond, &start->lock);
  g_mutex_unlock (&start->lock);

  queue = tp_registry_lookup_queue (EXTRA_DIRS (start->dir), start->name, &error);
  g_assert_no_error (error);
  return (gpointer) queue;
}

static void
test_load_concurrent (void)
{
  static const char * const fixtures[] = { "good", NULL };
  g_autofree char *dir = NULL;
  GThread *threads[8];
  RaceStart start = { "fifo2", };
  gconstpointer first = NULL;

  g_test_summary ("Threads that look a strategy up at once all get the same vtable: the one "
                  "that loads the plugin does so without the lock, the others wait for it");

  if (!g_test_subprocess ())
    {
      run_with_fixture_dir (fixtures);
      return;
    }

  dir = fixture_dir_get ();
  start.dir = dir;
  g_mutex_init (&start.lock);
  g_cond_init (&start.cond);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("lookup", lookup_thread, &start);
  g_mutex_lock (&start.lock);
  start.go = TRUE;
  g_cond_broadcast (&start.cond);
  g_mutex_unlock (&start.lock);

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      gconstpointer queue = g_thread_join (threads[i]);

      g_assert_nonnull (queue);
      if (first == NULL)
        first = queue;
      g_assert_true (queue == first);
    }
  g_mutex_clear (&start.lock);
  g_cond_clear (&start.cond);
}

/* }}} */

/* Metadata files {{{ */

typedef struct {
  const char *path;         /* of the test */
  const char *summary;
  const char *contents;     /* of good.plugin, beside the good module */
  const char *reasons[3];
} MetadataCase;

static const MetadataCase metadata_cases[] = {
  { "/registry/metadata/not-a-keyfile", "A metadata file that is not a keyfile",
    "Module=good\n\x01\x02", { "not a valid plugin file", NULL } },
  { "/registry/metadata/no-group", "A keyfile without the group [Plugin]",
    "[Plugin Info]\nModule=good\nQueues=fifo2\n", { "not a plugin file", "[Plugin]", NULL } },
  { "/registry/metadata/no-module", "A metadata file without Module",
    "[Plugin]\nQueues=fifo2\n", { "key “Module”", NULL } },
  { "/registry/metadata/module-path", "A Module that is a path into another folder",
    "[Plugin]\nModule=../good\nQueues=fifo2\n",
    { "Module “../good” is not a module's file name", NULL } },
  { "/registry/metadata/module-absolute", "A Module that is an absolute path",
    "[Plugin]\nModule=/usr/lib/good\nQueues=fifo2\n",
    { "Module “/usr/lib/good” is not a module's file name", NULL } },
  { "/registry/metadata/module-hidden", "A Module that is a hidden file",
    "[Plugin]\nModule=.good\nQueues=fifo2\n", { "Module “.good”", NULL } },
  { "/registry/metadata/declares-nothing", "A metadata file that declares no strategy",
    "[Plugin]\nModule=good\nQueues=\n", { "declares no strategy", "Queues, Scalers", NULL } },
  { "/registry/metadata/bad-name", "A declared scaler whose name is not valid",
    "[Plugin]\nModule=good\nScalers=fixed-2\n",
    { "key “Scalers”", "scaling strategy name “fixed-2” is not valid", NULL } },
  { "/registry/metadata/undeclared-strategy",
    "A module that provides a strategy its metadata does not declare",
    "[Plugin]\nModule=good\nQueues=fifo2;fifo2untimed\nScalers=fixed2\n",
    { "the module provides queue strategy “fifo2old”", "does not declare (key Queues)", NULL } },
  { "/registry/metadata/missing-strategy",
    "A metadata file that declares a strategy its module does not provide",
    "[Plugin]\nModule=good\nQueues=fifo2;fifo2old;fifo2untimed\nScalers=fixed2\nGates=fifo\n",
    { "declares gate “fifo” (key Gates), which the module does not provide", NULL } },
  { "/registry/metadata/missing-module", "A metadata file whose module does not exist",
    "[Plugin]\nModule=nosuch\nQueues=fifo2\n", { "module", "nosuch." G_MODULE_SUFFIX,
                                                 "cannot be read" } },
};

static void
fill_metadata_dir (const char *dir)
{
  const MetadataCase *test = NULL;
  g_autofree char *module = fixture_module (TP_TEST_FIXTURES_DIR, "good");
  g_autofree char *link = fixture_module (dir, "good");

  for (guint i = 0; i < G_N_ELEMENTS (metadata_cases); i++)
    {
      if (g_str_equal (metadata_cases[i].path, g_test_get_path ()))
        test = &metadata_cases[i];
    }
  g_assert_nonnull (test);
  link_file (module, link);
  write_file (dir, "good.plugin", test->contents);
}

static void
test_metadata (gconstpointer data)
{
  const MetadataCase *test = data;
  g_autofree char *summary = g_strconcat (test->summary, ": refused with a TP_POOL_ERROR_PLUGIN "
                                          "naming the file and the reason", NULL);
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *reason = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary (summary);

  if (!g_test_subprocess ())
    {
      run_in_scratch (fill_metadata_dir);
      return;
    }

  dir = fixture_dir_get ();
  path = fixture_path (dir, "good");
  g_assert_false (tp_registry_load_file (path, &error));
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  assert_contains (error->message, path);
  for (guint i = 0; i < G_N_ELEMENTS (test->reasons) && test->reasons[i] != NULL; i++)
    assert_contains (error->message, test->reasons[i]);
  g_clear_error (&error);

  /* Through a lookup, the same reason is listed */
  g_assert_null (tp_registry_lookup_queue (EXTRA_DIRS (dir), "fifo2", &error));
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  reason = failure_reason (error->message, path);
  for (guint i = 0; i < G_N_ELEMENTS (test->reasons) && test->reasons[i] != NULL; i++)
    assert_contains (reason, test->reasons[i]);
}

static void
fill_large_metadata (const char *dir)
{
  g_autoptr(GString) contents = g_string_new ("[Plugin]\nModule=evil\nQueues=evil\n");

  g_autofree char *module = fixture_module (TP_TEST_FIXTURES_DIR, "evil");
  g_autofree char *link = fixture_module (dir, "evil");

  while (contents->len <= 64 * 1024)
    g_string_append (contents, "# padding padding padding padding padding padding padding\n");
  link_file (module, link);
  write_file (dir, "evil.plugin", contents->str);
}

static void
test_metadata_too_large (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("A metadata file larger than 64 KiB is refused unread, naming its size limit");

  if (!g_test_subprocess ())
    {
      run_in_scratch (fill_large_metadata);
      return;
    }

  dir = fixture_dir_get ();
  path = fixture_path (dir, "evil");
  g_assert_false (tp_registry_load_file (path, &error));
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  assert_contains (error->message, path);
  assert_contains (error->message, "is larger than 65536 bytes");
}

/* }}} */

/* The ABI, as it grows {{{ */

static void
dummy_requeue (gpointer  queue,
               TpJob    *job)
{
}

static gboolean
dummy_init (GKeyFile       *config,
            const char     *group,
            TpScaleLimits  *limits,
            gsize           limits_size,
            gpointer       *scaler,
            GError        **error)
{
  return TRUE;
}

static void
test_abi_accessors (void)
{
  TpQueueStrategy queue = { .struct_size = TP_QUEUE_STRATEGY_SIZE_FIRST };
  TpScaleStrategy scale = { .struct_size = TP_SCALE_STRATEGY_SIZE_FIRST };
  TpPluginDescriptor descriptor = { .struct_size = TP_PLUGIN_DESCRIPTOR_SIZE_FIRST };
  static const TpGateStrategy * const gates[] = { NULL };

  g_test_summary ("A field added after a struct's first size is read only when the struct's "
                  "size covers it: a vtable at its first size has no flags, requeue, init or "
                  "gates, whatever lies past it");

  /* What lies past the first size, as in a struct built later */
  queue.flags = TP_QUEUE_IGNORES_SUBMIT_TIME;
  queue.requeue = dummy_requeue;
  scale.init = dummy_init;
  descriptor.gate_strategies = gates;

  g_assert_cmpint (tp_queue_strategy_get_flags (&queue), ==, TP_QUEUE_FLAGS_NONE);
  g_assert_null (tp_queue_strategy_get_requeue (&queue));
  g_assert_null (tp_scale_strategy_get_init (&scale));
  g_assert_null (tp_plugin_descriptor_get_gate_strategies (&descriptor));

  /* Up to flags: flags, not requeue */
  queue.struct_size = G_STRUCT_OFFSET (TpQueueStrategy, flags) + sizeof (TpQueueFlags);
  g_assert_cmpint (tp_queue_strategy_get_flags (&queue), ==, TP_QUEUE_IGNORES_SUBMIT_TIME);
  g_assert_null (tp_queue_strategy_get_requeue (&queue));

  /* Whole */
  queue.struct_size = sizeof (TpQueueStrategy);
  scale.struct_size = sizeof (TpScaleStrategy);
  descriptor.struct_size = sizeof (TpPluginDescriptor);
  g_assert_true (tp_queue_strategy_get_requeue (&queue) == dummy_requeue);
  g_assert_true (tp_scale_strategy_get_init (&scale) == dummy_init);
  g_assert_true (tp_plugin_descriptor_get_gate_strategies (&descriptor) == gates);

  /* The first sizes are where the later fields begin, and never move */
  g_assert_cmpuint (TP_QUEUE_STRATEGY_SIZE_FIRST, ==, G_STRUCT_OFFSET (TpQueueStrategy, flags));
  g_assert_cmpuint (TP_SCALE_STRATEGY_SIZE_FIRST, ==, G_STRUCT_OFFSET (TpScaleStrategy, init));
  g_assert_cmpuint (TP_PLUGIN_DESCRIPTOR_SIZE_FIRST, ==,
                    G_STRUCT_OFFSET (TpPluginDescriptor, gate_strategies));
  g_assert_cmpuint (TP_GATE_STRATEGY_SIZE_FIRST, ==, sizeof (TpGateStrategy));
  g_assert_cmpuint (TP_SCALE_LIMITS_SIZE_FIRST, ==, 6 * sizeof (guint));
  g_assert_cmpuint (TP_SCALE_LIMITS_SIZE_FIRST, <=, sizeof (TpScaleLimits));
  g_assert_true (TP_STRUCT_SIZE_HAS (TpScaleLimits, TP_SCALE_LIMITS_SIZE_FIRST, max_size_set));
  g_assert_false (TP_STRUCT_SIZE_HAS (TpScaleLimits, TP_SCALE_LIMITS_SIZE_FIRST - 1,
                                      max_size_set));
}

static void
test_abi_first (void)
{
  static const char * const fixtures[] = { "abi-first", NULL };
  g_autofree char *dir = NULL;
  g_autoptr(GError) error = NULL;
  const TpQueueStrategy *queue;
  const TpScaleStrategy *scale;
  TpScaleLimits limits = { 0, };
  gpointer scaler = NULL;
  TpPool *pool;

  g_test_summary ("A plugin built against the first SDK (descriptor, queue and scaling "
                  "vtables at their first sizes) loads and works, and nothing past its "
                  "structs is read: not the gates, not the flags, not an init");

  if (!g_test_subprocess ())
    {
      run_with_fixture_dir (fixtures);
      return;
    }

  dir = fixture_dir_get ();
  queue = tp_registry_lookup_queue (EXTRA_DIRS (dir), "firstq", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (queue->struct_size, ==, TP_QUEUE_STRATEGY_SIZE_FIRST);
  g_assert_cmpint (tp_queue_strategy_get_flags (queue), ==, TP_QUEUE_FLAGS_NONE);
  g_assert_null (tp_queue_strategy_get_requeue (queue));

  scale = tp_registry_lookup_scale (EXTRA_DIRS (dir), "firsts", &error);
  g_assert_no_error (error);
  g_assert_null (tp_scale_strategy_get_init (scale));
  /* Made with its create, not the trap past its end */
  g_assert_true (tp_scale_strategy_create (scale, NULL, NULL, &limits, &scaler, &error));
  g_assert_no_error (error);
  g_assert_nonnull (scaler);
  g_assert_cmpuint (limits.size, ==, 2);
  tp_scale_strategy_destroy (scale, scaler);

  /* The gate list past the descriptor was not read: it would have been refused */
  g_assert_null (tp_registry_lookup_gate (EXTRA_DIRS (dir), "trap", &error));
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  assert_not_contains (error->message, "failed to load");
  g_clear_error (&error);

  pool = keyfile_pool_new ("firsts-firstq", dir, &error);
  g_assert_no_error (error);
  run_jobs (pool);
  g_clear_object (&pool);
}

/* }}} */

/* Making strategies {{{ */

static void
test_create_pool (void)
{
  static const char * const fixtures[] = { "scale-init", NULL };
  g_autofree char *dir = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = NULL;

  g_test_summary ("A pool made with a scaler that has init and no state starts and runs; "
                  "a pool whose scaler or queue fails to make itself without setting an "
                  "error fails with a TP_POOL_ERROR_PLUGIN that says so, never NULL without "
                  "an error");

  if (!g_test_subprocess ())
    {
      run_with_fixture_dir (fixtures);
      return;
    }

  dir = fixture_dir_get ();
  pool = keyfile_pool_new ("initonly-simple", dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (pool);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 1);   /* the keyfile's size */
  g_assert_true (tp_pool_start (pool, &error));
  g_assert_no_error (error);
  g_assert_cmpint (tp_pool_scale (pool, 1), ==, 2);
  g_clear_object (&pool);

  for (guint i = 0; i < 2; i++)
    {
      pool = keyfile_pool_new (i == 0 ? "createsilent-simple" : "fixed-silentq", dir, &error);
      g_assert_null (pool);
      g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
      assert_contains (error->message, "without setting an error");
      g_clear_error (&error);
    }
}

static void
test_create_scale_init (void)
{
  static const char * const fixtures[] = { "scale-init", NULL };
  g_autofree char *dir = NULL;
  g_autofree char *info = NULL;
  g_autoptr(GError) error = NULL;
  const TpScaleStrategy *scale;
  const TpQueueStrategy *queue;
  void (*get_counts) (guint *made, guint *destroyed);
  g_autofree char *module_path = NULL;
  GModule *module;
  guint made, destroyed;
  gpointer scaler;

  g_test_summary ("A scaling strategy with init is made with it, with or without state, and "
                  "freed with its destroy when it has state and one; a strategy whose init "
                  "or create fails without an error fails with one that names the plugin");

  if (!g_test_subprocess ())
    {
      run_with_fixture_dir (fixtures);
      return;
    }

  dir = fixture_dir_get ();
  info = fixture_path (dir, "scale-init");
  module_path = fixture_module (dir, "scale-init");

  /* initonly: no state, no create, no destroy */
  {
    TpScaleLimits limits = { .max_size = 7, .max_size_set = TRUE };

    scale = tp_registry_lookup_scale (EXTRA_DIRS (dir), "initonly", &error);
    g_assert_no_error (error);
    g_assert_null (scale->create);
    g_assert_null (scale->destroy);
    scaler = &error;
    g_assert_true (tp_scale_strategy_create (scale, NULL, NULL, &limits, &scaler, &error));
    g_assert_no_error (error);
    g_assert_null (scaler);
    g_assert_cmpuint (limits.size, ==, 2);
    g_assert_cmpuint (limits.min_size, ==, 0);
    g_assert_cmpuint (limits.max_size, ==, 7);
    tp_scale_strategy_destroy (scale, scaler);
  }

  /* initstate and initboth: state, destroyed; init preferred over create */
  module = g_module_open_full (module_path, G_MODULE_BIND_LOCAL, &error);
  g_assert_no_error (error);
  g_assert_true (g_module_symbol (module, "scale_init_get_counts", (gpointer *) &get_counts));
  for (guint i = 0; i < 2; i++)
    {
      TpScaleLimits limits = { 0, };

      scale = tp_registry_lookup_scale (EXTRA_DIRS (dir), i == 0 ? "initstate" : "initboth",
                                        &error);
      g_assert_no_error (error);
      g_assert_true (tp_scale_strategy_create (scale, NULL, NULL, &limits, &scaler, &error));
      g_assert_no_error (error);
      g_assert_nonnull (scaler);
      tp_scale_strategy_destroy (scale, scaler);
    }
  get_counts (&made, &destroyed);
  g_assert_cmpuint (made, ==, 2);
  g_assert_cmpuint (destroyed, ==, 2);
  g_assert_true (g_module_close (module));

  /* initfails: its own error */
  {
    TpScaleLimits limits = { 0, };

    scale = tp_registry_lookup_scale (EXTRA_DIRS (dir), "initfails", &error);
    g_assert_no_error (error);
    g_assert_false (tp_scale_strategy_create (scale, NULL, NULL, &limits, &scaler, &error));
    g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
    g_assert_cmpstr (error->message, ==, "initfails: no, because");
    g_assert_null (scaler);
    g_clear_error (&error);
  }

  /* initsilent, createsilent, silentq: failures without an error */
  {
    TpScaleLimits limits = { 0, };
    const char *silent[] = { "initsilent", "init returned FALSE",
                             "createsilent", "create returned NULL" };

    for (guint i = 0; i < G_N_ELEMENTS (silent); i += 2)
      {
        g_autofree char *strategy = g_strdup_printf ("scaling strategy “%s”", silent[i]);

        scale = tp_registry_lookup_scale (EXTRA_DIRS (dir), silent[i], &error);
        g_assert_no_error (error);
        g_assert_false (tp_scale_strategy_create (scale, NULL, NULL, &limits, &scaler, &error));
        g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
        assert_contains (error->message, "Plugin scale-init");
        assert_contains (error->message, info);
        assert_contains (error->message, strategy);
        assert_contains (error->message, silent[i + 1]);
        assert_contains (error->message, "without setting an error");
        g_assert_null (scaler);
        g_clear_error (&error);
      }

    queue = tp_registry_lookup_queue (EXTRA_DIRS (dir), "silentq", &error);
    g_assert_no_error (error);
    g_assert_null (tp_queue_strategy_create (queue, NULL, NULL, &error));
    g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
    assert_contains (error->message, "Plugin scale-init");
    assert_contains (error->message, "queue strategy “silentq”");
    assert_contains (error->message, "create returned NULL without setting an error");
    g_clear_error (&error);
  }

  /* initstray: success, its stray error dropped with a critical */
  {
    TpScaleLimits limits = { 0, };

    scale = tp_registry_lookup_scale (EXTRA_DIRS (dir), "initstray", &error);
    g_assert_no_error (error);
    g_test_expect_message ("TaskPool", G_LOG_LEVEL_CRITICAL,
                           "*scaling strategy “initstray”: init succeeded but set an error*"
                           "initstray: a stray error*");
    g_assert_true (tp_scale_strategy_create (scale, NULL, NULL, &limits, &scaler, &error));
    g_test_assert_expected_messages ();
    g_assert_no_error (error);
  }
}

/* }}} */

/* Gates {{{ */

static void
gate_wake_cb (gpointer data)
{
}

static void
test_gate_lookup (void)
{
  static const char * const fixtures[] = { "gates", NULL };
  g_autofree char *dir = NULL;
  g_autofree char *gates = NULL;
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  const TpGateStrategy *ticket, *minimal, *silent;
  TpGateHost *host;
  gpointer gate = NULL;
  gint64 retry_at = -1;

  g_test_summary ("Gates are registered from a descriptor whose size covers them, found by "
                  "name, listed when one is missing, and made through the registry, which "
                  "names the plugin of a gate whose create fails without an error");

  if (!g_test_subprocess ())
    {
      run_with_fixture_dir (fixtures);
      return;
    }

  dir = fixture_dir_get ();
  ticket = tp_registry_lookup_gate (EXTRA_DIRS (dir), "ticket", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ticket->name, ==, "ticket");
  minimal = tp_registry_lookup_gate (NULL, "minimal", &error);
  g_assert_no_error (error);
  g_assert_null (minimal->destroy);
  g_assert_null (minimal->ended);

  /* A gate through its vtable, as the pool drives it: one ticket */
  host = tp_gate_host_new (g_main_context_default (), "ticket", gate_wake_cb, NULL);
  g_key_file_set_string (keyfile, "test", "ticket-limit", "1");
  g_assert_true (tp_gate_strategy_create (ticket, keyfile, "test", host, &gate, &error));
  g_assert_no_error (error);
  g_assert_nonnull (gate);
  g_assert_cmpint (ticket->admit (gate, NULL, 0, &retry_at, &error), ==, TP_GATE_ADMIT);
  ticket->started (gate, NULL, 0);
  g_assert_cmpint (ticket->admit (gate, NULL, 0, &retry_at, &error), ==, TP_GATE_HOLD);
  ticket->ended (gate, NULL);
  g_assert_cmpint (ticket->admit (gate, NULL, 0, &retry_at, &error), ==, TP_GATE_ADMIT);
  g_assert_no_error (error);
  ticket->destroy (gate);

  /* Its keys are read strictly */
  g_key_file_set_string (keyfile, "test", "ticket-limit", "0");
  g_assert_false (tp_gate_strategy_create (ticket, keyfile, "test", host, &gate, &error));
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
  g_clear_error (&error);

  silent = tp_registry_lookup_gate (NULL, "silent", &error);
  g_assert_no_error (error);
  g_assert_false (tp_gate_strategy_create (silent, NULL, NULL, host, &gate, &error));
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  assert_contains (error->message, "Plugin gates");
  assert_contains (error->message, "gate “silent”: create returned FALSE without setting an "
                                   "error");
  g_clear_error (&error);
  tp_gate_host_free (host);

  /* A gate no plugin provides: the available ones are listed */
  g_assert_null (tp_registry_lookup_gate (EXTRA_DIRS (dir), "nosuch", &error));
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  assert_contains (error->message, "No gate “nosuch” in the plugin path");
  gates = list_after (error->message, "available gates: ");
  /* The fixture's, beside the bundled ones found through TASKPOOL_PLUGIN_PATH */
  assert_contains (gates, ITEM ("minimal"));
  assert_contains (gates, ITEM ("silent"));
  assert_contains (gates, ITEM ("ticket"));
  assert_not_contains (error->message, "failed to load");

  /* Names are process-wide, and a queue or scaler name is not a gate's */
  g_assert_null (tp_registry_lookup_queue (NULL, "ticket", NULL));
  g_assert_null (tp_registry_lookup_gate (NULL, "simple", NULL));
}

/* }}} */

/* Safe places {{{ */

static void
test_safety_owner_and_mode (void)
{
  struct stat st = { 0, };
  uid_t euid = geteuid ();
  uid_t other = euid == 0 ? 1 : euid + 1;
  g_autoptr(GError) error = NULL;

  g_test_summary ("A plugin file or folder must be owned by root or by the process's user and "
                  "be writable by its owner only, as OpenSSH's StrictModes wants");

  st.st_mode = S_IFREG | 0644;
  st.st_uid = euid;
  g_assert_true (tp_plugin_check_owner_and_mode ("/p/a.plugin", &st, euid, &error));
  g_assert_no_error (error);
  st.st_uid = 0;
  g_assert_true (tp_plugin_check_owner_and_mode ("/p/a.plugin", &st, euid, &error));
  g_assert_no_error (error);
  st.st_mode = S_IFDIR | 0755;
  g_assert_true (tp_plugin_check_owner_and_mode ("/p", &st, euid, &error));
  g_assert_no_error (error);

  st.st_uid = other;
  g_assert_false (tp_plugin_check_owner_and_mode ("/p", &st, euid, &error));
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  assert_contains (error->message, "/p is owned by user");
  assert_contains (error->message, "must be owned by root or by this process's user");
  g_clear_error (&error);

  st.st_uid = euid;
  for (guint i = 0; i < 3; i++)
    {
      static const mode_t modes[] = { 0664, 0646, 01777 };

      st.st_mode = S_IFDIR | modes[i];
      g_assert_false (tp_plugin_check_owner_and_mode ("/p", &st, euid, &error));
      g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
      assert_contains (error->message, "/p is writable by its group or by others");
      g_clear_error (&error);
    }
}

/* good, and the evil library without its metadata file */
static void
fill_good_and_undeclared_evil (const char *dir)
{
  g_autofree char *evil = fixture_module (TP_TEST_FIXTURES_DIR, "evil");
  g_autofree char *link = fixture_module (dir, "evil");

  link_fixture (dir, "good");
  link_file (evil, link);
}

/* good in a folder of its own, then evil in a folder @mode allows others to write */
static void
fill_unsafe_folder (const char *dir,
                    int         mode)
{
  g_autofree char *safe = make_subdir (dir, "safe", 0755);
  g_autofree char *unsafe = make_subdir (dir, "unsafe", 0755);

  link_fixture (safe, "good");
  link_fixture (unsafe, "evil");
  g_assert_cmpint (g_chmod (unsafe, mode), ==, 0);
}

static void
fill_world_writable (const char *dir)
{
  fill_unsafe_folder (dir, 0777);
}

static void
fill_group_writable (const char *dir)
{
  fill_unsafe_folder (dir, 0775);
}

static void
fill_sticky_world_writable (const char *dir)
{
  fill_unsafe_folder (dir, 01777);
}

static void
test_safety_unsafe_folder (gconstpointer data)
{
  const char *mode = data;
  g_autofree char *dir = NULL;
  g_autofree char *safe = NULL;
  g_autofree char *unsafe = NULL;
  g_autofree char *env = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *mode_text = NULL;
  g_autoptr(GError) error = NULL;
  TpPool *pool;

  g_test_summary ("A plugin folder that others than its owner may write is refused with a "
                  "TP_POOL_ERROR_PLUGIN naming it and its mode, from a keyfile at once, from "
                  "TASKPOOL_PLUGIN_PATH when the registry looks into it; nothing in it is "
                  "opened, and folders after it still serve");

  if (!g_test_subprocess ())
    {
      if (g_str_equal (mode, "0777"))
        run_in_scratch (fill_world_writable);
      else if (g_str_equal (mode, "0775"))
        run_in_scratch (fill_group_writable);
      else
        run_in_scratch (fill_sticky_world_writable);
      return;
    }

  dir = fixture_dir_get ();
  safe = g_build_filename (dir, "safe", NULL);
  unsafe = g_build_filename (dir, "unsafe", NULL);
  mode_text = g_strdup_printf ("(mode %s)", mode);

  /* From a keyfile: the pool is not made, whatever its kind */
  pool = keyfile_pool_new ("fixed-simple", unsafe, &error);
  g_assert_null (pool);
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  assert_contains (error->message, "“plugin-path”");
  assert_contains (error->message, "“test”");
  assert_contains (error->message, unsafe);
  assert_contains (error->message, "writable by its group or by others");
  assert_contains (error->message, mode_text);
  g_clear_error (&error);

  /* From the environment: skipped, and listed when a lookup fails */
  env = g_strjoin (G_SEARCHPATH_SEPARATOR_S, unsafe, safe, g_getenv ("TASKPOOL_PLUGIN_PATH"),
                   NULL);
  g_assert_true (g_setenv ("TASKPOOL_PLUGIN_PATH", env, TRUE));
  pool = pool_new ("fixed2-fifo2", &error);
  g_assert_no_error (error);
  run_jobs (pool);
  g_clear_object (&pool);

  g_assert_null (tp_registry_lookup_queue (NULL, "evil", &error));
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  reason = failure_reason (error->message, unsafe);
  assert_contains (reason, "writable by its group or by others");
  assert_contains (reason, mode_text);
  assert_not_contains (error->message, "evil.plugin");
}

static void
fill_unsafe_files (const char *dir)
{
  g_autofree char *evil = fixture_module (TP_TEST_FIXTURES_DIR, "evil");
  g_autofree char *evil_info = fixture_path (TP_TEST_FIXTURES_DIR, "evil");
  g_autofree char *unsafe = make_subdir (dir, "unsafe", 0755);
  g_autofree char *writable_module = g_build_filename (dir, "mod." G_MODULE_SUFFIX, NULL);
  g_autofree char *writable_info = g_build_filename (dir, "info.plugin", NULL);
  g_autofree char *group_module = g_build_filename (dir, "group." G_MODULE_SUFFIX, NULL);
  g_autofree char *linked_module = g_build_filename (unsafe, "linked." G_MODULE_SUFFIX, NULL);
  g_autofree char *link = g_build_filename (dir, "linked." G_MODULE_SUFFIX, NULL);

  link_fixture (dir, "good");

  /* A module others may write, declared by a safe file */
  copy_file (evil, dir, "mod." G_MODULE_SUFFIX);
  g_assert_cmpint (g_chmod (writable_module, 0666), ==, 0);
  write_file (dir, "mod.plugin", "[Plugin]\nModule=mod\nQueues=evil\n");

  /* A module its group may write */
  copy_file (evil, dir, "group." G_MODULE_SUFFIX);
  g_assert_cmpint (g_chmod (group_module, 0664), ==, 0);
  write_file (dir, "group.plugin", "[Plugin]\nModule=group\nQueues=evil\n");

  /* A metadata file others may write, beside a safe module */
  copy_file (evil_info, dir, "info.plugin");
  g_assert_cmpint (g_chmod (writable_info, 0646), ==, 0);
  copy_file (evil, dir, "info." G_MODULE_SUFFIX);

  /* A safe link to a module in a folder others may write */
  copy_file (evil, unsafe, "linked." G_MODULE_SUFFIX);
  g_assert_cmpint (symlink (linked_module, link), ==, 0);
  g_assert_cmpint (g_chmod (unsafe, 0777), ==, 0);
  write_file (dir, "linked.plugin", "[Plugin]\nModule=linked\nQueues=evil\n");
}

static void
test_safety_unsafe_files (void)
{
  static const struct {
    const char *plugin;
    const char *says[3];
  } refused[] = {
    { "mod", { "module", "mod." G_MODULE_SUFFIX " is writable by its group or by others",
               "(mode 0666)" } },
    { "group", { "module", "group." G_MODULE_SUFFIX " is writable by its group or by others",
                 "(mode 0664)" } },
    { "info", { "info.plugin is writable by its group or by others", "(mode 0646)", NULL } },
    { "linked", { "unsafe is writable by its group or by others", "(mode 0777)", NULL } },
  };
  g_autofree char *dir = NULL;
  g_autoptr(GError) error = NULL;
  TpPool *pool;

  g_test_summary ("A module or metadata file that others than its owner may write, or a link "
                  "to a module in a folder they may write, is refused with a "
                  "TP_POOL_ERROR_PLUGIN naming the file and its mode, and never opened");

  if (!g_test_subprocess ())
    {
      run_in_scratch (fill_unsafe_files);
      return;
    }

  dir = fixture_dir_get ();
  pool = keyfile_pool_new ("fixed2-fifo2", dir, &error);
  g_assert_no_error (error);
  run_jobs (pool);
  g_clear_object (&pool);

  g_assert_null (tp_registry_lookup_queue (EXTRA_DIRS (dir), "evil", &error));
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *path = fixture_path (dir, refused[i].plugin);
      g_autofree char *reason = failure_reason (error->message, path);

      for (guint j = 0; j < G_N_ELEMENTS (refused[i].says) && refused[i].says[j] != NULL; j++)
        assert_contains (reason, refused[i].says[j]);
    }
}

static void
fill_foreign_owner (const char *dir)
{
  g_autofree char *evil = fixture_module (TP_TEST_FIXTURES_DIR, "evil");
  g_autofree char *module = g_build_filename (dir, "foreign." G_MODULE_SUFFIX, NULL);

  copy_file (evil, dir, "foreign." G_MODULE_SUFFIX);
  write_file (dir, "foreign.plugin", "[Plugin]\nModule=foreign\nQueues=evil\n");
  /* nobody, on most systems */
  g_assert_cmpint (lchown (module, 65534, (gid_t) -1), ==, 0);
}

static void
test_safety_foreign_owner (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("A module owned by another user than root or the process's own is refused "
                  "with a TP_POOL_ERROR_PLUGIN naming it and its owner, and never opened");

  if (geteuid () != 0)
    {
      g_test_skip ("Only root can give a file to another user: see "
                   "/registry/safety/owner-and-mode for the rule itself");
      return;
    }
  if (!g_test_subprocess ())
    {
      run_in_scratch (fill_foreign_owner);
      return;
    }

  dir = fixture_dir_get ();
  path = fixture_path (dir, "foreign");
  g_assert_false (tp_registry_load_file (path, &error));
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  assert_contains (error->message, path);
  assert_contains (error->message, "foreign." G_MODULE_SUFFIX " is owned by user 65534");
}

static void
fill_fifos (const char *dir)
{
  g_autofree char *fifo_module = g_build_filename (dir, "fifo." G_MODULE_SUFFIX, NULL);
  g_autofree char *fifo_info = g_build_filename (dir, "fifo-info.plugin", NULL);
  g_autofree char *undeclared = g_build_filename (dir, "x." G_MODULE_SUFFIX, NULL);
  g_autofree char *folder_info = g_build_filename (dir, "folder.plugin", NULL);

  link_fixture (dir, "good");
  g_assert_cmpint (mkfifo (fifo_module, 0644), ==, 0);
  write_file (dir, "fifo.plugin", "[Plugin]\nModule=fifo\nQueues=evil\n");
  g_assert_cmpint (mkfifo (fifo_info, 0644), ==, 0);
  g_assert_cmpint (mkfifo (undeclared, 0644), ==, 0);
  g_assert_cmpint (g_mkdir (folder_info, 0755), ==, 0);
}

static void
test_safety_fifo (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *fifo = NULL;
  g_autofree char *fifo_info = NULL;
  g_autofree char *folder_info = NULL;
  g_autofree char *reason = NULL;
  g_autoptr(GError) error = NULL;
  TpPool *pool;

  g_test_summary ("A FIFO named like a module or a metadata file, or a folder named like one, "
                  "is refused as not a regular file, never opened: nothing hangs, and the "
                  "plugin beside it works");

  if (!g_test_subprocess ())
    {
      run_in_scratch (fill_fifos);
      return;
    }

  dir = fixture_dir_get ();
  pool = keyfile_pool_new ("fixed2-fifo2", dir, &error);
  g_assert_no_error (error);
  run_jobs (pool);
  g_clear_object (&pool);

  g_assert_null (tp_registry_lookup_queue (EXTRA_DIRS (dir), "evil", &error));
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);

  fifo = fixture_path (dir, "fifo");
  reason = failure_reason (error->message, fifo);
  assert_contains (reason, "fifo." G_MODULE_SUFFIX " is a FIFO, not a regular file");
  g_clear_pointer (&reason, g_free);

  fifo_info = fixture_path (dir, "fifo-info");
  reason = failure_reason (error->message, fifo_info);
  assert_contains (reason, "plugin file");
  assert_contains (reason, "is a FIFO, not a regular file");
  g_clear_pointer (&reason, g_free);

  folder_info = fixture_path (dir, "folder");
  reason = failure_reason (error->message, folder_info);
  assert_contains (reason, "is a folder, not a regular file");

  /* The undeclared FIFO is not even mentioned */
  assert_not_contains (error->message, "/x." G_MODULE_SUFFIX);
}

static void
test_safety_undeclared (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *kinds = NULL;
  g_autoptr(GError) error = NULL;
  TpPool *pool;

  g_test_summary ("A module without a metadata file is never opened, even when every plugin "
                  "of the path is loaded to list what is available");

  if (!g_test_subprocess ())
    {
      run_in_scratch (fill_good_and_undeclared_evil);
      return;
    }

  dir = fixture_dir_get ();
  pool = keyfile_pool_new ("fixed-nosuch", dir, &error);
  g_assert_null (pool);
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  kinds = list_after (error->message, "available kinds: ");
  assert_contains (kinds, ITEM ("fixed2-fifo2"));
  assert_not_contains (error->message, "evil");
}

static void
fill_relative (const char *dir)
{
  g_autofree char *relative = make_subdir (dir, "relative", 0755);

  link_fixture (relative, "evil");
  link_fixture (relative, "good");
}

static void
test_safety_relative (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *env = NULL;
  g_autoptr(GError) error = NULL;
  TpPool *pool;

  g_test_summary ("A relative folder of TASKPOOL_PLUGIN_PATH is ignored with a debug "
                  "message, and one of a keyfile's plugin-path is a configuration error: "
                  "neither resolves against the working directory");

  if (!g_test_subprocess ())
    {
      run_in_scratch_full (fill_relative, "TaskPool");
      g_test_trap_assert_stdout ("*Plugin folder ?relative? of TASKPOOL_PLUGIN_PATH ignored: "
                                 "a relative folder*");
      return;
    }

  dir = fixture_dir_get ();
  g_assert_cmpint (g_chdir (dir), ==, 0);

  env = g_strjoin (G_SEARCHPATH_SEPARATOR_S, "relative", g_getenv ("TASKPOOL_PLUGIN_PATH"),
                   NULL);
  g_assert_true (g_setenv ("TASKPOOL_PLUGIN_PATH", env, TRUE));
  pool = pool_new ("fixed2-fifo2", &error);
  g_assert_null (pool);
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  assert_not_contains (error->message, "relative");
  g_clear_error (&error);

  g_assert_null (tp_registry_lookup_queue (NULL, "evil", &error));
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  g_clear_error (&error);

  pool = keyfile_pool_new ("fixed2-fifo2", "relative", &error);
  g_assert_null (pool);
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
  assert_contains (error->message, "“relative” is a relative folder");
}

/* }}} */

/* Plugins that run code while they load {{{ */

static void
test_reentrant (void)
{
  static const char * const fixtures[] = { "reentrant", NULL };
  g_autofree char *dir = NULL;
  g_autofree char *module_path = NULL;
  g_autofree char *info = NULL;
  g_autoptr(GError) error = NULL;
  void (*get_report) (const char * const **report);
  const char * const *report;
  GModule *module;
  TpPool *pool;

  g_test_summary ("A plugin whose constructor and entry point make pools while it loads does "
                  "not deadlock: pools of other plugins' kinds are made, one of its own kind "
                  "fails with an error that names it, and the plugin then works");

  if (!g_test_subprocess ())
    {
      run_with_fixture_dir (fixtures);
      return;
    }

  dir = fixture_dir_get ();
  info = fixture_path (dir, "reentrant");
  pool = keyfile_pool_new ("reenter-simple", dir, &error);
  g_assert_no_error (error);
  run_jobs (pool);
  g_clear_object (&pool);

  module_path = fixture_module (dir, "reentrant");
  module = g_module_open_full (module_path, G_MODULE_BIND_LOCAL, &error);
  g_assert_no_error (error);
  g_assert_true (g_module_symbol (module, "reentrant_get_report", (gpointer *) &get_report));
  get_report (&report);
  for (guint i = 0; i < 4; i += 2)
    {
      g_assert_cmpstr (report[i], ==, "ok");
      g_assert_nonnull (report[i + 1]);
      assert_contains (report[i + 1], "tp-pool-error-quark 3 ");
      assert_contains (report[i + 1], "“reenter-simple”");
      assert_contains (report[i + 1], info);
      assert_contains (report[i + 1], "is being loaded by this thread");
    }
  g_assert_true (g_module_close (module));
}

/* }}} */

/* Shadowing {{{ */

/* first/: good; later/: a “good” that is another module, which would abort */
static void
fill_shadowed_evil (const char *dir)
{
  g_autofree char *first = make_subdir (dir, "first", 0755);
  g_autofree char *later = make_subdir (dir, "later", 0755);
  g_autofree char *evil = fixture_module (TP_TEST_FIXTURES_DIR, "evil");
  g_autofree char *evil_link = fixture_module (later, "good");
  g_autofree char *info = fixture_path (TP_TEST_FIXTURES_DIR, "good");
  g_autofree char *info_link = fixture_path (later, "good");

  link_fixture (first, "good");
  link_file (evil, evil_link);
  link_file (info, info_link);
}

static void
test_shadow_first_wins (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *first = NULL;
  g_autofree char *later = NULL;
  g_autofree char *plugin_path = NULL;
  g_autoptr(GError) error = NULL;
  TpPool *pool;

  g_test_summary ("A module file name found again in a later folder of the search path is "
                  "shadowed by the first: never opened, never listed as a failure, reported "
                  "at debug level");

  if (!g_test_subprocess ())
    {
      run_in_scratch_full (fill_shadowed_evil, "TaskPool");
      g_test_trap_assert_stdout ("*Plugin */later/good.plugin is shadowed by */first/good.plugin, "
                                 "found first*");
      return;
    }

  dir = fixture_dir_get ();
  first = g_build_filename (dir, "first", NULL);
  later = g_build_filename (dir, "later", NULL);
  plugin_path = g_strconcat (first, ";", later, NULL);

  pool = keyfile_pool_new ("fixed2-fifo2", plugin_path, &error);
  g_assert_no_error (error);
  run_jobs (pool);
  g_clear_object (&pool);

  /* Every plugin of the path loaded, to list them: not the shadowed one */
  pool = keyfile_pool_new ("fixed2-nosuch", plugin_path, &error);
  g_assert_null (pool);
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  assert_not_contains (error->message, "failed to load");
  g_clear_error (&error);

  /* The later folder alone: its “good” is still the first one found */
  pool = keyfile_pool_new ("fixed2-fifo2", later, &error);
  g_assert_no_error (error);
  run_jobs (pool);
  g_clear_object (&pool);
}

/* first/: a “good” whose module fails; later/: the real good */
static void
fill_shadowed_good (const char *dir)
{
  g_autofree char *first = make_subdir (dir, "first", 0755);
  g_autofree char *later = make_subdir (dir, "later", 0755);
  g_autofree char *broken = fixture_module (TP_TEST_FIXTURES_DIR, "entry-null");
  g_autofree char *broken_link = fixture_module (first, "good");
  g_autofree char *info = fixture_path (TP_TEST_FIXTURES_DIR, "good");
  g_autofree char *info_link = fixture_path (first, "good");

  link_file (broken, broken_link);
  link_file (info, info_link);
  link_fixture (later, "good");
}

static void
test_shadow_first_fails (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *first = NULL;
  g_autofree char *later = NULL;
  g_autofree char *plugin_path = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *first_info = NULL;
  g_autofree char *later_info = NULL;
  g_autoptr(GError) error = NULL;
  TpPool *pool;

  g_test_summary ("A module that fails shadows a module of the same file name in a later "
                  "folder all the same, as a broken command does on $PATH: only the first is "
                  "listed as a failure");

  if (!g_test_subprocess ())
    {
      run_in_scratch (fill_shadowed_good);
      return;
    }

  dir = fixture_dir_get ();
  first = g_build_filename (dir, "first", NULL);
  later = g_build_filename (dir, "later", NULL);
  first_info = fixture_path (first, "good");
  later_info = fixture_path (later, "good");
  plugin_path = g_strconcat (first, ";", later, NULL);

  pool = keyfile_pool_new ("fixed2-fifo2", plugin_path, &error);
  g_assert_null (pool);
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  reason = failure_reason (error->message, first_info);
  assert_contains (reason, "returned NULL");
  assert_not_contains (error->message, later_info);
}

/* A copy of each bundled plugin, as an installed libtaskpool has them */
static void
fill_installed_copy (const char *dir)
{
  g_auto(GStrv) bundled = g_strsplit (g_getenv ("TASKPOOL_PLUGIN_PATH"),
                                      G_SEARCHPATH_SEPARATOR_S, -1);

  for (guint i = 0; bundled[i] != NULL; i++)
    {
      g_autofree char *name = g_path_get_basename (bundled[i]);
      g_autofree char *module = fixture_module (bundled[i], name);
      g_autofree char *info = fixture_path (bundled[i], name);
      g_autofree char *module_name = g_strconcat (name, "." G_MODULE_SUFFIX, NULL);
      g_autofree char *info_name = g_strconcat (name, ".plugin", NULL);

      copy_file (module, dir, module_name);
      copy_file (info, dir, info_name);
    }
}

static void
test_shadow_installed (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *env = NULL;
  g_autofree char *kinds = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("With the bundled plugins of the build first in the path and a copy of "
                  "them installed later in it, every plugin is loaded once and none is "
                  "refused as providing a name already taken");

  if (!g_test_subprocess ())
    {
      run_in_scratch (fill_installed_copy);
      return;
    }

  dir = fixture_dir_get ();
  env = g_strjoin (G_SEARCHPATH_SEPARATOR_S, g_getenv ("TASKPOOL_PLUGIN_PATH"), dir, NULL);
  g_assert_true (g_setenv ("TASKPOOL_PLUGIN_PATH", env, TRUE));

  kinds = tp_registry_describe (NULL);
  g_assert_cmpstr (kinds, ==, "autoscale-fair, autoscale-lifo, autoscale-priority, "
                              "autoscale-simple, fixed-fair, fixed-lifo, fixed-priority, "
                              "fixed-simple");
  g_assert_null (tp_registry_lookup_queue (NULL, "nosuch", &error));
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  assert_not_contains (error->message, "failed to load");
  assert_not_contains (error->message, "already provided");
}

/* }}} */

/* Scanning folders {{{ */

static void
test_dir_mixed (void)
{
  static const char * const fixtures[] = {
    "not-a-module", "no-entry", "entry-null", "abi-future", "duplicate-name",
    "missing-function", "missing-create", "bad-name", "bad-flags", "small-descriptor",
    "small-queue", "small-scale", "small-gate", "gate-no-create", "gate-no-admit",
    "gate-no-started", "gate-bad-name", "gate-twice", "good", NULL
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
                  "the available ones and every plugin that failed with its reason");

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
  assert_not_contains (queues, ITEM ("smallq"));

  kinds = list_after (error->message, "available kinds: ");
  assert_contains (kinds, ITEM ("fixed-fifo2"));
  assert_contains (kinds, ITEM ("fixed2-fifo2"));
  assert_contains (kinds, ITEM ("fixed2-simple"));
  assert_not_contains (kinds, "nocreate");
  assert_not_contains (kinds, "fixed-3");
  assert_not_contains (kinds, "smalls");

  assert_contains (error->message, "plugins that failed to load");
  for (guint i = 0; i < G_N_ELEMENTS (broken_cases); i++)
    {
      g_autofree char *path = NULL;
      g_autofree char *reason = NULL;

      if (broken_cases[i].first != NULL)
        continue;
      path = fixture_path (dir, broken_cases[i].name);
      reason = failure_reason (error->message, path);
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
  g_test_add_func ("/registry/load/concurrent", test_load_concurrent);
  for (guint i = 0; i < G_N_ELEMENTS (metadata_cases); i++)
    g_test_add_data_func (metadata_cases[i].path, &metadata_cases[i], test_metadata);
  g_test_add_func ("/registry/metadata/too-large", test_metadata_too_large);
  g_test_add_func ("/registry/abi/accessors", test_abi_accessors);
  g_test_add_func ("/registry/abi/first", test_abi_first);
  g_test_add_func ("/registry/create/scale-init", test_create_scale_init);
  g_test_add_func ("/registry/create/pool", test_create_pool);
  g_test_add_func ("/registry/gate/lookup", test_gate_lookup);
  g_test_add_func ("/registry/safety/owner-and-mode", test_safety_owner_and_mode);
  g_test_add_data_func ("/registry/safety/folder/world-writable", "0777",
                        test_safety_unsafe_folder);
  g_test_add_data_func ("/registry/safety/folder/group-writable", "0775",
                        test_safety_unsafe_folder);
  g_test_add_data_func ("/registry/safety/folder/sticky", "01777", test_safety_unsafe_folder);
  g_test_add_func ("/registry/safety/files", test_safety_unsafe_files);
  g_test_add_func ("/registry/safety/foreign-owner", test_safety_foreign_owner);
  g_test_add_func ("/registry/safety/fifo", test_safety_fifo);
  g_test_add_func ("/registry/safety/undeclared", test_safety_undeclared);
  g_test_add_func ("/registry/safety/relative", test_safety_relative);
  g_test_add_func ("/registry/reentrant", test_reentrant);
  g_test_add_func ("/registry/shadow/first-wins", test_shadow_first_wins);
  g_test_add_func ("/registry/shadow/first-fails", test_shadow_first_fails);
  g_test_add_func ("/registry/shadow/installed", test_shadow_installed);
  g_test_add_func ("/registry/dir/mixed", test_dir_mixed);
  g_test_add_func ("/registry/env/plugin-path", test_env_plugin_path);
  g_test_add_func ("/registry/queue-flags", test_queue_flags);
  for (guint i = 0; i < G_N_ELEMENTS (kind_cases); i++)
    g_test_add_data_func (kind_cases[i].path, &kind_cases[i], test_kind_error);

  return g_test_run ();
}

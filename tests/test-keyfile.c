/* test-keyfile.c: pools configured from a GKeyFile: every bad input refused with a message
 * that says what is wrong, every key read back, several pools in one file, examples/pools.conf
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The tests that load a plugin from a keyfile's plugin-path run in a subprocess of their
 * own, since the plugin registry is process-wide and cannot be reset; the parent makes the
 * folder (so that it can remove it whatever becomes of the child) and names it in
 * TP_TEST_PLUGIN_DIR. Everything else loads only the bundled plugins.
 */

#include <string.h>

#include <glib/gstdio.h>
#include <unistd.h>

#include "tp-pool-private.h"
#include "tp-test-util.h"

#define FIXTURE_DIR_VAR "TP_TEST_PLUGIN_DIR"
#define US_PER_HOUR     (G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC)

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

/* Helpers {{{ */

static GKeyFile *
keyfile_new_full (const char    *data,
                  GKeyFileFlags  flags)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (g_key_file_load_from_data (keyfile, data, -1, flags, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&keyfile);
}

static GKeyFile *
keyfile_new (const char *data)
{
  return keyfile_new_full (data, G_KEY_FILE_NONE);
}

/* A pool from @group of the keyfile @data, which must be valid; the keyfile is
 * freed at once, since the pool keeps what it needs */
static TpPool *
pool_from_data (const char *data,
                const char *group)
{
  g_autoptr(GKeyFile) keyfile = keyfile_new (data);
  g_autoptr(GError) error = NULL;
  TpPool *pool;

  pool = tp_pool_new_from_keyfile (keyfile, group, &error);
  g_assert_no_error (error);
  g_assert_nonnull (pool);
  return pool;
}

static void
start_pool (TpPool *pool)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (tp_pool_start (pool, &error));
  g_assert_no_error (error);
}

/* Runs what is due now without blocking; the bound catches a source that re-arms forever */
static void
drain_pending (void)
{
  guint i;

  for (i = 0; i < 10000 && g_main_context_iteration (NULL, FALSE); i++)
    ;
  g_assert_cmpuint (i, <, 10000);
}

/* Runs an async job and a thread job on the started @pool, end to end */
static void
run_two_jobs (TpPool *pool)
{
  TpTestLog log;

  tp_test_log_init (&log);
  tp_test_submit (pool, &log, "async", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 0, NULL);
  tp_test_submit (pool, &log, "thread", TP_TEST_JOB_RETURN, TP_SUBMIT_IN_THREAD, 0, NULL);
  tp_test_wait_count (&log.callbacks, 2);
  g_assert_cmpuint (log.done, ==, 2);
  g_assert_true (g_ptr_array_find_with_equal_func (log.results, "ok:async", g_str_equal, NULL));
  g_assert_true (g_ptr_array_find_with_equal_func (log.results, "ok:thread", g_str_equal, NULL));
  tp_test_wait_count (&log.destroyed, 2);
  tp_test_log_clear (&log);
}

/* Submits @n_jobs held async jobs and waits until the first @n_started run */
static TpTestJob **
submit_holds (TpPool    *pool,
              TpTestLog *log,
              guint      n_jobs,
              guint      n_started)
{
  TpTestJob **jobs = g_new0 (TpTestJob *, n_jobs);

  for (guint i = 0; i < n_jobs; i++)
    {
      g_autofree char *name = g_strdup_printf ("hold%u", i);

      jobs[i] = tp_test_submit (pool, log, name, TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 0, NULL);
    }
  tp_test_wait_count (&log->started, n_started);
  return jobs;
}

static void
release_all (TpTestLog  *log,
             TpTestJob **jobs,
             guint       n_jobs)
{
  for (guint i = 0; i < n_jobs; i++)
    tp_test_release (jobs[i]);
  tp_test_wait_count (&log->callbacks, n_jobs);
  g_assert_cmpuint (log->done, ==, n_jobs);
}

/* Makes an autoscale pool with min-size 1 and max-size 3 from @extra_keys, grows it to
 * 3 workers with a burst, lets every worker go idle and returns the pool, started */
static TpPool *
autoscale_after_burst (const char *extra_keys,
                       TpTestLog  *log)
{
  g_autofree char *data = g_strconcat ("[burst]\n"
                                       "kind=autoscale-simple\n"
                                       "min-size=1\n"
                                       "max-size=3\n",
                                       extra_keys, NULL);
  TpPool *pool = pool_from_data (data, "burst");
  g_autofree TpTestJob **jobs = NULL;

  start_pool (pool);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 1);
  jobs = submit_holds (pool, log, 3, 3);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 3);
  release_all (log, jobs, 3);
  return pool;
}

/* The files of the fixture plugin “good”: its module and the metadata that declares it */
static const char * const good_files[] = { "good." G_MODULE_SUFFIX, "good.plugin", NULL };

/* A temporary folder with links to the built fixture plugin “good” (queue strategy
 * “fifo2”, scaling strategy “fixed2”). Links, not copies: the temporary folder may be
 * on a noexec file system. */
static char *
fixture_dir_new (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("test-keyfile-XXXXXX", &error);

  g_assert_no_error (error);
  for (guint i = 0; good_files[i] != NULL; i++)
    {
      g_autofree char *target = g_build_filename (TP_TEST_FIXTURES_DIR, good_files[i], NULL);
      g_autofree char *link = g_build_filename (dir, good_files[i], NULL);

      g_assert_true (g_file_test (target, G_FILE_TEST_IS_REGULAR));
      g_assert_cmpint (symlink (target, link), ==, 0);
    }
  return dir;
}

static void
fixture_dir_remove (const char *dir)
{
  for (guint i = 0; good_files[i] != NULL; i++)
    {
      g_autofree char *link = g_build_filename (dir, good_files[i], NULL);

      g_assert_cmpint (g_unlink (link), ==, 0);
    }
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* Runs the current test again in a subprocess, with a folder holding the good plugin */
static void
run_with_fixture_dir (void)
{
  g_autofree char *dir = fixture_dir_new ();

  g_setenv (FIXTURE_DIR_VAR, dir, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv (FIXTURE_DIR_VAR);
  fixture_dir_remove (dir);
  g_test_trap_assert_passed ();
}

/* }}} */

/* Bad input {{{ */

typedef struct {
  const char   *name;        /* the last part of the test path */
  const char   *summary;
  const char   *data;        /* the keyfile */
  const char   *group;
  GQuark      (*domain) (void);
  int           code;
  const char   *words[7];    /* what the message must contain */
  GKeyFileFlags flags;       /* how the keyfile is loaded */
} BadCase;

#define CONFIG tp_pool_error_quark, TP_POOL_ERROR_CONFIG
#define PLUGIN tp_pool_error_quark, TP_POOL_ERROR_PLUGIN

/* The keys a fixed-simple pool accepts, as listed in an unknown key's message */
#define FIXED_SIMPLE_KEYS \
  "valid keys are executor, gates, held, kind, max-size, min-size, plugin-path, " \
  "queue-capacity, queue-timeout-ms, run-timeout-ms, size, and keys that begin with “X-”"
#define AUTOSCALE_LIFO_KEYS \
  "valid keys are executor, gates, held, idle-timeout-ms, kind, max-size, min-size, " \
  "plugin-path, queue-capacity, queue-timeout-ms, run-timeout-ms, scale-interval-ms, size, " \
  "and keys that begin with “X-”"
#define FIXED_PRIORITY_KEYS \
  "valid keys are default-weight, executor, gates, held, kind, max-size, min-size, " \
  "plugin-path, queue-capacity, queue-timeout-ms, run-timeout-ms, size, and keys that begin " \
  "with “X-”"
#define SIZE_RANGE "expected a whole number from 0 to 4096"
#define MAX_SIZE_RANGE "expected a whole number from 1 to 4096"
#define CAPACITY_RANGE "expected a whole number from 0 to 2147483647"
#define WEIGHT_RANGE "expected a whole number from -2147483648 to 2147483647"
#define MS_RANGE "expected a whole number from 0 to 86400000"
#define INTERVAL_RANGE "expected a whole number from 1 to 86400000"
#define KINDS "fixed-simple", "autoscale-priority", "available kinds: "

static const BadCase bad_cases[] = {
  /* Keys */
  { "unknown-key", "A key no strategy of the kind declares",
    "[downloads]\nsize=2\ncolour=blue\n", "downloads", CONFIG,
    { "Unknown key “colour”", "“downloads”", "“fixed-simple”", FIXED_SIMPLE_KEYS } },
  { "unknown-key-case", "Keys are case-sensitive",
    "[downloads]\nSize=2\n", "downloads", CONFIG,
    { "Unknown key “Size”", "“downloads”", FIXED_SIMPLE_KEYS } },
  { "unknown-key-localized", "A translation of a key that takes none, kept by the keyfile",
    "[downloads]\nsize[de]=2\n", "downloads", CONFIG,
    { "Unknown key “size[de]”", "“downloads”", FIXED_SIMPLE_KEYS },
    G_KEY_FILE_KEEP_TRANSLATIONS },
  { "default-weight-on-fixed-simple", "default-weight is a key of the priority queue only",
    "[downloads]\nkind=fixed-simple\ndefault-weight=1\n", "downloads", CONFIG,
    { "Unknown key “default-weight”", "“downloads”", "“fixed-simple”", FIXED_SIMPLE_KEYS } },
  { "default-weight-on-autoscale-lifo", "default-weight is a key of the priority queue only",
    "[downloads]\nkind=autoscale-lifo\ndefault-weight=1\n", "downloads", CONFIG,
    { "Unknown key “default-weight”", "“downloads”", "“autoscale-lifo”", AUTOSCALE_LIFO_KEYS } },
  { "scale-interval-ms-on-fixed-simple", "scale-interval-ms is a key of autoscale only",
    "[downloads]\nscale-interval-ms=100\n", "downloads", CONFIG,
    { "Unknown key “scale-interval-ms”", "“downloads”", "“fixed-simple”", FIXED_SIMPLE_KEYS } },
  { "idle-timeout-ms-on-fixed-priority", "idle-timeout-ms is a key of autoscale only",
    "[downloads]\nkind=fixed-priority\nidle-timeout-ms=100\n", "downloads", CONFIG,
    { "Unknown key “idle-timeout-ms”", "“downloads”", "“fixed-priority”",
      FIXED_PRIORITY_KEYS } },

  /* Wrong type */
  { "size-word", "A size that is not a number",
    "[downloads]\nsize=three\n", "downloads", CONFIG,
    { "“three”", "“size”", "“downloads”", SIZE_RANGE } },
  { "queue-capacity-fraction", "A capacity that is not a whole number",
    "[downloads]\nqueue-capacity=1.5\n", "downloads", CONFIG,
    { "“1.5”", "“queue-capacity”", "“downloads”", CAPACITY_RANGE } },
  { "size-empty", "An empty size",
    "[downloads]\nsize=\n", "downloads", CONFIG,
    { "value “”", "“size”", "“downloads”", SIZE_RANGE } },
  { "size-hex", "Numbers are decimal",
    "[downloads]\nsize=0x10\n", "downloads", CONFIG,
    { "“0x10”", "“size”", "“downloads”", SIZE_RANGE } },
  { "size-two-numbers", "One number per key",
    "[downloads]\nsize=3 4\n", "downloads", CONFIG,
    { "“3 4”", "“size”", "“downloads”", SIZE_RANGE } },
  { "min-size-list", "A list where a number is expected",
    "[downloads]\nmin-size=1;2\n", "downloads", CONFIG,
    { "“1;2”", "“min-size”", "“downloads”", SIZE_RANGE } },
  { "executor-list", "A list where one executor is expected",
    "[downloads]\nexecutor=threads;gtask\n", "downloads", CONFIG,
    { "executor", "“threads;gtask”", "“downloads”", "expected “threads” or “gtask”" } },
  { "executor-not-utf8", "A string value that is not UTF-8",
    "[downloads]\nexecutor=thr\xff" "eads\n", "downloads", CONFIG,
    { "“executor”", "“downloads”", "“thr\xef\xbf\xbd" "eads”", "not UTF-8" } },
  { "plugin-path-relative", "A relative plugin-path, which must not resolve against the "
    "working directory",
    "[downloads]\nplugin-path=plugins\n", "downloads", CONFIG,
    { "“plugin-path”", "“downloads”", "“plugins”", "relative", "expected absolute folders" } },
  { "plugin-path-relative-dot", "A plugin-path that starts with ./, among absolute ones",
    "[downloads]\nplugin-path=/opt/plugins;./plugins\n", "downloads", CONFIG,
    { "“plugin-path”", "“downloads”", "“./plugins”", "relative", "expected absolute folders" } },
  { "plugin-path-home", "A plugin-path that starts with ~, which is not expanded",
    "[downloads]\nplugin-path=~/plugins\n", "downloads", CONFIG,
    { "“plugin-path”", "“downloads”", "“~/plugins”", "relative", "expected absolute folders" } },
  { "plugin-path-not-a-folder", "A plugin-path that names a file",
    "[downloads]\nplugin-path=/dev/null\n", "downloads", PLUGIN,
    { "“plugin-path”", "“downloads”", "/dev/null", "is a character device" } },
  { "plugin-path-not-utf8", "A plugin-path that GKeyFile cannot read as a string",
    "[downloads]\nplugin-path=/opt/plugins\xff\n", "downloads", CONFIG,
    { "“plugin-path”", "“downloads”", "/opt/plugins", "not UTF-8" } },

  /* Negative, signed, trailing garbage */
  { "size-negative", "GKeyFile would read -1 as a huge unsigned number",
    "[downloads]\nsize=-1\n", "downloads", CONFIG,
    { "“-1”", "“size”", "“downloads”", SIZE_RANGE } },
  { "queue-capacity-negative", "GKeyFile would read -1 as a huge unsigned number",
    "[downloads]\nqueue-capacity=-1\n", "downloads", CONFIG,
    { "“-1”", "“queue-capacity”", "“downloads”", CAPACITY_RANGE } },
  { "idle-timeout-ms-negative", "A negative delay",
    "[downloads]\nkind=autoscale-simple\nidle-timeout-ms=-1\n", "downloads", CONFIG,
    { "“-1”", "“idle-timeout-ms”", "“downloads”", MS_RANGE } },
  { "size-plus", "No sign on unsigned values",
    "[downloads]\nsize=+3\n", "downloads", CONFIG,
    { "“+3”", "“size”", "“downloads”", SIZE_RANGE } },
  { "default-weight-plus", "No '+' on signed values either",
    "[downloads]\nkind=fixed-priority\ndefault-weight=+3\n", "downloads", CONFIG,
    { "“+3”", "“default-weight”", "“downloads”", WEIGHT_RANGE } },
  { "size-trailing-garbage", "Nothing after the number",
    "[downloads]\nsize=3x\n", "downloads", CONFIG,
    { "“3x”", "“size”", "“downloads”", SIZE_RANGE } },

  /* Out of range */
  { "max-size-overflow", "GKeyFile would clamp a 64-bit overflow",
    "[downloads]\nmax-size=99999999999999999999\n", "downloads", CONFIG,
    { "“99999999999999999999”", "“max-size”", "“downloads”", MAX_SIZE_RANGE } },
  { "queue-capacity-2-pow-32", "A capacity that overflows 32 bits",
    "[downloads]\nqueue-capacity=4294967296\n", "downloads", CONFIG,
    { "“4294967296”", "“queue-capacity”", "“downloads”", CAPACITY_RANGE } },
  { "queue-capacity-above-int", "A capacity above G_MAXINT",
    "[downloads]\nqueue-capacity=2147483648\n", "downloads", CONFIG,
    { "“2147483648”", "“queue-capacity”", "“downloads”", CAPACITY_RANGE } },
  { "default-weight-overflow", "A weight above G_MAXINT",
    "[downloads]\nkind=fixed-priority\ndefault-weight=2147483648\n", "downloads", CONFIG,
    { "“2147483648”", "“default-weight”", "“downloads”", WEIGHT_RANGE } },
  { "default-weight-underflow", "A weight below G_MININT",
    "[downloads]\nkind=autoscale-priority\ndefault-weight=-2147483649\n", "downloads", CONFIG,
    { "“-2147483649”", "“default-weight”", "“downloads”", WEIGHT_RANGE } },
  { "idle-timeout-ms-overflow", "A delay above one day",
    "[downloads]\nkind=autoscale-simple\nidle-timeout-ms=86400001\n", "downloads", CONFIG,
    { "“86400001”", "“idle-timeout-ms”", "“downloads”", MS_RANGE } },
  { "scale-interval-ms-overflow", "A tick above one day",
    "[downloads]\nkind=autoscale-simple\nscale-interval-ms=86400001\n", "downloads", CONFIG,
    { "“86400001”", "“scale-interval-ms”", "“downloads”", INTERVAL_RANGE } },
  { "max-size-zero", "A pool needs room for one worker",
    "[downloads]\nmax-size=0\n", "downloads", CONFIG,
    { "“0”", "“max-size”", "“downloads”", MAX_SIZE_RANGE } },
  { "scale-interval-ms-zero", "A tick of 0 ms would spin",
    "[downloads]\nkind=autoscale-lifo\nscale-interval-ms=0\n", "downloads", CONFIG,
    { "“0”", "“scale-interval-ms”", "“downloads”", INTERVAL_RANGE } },
  { "max-size-above-cap", "max-size is at most TP_POOL_MAX_SIZE",
    "[downloads]\nmax-size=4097\n", "downloads", CONFIG,
    { "“4097”", "“max-size”", "“downloads”", MAX_SIZE_RANGE } },
  { "size-above-cap", "size is at most TP_POOL_MAX_SIZE",
    "[downloads]\nsize=4097\n", "downloads", CONFIG,
    { "“4097”", "“size”", "“downloads”", SIZE_RANGE } },

  /* Sizes that do not fit together */
  { "min-size-above-max-size", "min-size <= max-size",
    "[downloads]\nmin-size=5\nmax-size=2\n", "downloads", CONFIG,
    { "“downloads”", "min-size 5", "max-size 2", "greater than" } },
  { "min-size-above-max-size-autoscale", "min-size <= max-size, autoscale",
    "[downloads]\nkind=autoscale-simple\nmin-size=6\nmax-size=4\n", "downloads", CONFIG,
    { "“downloads”", "min-size 6", "max-size 4", "greater than" } },
  { "size-below-min-size", "size >= min-size",
    "[downloads]\nsize=1\nmin-size=2\n", "downloads", CONFIG,
    { "“downloads”", "size 1", "from min-size 2 to max-size 4096" } },
  { "size-above-max-size", "size <= max-size",
    "[downloads]\nsize=9\nmax-size=4\n", "downloads", CONFIG,
    { "“downloads”", "size 9", "from min-size 0 to max-size 4" } },
  { "size-above-max-size-autoscale", "size <= max-size, autoscale",
    "[downloads]\nkind=autoscale-priority\nsize=9\nmax-size=6\n", "downloads", CONFIG,
    { "“downloads”", "size 9", "from min-size 3 to max-size 6" } },

  /* Executor */
  { "executor-unknown", "The executors are threads and gtask",
    "[downloads]\nexecutor=fibers\n", "downloads", CONFIG,
    { "Unknown executor “fibers”", "“downloads”", "expected “threads” or “gtask”" } },
  { "executor-case", "Executor names are case-sensitive",
    "[downloads]\nexecutor=Threads\n", "downloads", CONFIG,
    { "Unknown executor “Threads”", "“downloads”", "expected “threads” or “gtask”" } },

  /* Kinds: a malformed one is a CONFIG error, one no plugin provides a PLUGIN error */
  { "kind-no-dash", "A kind is <scaler>-<queue>",
    "[downloads]\nkind=fixedsimple\n", "downloads", CONFIG,
    { "“fixedsimple”", "“kind”", "“downloads”", "<scaler>-<queue>", KINDS } },
  { "kind-empty", "An empty kind is not the default kind",
    "[downloads]\nkind=\n", "downloads", CONFIG,
    { "value “”", "“kind”", "“downloads”", "<scaler>-<queue>", KINDS } },
  { "kind-no-scaler", "A kind needs a scaler",
    "[downloads]\nkind=-simple\n", "downloads", CONFIG,
    { "“-simple”", "“kind”", "“downloads”", "<scaler>-<queue>", KINDS } },
  { "kind-no-queue", "A kind needs a queue",
    "[downloads]\nkind=fixed-\n", "downloads", CONFIG,
    { "“fixed-”", "“kind”", "“downloads”", "<scaler>-<queue>", KINDS } },
  { "kind-unknown-scaler", "No plugin provides the scaler",
    "[downloads]\nkind=elastic-simple\n", "downloads", PLUGIN,
    { "“elastic-simple”", "“kind”", "“downloads”", "No scaling strategy “elastic”", KINDS } },
  { "kind-unknown-queue", "No plugin provides the queue",
    "[downloads]\nkind=fixed-random\n", "downloads", PLUGIN,
    { "“fixed-random”", "“kind”", "“downloads”", "No queue strategy “random”", KINDS } },
  { "kind-list", "One kind per pool",
    "[downloads]\nkind=fixed-simple;fixed-lifo\n", "downloads", PLUGIN,
    { "“fixed-simple;fixed-lifo”", "“kind”", "“downloads”", "“simple;fixed-lifo”", KINDS } },
  { "kind-case", "Kinds are case-sensitive",
    "[downloads]\nkind=Fixed-Simple\n", "downloads", PLUGIN,
    { "“Fixed-Simple”", "“kind”", "“downloads”", "No scaling strategy “Fixed”", KINDS } },

  /* Groups */
  { "missing-group", "The group must exist",
    "[uploads]\nsize=2\n", "downloads", CONFIG,
    { "no group “downloads”" } },
  { "group-case", "Group names are case-sensitive",
    "[Downloads]\nsize=2\n", "downloads", CONFIG,
    { "no group “downloads”" } },
};

static void
test_bad (gconstpointer data)
{
  const BadCase *test = data;
  g_autoptr(GKeyFile) keyfile = keyfile_new_full (test->data, test->flags);
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = NULL;
  g_autofree char *summary = g_strdup_printf ("%s: refused with a message naming the group, "
                                              "the key, the value and what is allowed",
                                              test->summary);

  g_test_summary (summary);

  pool = tp_pool_new_from_keyfile (keyfile, test->group, &error);
  g_assert_null (pool);
  g_assert_error (error, test->domain (), test->code);
  g_test_message ("%s", error->message);
  for (guint i = 0; i < G_N_ELEMENTS (test->words) && test->words[i] != NULL; i++)
    assert_contains (error->message, test->words[i]);
  assert_not_contains (error->message, "(null)");
}

static void
test_bad_group_alone (void)
{
  g_autoptr(GKeyFile) keyfile = keyfile_new ("[broken]\n"
                                             "size=-1\n"
                                             "\n"
                                             "[fine]\n"
                                             "size=1\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) broken = NULL;
  g_autoptr(TpPool) fine = NULL;

  g_test_summary ("A bad group of a keyfile makes only its own pool fail");

  broken = tp_pool_new_from_keyfile (keyfile, "broken", &error);
  g_assert_null (broken);
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
  assert_contains (error->message, "“broken”");
  g_clear_error (&error);

  fine = tp_pool_new_from_keyfile (keyfile, "fine", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tp_pool_get_target_size (fine), ==, 1);
}

/* }}} */

/* Good keys {{{ */

static const char * const all_kinds[] = {
  "fixed-simple", "fixed-lifo", "fixed-priority",
  "autoscale-simple", "autoscale-lifo", "autoscale-priority",
};

static void
test_good_kind (void)
{
  g_test_summary ("kind: every bundled kind is read back by the getter and the property");

  for (guint i = 0; i < G_N_ELEMENTS (all_kinds); i++)
    {
      g_autofree char *data = g_strdup_printf ("[pool]\nkind=%s\n", all_kinds[i]);
      g_autoptr(TpPool) pool = pool_from_data (data, "pool");
      g_autofree char *kind = NULL;

      g_assert_cmpstr (tp_pool_get_kind (pool), ==, all_kinds[i]);
      g_object_get (pool, "kind", &kind, NULL);
      g_assert_cmpstr (kind, ==, all_kinds[i]);
    }
}

static void
test_good_size (void)
{
  g_autoptr(TpPool) pool = pool_from_data ("[pool]\nsize=5\n", "pool");
  guint size;

  g_test_summary ("size: a fixed pool targets that size, reads it before start, and has that "
                  "many workers once started");

  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, 5);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 5);  /* what it will start with */
  start_pool (pool);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 5);
  g_object_get (pool, "size", &size, NULL);
  g_assert_cmpuint (size, ==, 5);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
}

static void
test_good_size_autoscale (void)
{
  g_autoptr(TpPool) pool = pool_from_data ("[pool]\n"
                                           "kind=autoscale-simple\n"
                                           "size=5\n"
                                           "min-size=2\n"
                                           "max-size=6\n",
                                           "pool");

  g_test_summary ("size: an autoscale pool starts with that many workers, within its bounds");

  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, 5);
  start_pool (pool);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 5);
  g_assert_cmpuint (tp_pool_get_min_size (pool), ==, 2);
  g_assert_cmpuint (tp_pool_get_max_size (pool), ==, 6);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
}

static void
test_good_min_size (void)
{
  g_autoptr(TpPool) fixed = pool_from_data ("[pool]\nmin-size=2\n", "pool");
  g_autoptr(TpPool) autoscale = pool_from_data ("[pool]\n"
                                                "kind=autoscale-lifo\n"
                                                "min-size=4\n",
                                                "pool");
  guint min_size;

  g_test_summary ("min-size: read back; an autoscale pool starts at it and derives max-size "
                  "from it");

  g_assert_cmpuint (tp_pool_get_min_size (fixed), ==, 2);
  g_object_get (fixed, "min-size", &min_size, NULL);
  g_assert_cmpuint (min_size, ==, 2);
  g_assert_cmpuint (tp_pool_get_target_size (fixed), ==, 3);

  g_assert_cmpuint (tp_pool_get_min_size (autoscale), ==, 4);
  g_assert_cmpuint (tp_pool_get_max_size (autoscale), ==, 9);
  start_pool (autoscale);
  g_assert_cmpuint (tp_pool_get_size (autoscale), ==, 4);
  tp_test_pool_close (autoscale, TP_CLOSE_DRAIN);
}

static void
test_good_max_size (void)
{
  g_autoptr(TpPool) pool = pool_from_data ("[pool]\nmax-size=4\n", "pool");
  guint max_size;

  g_test_summary ("max-size: read back, and scaling a fixed pool stops at it");

  g_assert_cmpuint (tp_pool_get_max_size (pool), ==, 4);
  g_object_get (pool, "max-size", &max_size, NULL);
  g_assert_cmpuint (max_size, ==, 4);

  start_pool (pool);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 3);
  g_assert_cmpint (tp_pool_scale (pool, 10), ==, 4);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 4);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
}

static void
test_good_max_size_small (void)
{
  g_autoptr(TpPool) fixed = pool_from_data ("[pool]\nmax-size=2\n", "pool");
  g_autoptr(TpPool) autoscale = pool_from_data ("[pool]\n"
                                                "kind=autoscale-simple\n"
                                                "max-size=2\n",
                                                "pool");

  g_test_summary ("max-size below the default size: the defaults of size and min-size give way");

  g_assert_cmpuint (tp_pool_get_target_size (fixed), ==, 2);
  g_assert_cmpuint (tp_pool_get_min_size (fixed), ==, 0);
  g_assert_cmpuint (tp_pool_get_target_size (autoscale), ==, 2);
  g_assert_cmpuint (tp_pool_get_min_size (autoscale), ==, 2);
  g_assert_cmpuint (tp_pool_get_max_size (autoscale), ==, 2);
}

static void
test_good_queue_capacity (void)
{
  g_autoptr(TpPool) pool = pool_from_data ("[pool]\n"
                                           "size=1\n"
                                           "queue-capacity=2\n",
                                           "pool");
  g_autofree TpTestJob **held = NULL;
  guint capacity;
  TpTestLog log;

  g_test_summary ("queue-capacity: read back, and a full queue refuses a no-wait submission");
  tp_test_log_init (&log);

  g_assert_cmpuint (tp_pool_get_queue_capacity (pool), ==, 2);
  g_object_get (pool, "queue-capacity", &capacity, NULL);
  g_assert_cmpuint (capacity, ==, 2);

  start_pool (pool);
  held = submit_holds (pool, &log, 1, 1);
  tp_test_submit (pool, &log, "a", TP_TEST_JOB_RETURN, TP_SUBMIT_NO_WAIT, 0, NULL);
  tp_test_submit (pool, &log, "b", TP_TEST_JOB_RETURN, TP_SUBMIT_NO_WAIT, 0, NULL);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 2);
  tp_test_submit (pool, &log, "c", TP_TEST_JOB_RETURN, TP_SUBMIT_NO_WAIT, 0, NULL);
  tp_test_wait_count (&log.full, 1);

  tp_test_release (held[0]);
  tp_test_wait_count (&log.callbacks, 4);
  g_assert_cmpuint (log.done, ==, 3);
  g_assert_cmpuint (log.full, ==, 1);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_wait_count (&log.destroyed, 4);
  tp_test_log_clear (&log);
}

static void
test_good_executor (void)
{
  static const char * const executors[] = { "threads", "gtask" };

  g_test_summary ("executor: threads and gtask are read back and run thread jobs");

  for (guint i = 0; i < G_N_ELEMENTS (executors); i++)
    {
      g_autofree char *data = g_strdup_printf ("[pool]\nexecutor=%s\n", executors[i]);
      g_autoptr(TpPool) pool = pool_from_data (data, "pool");
      g_autofree char *executor = NULL;

      g_assert_cmpstr (tp_pool_get_executor (pool), ==, executors[i]);
      g_object_get (pool, "executor", &executor, NULL);
      g_assert_cmpstr (executor, ==, executors[i]);
      start_pool (pool);
      run_two_jobs (pool);
      tp_test_pool_close (pool, TP_CLOSE_DRAIN);
    }
}

static void
test_good_default_weight (void)
{
  g_autoptr(TpPool) pool = pool_from_data ("[pool]\n"
                                           "kind=fixed-priority\n"
                                           "size=1\n"
                                           "default-weight=10\n",
                                           "pool");
  g_autoptr(TpPool) autoscale = pool_from_data ("[pool]\n"
                                                "kind=autoscale-priority\n"
                                                "default-weight=-2\n",
                                                "pool");
  g_autofree TpTestJob **held = NULL;
  g_autofree char *order = NULL;
  TpTestJob *plain;
  int weight;
  TpTestLog log;

  g_test_summary ("default-weight: read back, and a plain submission runs with that weight");
  tp_test_log_init (&log);

  g_assert_cmpint (tp_pool_get_default_weight (autoscale), ==, -2);
  g_assert_cmpint (tp_pool_get_default_weight (pool), ==, 10);
  g_object_get (pool, "default-weight", &weight, NULL);
  g_assert_cmpint (weight, ==, 10);

  start_pool (pool);
  held = submit_holds (pool, &log, 1, 1);
  tp_test_submit (pool, &log, "w20", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 20, NULL);
  plain = tp_test_job_new (&log, "plain", TP_TEST_JOB_RETURN);
  tp_pool_submit_async (pool, tp_test_job_func, plain, tp_test_job_free, NULL,
                        tp_test_job_done_cb, &log);
  tp_test_submit (pool, &log, "w5", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 5, NULL);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 3);

  tp_test_release (held[0]);
  tp_test_wait_count (&log.callbacks, 4);
  order = tp_test_log_order (&log);
  g_assert_cmpstr (order, ==, "hold0 w5 plain w20");
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_wait_count (&log.destroyed, 4);
  tp_test_log_clear (&log);
}

static void
test_good_idle_timeout_ms (void)
{
  g_autoptr(TpPool) pool = NULL;
  TpTestLog log;

  g_test_summary ("idle-timeout-ms: with 1 ms, a grown autoscale pool shrinks back to min-size "
                  "on its own timer");
  tp_test_log_init (&log);

  pool = autoscale_after_burst ("idle-timeout-ms=1\nscale-interval-ms=1\n", &log);

  /* Terminates only if the pool wakes itself up to retire its idle workers */
  while (tp_pool_get_size (pool) > tp_pool_get_min_size (pool))
    g_main_context_iteration (NULL, TRUE);
  drain_pending ();
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 1);
  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, 1);
  g_assert_cmpint (tp_pool_get_ready_time (pool), ==, -1);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_wait_count (&log.destroyed, 3);
  tp_test_log_clear (&log);
}

static void
test_good_scale_interval_ms (void)
{
  g_autoptr(TpPool) pool = NULL;
  gint64 ready_time;
  TpTestLog log;

  g_test_summary ("scale-interval-ms: the least delay between two checks of the idle workers: "
                  "with one day, the next check of a pool idle for less than "
                  "idle-timeout-ms is a day away");
  tp_test_log_init (&log);

  pool = autoscale_after_burst ("idle-timeout-ms=60000\nscale-interval-ms=86400000\n", &log);
  drain_pending ();

  ready_time = tp_pool_get_ready_time (pool);
  g_assert_cmpint (ready_time, >, g_get_monotonic_time () + US_PER_HOUR);
  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, 3);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_wait_count (&log.destroyed, 3);
  tp_test_log_clear (&log);
}

static void
test_good_scale_interval_ms_absent (void)
{
  g_autoptr(TpPool) pool = NULL;
  gint64 ready_time;
  TpTestLog log;

  g_test_summary ("scale-interval-ms: the control of /keyfile/good/scale-interval-ms: without "
                  "the key, the next check comes after idle-timeout-ms");
  tp_test_log_init (&log);

  pool = autoscale_after_burst ("idle-timeout-ms=60000\n", &log);
  drain_pending ();

  ready_time = tp_pool_get_ready_time (pool);
  g_assert_cmpint (ready_time, >, 0);
  g_assert_cmpint (ready_time, <=, g_get_monotonic_time () + 60000 * 1000);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_wait_count (&log.destroyed, 3);
  tp_test_log_clear (&log);
}

static void
test_good_stripped (void)
{
  g_autoptr(TpPool) pool = pool_from_data ("[pool]\n"
                                           "kind = \\s autoscale-priority \\t\n"
                                           "min-size =  2   \n"
                                           "max-size=\t4\t\n"
                                           "default-weight = -3  \n"
                                           "executor =  gtask  \n",
                                           "pool");

  g_test_summary ("Values are stripped of the spaces around them, even escaped ones in strings");

  g_assert_cmpstr (tp_pool_get_kind (pool), ==, "autoscale-priority");
  g_assert_cmpuint (tp_pool_get_min_size (pool), ==, 2);
  g_assert_cmpuint (tp_pool_get_max_size (pool), ==, 4);
  g_assert_cmpint (tp_pool_get_default_weight (pool), ==, -3);
  g_assert_cmpstr (tp_pool_get_executor (pool), ==, "gtask");
}

static void
test_good_empty_group (void)
{
  g_autoptr(TpPool) pool = pool_from_data ("[pool]\n", "pool");

  g_test_summary ("An empty group makes a default pool");

  g_assert_cmpstr (tp_pool_get_kind (pool), ==, "fixed-simple");
  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, 3);
}

/* Plugin path {{{ */

static void
test_good_plugin_path (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *data = NULL;
  g_autoptr(GKeyFile) keyfile = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = NULL;

  g_test_summary ("plugin-path: a ';'-separated list of folders whose plugins provide kinds; "
                  "a folder that does not exist and an empty item are skipped");

  if (!g_test_subprocess ())
    {
      run_with_fixture_dir ();
      return;
    }

  dir = g_strdup (g_getenv (FIXTURE_DIR_VAR));
  g_assert_nonnull (dir);

  /* Not without the folder */
  keyfile = keyfile_new ("[custom]\nkind=fixed2-fifo2\n");
  pool = tp_pool_new_from_keyfile (keyfile, "custom", &error);
  g_assert_null (pool);
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN);
  g_clear_error (&error);

  data = g_strdup_printf ("[custom]\n"
                          "kind=fixed2-fifo2\n"
                          "size=2\n"
                          "plugin-path=/nonexistent/taskpool-plugins;;%s;\n",
                          dir);
  pool = pool_from_data (data, "custom");
  g_assert_cmpstr (tp_pool_get_kind (pool), ==, "fixed2-fifo2");
  start_pool (pool);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 2);
  run_two_jobs (pool);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
}

static void
test_good_plugin_path_stripped (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *data = NULL;
  g_autoptr(TpPool) pool = NULL;

  g_test_summary ("plugin-path: like every value, stripped of the spaces around it");

  if (!g_test_subprocess ())
    {
      run_with_fixture_dir ();
      return;
    }

  dir = g_strdup (g_getenv (FIXTURE_DIR_VAR));
  g_assert_nonnull (dir);
  data = g_strdup_printf ("[custom]\n"
                          "kind=fixed2-fifo2\n"
                          "plugin-path = %s  \n",
                          dir);
  pool = pool_from_data (data, "custom");
  g_assert_cmpstr (tp_pool_get_kind (pool), ==, "fixed2-fifo2");
}

/* }}} */

/* }}} */

/* Defaults {{{ */

static void
test_defaults_fixed (void)
{
  g_autoptr(TpPool) pool = pool_from_data ("[pool]\nkind=fixed-lifo\n", "pool");

  g_test_summary ("A fixed pool without keys: size 3, min-size 0, max-size 4096, capacity 0, "
                  "executor threads, default-weight 4");

  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, 3);
  g_assert_cmpuint (tp_pool_get_min_size (pool), ==, 0);
  g_assert_cmpuint (tp_pool_get_max_size (pool), ==, TP_POOL_MAX_SIZE);
  g_assert_cmpuint (tp_pool_get_max_size (pool), ==, 4096);
  g_assert_cmpuint (tp_pool_get_queue_capacity (pool), ==, 0);
  g_assert_cmpstr (tp_pool_get_executor (pool), ==, "threads");
  g_assert_cmpint (tp_pool_get_default_weight (pool), ==, 4);
  start_pool (pool);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 3);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
}

static void
test_defaults_autoscale (void)
{
  g_autoptr(TpPool) pool = pool_from_data ("[pool]\nkind=autoscale-simple\n", "pool");

  g_test_summary ("An autoscale pool without keys: min-size 3, max-size 8, size 3, "
                  "capacity 0, executor threads");

  g_assert_cmpuint (tp_pool_get_min_size (pool), ==, 3);
  g_assert_cmpuint (tp_pool_get_max_size (pool), ==, 8);
  g_assert_cmpuint (tp_pool_get_target_size (pool), ==, 3);
  g_assert_cmpuint (tp_pool_get_queue_capacity (pool), ==, 0);
  g_assert_cmpstr (tp_pool_get_executor (pool), ==, "threads");
  start_pool (pool);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 3);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
}

static void
test_defaults_priority (void)
{
  g_autoptr(TpPool) fixed = pool_from_data ("[pool]\nkind=fixed-priority\n", "pool");
  g_autoptr(TpPool) autoscale = pool_from_data ("[pool]\nkind=autoscale-priority\n", "pool");

  g_test_summary ("A priority pool without default-weight: weight 4");

  g_assert_cmpint (tp_pool_get_default_weight (fixed), ==, 4);
  g_assert_cmpint (tp_pool_get_default_weight (autoscale), ==, 4);
}

static void
test_defaults_kind (void)
{
  g_autoptr(TpPool) pool = pool_from_data ("[pool]\nsize=2\n", "pool");

  g_test_summary ("A group without kind makes a fixed-simple pool");

  g_assert_cmpstr (tp_pool_get_kind (pool), ==, "fixed-simple");
}

static void
test_defaults_autoscale_timers (void)
{
  g_autoptr(TpPool) pool = NULL;
  gint64 ready_time;
  TpTestLog log;

  g_test_summary ("Without scale-interval-ms and idle-timeout-ms, an autoscale pool whose "
                  "workers just went idle checks them again within idle-timeout-ms 5000");
  tp_test_log_init (&log);

  pool = autoscale_after_burst ("", &log);
  drain_pending ();

  ready_time = tp_pool_get_ready_time (pool);
  g_assert_cmpint (ready_time, >, 0);
  g_assert_cmpint (ready_time, <=, g_get_monotonic_time () + 5000 * 1000);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_wait_count (&log.destroyed, 3);
  tp_test_log_clear (&log);
}

/* }}} */

/* Whole files {{{ */

static const char several_pools[] =
  "# One pool per group, one kind per pool\n"
  "[downloads]\n"
  "kind=fixed-simple\n"
  "size=2\n"
  "\n"
  "[recent]\n"
  "kind=fixed-lifo\n"
  "size=1\n"
  "queue-capacity=4\n"
  "\n"
  "[uploads]\n"
  "kind=fixed-priority\n"
  "executor=gtask\n"
  "default-weight=1\n"
  "\n"
  "[thumbnails]\n"
  "kind=autoscale-simple\n"
  "min-size=1\n"
  "max-size=2\n"
  "\n"
  "[indexer]\n"
  "kind=autoscale-lifo\n"
  "idle-timeout-ms=1000\n"
  "scale-interval-ms=50\n"
  "\n"
  "[sync]\n"
  "kind=autoscale-priority\n"
  "min-size=0\n"
  "max-size=1\n"
  "default-weight=7\n"
  "\n"
  "[broken]\n"
  "kind=fixed-simple\n"
  "size=lots\n";

static void
test_several_pools (void)
{
  static const char * const groups[] = {
    "downloads", "recent", "uploads", "thumbnails", "indexer", "sync",
  };
  static const char * const kinds[] = {
    "fixed-simple", "fixed-lifo", "fixed-priority",
    "autoscale-simple", "autoscale-lifo", "autoscale-priority",
  };
  g_autoptr(GKeyFile) keyfile = keyfile_new (several_pools);
  g_autoptr(GError) error = NULL;
  TpPool *pools[G_N_ELEMENTS (groups)];
  TpPool *broken;

  g_test_summary ("One keyfile, several groups of different kinds: each group makes its pool, "
                  "which runs jobs; a bad group fails alone");

  for (guint i = 0; i < G_N_ELEMENTS (groups); i++)
    {
      pools[i] = tp_pool_new_from_keyfile (keyfile, groups[i], &error);
      g_assert_no_error (error);
      g_assert_cmpstr (tp_pool_get_kind (pools[i]), ==, kinds[i]);
    }
  broken = tp_pool_new_from_keyfile (keyfile, "broken", &error);
  g_assert_null (broken);
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
  assert_contains (error->message, "“broken”");

  g_assert_cmpuint (tp_pool_get_queue_capacity (pools[1]), ==, 4);
  g_assert_cmpstr (tp_pool_get_executor (pools[2]), ==, "gtask");
  g_assert_cmpint (tp_pool_get_default_weight (pools[2]), ==, 1);
  g_assert_cmpuint (tp_pool_get_max_size (pools[3]), ==, 2);
  g_assert_cmpint (tp_pool_get_default_weight (pools[5]), ==, 7);

  for (guint i = 0; i < G_N_ELEMENTS (groups); i++)
    start_pool (pools[i]);
  for (guint i = 0; i < G_N_ELEMENTS (groups); i++)
    run_two_jobs (pools[i]);
  for (guint i = 0; i < G_N_ELEMENTS (groups); i++)
    {
      tp_test_pool_close (pools[i], TP_CLOSE_DRAIN);
      g_object_unref (pools[i]);
    }
}

/* Checks that what @pool reports agrees with each key of @group it has a getter for */
static void
assert_pool_matches_group (TpPool     *pool,
                           GKeyFile   *keyfile,
                           const char *group)
{
  g_auto(GStrv) keys = g_key_file_get_keys (keyfile, group, NULL, NULL);

  g_assert_nonnull (keys);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      g_autofree char *value = g_key_file_get_string (keyfile, group, keys[i], NULL);
      g_autofree char *actual = NULL;

      g_assert_nonnull (value);
      g_strstrip (value);
      if (g_str_equal (keys[i], "kind"))
        actual = g_strdup (tp_pool_get_kind (pool));
      else if (g_str_equal (keys[i], "executor"))
        actual = g_strdup (tp_pool_get_executor (pool));
      else if (g_str_equal (keys[i], "size"))
        actual = g_strdup_printf ("%u", tp_pool_get_target_size (pool));
      else if (g_str_equal (keys[i], "min-size"))
        actual = g_strdup_printf ("%u", tp_pool_get_min_size (pool));
      else if (g_str_equal (keys[i], "max-size"))
        actual = g_strdup_printf ("%u", tp_pool_get_max_size (pool));
      else if (g_str_equal (keys[i], "queue-capacity"))
        actual = g_strdup_printf ("%u", tp_pool_get_queue_capacity (pool));
      else if (g_str_equal (keys[i], "default-weight"))
        actual = g_strdup_printf ("%d", tp_pool_get_default_weight (pool));
      else if (g_str_equal (keys[i], "held"))
        actual = g_strdup (tp_pool_get_held (pool) ? "true" : "false");
      else if (g_str_equal (keys[i], "queue-timeout-ms"))
        actual = g_strdup_printf ("%u", tp_pool_get_queue_timeout (pool));
      else if (g_str_equal (keys[i], "run-timeout-ms"))
        actual = g_strdup_printf ("%u", tp_pool_get_run_timeout (pool));
      else if (g_str_equal (keys[i], "gates"))
        actual = tp_pool_get_gates (pool) != NULL
                   ? g_strjoinv (";", (char **) tp_pool_get_gates (pool)) : g_strdup ("");
      else
        continue;
      g_test_message ("[%s] %s=%s", group, keys[i], value);
      g_assert_cmpstr (actual, ==, value);
    }
}

static void
test_example_file (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "examples", "pools.conf",
                                                 NULL);
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) groups = NULL;
  gsize n_groups;

  g_test_summary ("examples/pools.conf: every group makes a pool that reports the values of "
                  "the file, starts, runs jobs and closes");

  g_assert_true (g_key_file_load_from_file (keyfile, path, G_KEY_FILE_NONE, &error));
  g_assert_no_error (error);
  groups = g_key_file_get_groups (keyfile, &n_groups);
  g_assert_cmpuint (n_groups, >=, 3);

  for (guint i = 0; i < n_groups; i++)
    {
      g_autoptr(TpPool) pool = tp_pool_new_from_keyfile (keyfile, groups[i], &error);

      g_assert_no_error (error);
      g_assert_nonnull (pool);
      assert_pool_matches_group (pool, keyfile, groups[i]);
      start_pool (pool);
      run_two_jobs (pool);
      tp_test_pool_close (pool, TP_CLOSE_DRAIN);
    }
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autofree char *path = g_strconcat ("/keyfile/bad/", bad_cases[i].name, NULL);

      g_test_add_data_func (path, &bad_cases[i], test_bad);
    }
  g_test_add_func ("/keyfile/bad/group-alone", test_bad_group_alone);

  g_test_add_func ("/keyfile/good/kind", test_good_kind);
  g_test_add_func ("/keyfile/good/size", test_good_size);
  g_test_add_func ("/keyfile/good/size/autoscale", test_good_size_autoscale);
  g_test_add_func ("/keyfile/good/min-size", test_good_min_size);
  g_test_add_func ("/keyfile/good/max-size", test_good_max_size);
  g_test_add_func ("/keyfile/good/max-size/small", test_good_max_size_small);
  g_test_add_func ("/keyfile/good/queue-capacity", test_good_queue_capacity);
  g_test_add_func ("/keyfile/good/executor", test_good_executor);
  g_test_add_func ("/keyfile/good/default-weight", test_good_default_weight);
  g_test_add_func ("/keyfile/good/idle-timeout-ms", test_good_idle_timeout_ms);
  g_test_add_func ("/keyfile/good/scale-interval-ms", test_good_scale_interval_ms);
  g_test_add_func ("/keyfile/good/scale-interval-ms/absent", test_good_scale_interval_ms_absent);
  g_test_add_func ("/keyfile/good/plugin-path", test_good_plugin_path);
  g_test_add_func ("/keyfile/good/plugin-path/stripped", test_good_plugin_path_stripped);
  g_test_add_func ("/keyfile/good/stripped", test_good_stripped);
  g_test_add_func ("/keyfile/good/empty-group", test_good_empty_group);

  g_test_add_func ("/keyfile/defaults/fixed", test_defaults_fixed);
  g_test_add_func ("/keyfile/defaults/autoscale", test_defaults_autoscale);
  g_test_add_func ("/keyfile/defaults/autoscale-timers", test_defaults_autoscale_timers);
  g_test_add_func ("/keyfile/defaults/priority", test_defaults_priority);
  g_test_add_func ("/keyfile/defaults/kind", test_defaults_kind);

  g_test_add_func ("/keyfile/file/several-pools", test_several_pools);
  g_test_add_func ("/keyfile/file/example", test_example_file);

  return g_test_run ();
}

/* test-job-cache.c: the cache of job records
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The cache is process-wide and cannot be reset: every test runs in a
 * subprocess of its own, which starts with an empty depot.
 */

#include "tp-job-private.h"
#include "tp-test-util.h"

static guint
cached_total (void)
{
  guint in_magazine, in_depot;

  tp_job_cache_count (&in_magazine, &in_depot);
  g_assert_cmpuint (in_magazine, <=, TP_JOB_MAGAZINE);
  g_assert_cmpuint (in_depot, <=, TP_JOB_DEPOT_MAX);
  return in_magazine + in_depot;
}

/* Skips the test where the cache is off by design */
static gboolean
skip_if_off (void)
{
  if (tp_job_cache_enabled ())
    return FALSE;
  g_test_skip ("The job cache is off: G_SLICE=always-malloc");
  return TRUE;
}

/* In the parent, runs the test in a subprocess, with an empty cache, and
 * returns TRUE; in the subprocess, returns FALSE */
static gboolean
run_in_subprocess (void)
{
  if (g_test_subprocess ())
    return FALSE;
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  return TRUE;
}

static void
test_reuse (void)
{
  enum { N = 3 * TP_JOB_MAGAZINE + 7 };
  g_autoptr(GHashTable) freed = g_hash_table_new (NULL, NULL);
  TpJob *jobs[N];
  TpJob **again;
  guint total;

  g_test_summary ("Freed job records are kept, whole, and handed out again, the most recently "
                  "freed first");

  if (skip_if_off () || run_in_subprocess ())
    return;

  g_assert_cmpuint (cached_total (), ==, 0);
  for (guint i = 0; i < N; i++)
    jobs[i] = tp_job_alloc ();
  /* The first refill took a batch from GSlice: what it did not hand out is cached */
  g_assert_cmpuint (cached_total (), <, TP_JOB_MAGAZINE);

  for (guint i = 0; i < N; i++)
    {
      guint before = cached_total ();

      tp_job_dealloc (jobs[i]);
      g_hash_table_add (freed, jobs[i]);
      g_assert_cmpuint (cached_total (), ==, before + 1);
    }

  /* The last freed comes back first: it is the one most likely in the
   * caches. Then every cached record comes out, the freed ones among them
   * (with what the first batch from GSlice left over). */
  total = cached_total ();
  again = g_new (TpJob *, total);
  for (guint i = 0; i < total; i++)
    {
      again[i] = tp_job_alloc ();
      g_hash_table_remove (freed, again[i]);
    }
  g_assert_true (again[0] == jobs[N - 1]);
  g_assert_cmpuint (g_hash_table_size (freed), ==, 0);
  g_assert_cmpuint (cached_total (), ==, 0);

  for (guint i = 0; i < total; i++)
    tp_job_dealloc (again[i]);
  g_assert_cmpuint (cached_total (), ==, total);
  g_free (again);
}

static void
test_depot_cap (void)
{
  const guint n = TP_JOB_DEPOT_MAX + 2 * TP_JOB_MAGAZINE;
  TpJob **jobs = g_new (TpJob *, n);
  guint in_magazine, in_depot;

  g_test_summary ("The depot keeps at most TP_JOB_DEPOT_MAX records and frees the others");

  if (skip_if_off () || run_in_subprocess ())
    {
      g_free (jobs);
      return;
    }

  for (guint i = 0; i < n; i++)
    jobs[i] = tp_job_alloc ();
  for (guint i = 0; i < n; i++)
    tp_job_dealloc (jobs[i]);

  tp_job_cache_count (&in_magazine, &in_depot);
  g_assert_cmpuint (in_depot, ==, TP_JOB_DEPOT_MAX);
  g_assert_cmpuint (in_magazine, >, 0);
  g_assert_cmpuint (in_magazine, <=, TP_JOB_MAGAZINE);
  g_free (jobs);
}

typedef struct {
  guint   n;
  TpJob **jobs;
  guint   left;  /* cached after the allocations: the rest of GSlice batches */
} Batch;

static gpointer
alloc_thread (gpointer data)
{
  Batch *batch = data;

  for (guint i = 0; i < batch->n; i++)
    batch->jobs[i] = tp_job_alloc ();
  batch->left = cached_total ();
  return NULL;
}

static gpointer
free_thread (gpointer data)
{
  Batch *batch = data;

  for (guint i = 0; i < batch->n; i++)
    tp_job_dealloc (batch->jobs[i]);
  return NULL;
}

static gpointer
alloc_free_thread (gpointer data)
{
  Batch *batch = data;

  alloc_thread (batch);
  free_thread (batch);
  return NULL;
}

static void
test_threads (void)
{
  enum { N = 1000 };
  TpJob *jobs[N];
  Batch batch = { N, jobs, 0 };
  guint before;

  g_test_summary ("A thread's magazine goes to the depot when the thread exits; a thread that "
                  "never allocated frees to GSlice; records move between threads");

  if (skip_if_off () || run_in_subprocess ())
    return;

  /* Allocated and freed on a thread that then exits: all cached */
  g_thread_join (g_thread_new ("alloc-free", alloc_free_thread, &batch));
  g_assert_cmpuint (cached_total (), ==, batch.left + N);

  /* Freed by a thread that never allocated: to GSlice, the cache unchanged */
  g_thread_join (g_thread_new ("alloc", alloc_thread, &batch));
  before = cached_total ();
  g_thread_join (g_thread_new ("free", free_thread, &batch));
  g_assert_cmpuint (cached_total (), ==, before);

  /* Allocated here, freed there and back: nothing is lost on the way */
  alloc_thread (&batch);
  before = cached_total ();
  free_thread (&batch);
  g_assert_cmpuint (cached_total (), ==, before + N);
}

static void
test_off (void)
{
  TpJob *job;

  g_test_summary ("With G_SLICE=always-malloc every record is an allocation of its own, for "
                  "memory debuggers");

  if (!g_test_subprocess ())
    {
      g_autofree char *saved = g_strdup (g_getenv ("G_SLICE"));

      g_setenv ("G_SLICE", "always-malloc", TRUE);
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
      if (saved != NULL)
        g_setenv ("G_SLICE", saved, TRUE);
      else
        g_unsetenv ("G_SLICE");
      g_test_trap_assert_passed ();
      return;
    }

  g_assert_false (tp_job_cache_enabled ());
  job = tp_job_alloc ();
  tp_job_dealloc (job);
  g_assert_cmpuint (cached_total (), ==, 0);
}

#if defined (__SANITIZE_ADDRESS__)
# define TEST_ASAN 1
#elif defined (__has_feature)
# if __has_feature (address_sanitizer)
#  define TEST_ASAN 1
# endif
#endif

static void
test_poisoned (void)
{
  g_test_summary ("In an AddressSanitizer build, a record in the cache is poisoned: reading a "
                  "job after it was freed is reported, as with malloc");

#ifdef TEST_ASAN
  if (skip_if_off ())
    return;
  if (g_test_subprocess ())
    {
      volatile TpJob *job = tp_job_alloc ();

      job->weight = 1;
      tp_job_dealloc ((TpJob *) job);
      g_print ("weight %d\n", job->weight);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*use-after-poison*");
#else
  g_test_skip ("Not an AddressSanitizer build");
#endif
}

static void
test_double_free (void)
{
  g_test_summary ("In an AddressSanitizer build, a job record freed twice stops the program "
                  "instead of going to two jobs");

#ifdef TEST_ASAN
  if (skip_if_off ())
    return;
  if (g_test_subprocess ())
    {
      TpJob *job = tp_job_alloc ();

      tp_job_dealloc (job);
      tp_job_dealloc (job);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*freed twice*");
#else
  g_test_skip ("Not an AddressSanitizer build");
#endif
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/job-cache/reuse", test_reuse);
  g_test_add_func ("/job-cache/depot-cap", test_depot_cap);
  g_test_add_func ("/job-cache/threads", test_threads);
  g_test_add_func ("/job-cache/off", test_off);
  g_test_add_func ("/job-cache/poisoned", test_poisoned);
  g_test_add_func ("/job-cache/double-free", test_double_free);

  return g_test_run ();
}

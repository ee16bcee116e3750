/* tp-job-cache.c: where the pool's job records come from
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "tp-job-private.h"

/* GSlice, like malloc, keeps its free chunks in lists threaded through the
 * chunks themselves: handing one out reads it. A burst of submissions after
 * a burst of completions then reads, record by record, memory that the
 * completions left long ago, and stalls on a cache miss per job. This cache
 * keeps the records the pool freed by address instead: handing one out reads
 * an array, in order, and the record is only written.
 *
 * Each thread keeps a magazine of up to TP_JOB_MAGAZINE free records, without
 * locking. A full magazine spills its older half into the process-wide depot,
 * an empty one refills from it (or, when the depot is empty, from GSlice),
 * under a mutex taken once per TP_JOB_MAGAZINE / 2 records. A thread that
 * never submitted has no magazine and frees to GSlice; a thread's magazine
 * goes to the depot when the thread exits.
 *
 * The depot keeps at most TP_JOB_DEPOT_MAX records (32 MiB of 128-byte
 * records); beyond that, freed records go back to GSlice. It is never
 * trimmed otherwise: like GSlice's own caches, it keeps what a burst left for
 * the next burst. Its array of pointers is allocated whole, 2 MiB, with the
 * first magazine, at the first submission: an array grown by doubling asked
 * malloc for a larger block at each new peak, as the jobs completed, and a
 * large request makes malloc first merge every small block freed since the
 * last one (see doc/performance.md). Above glibc's mmap threshold the block
 * is mapped, and its pages are only touched as the depot fills.
 *
 * A record in the cache is free memory to memory debuggers: the cache is off
 * with G_SLICE=always-malloc (the valgrind test setup sets it). An
 * AddressSanitizer build poisons cached records, and aborts when a record is
 * freed twice; a use after free is reported until the record is handed out
 * again (newest first, without malloc's quarantine). */

#if defined (__SANITIZE_ADDRESS__)
# define TP_JOB_CACHE_ASAN 1
#elif defined (__has_feature)
# if __has_feature (address_sanitizer)
#  define TP_JOB_CACHE_ASAN 1
# endif
#endif

#ifdef TP_JOB_CACHE_ASAN
# include <sanitizer/asan_interface.h>
# define tp_job_poison(job)   ASAN_POISON_MEMORY_REGION ((job), sizeof (TpJob))
# define tp_job_unpoison(job) ASAN_UNPOISON_MEMORY_REGION ((job), sizeof (TpJob))
# define tp_job_is_poisoned(job) (__asan_address_is_poisoned (job) != 0)
#else
# define tp_job_poison(job)   ((void) (job))
# define tp_job_unpoison(job) ((void) (job))
# define tp_job_is_poisoned(job) ((void) (job), FALSE)
#endif

typedef struct {
  guint  n;
  TpJob *jobs[TP_JOB_MAGAZINE];
} TpJobMagazine;

static void tp_job_magazine_release (gpointer data);

/* The thread's magazine: a thread-local variable for the fast paths, and a
 * GPrivate that releases it when the thread exits */
static _Thread_local TpJobMagazine *thread_magazine;
static _Thread_local gboolean thread_exiting;  /* its magazine is released */
static GPrivate magazine_key = G_PRIVATE_INIT (tp_job_magazine_release);

/* The depot, protected by depot_mutex */
static GMutex   depot_mutex;
static TpJob  **depot;     /* TP_JOB_DEPOT_MAX pointers, once allocated */
static guint    depot_len;

/**
 * tp_job_cache_enabled:
 *
 * Whether freed job records are kept for reuse: not under
 * G_SLICE=always-malloc.
 */
gboolean
tp_job_cache_enabled (void)
{
  static gsize state = 0;  /* 1: off, 2: on */

  if (g_once_init_enter (&state))
    {
      const char *slice = g_getenv ("G_SLICE");
      gboolean on = slice == NULL || strstr (slice, "always-malloc") == NULL;

      g_once_init_leave (&state, on ? 2 : 1);
    }
  return state == 2;
}

/* Moves @n records to the depot, as many as it has room for, and frees the
 * others. Called with the depot unlocked, by a thread that has a magazine:
 * the depot exists. */
static void
tp_job_depot_put (TpJob * const *jobs,
                  guint          n)
{
  guint kept;

  g_mutex_lock (&depot_mutex);
  kept = MIN (n, TP_JOB_DEPOT_MAX - depot_len);
  if (kept > 0)
    memcpy (depot + depot_len, jobs, kept * sizeof (TpJob *));
  depot_len += kept;
  g_mutex_unlock (&depot_mutex);

  for (guint i = kept; i < n; i++)
    {
      tp_job_unpoison (jobs[i]);
      g_slice_free (TpJob, jobs[i]);
    }
}

G_GNUC_NO_INLINE static void
tp_job_magazine_refill (TpJobMagazine *magazine)
{
  guint n;

  g_mutex_lock (&depot_mutex);
  n = MIN (depot_len, TP_JOB_MAGAZINE / 2);
  depot_len -= n;
  if (n > 0)
    memcpy (magazine->jobs, depot + depot_len, n * sizeof (TpJob *));
  g_mutex_unlock (&depot_mutex);

  /* The depot is empty: GSlice, a batch at a time, so that a thread takes
   * the mutex once per batch either way */
  while (n < TP_JOB_MAGAZINE / 2)
    {
      magazine->jobs[n] = g_slice_new (TpJob);
      tp_job_poison (magazine->jobs[n]);
      n++;
    }
  magazine->n = n;
}

/* Spills the newer half, which the next refill takes back first, and leaves
 * the older half where it is */
G_GNUC_NO_INLINE static void
tp_job_magazine_spill (TpJobMagazine *magazine)
{
  guint half = magazine->n / 2;

  magazine->n -= half;
  tp_job_depot_put (magazine->jobs + magazine->n, half);
}

/* When the thread exits */
static void
tp_job_magazine_release (gpointer data)
{
  TpJobMagazine *magazine = data;

  thread_magazine = NULL;
  thread_exiting = TRUE;
  tp_job_depot_put (magazine->jobs, magazine->n);
  g_free (magazine);
}

G_GNUC_NO_INLINE static TpJob *
tp_job_alloc_slow (void)
{
  TpJobMagazine *magazine = thread_magazine;
  TpJob *job;

  if (magazine == NULL)
    {
      /* A destructor that runs after the magazine's, as the thread exits,
       * must not make another one, which might never be released */
      if (thread_exiting || !tp_job_cache_enabled ())
        return g_slice_new (TpJob);
      g_mutex_lock (&depot_mutex);
      if (depot == NULL)
        depot = g_new (TpJob *, TP_JOB_DEPOT_MAX);
      g_mutex_unlock (&depot_mutex);
      magazine = g_new (TpJobMagazine, 1);
      magazine->n = 0;
      g_private_set (&magazine_key, magazine);
      thread_magazine = magazine;
    }
  tp_job_magazine_refill (magazine);
  job = magazine->jobs[--magazine->n];
  tp_job_unpoison (job);
  return job;
}

/**
 * tp_job_alloc:
 *
 * Returns: (transfer full): an uninitialized job record, for tp_job_dealloc()
 */
TpJob *
tp_job_alloc (void)
{
  TpJobMagazine *magazine = thread_magazine;

  TpJob *job;

  if (G_UNLIKELY (magazine == NULL || magazine->n == 0))
    return tp_job_alloc_slow ();
  job = magazine->jobs[--magazine->n];
  tp_job_unpoison (job);
  return job;
}

/**
 * tp_job_dealloc:
 * @job: (transfer full): a record from tp_job_alloc()
 *
 * Frees a job record, on any thread.
 */
void
tp_job_dealloc (TpJob *job)
{
  TpJobMagazine *magazine = thread_magazine;

  /* A thread that never submitted, or whose magazine went as it exits */
  if (magazine == NULL)
    {
      g_slice_free (TpJob, job);
      return;
    }
  /* Only a sanitizer build can tell: a record freed twice would be handed
   * to two jobs */
  if (tp_job_is_poisoned (job))
    g_error ("%s: job record %p freed twice", G_STRFUNC, (gpointer) job);
  if (G_UNLIKELY (magazine->n == TP_JOB_MAGAZINE))
    tp_job_magazine_spill (magazine);
  tp_job_poison (job);
  magazine->jobs[magazine->n++] = job;
}

/**
 * tp_job_cache_count:
 * @in_magazine: (out) (optional): free records in this thread's magazine
 * @in_depot: (out) (optional): free records in the depot
 *
 * For tests.
 */
void
tp_job_cache_count (guint *in_magazine,
                    guint *in_depot)
{
  TpJobMagazine *magazine = thread_magazine;

  if (in_magazine != NULL)
    *in_magazine = magazine != NULL ? magazine->n : 0;
  if (in_depot != NULL)
    {
      g_mutex_lock (&depot_mutex);
      *in_depot = depot_len;
      g_mutex_unlock (&depot_mutex);
    }
}

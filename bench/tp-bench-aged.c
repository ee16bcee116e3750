/* tp-bench-aged.c: W1 and W4 in an aged heap, beside a fresh process
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A benchmark's process is fresh: malloc carves every block from the top of
 * an empty heap, in order. An application's is not: by the time it runs its
 * jobs, other code has allocated and freed hundreds of megabytes, and the
 * heap is full of holes between the blocks that stayed. This measures W1 and
 * W4 in such a heap, beside the same workloads in a fresh process.
 *
 * Each sample is a process of its own, this program run again with
 * --aged-child=fresh or --aged-child=aged: the fresh one runs the trials at
 * once, the aged one first ages its heap (heap_age() below), then runs them.
 * A child runs the pool and its raw GLib baseline interleaved (one warm-up,
 * then CHILD_RUNS timed runs of each) and prints the median seconds of each.
 * W1 and W4 each get processes of their own: run in one process, the pool's
 * W4 slows the pool's W1 that follows it by about 15 % in a fresh heap as in
 * an aged one (GLib 2.74's GSlice; doc/performance.md), which is not what
 * this measures. That interaction still has a row: W1 in aged processes that
 * run all four trials interleaved. The parent starts --runs rounds of
 * children, fresh and aged alternately, the order rotated each round, and
 * reports medians. Every process is the same binary and the same build.
 *
 * The churn is seeded (CHURN_SEED), so every aged process ages alike, as an
 * application that first ran another library's allocation-heavy work (say,
 * a few hundred thousand coroutines and their objects) would be. It
 * allocates CHURN_BYTES (400 MB; --quick: 8 MB) in blocks whose sizes follow
 * this distribution, each uniform within its range:
 *
 *   70.0 %  16 B to 128 B        malloc's fast bins: closures, list nodes
 *   25.0 %  129 B to 1 KiB       its small bins: objects, strings
 *    4.5 %  1 KiB to 16 KiB      its large bins: buffers
 *    0.5 %  16 KiB to 120 KiB    still from the heap, below glibc's 128 KiB
 *                                mmap threshold
 *
 * (a mean of 920 B: 455 000 blocks, 320 000 of them of 128 B or less). Each
 * block is written whole, as its owner would, and goes to one of
 * CHURN_SLOTS slots picked at random, freeing the block that was there (one
 * block in five): holes open while the heap grows. At the end, one block in
 * CHURN_KEEP stays (19 MB), the other library's long-lived state, and the
 * rest is freed in the slots' order, which is random in the heap. glibc
 * 2.36's mallinfo2() then counts a 346 MB arena with 324 MB free, which
 * cannot go back to the system, in 22 000 holes of every size between the
 * blocks that stayed. The fast bins are nearly empty (22 blocks): freeing a
 * chunk that merges into 64 KiB or more makes malloc consolidate them. So
 * this heap makes malloc search scattered free chunks for small requests;
 * it does not leave small blocks in the fast bins for a large request to
 * consolidate (doc/performance.md).
 */

#include <string.h>

#include "tp-bench-private.h"

#define CHURN_SEED   G_GUINT64_CONSTANT (0x746173b0001)
#define CHURN_BYTES  ((gsize) 400 << 20)
#define CHURN_QUICK  ((gsize) 8 << 20)
#define CHURN_SLOTS  (1u << 20)
#define CHURN_KEEP   16
/* Timed runs in each process, after the warm-up: the process reports the
 * median */
#define CHILD_RUNS   3

/* splitmix64: a generator whose sequence this file defines, whatever the
 * GLib */
static guint64
churn_next (guint64 *state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static gsize
churn_size (guint64 *state)
{
  guint64 r = churn_next (state) % 1000;
  guint64 u = churn_next (state);

  if (r < 700)
    return 16 + u % (128 - 16 + 1);
  if (r < 950)
    return 129 + u % (1024 - 129 + 1);
  if (r < 995)
    return 1025 + u % (16 * 1024 - 1025 + 1);
  return 16 * 1024 + 1 + u % (120 * 1024 - 16 * 1024);
}

/* Ages this process's heap; returns the blocks that stay, for
 * heap_age_clear() */
static GPtrArray *
heap_age (gsize total)
{
  guint64 state = CHURN_SEED;
  gpointer *slots = g_new0 (gpointer, CHURN_SLOTS);
  GPtrArray *kept = g_ptr_array_new_with_free_func (g_free);
  gsize allocated = 0;

  while (allocated < total)
    {
      guint slot = churn_next (&state) % CHURN_SLOTS;
      gsize size = churn_size (&state);

      g_free (slots[slot]);
      slots[slot] = g_malloc (size);
      memset (slots[slot], (int) (size & 0xff), size);
      allocated += size;
    }

  for (guint slot = 0; slot < CHURN_SLOTS; slot++)
    {
      if (slots[slot] != NULL && churn_next (&state) % CHURN_KEEP == 0)
        g_ptr_array_add (kept, slots[slot]);
      else
        g_free (slots[slot]);
    }
  g_free (slots);
  return kept;
}

enum { W1_POOL, W1_GTASK, W4_POOL, W4_GTP, N_AGED_TRIALS };

static const char *
aged_kind (void)
{
  return opts.kinds != NULL && opts.kinds[0] != NULL ? opts.kinds[0] : "fixed-simple";
}

/* In the child: ages the heap if @state is "aged", runs the trials (one
 * warm-up, then --runs runs; W1's or W4's only with --only w1 or w4), prints
 * the median seconds of each on one line, 0 for a trial not run.
 *
 * Run alone, it is what a profiler can watch, for instance the pool's W1 in
 * an aged heap: --aged-child=aged --only w1 --runs 1 with valgrind's
 * --toggle-collect=w1_pool_run. */
void
aged_child (const char *state)
{
  W1 w1 = { aged_kind (), sizes.w1_jobs, sizes.w1_at_once };
  Trial all[N_AGED_TRIALS] = {
    [W1_POOL] = { w1_pool_run, &w1, NULL },
    [W1_GTASK] = { w1_gtask_run, &w1, NULL },
    [W4_POOL] = { w4_pool_run, NULL, NULL },
    [W4_GTP] = { w4_gtp_run, NULL, NULL },
  };
  gboolean w1_wanted = wants ("w1") || wants ("aged");
  gboolean w4_wanted = wants ("w4") || wants ("aged");
  guint first = w1_wanted ? W1_POOL : W4_POOL;
  guint n_trials = (w1_wanted ? 2 : 0) + (w4_wanted ? 2 : 0);
  g_autoptr(GPtrArray) kept = NULL;

  if (g_str_equal (state, "aged"))
    kept = heap_age (opts.quick ? CHURN_QUICK : CHURN_BYTES);
  else if (!g_str_equal (state, "fresh"))
    g_error ("--aged-child wants fresh or aged, not %s", state);

  trials_run (all + first, n_trials);
  for (guint i = 0; i < N_AGED_TRIALS; i++)
    g_print ("%s%.9g", i > 0 ? " " : "",
             all[i].seconds != NULL ? median (all[i].seconds) : 0.0);
  g_print ("\n");
  trials_clear (all, N_AGED_TRIALS);
}

/* Runs this program again with --aged-child=STATE --only=ONLY (w1, w4, or
 * aged for all four trials); adds its seconds to @seconds, one array per
 * trial (0 for a trial it did not run) */
static void
aged_run_child (const char *state,
                const char *only,
                GArray     *seconds[N_AGED_TRIALS])
{
  g_autofree char *child_state = g_strdup_printf ("--aged-child=%s", state);
  g_autofree char *child_only = g_strdup_printf ("--only=%s", only);
  g_autofree char *child_kind = g_strdup_printf ("--kind=%s", aged_kind ());
  g_autofree char *child_jobs = g_strdup_printf ("--jobs=%u", sizes.w1_jobs);
  g_autofree char *child_runs = g_strdup_printf ("--runs=%d", opts.quick ? 1 : CHILD_RUNS);
  const char *args[] = { child_state, child_only, child_kind, child_jobs, child_runs,
                         opts.quick ? "--quick" : NULL, NULL };
  g_autofree char *child_out = run_child ("aged heap", args);
  g_auto(GStrv) fields = NULL;

  fields = g_strsplit (g_strstrip (child_out), " ", -1);
  if (g_strv_length (fields) != N_AGED_TRIALS)
    g_error ("aged heap: the %s process printed \"%s\"", state, child_out);
  for (guint i = 0; i < N_AGED_TRIALS; i++)
    samples_add (seconds[i], g_ascii_strtod (fields[i], NULL));
}

/* A round of children, fresh and aged, W1's then W4's, then the aged one
 * that runs them all; every other round in the opposite order */
static void
aged_round (int     round,
            GArray *fresh[N_AGED_TRIALS],
            GArray *aged[N_AGED_TRIALS],
            GArray *mixed[N_AGED_TRIALS])
{
  struct {
    const char *state;
    const char *only;
    GArray    **seconds;
  } children[] = {
    { "fresh", "w1", fresh }, { "aged", "w1", aged },
    { "fresh", "w4", fresh }, { "aged", "w4", aged },
    { "aged", "aged", mixed },
  };
  guint n = G_N_ELEMENTS (children);

  for (guint i = 0; i < n; i++)
    {
      guint c = round % 2 == 0 ? i : n - 1 - i;

      aged_run_child (children[c].state, children[c].only, children[c].seconds);
    }
}

/* Adds the samples a trial's children gave: a child that did not run the
 * trial printed 0 for it */
static GArray *
aged_samples (GArray *seconds)
{
  GArray *ran = samples_new ();

  for (guint i = 0; i < seconds->len; i++)
    if (g_array_index (seconds, double, i) > 0)
      samples_add (ran, g_array_index (seconds, double, i));
  return ran;
}

void
bench_aged (void)
{
  GArray *fresh[N_AGED_TRIALS];
  GArray *aged[N_AGED_TRIALS];
  GArray *mixed[N_AGED_TRIALS];
  const char *kind = aged_kind ();
  gsize churn = opts.quick ? CHURN_QUICK : CHURN_BYTES;
  g_autofree char *name = NULL;
  g_autofree char *baseline = NULL;
  Row *row;

  for (guint i = 0; i < N_AGED_TRIALS; i++)
    {
      fresh[i] = samples_new ();
      aged[i] = samples_new ();
      mixed[i] = samples_new ();
    }

  progress ("aged heap: W1 (%s) and W4, each in %d fresh and %d aged processes, and both in %d "
            "aged processes (%zu MB churned)", kind, opts.runs, opts.runs, opts.runs,
            churn >> 20);
  for (int round = 0; round < opts.runs; round++)
    aged_round (round, fresh, aged, mixed);
  for (guint i = 0; i < N_AGED_TRIALS; i++)
    {
      GArray **sets[] = { fresh, aged, mixed };

      for (guint k = 0; k < G_N_ELEMENTS (sets); k++)
        {
          GArray *ran = aged_samples (sets[k][i]);

          g_array_unref (sets[k][i]);
          sets[k][i] = ran;
        }
    }

  name = g_strdup_printf ("W1 aged heap: %s, %u at once, after %zu MB of churn", kind,
                          sizes.w1_at_once, churn >> 20);
  baseline = g_strdup_printf ("the same, fresh process");
  row = row_add (SECTION_AGED, UNIT_RATE, name, samples_inverse (aged[W1_POOL], sizes.w1_jobs),
                 baseline, samples_inverse (fresh[W1_POOL], sizes.w1_jobs));
  row_target (row, "≥ 0.8 × fresh", row->ratio >= 0.8);
  g_free (baseline);

  baseline = g_strdup_printf ("(a) GTask round trip, %u outstanding, same aged processes",
                              sizes.w1_at_once);
  row = row_add (SECTION_AGED, UNIT_RATE, name, samples_inverse (aged[W1_POOL], sizes.w1_jobs),
                 baseline, samples_inverse (aged[W1_GTASK], sizes.w1_jobs));
  row_target (row, "≥ 1.3 × (a)", row->ratio >= 1.3);
  g_free (name);
  g_free (baseline);

  name = g_strdup_printf ("W1 fresh process: %s, %u at once", kind, sizes.w1_at_once);
  baseline = g_strdup_printf ("(a) GTask round trip, %u outstanding, same fresh processes",
                              sizes.w1_at_once);
  row_add (SECTION_AGED, UNIT_RATE, name, samples_inverse (fresh[W1_POOL], sizes.w1_jobs),
           baseline, samples_inverse (fresh[W1_GTASK], sizes.w1_jobs));
  g_free (name);
  g_free (baseline);

  name = g_strdup_printf ("W1 aged heap: (a) GTask round trip, %u outstanding",
                          sizes.w1_at_once);
  row_add (SECTION_AGED, UNIT_RATE, name, samples_inverse (aged[W1_GTASK], sizes.w1_jobs),
           "the same, fresh process", samples_inverse (fresh[W1_GTASK], sizes.w1_jobs));
  g_free (name);

  name = g_strdup_printf ("W1 aged heap, the pool's W4 between its runs: %s, %u at once", kind,
                          sizes.w1_at_once);
  baseline = g_strdup_printf ("(a) GTask round trip, %u outstanding, same aged processes",
                              sizes.w1_at_once);
  row_add (SECTION_AGED, UNIT_RATE, name, samples_inverse (mixed[W1_POOL], sizes.w1_jobs),
           baseline, samples_inverse (mixed[W1_GTASK], sizes.w1_jobs));
  g_free (name);
  g_free (baseline);

  name = g_strdup_printf ("W4 aged heap: %u no-op thread jobs, fixed-simple size %u (threads)",
                          sizes.w4_jobs, sizes.w4_threads);
  row_add (SECTION_AGED, UNIT_RATE, name, samples_inverse (aged[W4_POOL], sizes.w4_jobs),
           "the same, fresh process", samples_inverse (fresh[W4_POOL], sizes.w4_jobs));
  baseline = g_strdup_printf ("(a) GThreadPool (%u threads) + idle per job, same aged processes",
                              sizes.w4_threads);
  row_add (SECTION_AGED, UNIT_RATE, name, samples_inverse (aged[W4_POOL], sizes.w4_jobs),
           baseline, samples_inverse (aged[W4_GTP], sizes.w4_jobs));
  g_free (name);
  g_free (baseline);

  name = g_strdup_printf ("W4 fresh process: %u no-op thread jobs, fixed-simple size %u "
                          "(threads)", sizes.w4_jobs, sizes.w4_threads);
  baseline = g_strdup_printf ("(a) GThreadPool (%u threads) + idle per job, same fresh "
                              "processes", sizes.w4_threads);
  row_add (SECTION_AGED, UNIT_RATE, name, samples_inverse (fresh[W4_POOL], sizes.w4_jobs),
           baseline, samples_inverse (fresh[W4_GTP], sizes.w4_jobs));

  for (guint i = 0; i < N_AGED_TRIALS; i++)
    {
      g_array_unref (fresh[i]);
      g_array_unref (aged[i]);
      g_array_unref (mixed[i]);
    }
}

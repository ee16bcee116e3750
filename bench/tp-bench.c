/* tp-bench.c: libtaskpool against raw GLib, workload by workload
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The workloads of the specification — W1 async no-op jobs, W2 timer jobs, W3
 * blocking jobs, W4 no-op thread jobs — W1 and W4 again in an aged heap, then
 * the priority queue at depth, the memory per queued job, the autoscale burst,
 * the wake-ups of an idle pool, and the limits of §7 through the bundled gates.
 * Every timing runs next to its raw GLib baseline in the same process, the two
 * interleaved run by run (one warm-up, then --runs runs, the order rotated each
 * round), and is reported as a median and a ratio of medians: on a shared
 * machine only the ratios mean something.
 *
 * A benchmark never fails on speed: the program exits 0 whatever the figures,
 * and aborts only when a workload went wrong (a callback missing or failing).
 *
 * This unit reads the command line and runs the workloads asked for;
 * tp-bench-private.h lists the others.
 */

#include <locale.h>
#include <stdarg.h>
#include <stdio.h>

#include "tp-bench-private.h"

const char * const all_kinds[N_KINDS] = {
  "fixed-simple", "fixed-lifo", "fixed-priority",
  "autoscale-simple", "autoscale-lifo", "autoscale-priority",
};

static const Sizes full_sizes = {
  .w1_jobs = 200000, .w1_at_once = 16,
  .w2_jobs = 2000, .w2_at_once = 100, .w2_ms = 10,
  .w3_jobs = 256, .w3_at_once = 32, .w3_ms = 20,
  .w4_jobs = 200000, .w4_threads = 2,
  .queue_depths = { 10000, 100000, 1000000 }, .n_queue_depths = 3, .queue_batch = 1000,
  .gtp_depths = { 10000, 40000 }, .gtp_batch = 200,
  .memory_jobs = 1000000,
  .burst_jobs = 2000, .burst_min = 3, .burst_max = 32, .burst_ms = 10,
  .idle_seconds = 2.0,
  .rate_jobs = 1000, .rate_limit = 200, .rate_interval_ms = 1000,
  .hol_held = 10000,
};

static const Sizes quick_sizes = {
  .w1_jobs = 2000, .w1_at_once = 16,
  .w2_jobs = 100, .w2_at_once = 10, .w2_ms = 10,
  .w3_jobs = 32, .w3_at_once = 8, .w3_ms = 20,
  .w4_jobs = 2000, .w4_threads = 2,
  .queue_depths = { 1000, 4000, 16000 }, .n_queue_depths = 3, .queue_batch = 100,
  .gtp_depths = { 500, 2000 }, .gtp_batch = 50,
  .memory_jobs = 10000,
  .burst_jobs = 100, .burst_min = 3, .burst_max = 32, .burst_ms = 10,
  .idle_seconds = 0.2,
  .rate_jobs = 60, .rate_limit = 20, .rate_interval_ms = 50,
  .hol_held = 1000,
};

Options opts = { .runs = -1 };  /* -1: not given */
Sizes sizes;

gboolean
wants (const char *workload)
{
  if (opts.only == NULL)
    return TRUE;
  for (char **name = opts.only; *name != NULL; name++)
    {
      g_auto(GStrv) parts = g_strsplit (*name, ",", -1);

      for (char **part = parts; *part != NULL; part++)
        if (g_ascii_strcasecmp (g_strstrip (*part), workload) == 0)
          return TRUE;
    }
  return FALSE;
}

void
progress (const char *format,
          ...)
{
  va_list args;

  va_start (args, format);
  g_printerr ("tp-bench: ");
  vfprintf (stderr, format, args);
  g_printerr ("\n");
  va_end (args);
}

/* "N,N,…": from @min_count to @max_count ascending numbers of at least @least */
static gboolean
parse_depths (const char *text,
              guint      *depths,
              guint       min_count,
              guint       max_count,
              guint       least,
              guint      *count)
{
  g_auto(GStrv) parts = g_strsplit (text, ",", -1);
  guint n = g_strv_length (parts);

  if (n < min_count || n > max_count)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      guint64 depth;

      if (!g_ascii_string_to_unsigned (g_strstrip (parts[i]), 10, least, 100000000, &depth,
                                       NULL) ||
          (i > 0 && depth <= depths[i - 1]))
        return FALSE;
      depths[i] = (guint) depth;
    }
  if (count != NULL)
    *count = n;
  return TRUE;
}

/* Returns FALSE after printing why the command line is wrong */
static gboolean
parse_options (int    *argc,
               char ***argv)
{
  const GOptionEntry entries[] = {
    { "quick", 'q', 0, G_OPTION_ARG_NONE, &opts.quick,
      "Tiny sizes and one run: a smoke test, not a measurement", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opts.json, "Print JSON instead of a table", NULL },
    { "runs", 'r', 0, G_OPTION_ARG_INT, &opts.runs,
      "Timed runs of each workload after one warm-up (default 5; --quick: 1)", "N" },
    { "jobs", 'n', 0, G_OPTION_ARG_INT, &opts.jobs,
      "Jobs of W1 and W4 (default 200000)", "N" },
    { "queue-depths", 0, 0, G_OPTION_ARG_STRING, &opts.queue_depths,
      "Priority queue depths, 1 to 3 ascending (default 10000,100000,1000000)", "N,…" },
    { "sorted-depths", 0, 0, G_OPTION_ARG_STRING, &opts.sorted_depths,
      "GThreadPool sorted queue depths, 2 ascending (default 10000,40000)", "N,N" },
    { "kind", 'k', 0, G_OPTION_ARG_STRING_ARRAY, &opts.kinds,
      "Run W1 on KIND only (repeatable; default: all six kinds); the limits' W1 on the first",
      "KIND" },
    { "only", 'o', 0, G_OPTION_ARG_STRING_ARRAY, &opts.only,
      "Run only these: w1 w2 w3 w4 queue memory burst idle limits aged (repeatable, or "
      "comma-separated)",
      "NAME" },
    { "memory-child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &opts.memory_child,
      "Measure the heap per queued job of KIND and print it", "KIND" },
    { "aged-child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &opts.aged_child,
      "Run W1 and W4 once, in a fresh or an aged heap, and print the seconds", "fresh|aged" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;

  g_option_context_set_summary (context,
                                "Measures libtaskpool against raw GLib baselines in the same\n"
                                "run: W1 to W4 of the specification, W1 and W4 in an aged heap,\n"
                                "the priority queue at depth, memory per queued job, the autoscale\n"
                                "burst, idle wake-ups, and the limits of the bundled gates.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("tp-bench: %s\n", error->message);
      return FALSE;
    }
  if (opts.runs == 0 || opts.runs < -1)
    {
      g_printerr ("tp-bench: --runs must be at least 1\n");
      return FALSE;
    }
  if (opts.runs == -1)
    opts.runs = opts.quick ? 1 : 5;
  sizes = opts.quick ? quick_sizes : full_sizes;
  if (opts.jobs > 0)
    sizes.w1_jobs = sizes.w4_jobs = opts.jobs;
  if (opts.queue_depths != NULL &&
      !parse_depths (opts.queue_depths, sizes.queue_depths, 1,
                     G_N_ELEMENTS (sizes.queue_depths), sizes.queue_batch, &sizes.n_queue_depths))
    {
      g_printerr ("tp-bench: --queue-depths wants 1 to 3 ascending numbers from %u on\n",
                  sizes.queue_batch);
      return FALSE;
    }
  if (opts.sorted_depths != NULL &&
      !parse_depths (opts.sorted_depths, sizes.gtp_depths, 2, 2, sizes.gtp_batch, NULL))
    {
      g_printerr ("tp-bench: --sorted-depths wants 2 ascending numbers from %u on\n",
                  sizes.gtp_batch);
      return FALSE;
    }
  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");  /* JSON and the memory child's answer use '.' */
  if (!parse_options (&argc, &argv))
    return 2;

  if (opts.memory_child != NULL)
    {
      g_print ("%.1f\n", memory_per_job (opts.memory_child));
      g_free (opts.memory_child);
      return 0;
    }
  if (opts.aged_child != NULL)
    {
      aged_child (opts.aged_child);
      g_free (opts.aged_child);
      g_strfreev (opts.kinds);
      return 0;
    }

  rows_init ();

  if (wants ("memory"))
    bench_memory ();
  if (wants ("w1"))
    bench_w1 ();
  if (wants ("w2"))
    bench_w2 ();
  if (wants ("w3"))
    bench_w3 ();
  if (wants ("w4"))
    bench_w4 ();
  if (wants ("aged"))
    bench_aged ();
  if (wants ("queue"))
    bench_queue ();
  if (wants ("burst"))
    bench_burst ();
  if (wants ("idle"))
    bench_idle ();
  if (wants ("limits"))
    bench_limits ();

  if (opts.json)
    print_json ();
  else
    print_table ();

  rows_clear ();
  g_strfreev (opts.only);
  g_strfreev (opts.kinds);
  g_free (opts.queue_depths);
  g_free (opts.sorted_depths);
  return 0;
}


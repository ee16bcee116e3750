/* tp-bench.c: libtaskpool against raw GLib, workload by workload
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The workloads of the specification — W1 async no-op jobs, W2 timer jobs, W3
 * blocking jobs, W4 no-op thread jobs — then the priority queue at depth, the
 * memory per queued job, the autoscale burst and the wake-ups of an idle pool.
 * Every timing runs next to its raw GLib baseline in the same process, the two
 * interleaved run by run (one warm-up, then --runs runs, the order rotated each
 * round), and is reported as a median and a ratio of medians: on a shared
 * machine only the ratios mean something.
 *
 * A benchmark never fails on speed: the program exits 0 whatever the figures,
 * and aborts only when a workload went wrong (a callback missing or failing).
 */

#define G_LOG_DOMAIN "tp-bench"

#include <locale.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <time.h>

#include <taskpool/taskpool.h>

#include "tp-job-private.h"
#include "tp-pool-private.h"
#include "tp-registry-private.h"

#define WARMUP_RUNS       1
#define POOL_SOURCE_NAME  "[taskpool] pool"

static const char * const all_kinds[] = {
  "fixed-simple", "fixed-lifo", "fixed-priority",
  "autoscale-simple", "autoscale-lifo", "autoscale-priority",
};

/* Options and sizes {{{ */

typedef struct {
  guint  w1_jobs;         /* W1: async no-op jobs */
  guint  w1_at_once;
  guint  w2_jobs;         /* W2: timer jobs */
  guint  w2_at_once;
  guint  w2_ms;
  guint  w3_jobs;         /* W3: blocking jobs */
  guint  w3_at_once;
  guint  w3_ms;
  guint  w4_jobs;         /* W4: no-op thread jobs */
  guint  w4_threads;
  guint  queue_depths[3]; /* priority queue: jobs queued, ascending */
  guint  n_queue_depths;
  guint  queue_batch;     /* pushes and pops timed at each depth */
  guint  gtp_depths[2];   /* GThreadPool's sorted queue: O(n) per push, so capped */
  guint  gtp_batch;
  guint  memory_jobs;     /* jobs queued to measure the heap */
  guint  burst_jobs;      /* autoscale burst: 10 ms timer jobs */
  guint  burst_min;
  guint  burst_max;
  guint  burst_ms;
  double idle_seconds;    /* how long idle pools are watched */
} Sizes;

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
};

typedef struct {
  gboolean  quick;
  gboolean  json;
  char     *memory_child;
  char    **kinds;
  int       runs;
  int       jobs;
  char     *queue_depths;
  char     *sorted_depths;
  char    **only;
} Options;

static Options opts = { .runs = -1 };  /* -1: not given */
static Sizes sizes;

static gboolean
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

static void
progress (const char *format,
          ...) G_GNUC_PRINTF (1, 2);

static void
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

/* }}} */

/* Measuring {{{ */

static inline double
now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
median (GArray *samples)
{
  g_autoptr(GArray) sorted = NULL;
  guint n = samples->len;

  g_assert (n > 0);
  sorted = g_array_copy (samples);
  g_array_sort (sorted, compare_doubles);
  if (n % 2 == 1)
    return g_array_index (sorted, double, n / 2);
  return (g_array_index (sorted, double, n / 2 - 1) + g_array_index (sorted, double, n / 2)) / 2;
}

static GArray *
samples_new (void)
{
  return g_array_new (FALSE, FALSE, sizeof (double));
}

static void
samples_add (GArray *samples,
             double  value)
{
  g_array_append_val (samples, value);
}

/* Each sample of @seconds turned into @scale / seconds (a rate) */
static GArray *
samples_inverse (GArray *seconds,
                 double  scale)
{
  GArray *rates = samples_new ();

  for (guint i = 0; i < seconds->len; i++)
    samples_add (rates, scale / g_array_index (seconds, double, i));
  return rates;
}

/* Each sample of @seconds divided by @unit (wall/ideal, time per operation) */
static GArray *
samples_scaled (GArray *seconds,
                double  unit)
{
  GArray *scaled = samples_new ();

  for (guint i = 0; i < seconds->len; i++)
    samples_add (scaled, g_array_index (seconds, double, i) / unit);
  return scaled;
}

/* Pool memory as glibc's malloc sees it: the arenas and the mmap()ed blocks */
static gint64
heap_in_use (void)
{
  struct mallinfo2 info = mallinfo2 ();

  return (gint64) info.uordblks + (gint64) info.hblkhd;
}

typedef double (*TrialFunc) (gpointer data);

/* One timed thing: its function returns the seconds one run took */
typedef struct {
  TrialFunc  func;
  gpointer   data;
  GArray    *seconds;
} Trial;

/* Runs every trial WARMUP_RUNS + runs times, interleaved so that a change of
 * load hits all of them alike, and rotated so that none always runs first. */
static void
trials_run (Trial *trials,
            guint  n_trials)
{
  guint rounds = WARMUP_RUNS + opts.runs;

  for (guint i = 0; i < n_trials; i++)
    trials[i].seconds = samples_new ();

  for (guint round = 0; round < rounds; round++)
    for (guint k = 0; k < n_trials; k++)
      {
        Trial *trial = &trials[(k + round) % n_trials];
        double seconds = trial->func (trial->data);

        if (round >= WARMUP_RUNS)
          samples_add (trial->seconds, seconds);
      }
}

static void
trials_clear (Trial *trials,
              guint  n_trials)
{
  for (guint i = 0; i < n_trials; i++)
    g_clear_pointer (&trials[i].seconds, g_array_unref);
}

/* }}} */

/* Results {{{ */

typedef enum {
  UNIT_RATE,      /* jobs/s */
  UNIT_IDEAL,     /* wall/ideal */
  UNIT_SECONDS,   /* per operation, shown in µs */
  UNIT_MS,
  UNIT_BYTES,
  UNIT_COUNT,
} Unit;

static const char * const unit_names[] = {
  "jobs/s", "wall/ideal", "s/op", "ms", "bytes/job", "count",
};

typedef enum {
  SECTION_W1,
  SECTION_W2,
  SECTION_W3,
  SECTION_W4,
  SECTION_QUEUE,
  SECTION_MEMORY,
  SECTION_BURST,
  SECTION_IDLE,
  N_SECTIONS
} Section;

typedef struct {
  Section   section;
  char     *workload;
  Unit      unit;
  double    value;
  GArray   *samples;           /* the runs, in unit */
  char     *baseline;          /* NULL: none */
  double    baseline_value;
  GArray   *baseline_samples;
  gboolean  has_ratio;
  double    ratio;
  char     *target;            /* NULL: none */
  int       met;               /* 1 met, 0 missed, -1 no target */
} Row;

static GPtrArray *rows;

static void
row_free (gpointer data)
{
  Row *row = data;

  g_free (row->workload);
  g_free (row->baseline);
  g_free (row->target);
  g_clear_pointer (&row->samples, g_array_unref);
  g_clear_pointer (&row->baseline_samples, g_array_unref);
  g_free (row);
}

/* Adds a row; takes @samples and @baseline_samples */
static Row *
row_add (Section     section,
         Unit        unit,
         const char *workload,
         GArray     *samples,
         const char *baseline,
         GArray     *baseline_samples)
{
  Row *row = g_new0 (Row, 1);

  row->section = section;
  row->unit = unit;
  row->workload = g_strdup (workload);
  row->samples = samples;
  row->value = median (samples);
  row->met = -1;
  if (baseline != NULL)
    {
      row->baseline = g_strdup (baseline);
      row->baseline_samples = baseline_samples;
      row->baseline_value = median (baseline_samples);
      row->has_ratio = row->baseline_value != 0;
      row->ratio = row->has_ratio ? row->value / row->baseline_value : 0;
    }
  g_ptr_array_add (rows, row);
  return row;
}

static GArray *
samples_of (double value)
{
  GArray *samples = samples_new ();

  samples_add (samples, value);
  return samples;
}

static void
row_target (Row        *row,
            const char *target,
            gboolean    met)
{
  g_free (row->target);
  row->target = g_strdup (target);
  row->met = met ? 1 : 0;
}

static char *
format_value (Unit   unit,
              double value)
{
  switch (unit)
    {
    case UNIT_RATE:
      if (value >= 1e6)
        return g_strdup_printf ("%.2f M/s", value / 1e6);
      return g_strdup_printf ("%.0f k/s", value / 1e3);
    case UNIT_IDEAL:
      return g_strdup_printf ("%.3f", value);
    case UNIT_SECONDS:
      if (value < 1e-6)
        return g_strdup_printf ("%.0f ns", value * 1e9);
      return g_strdup_printf ("%.2f µs", value * 1e6);
    case UNIT_MS:
      return g_strdup_printf ("%.2f ms", value * 1e3);
    case UNIT_BYTES:
      return g_strdup_printf ("%.0f B", value);
    case UNIT_COUNT:
    default:
      return g_strdup_printf ("%.0f", value);
    }
}

/* The rows by section, in the order each section added them */
static GPtrArray *
rows_in_order (void)
{
  GPtrArray *ordered = g_ptr_array_new ();

  for (guint s = 0; s < N_SECTIONS; s++)
    for (guint i = 0; i < rows->len; i++)
      if (((Row *) rows->pdata[i])->section == s)
        g_ptr_array_add (ordered, rows->pdata[i]);
  return ordered;
}

/* Markdown cells padded to a width counted in characters, not bytes */
static void
print_cell (GString    *line,
            const char *text,
            guint       width)
{
  glong length = g_utf8_strlen (text, -1);

  g_string_append_printf (line, "| %s", text);
  for (glong i = length; i < (glong) width; i++)
    g_string_append_c (line, ' ');
  g_string_append_c (line, ' ');
}

#define N_COLUMNS 7

static void
row_cells (Row  *row,
           char *cells[N_COLUMNS])
{
  cells[0] = g_strdup (row->workload);
  cells[1] = format_value (row->unit, row->value);
  cells[2] = g_strdup (row->baseline != NULL ? row->baseline : "—");
  cells[3] = row->baseline != NULL ? format_value (row->unit, row->baseline_value) : g_strdup ("—");
  cells[4] = row->has_ratio ? g_strdup_printf ("%.2f", row->ratio) : g_strdup ("—");
  cells[5] = g_strdup (row->target != NULL ? row->target : "—");
  cells[6] = g_strdup (row->met < 0 ? "—" : row->met ? "met" : "**not met**");
}

static void
print_table (void)
{
  const char *headers[N_COLUMNS] = {
    "workload", "libtaskpool", "baseline", "baseline figure", "ratio", "target", "met",
  };
  guint widths[N_COLUMNS];
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autoptr(GPtrArray) ordered = rows_in_order ();
  g_autoptr(GString) line = g_string_new (NULL);

  for (guint c = 0; c < N_COLUMNS; c++)
    widths[c] = g_utf8_strlen (headers[c], -1);

  for (guint i = 0; i < ordered->len; i++)
    {
      char **cells = g_new0 (char *, N_COLUMNS + 1);

      row_cells (ordered->pdata[i], cells);
      for (guint c = 0; c < N_COLUMNS; c++)
        widths[c] = MAX (widths[c], (guint) g_utf8_strlen (cells[c], -1));
      g_ptr_array_add (lines, cells);
    }

  for (guint c = 0; c < N_COLUMNS; c++)
    print_cell (line, headers[c], widths[c]);
  g_string_append (line, "|\n");
  for (guint c = 0; c < N_COLUMNS; c++)
    {
      g_string_append (line, "|");
      for (guint i = 0; i < widths[c] + 2; i++)
        g_string_append_c (line, '-');
    }
  g_string_append (line, "|\n");
  for (guint i = 0; i < lines->len; i++)
    {
      char **cells = lines->pdata[i];

      for (guint c = 0; c < N_COLUMNS; c++)
        print_cell (line, cells[c], widths[c]);
      g_string_append (line, "|\n");
    }
  fputs (line->str, stdout);
}

static void
json_string (GString    *out,
             const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_printf (out, "\\%c", *p);
      else if ((guchar) *p < 0x20)
        g_string_append_printf (out, "\\u%04x", (guchar) *p);
      else
        g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

static void
json_samples (GString *out,
              GArray  *samples)
{
  g_string_append_c (out, '[');
  for (guint i = 0; samples != NULL && i < samples->len; i++)
    g_string_append_printf (out, "%s%.6g", i > 0 ? ", " : "", g_array_index (samples, double, i));
  g_string_append_c (out, ']');
}

static void
print_json (void)
{
  static const char * const section_names[] = {
    "W1", "W2", "W3", "W4", "queue", "memory", "burst", "idle",
  };
  g_autoptr(GString) out = g_string_new ("{\n");
  g_autoptr(GPtrArray) ordered = rows_in_order ();

  g_string_append_printf (out, "  \"cpus\": %u,\n  \"glib\": \"%u.%u.%u\",\n",
                          g_get_num_processors (), glib_major_version, glib_minor_version,
                          glib_micro_version);
  g_string_append_printf (out, "  \"warmup\": %d,\n  \"runs\": %d,\n  \"quick\": %s,\n",
                          WARMUP_RUNS, opts.runs, opts.quick ? "true" : "false");
  g_string_append (out, "  \"rows\": [");
  for (guint i = 0; i < ordered->len; i++)
    {
      Row *row = ordered->pdata[i];

      g_string_append_printf (out, "%s\n    {\"section\": \"%s\", \"workload\": ", i > 0 ? "," : "",
                              section_names[row->section]);
      json_string (out, row->workload);
      g_string_append_printf (out, ", \"unit\": \"%s\", \"value\": %.6g, \"samples\": ",
                              unit_names[row->unit], row->value);
      json_samples (out, row->samples);
      if (row->baseline != NULL)
        {
          g_string_append (out, ", \"baseline\": ");
          json_string (out, row->baseline);
          g_string_append_printf (out, ", \"baseline_value\": %.6g, \"baseline_samples\": ",
                                  row->baseline_value);
          json_samples (out, row->baseline_samples);
        }
      if (row->has_ratio)
        g_string_append_printf (out, ", \"ratio\": %.6g", row->ratio);
      if (row->target != NULL)
        {
          g_string_append (out, ", \"target\": ");
          json_string (out, row->target);
          g_string_append_printf (out, ", \"met\": %s", row->met ? "true" : "false");
        }
      g_string_append_c (out, '}');
    }
  g_string_append (out, "\n  ]\n}\n");
  fputs (out->str, stdout);
}

/* }}} */

/* Shared pieces {{{ */

/* The callbacks of one run */
typedef struct {
  guint done;
  guint failed;
} Count;

static void
count_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Count *count = user_data;
  GError *error = NULL;

  tp_pool_submit_finish (TP_POOL (source), result, &error);
  if (error != NULL)
    {
      count->failed++;
      g_error_free (error);
    }
  count->done++;
}

/* Iterates the thread-default context until *counter reaches @target */
static void
wait_count (const guint *counter,
            guint        target)
{
  GMainContext *context = g_main_context_get_thread_default ();

  while (*counter < target)
    g_main_context_iteration (context, TRUE);
}

static void
check_count (const Count *count,
             guint        expected,
             const char  *what)
{
  if (count->done != expected || count->failed != 0)
    g_error ("%s: %u callbacks (%u failed), expected %u successes", what, count->done,
             count->failed, expected);
}

static gboolean
count_idle_cb (gpointer data)
{
  guint *counter = data;

  (*counter)++;
  return G_SOURCE_REMOVE;
}

/* What a thread does to tell the main thread a job ended: an idle per job */
static void
post_count (GMainContext *context,
            guint        *counter)
{
  GSource *source = g_idle_source_new ();

  g_source_set_callback (source, count_idle_cb, counter, NULL);
  g_source_attach (source, context);
  g_source_unref (source);
}

static void
add_timeout (guint       ms,
             GSourceFunc func,
             gpointer    data,
             GDestroyNotify destroy)
{
  GSource *source = g_timeout_source_new (ms);

  g_source_set_callback (source, func, data, destroy);
  g_source_attach (source, g_main_context_get_thread_default ());
  g_source_unref (source);
}

static TpPool *
bench_pool_new (const char *first_property,
                ...) G_GNUC_NULL_TERMINATED;

/* Makes and starts a pool on the thread-default context */
static TpPool *
bench_pool_new (const char *first_property,
                ...)
{
  GError *error = NULL;
  TpPool *pool;
  va_list args;

  va_start (args, first_property);
  pool = (TpPool *) g_initable_new_valist (TP_TYPE_POOL, first_property, args, NULL, &error);
  va_end (args);
  if (pool == NULL || !tp_pool_start (pool, &error))
    g_error ("Cannot make a pool: %s", error->message);
  return pool;
}

/* A pool of @kind that runs @size jobs at once */
static TpPool *
pool_of_size (const char *kind,
              guint       size)
{
  if (g_str_has_prefix (kind, "autoscale-"))
    return bench_pool_new ("kind", kind, "min-size", size, "max-size", MAX (size, 1), NULL);
  return bench_pool_new ("kind", kind, "size", size, NULL);
}

/* An async job that completes at once */
static void
noop_job (GTask        *task,
          gpointer      pool,
          gpointer      job_data,
          GCancellable *cancellable)
{
  g_task_return_pointer (task, NULL, NULL);
}

static gboolean
timer_job_done_cb (gpointer data)
{
  g_task_return_pointer (data, NULL, NULL);
  return G_SOURCE_REMOVE;
}

/* An async job that completes its task @job_data ms later */
static void
timer_job (GTask        *task,
           gpointer      pool,
           gpointer      job_data,
           GCancellable *cancellable)
{
  add_timeout (GPOINTER_TO_UINT (job_data), timer_job_done_cb, g_object_ref (task),
               g_object_unref);
}

/* Raw GLib: @at_once chains of callbacks, refilled from the callbacks */
typedef struct {
  guint jobs;
  guint started;
  guint done;
  guint ms;
} Chain;

static gboolean
chain_timer_cb (gpointer data)
{
  Chain *chain = data;

  chain->done++;
  if (chain->started < chain->jobs)
    {
      chain->started++;
      add_timeout (chain->ms, chain_timer_cb, chain, NULL);
    }
  return G_SOURCE_REMOVE;
}

/* Runs @jobs timers of @ms, @at_once at a time; returns the seconds taken */
static double
chain_timers_run (guint jobs,
                  guint at_once,
                  guint ms)
{
  Chain chain = { .jobs = jobs, .ms = ms };
  double start = now_s ();

  while (chain.started < MIN (at_once, jobs))
    {
      chain.started++;
      add_timeout (ms, chain_timer_cb, &chain, NULL);
    }
  wait_count (&chain.done, jobs);
  return now_s () - start;
}

/* GLib counts no dispatches per source, so the bench wraps the dispatch of a
 * pool's source to count its wake-ups. A pool made first on a fresh context
 * owns one of its first source ids. */
typedef struct {
  GSourceFuncs        funcs;
  const GSourceFuncs *original;
  GSource            *source;
  guint               dispatches;
} SourceSpy;

static SourceSpy spy;

static gboolean
spy_dispatch (GSource     *source,
              GSourceFunc  callback,
              gpointer     user_data)
{
  spy.dispatches++;
  return spy.original->dispatch (source, callback, user_data);
}

static gboolean
spy_install (GMainContext *context)
{
  for (guint id = 1; id < 16; id++)
    {
      GSource *source = g_main_context_find_source_by_id (context, id);

      if (source == NULL || g_strcmp0 (g_source_get_name (source), POOL_SOURCE_NAME) != 0)
        continue;
      spy.original = source->source_funcs;
      spy.funcs = *spy.original;
      spy.funcs.dispatch = spy_dispatch;
      spy.source = source;
      spy.dispatches = 0;
      source->source_funcs = &spy.funcs;
      return TRUE;
    }
  return FALSE;
}

static void
spy_uninstall (void)
{
  if (spy.source != NULL)
    spy.source->source_funcs = spy.original;
  spy.source = NULL;
}

/* }}} */

/* W1: 200 000 async no-op jobs, 16 at once {{{ */

typedef struct {
  const char *kind;
  guint       jobs;
  guint       at_once;
} W1;

/* All jobs submitted up front, then the main loop until every callback ran */
static double
w1_pool_run (gpointer data)
{
  W1 *w1 = data;
  TpPool *pool = pool_of_size (w1->kind, w1->at_once);
  Count count = { 0, };
  double start = now_s ();
  double seconds;

  for (guint i = 0; i < w1->jobs; i++)
    tp_pool_submit_async (pool, noop_job, NULL, NULL, NULL, count_cb, &count);
  wait_count (&count.done, w1->jobs);
  seconds = now_s () - start;

  check_count (&count, w1->jobs, w1->kind);
  g_object_unref (pool);
  return seconds;
}

static void w1_gtask_start (Chain *chain);

static void
w1_gtask_done_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Chain *chain = user_data;

  g_task_propagate_pointer (G_TASK (result), NULL);
  chain->done++;
  if (chain->started < chain->jobs)
    w1_gtask_start (chain);
}

static void
w1_gtask_start (Chain *chain)
{
  GTask *task = g_task_new (NULL, NULL, w1_gtask_done_cb, chain);

  chain->started++;
  g_task_return_pointer (task, NULL, NULL);
  g_object_unref (task);
}

/* Baseline (a): a GTask returned at once, its callback run by the main loop */
static double
w1_gtask_run (gpointer data)
{
  W1 *w1 = data;
  Chain chain = { .jobs = w1->jobs };
  double start = now_s ();

  while (chain.started < MIN (w1->at_once, w1->jobs))
    w1_gtask_start (&chain);
  wait_count (&chain.done, w1->jobs);
  return now_s () - start;
}

static gboolean
w1_idle_cb (gpointer data)
{
  Chain *chain = data;

  chain->done++;
  if (chain->started < chain->jobs)
    {
      chain->started++;
      g_idle_add (w1_idle_cb, chain);
    }
  return G_SOURCE_REMOVE;
}

/* Baseline (b): plain main-loop dispatch, one g_idle_add() per job */
static double
w1_idle_run (gpointer data)
{
  W1 *w1 = data;
  Chain chain = { .jobs = w1->jobs };
  double start = now_s ();

  while (chain.started < MIN (w1->at_once, w1->jobs))
    {
      chain.started++;
      g_idle_add (w1_idle_cb, &chain);
    }
  wait_count (&chain.done, w1->jobs);
  return now_s () - start;
}

typedef struct {
  guint   jobs;
  guint   done;
  GTask **tasks;
} Upfront;

static void
w1_upfront_done_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Upfront *upfront = user_data;

  g_task_propagate_pointer (G_TASK (result), NULL);
  upfront->done++;
}

static gboolean
w1_upfront_return_cb (gpointer data)
{
  Upfront *upfront = data;

  for (guint i = 0; i < upfront->jobs; i++)
    {
      g_task_return_pointer (upfront->tasks[i], NULL, NULL);
      g_object_unref (upfront->tasks[i]);
    }
  return G_SOURCE_REMOVE;
}

/* Baseline (c): the shape of the pool's run without the pool: every GTask
 * made up front, then all returned from one dispatch of a later iteration,
 * so that GTask calls each callback directly */
static double
w1_upfront_run (gpointer data)
{
  W1 *w1 = data;
  Upfront upfront = { w1->jobs, 0, g_new (GTask *, w1->jobs) };
  double start = now_s ();
  double seconds;

  for (guint i = 0; i < w1->jobs; i++)
    upfront.tasks[i] = g_task_new (NULL, NULL, w1_upfront_done_cb, &upfront);
  g_idle_add (w1_upfront_return_cb, &upfront);
  wait_count (&upfront.done, w1->jobs);
  seconds = now_s () - start;

  g_free (upfront.tasks);
  return seconds;
}

static void
bench_w1 (void)
{
  enum { GTASK, IDLE, UPFRONT, FIRST_KIND, MAX_TRIALS = FIRST_KIND + G_N_ELEMENTS (all_kinds) };
  const char * const *kinds = opts.kinds != NULL ? (const char * const *) opts.kinds : all_kinds;
  guint n_kinds = opts.kinds != NULL ? g_strv_length (opts.kinds) : G_N_ELEMENTS (all_kinds);
  guint n_trials = FIRST_KIND + MIN (n_kinds, G_N_ELEMENTS (all_kinds));
  W1 w1[MAX_TRIALS];
  Trial trials[MAX_TRIALS];
  g_autofree char *baseline = NULL;

  for (guint i = 0; i < n_trials; i++)
    {
      w1[i] = (W1) { i >= FIRST_KIND ? kinds[i - FIRST_KIND] : NULL,
                     sizes.w1_jobs, sizes.w1_at_once };
      trials[i] = (Trial) { i == GTASK ? w1_gtask_run : i == IDLE ? w1_idle_run :
                            i == UPFRONT ? w1_upfront_run : w1_pool_run, &w1[i], NULL };
    }
  progress ("W1: %u async no-op jobs, %u at once, on %u kinds and 3 baselines",
            sizes.w1_jobs, sizes.w1_at_once, n_trials - FIRST_KIND);
  trials_run (trials, n_trials);

  baseline = g_strdup_printf ("(a) GTask round trip, %u outstanding", sizes.w1_at_once);
  for (guint i = FIRST_KIND; i < n_trials; i++)
    {
      g_autofree char *name = g_strdup_printf ("W1 async no-op, %s, %u at once", w1[i].kind,
                                               sizes.w1_at_once);
      Row *row = row_add (SECTION_W1, UNIT_RATE, name,
                          samples_inverse (trials[i].seconds, sizes.w1_jobs), baseline,
                          samples_inverse (trials[GTASK].seconds, sizes.w1_jobs));

      row_target (row, "≥ 1 M/s and ≥ 1.3 × (a)", row->value >= 1e6 && row->ratio >= 1.3);
    }
  row_add (SECTION_W1, UNIT_RATE, "W1 baseline (b): plain dispatch, one g_idle_add per job",
           samples_inverse (trials[IDLE].seconds, sizes.w1_jobs), baseline,
           samples_inverse (trials[GTASK].seconds, sizes.w1_jobs));
  row_add (SECTION_W1, UNIT_RATE, "W1 baseline (c): GTasks made up front, returned in one dispatch",
           samples_inverse (trials[UPFRONT].seconds, sizes.w1_jobs), baseline,
           samples_inverse (trials[GTASK].seconds, sizes.w1_jobs));
  trials_clear (trials, n_trials);
}

/* }}} */

/* W2: 2000 × 10 ms timer jobs, 100 at once {{{ */

static double
w2_pool_run (gpointer data)
{
  TpPool *pool = pool_of_size ("fixed-simple", sizes.w2_at_once);
  Count count = { 0, };
  double start = now_s ();
  double seconds;

  for (guint i = 0; i < sizes.w2_jobs; i++)
    tp_pool_submit_async (pool, timer_job, GUINT_TO_POINTER (sizes.w2_ms), NULL, NULL, count_cb,
                          &count);
  wait_count (&count.done, sizes.w2_jobs);
  seconds = now_s () - start;

  check_count (&count, sizes.w2_jobs, "W2");
  g_object_unref (pool);
  return seconds;
}

static double
w2_raw_run (gpointer data)
{
  return chain_timers_run (sizes.w2_jobs, sizes.w2_at_once, sizes.w2_ms);
}

static void
bench_w2 (void)
{
  Trial trials[] = { { w2_pool_run, NULL, NULL }, { w2_raw_run, NULL, NULL } };
  double ideal = (double) sizes.w2_jobs / sizes.w2_at_once * sizes.w2_ms / 1000;
  g_autofree char *name = NULL;
  g_autofree char *baseline = NULL;
  Row *row;

  progress ("W2: %u × %u ms timer jobs, %u at once", sizes.w2_jobs, sizes.w2_ms,
            sizes.w2_at_once);
  trials_run (trials, G_N_ELEMENTS (trials));

  name = g_strdup_printf ("W2 %u × %u ms timer jobs, %u at once, fixed-simple (ideal %.2f s)",
                          sizes.w2_jobs, sizes.w2_ms, sizes.w2_at_once, ideal);
  baseline = g_strdup_printf ("g_timeout_add, %u at a time", sizes.w2_at_once);
  row = row_add (SECTION_W2, UNIT_IDEAL, name, samples_scaled (trials[0].seconds, ideal),
                 baseline, samples_scaled (trials[1].seconds, ideal));
  row_target (row, "≤ 1.04", row->value <= 1.04);
  trials_clear (trials, G_N_ELEMENTS (trials));
}

/* }}} */

/* W3: 256 × 20 ms blocking jobs, 32 at once {{{ */

typedef struct {
  const char   *executor;    /* NULL: a baseline */
  GMainContext *context;
  guint         done;
  int           running;     /* atomic */
  int           peak;        /* atomic */
  int           run_peak;    /* the smallest peak of a run: 32 at once every time */
} W3;

static void
w3_block (W3 *w3)
{
  int running = g_atomic_int_add (&w3->running, 1) + 1;
  int peak = g_atomic_int_get (&w3->peak);

  while (running > peak && !g_atomic_int_compare_and_exchange (&w3->peak, peak, running))
    peak = g_atomic_int_get (&w3->peak);
  g_usleep (sizes.w3_ms * 1000);
  g_atomic_int_add (&w3->running, -1);
}

static void
w3_pool_job (GTask        *task,
             gpointer      pool,
             gpointer      job_data,
             GCancellable *cancellable)
{
  w3_block (job_data);
  g_task_return_pointer (task, NULL, NULL);
}

static void
w3_run_begin (W3 *w3)
{
  w3->done = 0;
  g_atomic_int_set (&w3->peak, 0);
}

static void
w3_run_end (W3 *w3)
{
  int peak = g_atomic_int_get (&w3->peak);

  w3->run_peak = w3->run_peak == 0 ? peak : MIN (w3->run_peak, peak);
}

static double
w3_pool_run (gpointer data)
{
  W3 *w3 = data;
  TpPool *pool = bench_pool_new ("kind", "fixed-simple", "size", sizes.w3_at_once,
                                 "executor", w3->executor, NULL);
  Count count = { 0, };
  double start = now_s ();
  double seconds;

  w3_run_begin (w3);
  for (guint i = 0; i < sizes.w3_jobs; i++)
    tp_pool_submit_in_thread_async (pool, w3_pool_job, w3, NULL, NULL, count_cb, &count);
  wait_count (&count.done, sizes.w3_jobs);
  seconds = now_s () - start;
  w3_run_end (w3);

  check_count (&count, sizes.w3_jobs, "W3");
  g_object_unref (pool);
  return seconds;
}

static void
w3_gtp_func (gpointer data,
             gpointer user_data)
{
  W3 *w3 = user_data;

  w3_block (w3);
  post_count (w3->context, &w3->done);
}

static double
w3_gtp_run (gpointer data)
{
  W3 *w3 = data;
  double start = now_s ();
  GThreadPool *threads = g_thread_pool_new (w3_gtp_func, w3, sizes.w3_at_once, FALSE, NULL);
  double seconds;

  w3_run_begin (w3);
  for (guint i = 0; i < sizes.w3_jobs; i++)
    g_thread_pool_push (threads, GUINT_TO_POINTER (i + 1), NULL);
  wait_count (&w3->done, sizes.w3_jobs);
  seconds = now_s () - start;
  w3_run_end (w3);

  g_thread_pool_free (threads, FALSE, TRUE);
  return seconds;
}

static void
w3_gtask_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  w3_block (task_data);
  g_task_return_pointer (task, NULL, NULL);
}

static void
w3_gtask_done_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  W3 *w3 = user_data;

  g_task_propagate_pointer (G_TASK (result), NULL);
  w3->done++;
}

static double
w3_gtask_run (gpointer data)
{
  W3 *w3 = data;
  double start = now_s ();
  double seconds;

  w3_run_begin (w3);
  for (guint i = 0; i < sizes.w3_jobs; i++)
    {
      GTask *task = g_task_new (NULL, NULL, w3_gtask_done_cb, w3);

      g_task_set_task_data (task, w3, NULL);
      g_task_run_in_thread (task, w3_gtask_thread);
      g_object_unref (task);
    }
  wait_count (&w3->done, sizes.w3_jobs);
  seconds = now_s () - start;
  w3_run_end (w3);
  return seconds;
}

static void
bench_w3 (void)
{
  enum { POOL_THREADS, GTP, POOL_GTASK, GTASK, N_TRIALS };
  W3 w3[N_TRIALS] = {
    [POOL_THREADS] = { .executor = "threads" },
    [POOL_GTASK] = { .executor = "gtask" },
  };
  Trial trials[N_TRIALS] = {
    [POOL_THREADS] = { w3_pool_run, &w3[POOL_THREADS], NULL },
    [GTP] = { w3_gtp_run, &w3[GTP], NULL },
    [POOL_GTASK] = { w3_pool_run, &w3[POOL_GTASK], NULL },
    [GTASK] = { w3_gtask_run, &w3[GTASK], NULL },
  };
  double ideal = (double) sizes.w3_jobs / sizes.w3_at_once * sizes.w3_ms / 1000;
  g_autofree char *name_threads = NULL;
  g_autofree char *name_gtask = NULL;
  g_autofree char *baseline_threads = NULL;
  g_autofree char *baseline_gtask = NULL;
  g_autofree char *target = NULL;
  Row *row;

  for (guint i = 0; i < N_TRIALS; i++)
    w3[i].context = g_main_context_ref_thread_default ();
  progress ("W3: %u × %u ms blocking jobs, %u at once", sizes.w3_jobs, sizes.w3_ms,
            sizes.w3_at_once);
  trials_run (trials, N_TRIALS);

  name_threads = g_strdup_printf ("W3 %u × %u ms blocking, %u at once, executor threads "
                                  "(ideal %.2f s; fewest at once in a run: %d)",
                                  sizes.w3_jobs, sizes.w3_ms, sizes.w3_at_once, ideal,
                                  w3[POOL_THREADS].run_peak);
  baseline_threads = g_strdup_printf ("GThreadPool (%u threads) + idle per job (at once: %d)",
                                      sizes.w3_at_once, w3[GTP].run_peak);
  row = row_add (SECTION_W3, UNIT_IDEAL, name_threads,
                 samples_scaled (trials[POOL_THREADS].seconds, ideal), baseline_threads,
                 samples_scaled (trials[GTP].seconds, ideal));
  target = g_strdup_printf ("≤ 1.04, %u at once", sizes.w3_at_once);
  row_target (row, target, row->value <= 1.04 &&
              w3[POOL_THREADS].run_peak == (int) sizes.w3_at_once);

  name_gtask = g_strdup_printf ("W3 %u × %u ms blocking, %u at once, executor gtask "
                                "(at once: %d)", sizes.w3_jobs, sizes.w3_ms, sizes.w3_at_once,
                                w3[POOL_GTASK].run_peak);
  baseline_gtask = g_strdup_printf ("g_task_run_in_thread (at once: %d)", w3[GTASK].run_peak);
  row_add (SECTION_W3, UNIT_IDEAL, name_gtask, samples_scaled (trials[POOL_GTASK].seconds, ideal),
           baseline_gtask, samples_scaled (trials[GTASK].seconds, ideal));

  for (guint i = 0; i < N_TRIALS; i++)
    g_main_context_unref (w3[i].context);
  trials_clear (trials, N_TRIALS);
}

/* }}} */

/* W4: 200 000 no-op thread jobs on 2 threads {{{ */

static void
w4_pool_job (GTask        *task,
             gpointer      pool,
             gpointer      job_data,
             GCancellable *cancellable)
{
  g_task_return_pointer (task, NULL, NULL);
}

static double
w4_pool_run (gpointer data)
{
  TpPool *pool = bench_pool_new ("kind", "fixed-simple", "size", sizes.w4_threads, NULL);
  Count count = { 0, };
  double start = now_s ();
  double seconds;

  for (guint i = 0; i < sizes.w4_jobs; i++)
    tp_pool_submit_in_thread_async (pool, w4_pool_job, NULL, NULL, NULL, count_cb, &count);
  wait_count (&count.done, sizes.w4_jobs);
  seconds = now_s () - start;

  check_count (&count, sizes.w4_jobs, "W4");
  g_object_unref (pool);
  return seconds;
}

typedef struct {
  GMainContext *context;
  guint         done;
} W4;

static void
w4_gtp_func (gpointer data,
             gpointer user_data)
{
  W4 *w4 = user_data;

  post_count (w4->context, &w4->done);
}

/* GThreadPool whose jobs each post a callback counted on the main thread */
static double
w4_gtp_run (gpointer data)
{
  W4 w4 = { g_main_context_get_thread_default (), 0 };
  double start = now_s ();
  GThreadPool *threads = g_thread_pool_new (w4_gtp_func, &w4, sizes.w4_threads, FALSE, NULL);
  double seconds;

  for (guint i = 0; i < sizes.w4_jobs; i++)
    g_thread_pool_push (threads, GUINT_TO_POINTER (i + 1), NULL);
  wait_count (&w4.done, sizes.w4_jobs);
  seconds = now_s () - start;

  g_thread_pool_free (threads, FALSE, TRUE);
  return seconds;
}

static void
w4_gtask_func (gpointer data,
               gpointer user_data)
{
  GTask *task = data;

  g_task_return_pointer (task, NULL, NULL);
  g_object_unref (task);
}

static void
w4_gtask_done_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  guint *done = user_data;

  g_task_propagate_pointer (G_TASK (result), NULL);
  (*done)++;
}

/* The future without the pool: a GTask made per job on the main thread and
 * returned from a GThreadPool thread, as a pool's thread job returns it */
static double
w4_gtp_gtask_run (gpointer data)
{
  guint done = 0;
  double start = now_s ();
  GThreadPool *threads = g_thread_pool_new (w4_gtask_func, NULL, sizes.w4_threads, FALSE, NULL);
  double seconds;

  for (guint i = 0; i < sizes.w4_jobs; i++)
    g_thread_pool_push (threads, g_task_new (NULL, NULL, w4_gtask_done_cb, &done), NULL);
  wait_count (&done, sizes.w4_jobs);
  seconds = now_s () - start;

  g_thread_pool_free (threads, FALSE, TRUE);
  return seconds;
}

static void
bench_w4 (void)
{
  enum { POOL, GTP, GTP_GTASK, N_TRIALS };
  Trial trials[N_TRIALS] = {
    [POOL] = { w4_pool_run, NULL, NULL },
    [GTP] = { w4_gtp_run, NULL, NULL },
    [GTP_GTASK] = { w4_gtp_gtask_run, NULL, NULL },
  };
  g_autofree char *name = NULL;
  g_autofree char *name_gtask = NULL;
  g_autofree char *baseline = NULL;
  Row *row;

  progress ("W4: %u no-op thread jobs on %u threads", sizes.w4_jobs, sizes.w4_threads);
  trials_run (trials, N_TRIALS);

  name = g_strdup_printf ("W4 %u no-op thread jobs, fixed-simple size %u (threads)",
                          sizes.w4_jobs, sizes.w4_threads);
  baseline = g_strdup_printf ("(a) GThreadPool (%u threads) + idle per job", sizes.w4_threads);
  row = row_add (SECTION_W4, UNIT_RATE, name, samples_inverse (trials[POOL].seconds, sizes.w4_jobs),
                 baseline, samples_inverse (trials[GTP].seconds, sizes.w4_jobs));
  row_target (row, "≥ 0.8 × (a)", row->ratio >= 0.8);

  name_gtask = g_strdup_printf ("W4 baseline (b): GThreadPool (%u threads) returning a GTask "
                                "made per job", sizes.w4_threads);
  row_add (SECTION_W4, UNIT_RATE, name_gtask,
           samples_inverse (trials[GTP_GTASK].seconds, sizes.w4_jobs), baseline,
           samples_inverse (trials[GTP].seconds, sizes.w4_jobs));
  trials_clear (trials, N_TRIALS);
}

/* }}} */

/* Priority queue at depth {{{
 *
 * At each depth N the queue is filled once, then each round times a batch of
 * pushes (N → N + batch) and a batch of pops (back to N). Through the pool, a
 * push is a submission to a fixed-priority pool of size 0, and a pop is
 * tp_pool_scale (+batch), which hands the batch's smallest weights to new
 * workers; the pool then runs them and their workers retire. The heap alone is
 * the queue-priority strategy driven directly, without GTask or pool. */

#define WEIGHT_RANGE (1 << 20)

static const char *
depth_name (guint depth)
{
  static char names[4][32];
  static guint next;
  char *name = names[next++ % G_N_ELEMENTS (names)];

  if (depth >= 1000000 && depth % 1000000 == 0)
    g_snprintf (name, sizeof names[0], "%u M", depth / 1000000);
  else if (depth >= 1000 && depth % 1000 == 0)
    g_snprintf (name, sizeof names[0], "%u k", depth / 1000);
  else
    g_snprintf (name, sizeof names[0], "%u", depth);
  return name;
}

typedef struct {
  GArray *push;   /* seconds per operation */
  GArray *pop;
} OpSamples;

static void
op_samples_init (OpSamples *ops)
{
  ops->push = samples_new ();
  ops->pop = samples_new ();
}

static void
queue_pool_at_depth (guint      depth,
                     GRand     *rand,
                     OpSamples *ops)
{
  TpPool *pool = bench_pool_new ("kind", "fixed-priority", "size", 0, NULL);
  guint batch = sizes.queue_batch;
  Count count = { 0, };
  guint submitted = 0;

  for (; submitted < depth; submitted++)
    tp_pool_submit_full_async (pool, TP_SUBMIT_DEFAULT, g_rand_int_range (rand, 0, WEIGHT_RANGE),
                               noop_job, NULL, NULL, NULL, count_cb, &count);

  for (guint round = 0; round < WARMUP_RUNS + (guint) opts.runs; round++)
    {
      double start = now_s ();
      double pushed;
      double popped;

      for (guint i = 0; i < batch; i++)
        tp_pool_submit_full_async (pool, TP_SUBMIT_DEFAULT,
                                   g_rand_int_range (rand, 0, WEIGHT_RANGE), noop_job, NULL, NULL,
                                   NULL, count_cb, &count);
      pushed = now_s ();
      tp_pool_scale (pool, (int) batch);
      popped = now_s ();
      submitted += batch;
      if (tp_pool_get_waiting (pool) != depth)
        g_error ("priority queue: %u waiting, expected %u", tp_pool_get_waiting (pool), depth);

      tp_pool_scale (pool, -(int) batch);
      wait_count (&count.done, batch * (round + 1));
      if (round >= WARMUP_RUNS)
        {
          samples_add (ops->push, (pushed - start) / batch);
          samples_add (ops->pop, (popped - pushed) / batch);
        }
    }

  /* The rest fail with TP_POOL_ERROR_CLOSED: count.failed */
  tp_pool_close_async (pool, TP_CLOSE_DISCARD_QUEUED, NULL, NULL, NULL);
  wait_count (&count.done, submitted);
  if (count.failed != depth)
    g_error ("priority queue: %u discarded, expected %u", count.failed, depth);
  g_object_unref (pool);
}

static void
queue_heap_at_depth (const TpQueueStrategy *vt,
                     guint                  depth,
                     GRand                 *rand,
                     OpSamples             *ops)
{
  guint batch = sizes.queue_batch;
  g_autofree TpJob *jobs = g_new0 (TpJob, depth + batch);
  g_autofree TpJob **spare = g_new (TpJob *, batch);
  GError *error = NULL;
  gpointer queue = vt->create (NULL, NULL, &error);
  guint64 sequence = 0;

  if (queue == NULL)
    g_error ("priority queue: %s", error->message);
  for (guint i = 0; i < depth; i++)
    {
      jobs[i].weight = g_rand_int_range (rand, 0, WEIGHT_RANGE);
      jobs[i].sequence = sequence++;
      vt->push (queue, &jobs[i]);
    }
  for (guint i = 0; i < batch; i++)
    spare[i] = &jobs[depth + i];

  for (guint round = 0; round < WARMUP_RUNS + (guint) opts.runs; round++)
    {
      double start;
      double pushed;
      double popped;

      /* The jobs popped last round, made new before the clock starts: a job
       * reaches a queue just made (or moved from the backlog), never cold */
      for (guint i = 0; i < batch; i++)
        {
          spare[i]->weight = g_rand_int_range (rand, 0, WEIGHT_RANGE);
          spare[i]->sequence = sequence++;
        }
      start = now_s ();
      for (guint i = 0; i < batch; i++)
        vt->push (queue, spare[i]);
      pushed = now_s ();
      for (guint i = 0; i < batch; i++)
        spare[i] = vt->pop (queue);
      popped = now_s ();
      if (round >= WARMUP_RUNS)
        {
          samples_add (ops->push, (pushed - start) / batch);
          samples_add (ops->pop, (popped - pushed) / batch);
        }
    }
  g_assert (vt->length (queue) == depth);
  vt->destroy (queue);
}

typedef struct {
  GMutex   mutex;
  GCond    cond;
  gboolean started;
  gboolean released;
} Blocker;

#define BLOCKER_ITEM GINT_TO_POINTER (-1)

static void
gtp_blocked_func (gpointer data,
                  gpointer user_data)
{
  Blocker *blocker = user_data;

  if (data != BLOCKER_ITEM)
    return;
  g_mutex_lock (&blocker->mutex);
  blocker->started = TRUE;
  g_cond_broadcast (&blocker->cond);
  while (!blocker->released)
    g_cond_wait (&blocker->cond, &blocker->mutex);
  g_mutex_unlock (&blocker->mutex);
}

static int
gtp_compare (gconstpointer a,
             gconstpointer b,
             gpointer      user_data)
{
  int x = GPOINTER_TO_INT (a);
  int y = GPOINTER_TO_INT (b);

  return x < y ? -1 : x > y;
}

/* GThreadPool's sorted insert: one thread, blocked on its first task */
static void
queue_gtp_at_depth (guint   depth,
                    GRand  *rand,
                    GArray *push)
{
  Blocker blocker = { 0, };
  GThreadPool *threads = g_thread_pool_new (gtp_blocked_func, &blocker, 1, FALSE, NULL);

  g_mutex_init (&blocker.mutex);
  g_cond_init (&blocker.cond);
  g_thread_pool_push (threads, BLOCKER_ITEM, NULL);
  g_mutex_lock (&blocker.mutex);
  while (!blocker.started)
    g_cond_wait (&blocker.cond, &blocker.mutex);
  g_mutex_unlock (&blocker.mutex);

  g_thread_pool_set_sort_function (threads, gtp_compare, NULL);
  for (guint i = 0; i < depth; i++)
    g_thread_pool_push (threads, GINT_TO_POINTER (g_rand_int_range (rand, 1, WEIGHT_RANGE)), NULL);

  for (guint round = 0; round < WARMUP_RUNS + (guint) opts.runs; round++)
    {
      double start = now_s ();

      for (guint i = 0; i < sizes.gtp_batch; i++)
        g_thread_pool_push (threads, GINT_TO_POINTER (g_rand_int_range (rand, 1, WEIGHT_RANGE)),
                            NULL);
      if (round >= WARMUP_RUNS)
        samples_add (push, (now_s () - start) / sizes.gtp_batch);
    }

  g_mutex_lock (&blocker.mutex);
  blocker.released = TRUE;
  g_cond_broadcast (&blocker.cond);
  g_mutex_unlock (&blocker.mutex);
  g_thread_pool_free (threads, TRUE, TRUE);
  g_mutex_clear (&blocker.mutex);
  g_cond_clear (&blocker.cond);
}

/* The O(log n) bound with room for cache misses: twice the growth of log n */
static double
log_bound (guint depth,
           guint base)
{
  return 2 * log (depth) / log (base);
}

/* One row per depth: the first one against @first_baseline (if any), the
 * deeper ones against the first one, within the O(log n) bound */
static void
queue_growth_rows (const char *what,
                   OpSamples  *per_depth,
                   gboolean    pops,
                   const char *first_baseline,
                   GArray     *first_baseline_samples)
{
  guint base = sizes.queue_depths[0];

  for (guint d = 0; d < sizes.n_queue_depths; d++)
    {
      guint depth = sizes.queue_depths[d];
      GArray *samples = pops ? per_depth[d].pop : per_depth[d].push;
      GArray *base_samples = pops ? per_depth[0].pop : per_depth[0].push;
      g_autofree char *name = g_strdup_printf ("%s, %s queued", what, depth_name (depth));
      g_autofree char *baseline = NULL;
      g_autofree char *target = NULL;
      Row *row;

      if (d == 0)
        {
          row_add (SECTION_QUEUE, UNIT_SECONDS, name, g_array_ref (samples), first_baseline,
                   first_baseline != NULL ? g_array_ref (first_baseline_samples) : NULL);
          continue;
        }
      baseline = g_strdup_printf ("the same, %s queued", depth_name (base));
      row = row_add (SECTION_QUEUE, UNIT_SECONDS, name, g_array_ref (samples), baseline,
                     g_array_ref (base_samples));
      target = g_strdup_printf ("O(log n): ratio ≤ %.2f (2 × log growth)",
                                log_bound (depth, base));
      row_target (row, target, row->ratio <= log_bound (depth, base));
    }
}

static void
queue_rows (OpSamples *pool_ops,
            OpSamples *heap_ops,
            GArray   **gtp_push)
{
  g_autofree char *gtp_first = g_strdup_printf ("GThreadPool sorted push, %s queued",
                                                depth_name (sizes.gtp_depths[0]));
  g_autofree char *gtp_name = g_strdup_printf ("GThreadPool sorted push, %s queued",
                                               depth_name (sizes.gtp_depths[1]));
  g_autofree char *gtp_baseline = g_strdup_printf ("the same, %s queued",
                                                   depth_name (sizes.gtp_depths[0]));

  queue_growth_rows ("Priority submit (push)", pool_ops, FALSE, gtp_first, gtp_push[0]);
  queue_growth_rows ("Priority pop (tp_pool_scale +batch)", pool_ops, TRUE, NULL, NULL);
  queue_growth_rows ("Heap pop (queue-priority strategy alone)", heap_ops, TRUE, NULL, NULL);
  queue_growth_rows ("Heap push (queue-priority strategy alone)", heap_ops, FALSE, NULL, NULL);
  row_add (SECTION_QUEUE, UNIT_SECONDS, gtp_name, g_array_ref (gtp_push[1]), gtp_baseline,
           g_array_ref (gtp_push[0]));
}

static void
bench_queue (void)
{
  OpSamples pool_ops[G_N_ELEMENTS (sizes.queue_depths)];
  OpSamples heap_ops[G_N_ELEMENTS (sizes.queue_depths)];
  GArray *gtp_push[G_N_ELEMENTS (sizes.gtp_depths)];
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240611);
  GError *error = NULL;
  const TpQueueStrategy *vt = tp_registry_lookup_queue (NULL, "priority", &error);

  if (vt == NULL)
    g_error ("priority queue: %s", error->message);

  for (guint d = 0; d < sizes.n_queue_depths; d++)
    {
      progress ("priority queue: %u queued", sizes.queue_depths[d]);
      op_samples_init (&pool_ops[d]);
      op_samples_init (&heap_ops[d]);
      queue_pool_at_depth (sizes.queue_depths[d], rand, &pool_ops[d]);
      queue_heap_at_depth (vt, sizes.queue_depths[d], rand, &heap_ops[d]);
    }
  for (guint d = 0; d < G_N_ELEMENTS (sizes.gtp_depths); d++)
    {
      progress ("GThreadPool sorted queue: %u queued", sizes.gtp_depths[d]);
      gtp_push[d] = samples_new ();
      queue_gtp_at_depth (sizes.gtp_depths[d], rand, gtp_push[d]);
    }

  queue_rows (pool_ops, heap_ops, gtp_push);

  for (guint d = 0; d < sizes.n_queue_depths; d++)
    {
      g_array_unref (pool_ops[d].push);
      g_array_unref (pool_ops[d].pop);
      g_array_unref (heap_ops[d].push);
      g_array_unref (heap_ops[d].pop);
    }
  for (guint d = 0; d < G_N_ELEMENTS (sizes.gtp_depths); d++)
    g_array_unref (gtp_push[d]);
}

/* }}} */

/* Memory per queued job {{{
 *
 * Each kind is measured in a process of its own: in a process that already
 * freed GTasks, GSlice would hand the freed chunks out again and the heap
 * would grow less than the jobs cost. */

static double
memory_per_job (const char *kind)
{
  TpPool *pool = bench_pool_new ("kind", kind, "size", 0, NULL);
  Count count = { 0, };
  gint64 before;
  gint64 after;

  before = heap_in_use ();
  for (guint i = 0; i < sizes.memory_jobs; i++)
    tp_pool_submit_async (pool, noop_job, NULL, NULL, NULL, count_cb, &count);
  after = heap_in_use ();

  tp_pool_close_async (pool, TP_CLOSE_DISCARD_QUEUED, NULL, NULL, NULL);
  wait_count (&count.done, sizes.memory_jobs);
  if (count.failed != sizes.memory_jobs)
    g_error ("memory: %u discarded, expected %u", count.failed, sizes.memory_jobs);
  g_object_unref (pool);
  return (double) (after - before) / sizes.memory_jobs;
}

/* Runs this program again with --memory-child=KIND and reads its answer */
static double
memory_per_job_in_child (const char *kind)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *child_kind = g_strdup_printf ("--memory-child=%s", kind);
  g_autofree char *child_out = NULL;
  const char *argv[] = { self, child_kind, opts.quick ? "--quick" : NULL, NULL };
  GError *error = NULL;
  int status;

  if (self == NULL ||
      !g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL,
                     &child_out, NULL, &status, &error) ||
      !g_spawn_check_wait_status (status, &error))
    g_error ("memory: cannot run the measuring process: %s",
             error != NULL ? error->message : "no /proc/self/exe");
  return g_ascii_strtod (child_out, NULL);
}

static void
bench_memory (void)
{
  static const char * const kinds[] = { "fixed-simple", "fixed-priority" };
  GTypeQuery task_type;

  g_type_query (G_TYPE_TASK, &task_type);
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *name = NULL;
      double bytes;
      Row *row;

      progress ("memory: %u async jobs queued on %s, size 0", sizes.memory_jobs, kinds[i]);
      bytes = memory_per_job_in_child (kinds[i]);
      name = g_strdup_printf ("Heap per queued async job, %s, %s queued "
                              "(GTask instance %u B, TpJob %zu B)", kinds[i],
                              depth_name (sizes.memory_jobs), task_type.instance_size,
                              sizeof (TpJob));
      row = row_add (SECTION_MEMORY, UNIT_BYTES, name, samples_of (bytes), NULL, NULL);
      row_target (row, "≤ 512 B", bytes <= 512);
    }
}

/* }}} */

/* Autoscale burst {{{ */

typedef struct {
  TpPool *pool;
  double  start;
  double  seen_max;       /* seconds after start when the size was first max-size */
  double  notified_max;   /* … when notify::size said so */
  guint   notifies;
} Burst;

static void
burst_size_cb (GObject    *object,
               GParamSpec *pspec,
               gpointer    user_data)
{
  Burst *burst = user_data;

  burst->notifies++;
  if (burst->notified_max < 0 && tp_pool_get_size (burst->pool) >= sizes.burst_max)
    burst->notified_max = now_s () - burst->start;
}

typedef struct {
  GArray *seen_max;
  GArray *notified_max;
  GArray *wall;
  GArray *raw_wall;
  GArray *wakeups;
  GArray *notifies;
  guint   size_after_submit;
  guint   submissions_to_max;
} BurstSamples;

/* On a fresh context, so that the pool's source can be found and watched */
static void
burst_run (BurstSamples *samples,
           gboolean      keep)
{
  GMainContext *context = g_main_context_new ();
  Burst burst = { NULL, 0, -1, -1, 0 };
  Count count = { 0, };
  guint submissions_to_max = 0;
  gboolean spying;
  double wall;
  double raw_wall;

  g_main_context_push_thread_default (context);
  burst.pool = bench_pool_new ("kind", "autoscale-simple", "min-size", sizes.burst_min,
                               "max-size", sizes.burst_max, NULL);
  spying = spy_install (context);
  g_signal_connect (burst.pool, "notify::size", G_CALLBACK (burst_size_cb), &burst);

  burst.start = now_s ();
  for (guint i = 0; i < sizes.burst_jobs; i++)
    {
      tp_pool_submit_async (burst.pool, timer_job, GUINT_TO_POINTER (sizes.burst_ms), NULL, NULL,
                            count_cb, &count);
      if (burst.seen_max < 0 && tp_pool_get_size (burst.pool) >= sizes.burst_max)
        {
          burst.seen_max = now_s () - burst.start;
          submissions_to_max = i + 1;
        }
    }
  samples->size_after_submit = tp_pool_get_size (burst.pool);
  wait_count (&count.done, sizes.burst_jobs);
  wall = now_s () - burst.start;
  check_count (&count, sizes.burst_jobs, "burst");
  spy_uninstall ();
  g_signal_handlers_disconnect_by_data (burst.pool, &burst);
  g_object_unref (burst.pool);

  raw_wall = chain_timers_run (sizes.burst_jobs, sizes.burst_max, sizes.burst_ms);
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);

  if (!keep)
    return;
  samples_add (samples->seen_max, burst.seen_max);
  samples_add (samples->notified_max, burst.notified_max);
  samples_add (samples->wall, wall);
  samples_add (samples->raw_wall, raw_wall);
  samples_add (samples->wakeups, spying ? (double) spy.dispatches : -1.0);
  samples_add (samples->notifies, burst.notifies);
  samples->submissions_to_max = submissions_to_max;
}

static void
bench_burst (void)
{
  BurstSamples samples = {
    samples_new (), samples_new (), samples_new (), samples_new (), samples_new (),
    samples_new (), 0, 0,
  };
  double ideal = (double) sizes.burst_jobs / sizes.burst_max * sizes.burst_ms / 1000;
  g_autofree char *name_seen = NULL;
  g_autofree char *name_notified = NULL;
  g_autofree char *name_wall = NULL;
  g_autofree char *name_wakeups = NULL;
  g_autofree char *baseline = NULL;
  Row *row;

  progress ("autoscale burst: %u × %u ms timer jobs, min %u, max %u", sizes.burst_jobs,
            sizes.burst_ms, sizes.burst_min, sizes.burst_max);
  for (guint round = 0; round < WARMUP_RUNS + (guint) opts.runs; round++)
    burst_run (&samples, round >= WARMUP_RUNS);

  name_seen = g_strdup_printf ("Autoscale burst %u → %u: time until size %u (after %u "
                               "submissions; size %u once all were submitted)",
                               sizes.burst_min, sizes.burst_max, sizes.burst_max,
                               samples.submissions_to_max, samples.size_after_submit);
  row = row_add (SECTION_BURST, UNIT_MS, name_seen, g_array_ref (samples.seen_max), NULL, NULL);
  row_target (row, "≤ one tick (100 ms)", row->value >= 0 && row->value <= 0.1);

  name_notified = g_strdup_printf ("Autoscale burst: notify::size reports %u", sizes.burst_max);
  row = row_add (SECTION_BURST, UNIT_MS, name_notified, g_array_ref (samples.notified_max), NULL,
                 NULL);
  row_target (row, "≤ one tick (100 ms)", row->value >= 0 && row->value <= 0.1);

  name_wall = g_strdup_printf ("Autoscale burst: %u × %u ms jobs, wall/ideal (ideal %.3f s)",
                               sizes.burst_jobs, sizes.burst_ms, ideal);
  baseline = g_strdup_printf ("g_timeout_add, %u at a time", sizes.burst_max);
  row_add (SECTION_BURST, UNIT_IDEAL, name_wall, samples_scaled (samples.wall, ideal), baseline,
           samples_scaled (samples.raw_wall, ideal));

  name_wakeups = g_strdup_printf ("Autoscale burst: pool source dispatches (notify::size: %.0f)",
                                  median (samples.notifies));
  row_add (SECTION_BURST, UNIT_COUNT, name_wakeups, g_array_ref (samples.wakeups), NULL, NULL);

  g_array_unref (samples.seen_max);
  g_array_unref (samples.notified_max);
  g_array_unref (samples.wall);
  g_array_unref (samples.raw_wall);
  g_array_unref (samples.wakeups);
  g_array_unref (samples.notifies);
}

/* }}} */

/* Wake-ups of an idle pool {{{
 *
 * Each kind gets a thread with a context of its own. The pool runs three jobs
 * (no more than any kind's size, so nothing scales), the context is drained,
 * and from then on every return of g_main_context_iteration (…, TRUE) is a
 * wake-up, until the main thread stops the watch. */

typedef struct {
  const char   *kind;
  GMainContext *context;
  GThread      *thread;
  int           ready;     /* atomic */
  int           stop;      /* atomic */
  guint         wakeups;
  guint         dispatches;
  gint64        ready_time_before;
  gint64        ready_time_after;
} IdleProbe;

static gpointer
idle_probe_thread (gpointer data)
{
  IdleProbe *probe = data;
  Count count = { 0, };
  TpPool *pool;

  g_main_context_push_thread_default (probe->context);
  pool = bench_pool_new ("kind", probe->kind, NULL);
  for (guint i = 0; i < 3; i++)
    tp_pool_submit_async (pool, noop_job, NULL, NULL, NULL, count_cb, &count);
  wait_count (&count.done, 3);
  check_count (&count, 3, probe->kind);
  while (g_main_context_iteration (probe->context, FALSE))
    ;
  probe->ready_time_before = tp_pool_get_ready_time (pool);
  g_atomic_int_set (&probe->ready, 1);

  for (;;)
    {
      gboolean dispatched = g_main_context_iteration (probe->context, TRUE);

      if (g_atomic_int_get (&probe->stop))
        break;
      probe->wakeups++;
      probe->dispatches += dispatched;
    }

  probe->ready_time_after = tp_pool_get_ready_time (pool);
  g_object_unref (pool);
  while (g_main_context_iteration (probe->context, FALSE))
    ;
  g_main_context_pop_thread_default (probe->context);
  return NULL;
}

static void
bench_idle (void)
{
  IdleProbe probes[G_N_ELEMENTS (all_kinds)];
  g_autofree char *target = NULL;

  progress ("idle pools: 6 kinds watched for %.1f s", sizes.idle_seconds);
  for (guint i = 0; i < G_N_ELEMENTS (probes); i++)
    {
      probes[i] = (IdleProbe) { .kind = all_kinds[i], .context = g_main_context_new () };
      probes[i].thread = g_thread_new ("tp-bench-idle", idle_probe_thread, &probes[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (probes); i++)
    while (!g_atomic_int_get (&probes[i].ready))
      g_usleep (1000);

  g_usleep (sizes.idle_seconds * G_USEC_PER_SEC);

  for (guint i = 0; i < G_N_ELEMENTS (probes); i++)
    {
      g_atomic_int_set (&probes[i].stop, 1);
      g_main_context_wakeup (probes[i].context);
    }

  target = g_strdup_printf ("0, ready time -1");
  for (guint i = 0; i < G_N_ELEMENTS (probes); i++)
    {
      IdleProbe *probe = &probes[i];
      g_autofree char *name = NULL;
      Row *row;

      g_thread_join (probe->thread);
      name = g_strdup_printf ("Idle pool wake-ups in %.1f s, %s (ready time %" G_GINT64_FORMAT
                              ", then %" G_GINT64_FORMAT ")", sizes.idle_seconds, probe->kind,
                              probe->ready_time_before, probe->ready_time_after);
      row = row_add (SECTION_IDLE, UNIT_COUNT, name, samples_of (probe->wakeups), NULL, NULL);
      row_target (row, target, probe->wakeups == 0 && probe->ready_time_before == -1 &&
                  probe->ready_time_after == -1);
      g_main_context_unref (probe->context);
    }
}

/* }}} */

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
      "Run W1 on KIND only (repeatable; default: all six kinds)", "KIND" },
    { "only", 'o', 0, G_OPTION_ARG_STRING_ARRAY, &opts.only,
      "Run only these: w1 w2 w3 w4 queue memory burst idle (repeatable, or comma-separated)",
      "NAME" },
    { "memory-child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &opts.memory_child,
      "Measure the heap per queued job of KIND and print it", "KIND" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;

  g_option_context_set_summary (context,
                                "Measures libtaskpool against raw GLib baselines in the same\n"
                                "run: W1 to W4 of the specification, the priority queue at depth,\n"
                                "memory per queued job, the autoscale burst and idle wake-ups.");
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

  rows = g_ptr_array_new_with_free_func (row_free);

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
  if (wants ("queue"))
    bench_queue ();
  if (wants ("burst"))
    bench_burst ();
  if (wants ("idle"))
    bench_idle ();

  if (opts.json)
    print_json ();
  else
    print_table ();

  g_ptr_array_unref (rows);
  g_strfreev (opts.only);
  g_strfreev (opts.kinds);
  g_free (opts.queue_depths);
  g_free (opts.sorted_depths);
  return 0;
}

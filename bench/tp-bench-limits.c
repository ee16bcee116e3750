/* tp-bench-limits.c: the limits beyond N, through the bundled gates
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Three questions of the specification's §7:
 *
 *   - what `per-key` costs: W1 (async no-op jobs, 16 at once) through the
 *     gate over 16 keys, beside W1 without gates, interleaved run by run;
 *   - how well `rate` keeps its rate: jobs always waiting, each recording
 *     when it started; the rate achieved and the most starts in any window;
 *   - head-of-line blocking: how long a key-B job queued behind 10 000 jobs
 *     of key A that `per-key` holds waits, and in which dispatch of the
 *     pool's source it starts.
 */

#include "tp-bench-private.h"
#include "tp-pool-private.h"

#define LIMITS_N_KEYS      16
#define LIMITS_SEED        0x11a175u

/* A pool of @kind and @size from a keyfile group with @lines */
static TpPool *
keyfile_pool_new_sized (const char *kind,
                        guint       size,
                        const char *lines)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autofree char *data = NULL;
  GError *error = NULL;
  TpPool *pool;

  if (g_str_has_prefix (kind, "autoscale-"))
    data = g_strdup_printf ("[bench]\nkind=%s\nmin-size=%u\nmax-size=%u\n%s", kind,
                            size, size, lines);
  else
    data = g_strdup_printf ("[bench]\nkind=%s\nsize=%u\n%s", kind, size, lines);
  if (!g_key_file_load_from_data (keyfile, data, -1, G_KEY_FILE_NONE, &error) ||
      (pool = tp_pool_new_from_keyfile (keyfile, "bench", &error)) == NULL ||
      !tp_pool_start (pool, &error))
    g_error ("Cannot make a pool from “%s”: %s", data, error->message);
  return pool;
}

/* The same, running W1's number of jobs at once */
static TpPool *
keyfile_pool_new (const char *kind,
                  const char *lines)
{
  return keyfile_pool_new_sized (kind, sizes.w1_at_once, lines);
}

/* W1 through per-key {{{ */

typedef enum {
  W1_PLAIN,       /* W1 as §5 has it: tp_pool_submit_async (), no gates */
  W1_KEYS,        /* each job with options and a key, no gates */
  W1_PER_KEY,     /* keys in turn, through per-key */
  W1_RANDOM,      /* keys at random, through per-key */
} W1Shape;

typedef struct {
  const char    *kind;
  W1Shape        shape;
  TpJobOptions **options;   /* one per key */
  guint8        *random;    /* W1_RANDOM: the key of each job */
} W1Limits;

static double
w1_limits_run (gpointer data)
{
  W1Limits *w1 = data;
  g_autofree char *lines = NULL;
  TpPool *pool;
  Count count = { 0, };
  double start;
  double seconds;

  if (w1->shape == W1_PER_KEY || w1->shape == W1_RANDOM)
    lines = g_strdup ("gates=per-key\nper-key-limit=1\n");
  pool = keyfile_pool_new (w1->kind, lines != NULL ? lines : "");

  start = now_s ();
  for (guint i = 0; i < sizes.w1_jobs; i++)
    {
      if (w1->shape == W1_PLAIN)
        {
          tp_pool_submit_async (pool, noop_job, NULL, NULL, NULL, count_cb, &count);
          continue;
        }
      tp_pool_submit_with_options_async (pool, w1->options[w1->shape == W1_RANDOM
                                                           ? w1->random[i]
                                                           : i % LIMITS_N_KEYS],
                                         noop_job, NULL, NULL, NULL, count_cb, &count);
    }
  wait_count (&count.done, sizes.w1_jobs);
  seconds = now_s () - start;

  check_count (&count, sizes.w1_jobs, w1->kind);
  g_object_unref (pool);
  return seconds;
}

/* One function per shape, for callgrind's --toggle-collect */
static double
w1_limits_plain_run (gpointer data)
{
  return w1_limits_run (data);
}

static double
w1_limits_keys_run (gpointer data)
{
  return w1_limits_run (data);
}

static double
w1_limits_per_key_run (gpointer data)
{
  return w1_limits_run (data);
}

static double
w1_limits_random_run (gpointer data)
{
  return w1_limits_run (data);
}

static const TrialFunc w1_shape_funcs[] = {
  [W1_PLAIN] = w1_limits_plain_run,
  [W1_KEYS] = w1_limits_keys_run,
  [W1_PER_KEY] = w1_limits_per_key_run,
  [W1_RANDOM] = w1_limits_random_run,
};

static void
bench_limits_w1 (void)
{
  enum { PLAIN, KEYS, PER_KEY, RANDOM, FAIR_PLAIN, FAIR_PER_KEY, N_TRIALS };
  TpJobOptions *options[LIMITS_N_KEYS];
  g_autofree guint8 *random = g_new (guint8, sizes.w1_jobs);
  g_autoptr(GRand) rand = g_rand_new_with_seed (LIMITS_SEED);
  /* --kind KIND: the rows of fixed-simple on KIND, and no others */
  const char *kind = opts.kinds != NULL ? opts.kinds[0] : "fixed-simple";
  guint n_trials = opts.kinds != NULL ? FAIR_PLAIN : N_TRIALS;
  W1Limits w1[N_TRIALS] = {
    [PLAIN] = { kind, W1_PLAIN, options, NULL },
    [KEYS] = { kind, W1_KEYS, options, NULL },
    [PER_KEY] = { kind, W1_PER_KEY, options, NULL },
    [RANDOM] = { kind, W1_RANDOM, options, random },
    [FAIR_PLAIN] = { "fixed-fair", W1_PLAIN, options, NULL },
    [FAIR_PER_KEY] = { "fixed-fair", W1_PER_KEY, options, NULL },
  };
  Trial trials[N_TRIALS];
  g_autofree char *baseline = NULL;
  g_autofree char *fair_baseline = NULL;
  g_autofree char *name = NULL;
  Row *row;

  for (guint k = 0; k < LIMITS_N_KEYS; k++)
    {
      g_autofree char *key = g_strdup_printf ("host-%u.example", k);

      options[k] = tp_job_options_new ();
      tp_job_options_set_key (options[k], key);
    }
  for (guint i = 0; i < sizes.w1_jobs; i++)
    random[i] = g_rand_int_range (rand, 0, LIMITS_N_KEYS);
  for (guint i = 0; i < n_trials; i++)
    trials[i] = (Trial) { w1_shape_funcs[w1[i].shape], &w1[i], NULL };

  progress ("Limits: W1, %u async no-op jobs, %u at once, through per-key over %u keys",
            sizes.w1_jobs, sizes.w1_at_once, LIMITS_N_KEYS);
  trials_run (trials, n_trials);

  baseline = g_strdup_printf ("W1 %s, no gates, %u at once", kind, sizes.w1_at_once);
  name = g_strdup_printf ("W1 through per-key, 16 keys in turn, per-key-limit 1, %s", kind);
  row = row_add (SECTION_LIMITS, UNIT_RATE, name,
                 samples_inverse (trials[PER_KEY].seconds, sizes.w1_jobs), baseline,
                 samples_inverse (trials[PLAIN].seconds, sizes.w1_jobs));
  row_target (row, "≥ 0.8 × W1 without gates", row->ratio >= 0.8);
  if (n_trials == N_TRIALS)
    {
      fair_baseline = g_strdup_printf ("W1 fixed-fair, no gates, %u at once", sizes.w1_at_once);
      row = row_add (SECTION_LIMITS, UNIT_RATE,
                     "W1 through per-key, 16 keys in turn, per-key-limit 1, fixed-fair",
                     samples_inverse (trials[FAIR_PER_KEY].seconds, sizes.w1_jobs), fair_baseline,
                     samples_inverse (trials[FAIR_PLAIN].seconds, sizes.w1_jobs));
      row_target (row, "≥ 0.8 × W1 without gates", row->ratio >= 0.8);
    }
  g_free (name);
  name = g_strdup_printf ("W1 through per-key, 16 keys at random (jobs held and offered again), "
                          "%s", kind);
  row_add (SECTION_LIMITS, UNIT_RATE, name,
           samples_inverse (trials[RANDOM].seconds, sizes.w1_jobs), baseline,
           samples_inverse (trials[PLAIN].seconds, sizes.w1_jobs));
  g_free (name);
  name = g_strdup_printf ("W1 with a key in its options, no gates, %s", kind);
  row_add (SECTION_LIMITS, UNIT_RATE, name,
           samples_inverse (trials[KEYS].seconds, sizes.w1_jobs), baseline,
           samples_inverse (trials[PLAIN].seconds, sizes.w1_jobs));

  trials_clear (trials, n_trials);
  for (guint k = 0; k < LIMITS_N_KEYS; k++)
    tp_job_options_unref (options[k]);
}

/* }}} */

/* rate {{{ */

/* One run: the jobs, one at a time, record when they start and end */
typedef struct {
  GArray *starts;   /* gint64, as the jobs recorded them */
  GArray *ends;
} RateRun;

static void
rate_job (GTask        *task,
          gpointer      pool,
          gpointer      job_data,
          GCancellable *cancellable)
{
  RateRun *run = job_data;
  gint64 now = g_get_monotonic_time ();

  g_array_append_val (run->starts, now);
  now = g_get_monotonic_time ();
  g_array_append_val (run->ends, now);
  g_task_return_pointer (task, NULL, NULL);
}

/* The most of the sorted @starts in any window of @interval_us that begins
 * at one of them */
static guint
most_in_window (GArray *starts,
                gint64  interval_us)
{
  guint most = 0;
  guint first = 0;

  for (guint last = 0; last < starts->len; last++)
    {
      while (g_array_index (starts, gint64, last) - g_array_index (starts, gint64, first) >=
             interval_us)
        first++;
      most = MAX (most, last - first + 1);
    }
  return most;
}

/* The most starts in a window of @interval_us that begins when the job
 * before a start had ended (@origin for the first): a time the job had
 * certainly not started by, since the pool of one started it after. A
 * window that begins at a recorded start would count, besides the gate,
 * how late each job recorded its start on a busy machine. */
static guint
most_in_anchored_window (RateRun *run,
                         gint64   origin,
                         gint64   interval_us)
{
  guint most = 0;
  guint last = 0;

  for (guint k = 0; k < run->starts->len; k++)
    {
      gint64 anchor = k == 0 ? origin : g_array_index (run->ends, gint64, k - 1);

      last = MAX (last, k);
      while (last < run->starts->len && g_array_index (run->starts, gint64, last) <
             anchor + interval_us)
        last++;
      most = MAX (most, last - k);
    }
  return most;
}

static void
bench_limits_rate (void)
{
  g_autofree char *lines = g_strdup_printf ("gates=rate\nrate-limit=%u\nrate-interval-ms=%u\n",
                                            sizes.rate_limit, sizes.rate_interval_ms);
  gint64 interval_us = (gint64) sizes.rate_interval_ms * 1000;
  double ideal_rate = sizes.rate_limit * 1000.0 / sizes.rate_interval_ms;
  GArray *achieved = samples_new ();
  GArray *anchored = samples_new ();
  GArray *recorded = samples_new ();
  g_autofree char *name = NULL;
  g_autofree char *target = g_strdup_printf ("≤ %u", sizes.rate_limit);
  guint worst = 0;
  Row *row;

  progress ("Limits: rate, %u jobs at %u per %u ms, %d runs", sizes.rate_jobs, sizes.rate_limit,
            sizes.rate_interval_ms, opts.runs);
  for (int r = 0; r < opts.runs; r++)
    {
      TpPool *pool = keyfile_pool_new_sized ("fixed-simple", 1, lines);
      RateRun run = {
        g_array_sized_new (FALSE, FALSE, sizeof (gint64), sizes.rate_jobs),
        g_array_sized_new (FALSE, FALSE, sizeof (gint64), sizes.rate_jobs),
      };
      gint64 origin = g_get_monotonic_time ();
      Count count = { 0, };
      double seconds;
      guint n;

      for (guint i = 0; i < sizes.rate_jobs; i++)
        tp_pool_submit_async (pool, rate_job, &run, NULL, NULL, count_cb, &count);
      wait_count (&count.done, sizes.rate_jobs);
      check_count (&count, sizes.rate_jobs, "rate");
      g_object_unref (pool);

      /* The first rate-limit start at once, into an empty window: the rate
       * is that of the others, from the first start to the last */
      seconds = (g_array_index (run.starts, gint64, run.starts->len - 1) -
                 g_array_index (run.starts, gint64, 0)) / 1e6;
      samples_add (achieved, (sizes.rate_jobs - sizes.rate_limit) / seconds);
      n = most_in_anchored_window (&run, origin, interval_us);
      samples_add (anchored, n);
      worst = MAX (worst, n);
      samples_add (recorded, most_in_window (run.starts, interval_us));
      g_array_unref (run.starts);
      g_array_unref (run.ends);
    }

  name = g_strdup_printf ("rate %u per %u ms, %u jobs always waiting, one at a time: achieved "
                          "rate (ideal %.0f/s)", sizes.rate_limit, sizes.rate_interval_ms,
                          sizes.rate_jobs, ideal_rate);
  row = row_add (SECTION_LIMITS, UNIT_RATE, name, achieved, NULL, NULL);
  row_target (row, "≥ 98 % of the rate", row->value >= 0.98 * ideal_rate);
  g_free (name);
  name = g_strdup_printf ("rate %u per %u ms: most starts in any %u ms window (from the end of "
                          "the job before)", sizes.rate_limit, sizes.rate_interval_ms,
                          sizes.rate_interval_ms);
  row = row_add (SECTION_LIMITS, UNIT_COUNT, name, anchored, NULL, NULL);
  row_target (row, target, row->value <= sizes.rate_limit);
  g_free (name);
  name = g_strdup_printf ("rate %u per %u ms: most starts in any window, worst of %d runs",
                          sizes.rate_limit, sizes.rate_interval_ms, opts.runs);
  row = row_add (SECTION_LIMITS, UNIT_COUNT, name, samples_of (worst), NULL, NULL);
  row_target (row, target, worst <= sizes.rate_limit);
  g_free (name);
  name = g_strdup_printf ("rate %u per %u ms: most starts in any window that begins at a start "
                          "the jobs recorded", sizes.rate_limit, sizes.rate_interval_ms);
  row_add (SECTION_LIMITS, UNIT_COUNT, name, recorded, NULL, NULL);
}

/* }}} */

/* Head-of-line {{{ */

typedef struct {
  const char *kind;
  gboolean  gated;       /* per-key, 10 000 key-A jobs held; or a plain pool, idle */
  gboolean  unhold;      /* the pool made held, then unheld; or key B submitted last */
  double    start;       /* when key B's job could start: its submission, or the unhold */
  double    started;     /* when it started */
  guint64   dispatches;  /* of the pool's source, at start */
  guint64   b_dispatch;  /* … when key B's job started */
  GTask    *first;       /* the key-A job that runs until released */
  GArray   *dispatch_counts;
} Hol;

static void
hol_b_job (GTask        *task,
           gpointer      pool,
           gpointer      job_data,
           GCancellable *cancellable)
{
  Hol *hol = job_data;

  hol->started = now_s ();
  hol->b_dispatch = tp_pool_get_dispatches (pool);
  g_task_return_pointer (task, NULL, NULL);
}

static void
hol_first_job (GTask        *task,
               gpointer      pool,
               gpointer      job_data,
               GCancellable *cancellable)
{
  Hol *hol = job_data;

  hol->first = g_object_ref (task);
}

static double
hol_run (gpointer data)
{
  Hol *hol = data;
  g_autoptr(TpJobOptions) a = tp_job_options_new ();
  g_autoptr(TpJobOptions) b = tp_job_options_new ();
  Count count = { 0, };
  guint n_jobs = 0;
  TpPool *pool;

  tp_job_options_set_key (a, "a.example");
  tp_job_options_set_key (b, "b.example");
  hol->started = -1;
  hol->first = NULL;
  if (!hol->gated)
    {
      pool = keyfile_pool_new (hol->kind, "");
      while (g_main_context_iteration (NULL, FALSE))
        ;
      hol->dispatches = tp_pool_get_dispatches (pool);
      hol->start = now_s ();
      tp_pool_submit_with_options_async (pool, b, hol_b_job, hol, NULL, NULL, count_cb, &count);
      n_jobs = 1;
    }
  else
    {
      pool = keyfile_pool_new (hol->kind, hol->unhold ? "gates=per-key\nper-key-limit=1\n"
                                                        "held=true\n"
                                                      : "gates=per-key\nper-key-limit=1\n");
      tp_pool_submit_with_options_async (pool, a, hol_first_job, hol, NULL, NULL, count_cb,
                                         &count);
      for (guint i = 0; i < sizes.hol_held; i++)
        tp_pool_submit_with_options_async (pool, a, noop_job, NULL, NULL, NULL, count_cb,
                                           &count);
      n_jobs = sizes.hol_held + 2;
      if (hol->unhold)
        tp_pool_submit_with_options_async (pool, b, hol_b_job, hol, NULL, NULL, count_cb,
                                           &count);
      while (g_main_context_iteration (NULL, FALSE))
        ;
      if (tp_pool_get_waiting (pool) != sizes.hol_held + (hol->unhold ? 2 : 0))
        g_error ("head-of-line: %u waiting", tp_pool_get_waiting (pool));
      hol->dispatches = tp_pool_get_dispatches (pool);
      hol->start = now_s ();
      if (hol->unhold)
        tp_pool_unhold (pool);
      else
        tp_pool_submit_with_options_async (pool, b, hol_b_job, hol, NULL, NULL, count_cb,
                                           &count);
    }

  while (hol->started < 0)
    g_main_context_iteration (NULL, TRUE);
  samples_add (hol->dispatch_counts, hol->b_dispatch - hol->dispatches);
  /* Key B's callback may have run: no key-A job can have */
  if (hol->gated && (hol->first == NULL || count.done > 1))
    g_error ("head-of-line: key B's job started after %u key-A jobs ended", count.done - 1);

  if (hol->first != NULL)
    {
      g_task_return_pointer (hol->first, NULL, NULL);
      g_clear_object (&hol->first);
    }
  wait_count (&count.done, n_jobs);
  check_count (&count, n_jobs, "head-of-line");
  g_object_unref (pool);
  return hol->started - hol->start;
}

static void
bench_limits_hol (void)
{
  enum { PLAIN, RUNNING, UNHELD, FAIR_RUNNING, FAIR_UNHELD, N_TRIALS };
  Hol hols[N_TRIALS] = {
    [PLAIN] = { "fixed-simple", FALSE, FALSE },
    [RUNNING] = { "fixed-simple", TRUE, FALSE },
    [UNHELD] = { "fixed-simple", TRUE, TRUE },
    [FAIR_RUNNING] = { "fixed-fair", TRUE, FALSE },
    [FAIR_UNHELD] = { "fixed-fair", TRUE, TRUE },
  };
  Trial trials[N_TRIALS];
  const char *baseline = "one job into an idle fixed-simple pool without gates";

  for (guint i = 0; i < N_TRIALS; i++)
    {
      hols[i].dispatch_counts = samples_new ();
      trials[i] = (Trial) { hol_run, &hols[i], NULL };
    }
  progress ("Limits: a key-B job behind %u held key-A jobs", sizes.hol_held);
  trials_run (trials, N_TRIALS);

  for (guint i = RUNNING; i < N_TRIALS; i++)
    {
      g_autofree char *name = NULL;
      g_autofree char *where = g_strdup_printf ("%s, %s", hols[i].kind,
                                                hols[i].unhold ? "held pool unheld"
                                                               : "held as submitted");
      GArray *counts = samples_new ();
      gboolean same = TRUE;
      Row *row;

      name = g_strdup_printf ("Key B behind %s held key-A jobs (%s): %s to start",
                              depth_name (sizes.hol_held), where,
                              hols[i].unhold ? "unhold" : "submission");
      row_add (SECTION_LIMITS, UNIT_MS, name, samples_scaled (trials[i].seconds, 1e-3),
               baseline, samples_scaled (trials[PLAIN].seconds, 1e-3));

      /* Only the timed runs: the warm-up's count is the first */
      for (guint s = WARMUP_RUNS; s < hols[i].dispatch_counts->len; s++)
        {
          double dispatches = g_array_index (hols[i].dispatch_counts, double, s);

          samples_add (counts, dispatches);
          same = same && dispatches == 1;
        }
      g_free (name);
      name = g_strdup_printf ("Key B behind %s held key-A jobs (%s): the dispatch it starts in",
                              depth_name (sizes.hol_held), where);
      row = row_add (SECTION_LIMITS, UNIT_COUNT, name, counts, NULL, NULL);
      row_target (row, "1 in every run: the same dispatch", same);
    }
  for (guint i = 0; i < N_TRIALS; i++)
    g_array_unref (hols[i].dispatch_counts);
  trials_clear (trials, N_TRIALS);
}

/* }}} */

void
bench_limits (void)
{
  bench_limits_w1 ();
  bench_limits_rate ();
  bench_limits_hol ();
}

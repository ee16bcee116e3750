/* tp-bench-w1.c: W1, 200 000 async no-op jobs, 16 at once
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "tp-bench-private.h"

/* All jobs submitted up front, then the main loop until every callback ran */
double
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
double
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

void
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

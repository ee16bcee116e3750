/* tp-bench-w3.c: W3, 256 × 20 ms blocking jobs, 32 at once
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "tp-bench-private.h"

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

void
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

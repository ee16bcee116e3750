/* tp-bench-w4.c: W4, 200 000 no-op thread jobs on 2 threads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "tp-bench-private.h"

static void
w4_pool_job (GTask        *task,
             gpointer      pool,
             gpointer      job_data,
             GCancellable *cancellable)
{
  g_task_return_pointer (task, NULL, NULL);
}

double
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
double
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

void
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
  row_target (row, "≥ 1.5 × (a)", row->ratio >= 1.5);

  name_gtask = g_strdup_printf ("W4 baseline (b): GThreadPool (%u threads) returning a GTask "
                                "made per job", sizes.w4_threads);
  row_add (SECTION_W4, UNIT_RATE, name_gtask,
           samples_inverse (trials[GTP_GTASK].seconds, sizes.w4_jobs), baseline,
           samples_inverse (trials[GTP].seconds, sizes.w4_jobs));
  trials_clear (trials, N_TRIALS);
}

/* tp-bench-w2.c: W2, 2000 × 10 ms timer jobs, 100 at once
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "tp-bench-private.h"

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

void
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

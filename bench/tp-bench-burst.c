/* tp-bench-burst.c: the autoscale burst
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "tp-bench-private.h"
#include "tp-pool-private.h"

typedef struct {
  TpPool *pool;
  double  start;
  double  seen_max_ms;      /* ms after start when the size was first max-size; -1: never */
  double  notified_max_ms;  /* … when notify::size said so */
  guint   notifies;
} Burst;

static void
burst_size_cb (GObject    *object,
               GParamSpec *pspec,
               gpointer    user_data)
{
  Burst *burst = user_data;

  burst->notifies++;
  if (burst->notified_max_ms < 0 && tp_pool_get_size (burst->pool) >= sizes.burst_max)
    burst->notified_max_ms = (now_s () - burst->start) * 1e3;
}

typedef struct {
  GArray *seen_max;       /* ms */
  GArray *notified_max;   /* ms */
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
  guint64 dispatches;
  double wall;
  double raw_wall;

  g_main_context_push_thread_default (context);
  burst.pool = bench_pool_new ("kind", "autoscale-simple", "min-size", sizes.burst_min,
                               "max-size", sizes.burst_max, NULL);
  dispatches = tp_pool_get_dispatches (burst.pool);
  g_signal_connect (burst.pool, "notify::size", G_CALLBACK (burst_size_cb), &burst);

  burst.start = now_s ();
  for (guint i = 0; i < sizes.burst_jobs; i++)
    {
      tp_pool_submit_async (burst.pool, timer_job, GUINT_TO_POINTER (sizes.burst_ms), NULL, NULL,
                            count_cb, &count);
      if (burst.seen_max_ms < 0 && tp_pool_get_size (burst.pool) >= sizes.burst_max)
        {
          burst.seen_max_ms = (now_s () - burst.start) * 1e3;
          submissions_to_max = i + 1;
        }
    }
  samples->size_after_submit = tp_pool_get_size (burst.pool);
  wait_count (&count.done, sizes.burst_jobs);
  wall = now_s () - burst.start;
  check_count (&count, sizes.burst_jobs, "burst");
  dispatches = tp_pool_get_dispatches (burst.pool) - dispatches;
  g_signal_handlers_disconnect_by_data (burst.pool, &burst);
  g_object_unref (burst.pool);

  raw_wall = chain_timers_run (sizes.burst_jobs, sizes.burst_max, sizes.burst_ms);
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);

  if (!keep)
    return;
  samples_add (samples->seen_max, burst.seen_max_ms);
  samples_add (samples->notified_max, burst.notified_max_ms);
  samples_add (samples->wall, wall);
  samples_add (samples->raw_wall, raw_wall);
  samples_add (samples->wakeups, (double) dispatches);
  samples_add (samples->notifies, burst.notifies);
  samples->submissions_to_max = submissions_to_max;
}

void
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
  row_target (row, "≤ one tick (100 ms)", row->value >= 0 && row->value <= 100);

  name_notified = g_strdup_printf ("Autoscale burst: notify::size reports %u", sizes.burst_max);
  row = row_add (SECTION_BURST, UNIT_MS, name_notified, g_array_ref (samples.notified_max), NULL,
                 NULL);
  row_target (row, "≤ one tick (100 ms)", row->value >= 0 && row->value <= 100);

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

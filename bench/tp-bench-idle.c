/* tp-bench-idle.c: the wake-ups of an idle pool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each kind gets a thread with a context of its own. The pool runs three jobs
 * (no more than any kind's size, so nothing scales), the context is drained,
 * and from then on every return of g_main_context_iteration (…, TRUE) is a
 * wake-up, until the main thread stops the watch.
 */

#include "tp-bench-private.h"
#include "tp-pool-private.h"

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

void
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

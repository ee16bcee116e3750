/* tp-bench-memory.c: the memory per queued job
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each kind is measured in a process of its own: in a process that already
 * freed GTasks, GSlice would hand the freed chunks out again and the heap
 * would grow less than the jobs cost.
 */

#include "tp-bench-private.h"
#include "tp-job-private.h"

double
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
  g_autofree char *child_kind = g_strdup_printf ("--memory-child=%s", kind);
  const char *args[] = { child_kind, opts.quick ? "--quick" : NULL, NULL };
  g_autofree char *child_out = run_child ("memory", args);

  return g_ascii_strtod (child_out, NULL);
}

void
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

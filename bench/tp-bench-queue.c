/* tp-bench-queue.c: the priority queue at depth
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * At each depth N the queue is filled once, then each round times a batch of
 * pushes (N → N + batch) and a batch of pops (back to N). Through the pool, a
 * push is a submission to a fixed-priority pool of size 0, and a pop is
 * tp_pool_scale (+batch), which hands the batch's smallest weights to new
 * workers; the pool then runs them and their workers retire. The heap alone is
 * the queue-priority strategy driven directly, without GTask or pool.
 */

#include <math.h>

#include "tp-bench-private.h"
#include "tp-job-private.h"
#include "tp-registry-private.h"

#define WEIGHT_RANGE (1 << 20)

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

void
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

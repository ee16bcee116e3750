/* aging.c: the aging priority queue strategy, an out-of-tree plugin
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Like the bundled `priority` queue (smallest weight first), but a job's
 * effective weight drops by one for every `aging-interval-ms` it has waited,
 * so that a job of low priority cannot starve behind a stream of jobs of
 * high priority: it eventually ties with, then passes, anything new.
 *
 * Every queued job ages at the same rate, so the order of two jobs never
 * changes while they wait. With an interval of I microseconds, a job
 * submitted at s with weight w has, at time t, the effective weight
 * w - (t - s) / I; of two jobs, the one with the smaller
 *
 *   key = w * I + s
 *
 * has the smaller effective weight at every t. The key is fixed at push, so
 * a plain binary min-heap on (key, sequence) is exact, and each job keeps its
 * heap index (tp_job_set_queue_data()) so that push, pop and remove (a
 * cancelled job) are all O(log n).
 *
 * w * I does not fit in 64 bits for every weight and interval (2^31 * 2^42),
 * so the heap stores the key split by I: with s = q * I + r and 0 <= r < I,
 * key = (w + q) * I + r, and since r < I the keys order as the pairs
 * (w + q, r). I is at least 1000 µs, so |q| <= G_MAXINT64 / 1000 and
 * w + q cannot overflow either.
 */

#include <taskpool/tp-plugin.h>

#define AGING_DEFAULT_INTERVAL_MS 1000

typedef struct {
  gint64   aged_weight;   /* w + q */
  gint64   phase;         /* r, in [0, interval) */
  guint64  sequence;      /* ties: submission order */
  TpJob   *job;
} AgingEntry;

typedef struct {
  AgingEntry *entries;
  guint       length;
  guint       capacity;
  gint64      interval_us;
} AgingQueue;

/* default-weight: the pool reads it for this strategy, for plain submits */
static const char * const aging_keys[] = { "aging-interval-ms", "default-weight", NULL };

static gpointer
aging_create (GKeyFile    *config,
              const char  *group,
              GError     **error)
{
  guint interval_ms = AGING_DEFAULT_INTERVAL_MS;
  AgingQueue *queue;

  /* Up to G_MAXUINT ms (49 days): as good as no aging */
  if (!tp_config_get_uint (config, group, "aging-interval-ms", 1, G_MAXUINT,
                           &interval_ms, NULL, error))
    return NULL;

  queue = g_new0 (AgingQueue, 1);
  queue->interval_us = (gint64) interval_ms * 1000;
  return queue;
}

static void
aging_destroy (gpointer data)
{
  AgingQueue *queue = data;

  g_free (queue->entries);
  g_free (queue);
}

static AgingEntry
aging_entry_new (AgingQueue *queue,
                 TpJob      *job)
{
  gint64 submit_time = tp_job_get_submit_time (job);
  gint64 quotient = submit_time / queue->interval_us;
  gint64 phase = submit_time % queue->interval_us;

  /* C division truncates toward zero: make the remainder non-negative */
  if (phase < 0)
    {
      phase += queue->interval_us;
      quotient--;
    }

  return (AgingEntry) {
    .aged_weight = (gint64) tp_job_get_weight (job) + quotient,
    .phase = phase,
    .sequence = tp_job_get_sequence (job),
    .job = job,
  };
}

static inline gboolean
entry_less (const AgingEntry *a,
            const AgingEntry *b)
{
  if (a->aged_weight != b->aged_weight)
    return a->aged_weight < b->aged_weight;
  if (a->phase != b->phase)
    return a->phase < b->phase;
  return a->sequence < b->sequence;
}

static inline void
heap_place (AgingQueue       *queue,
            guint             index,
            const AgingEntry *entry)
{
  queue->entries[index] = *entry;
  tp_job_set_queue_data (entry->job, GUINT_TO_POINTER (index));
}

static void
heap_sift_up (AgingQueue *queue,
              guint       index)
{
  AgingEntry entry = queue->entries[index];

  while (index > 0)
    {
      guint parent = (index - 1) / 2;

      if (!entry_less (&entry, &queue->entries[parent]))
        break;
      heap_place (queue, index, &queue->entries[parent]);
      index = parent;
    }
  heap_place (queue, index, &entry);
}

static void
heap_sift_down (AgingQueue *queue,
                guint       index)
{
  AgingEntry entry = queue->entries[index];

  for (;;)
    {
      guint child = 2 * index + 1;

      if (child >= queue->length)
        break;
      if (child + 1 < queue->length &&
          entry_less (&queue->entries[child + 1], &queue->entries[child]))
        child++;
      if (!entry_less (&queue->entries[child], &entry))
        break;
      heap_place (queue, index, &queue->entries[child]);
      index = child;
    }
  heap_place (queue, index, &entry);
}

/* Removes the entry at @index: the last entry takes its place and moves up
 * or down to where it belongs */
static void
heap_delete (AgingQueue *queue,
             guint       index)
{
  queue->length--;
  if (index == queue->length)
    return;

  queue->entries[index] = queue->entries[queue->length];
  if (index > 0 && entry_less (&queue->entries[index], &queue->entries[(index - 1) / 2]))
    heap_sift_up (queue, index);
  else
    heap_sift_down (queue, index);
}

static void
aging_push (gpointer  data,
            TpJob    *job)
{
  AgingQueue *queue = data;

  if (queue->length == queue->capacity)
    {
      queue->capacity = MAX (16, queue->capacity * 2);
      queue->entries = g_renew (AgingEntry, queue->entries, queue->capacity);
    }

  queue->entries[queue->length] = aging_entry_new (queue, job);
  queue->length++;
  heap_sift_up (queue, queue->length - 1);
}

static TpJob *
aging_pop (gpointer data)
{
  AgingQueue *queue = data;
  TpJob *job;

  if (queue->length == 0)
    return NULL;

  job = queue->entries[0].job;
  heap_delete (queue, 0);
  return job;
}

static void
aging_remove (gpointer  data,
              TpJob    *job)
{
  AgingQueue *queue = data;
  guint index = GPOINTER_TO_UINT (tp_job_get_queue_data (job));

  g_return_if_fail (index < queue->length && queue->entries[index].job == job);

  heap_delete (queue, index);
}

static guint
aging_length (gpointer data)
{
  return ((AgingQueue *) data)->length;
}

static const TpQueueStrategy aging_strategy = {
  .struct_size = sizeof (TpQueueStrategy),
  .name = "aging",
  .description = "Smallest weight first; a waiting job's weight drops by one per aging-interval-ms",
  .keys = aging_keys,
  .create = aging_create,
  .destroy = aging_destroy,
  .push = aging_push,
  .pop = aging_pop,
  .remove = aging_remove,
  .length = aging_length,
};

static const TpQueueStrategy * const aging_queues[] = { &aging_strategy, NULL };

TP_PLUGIN_DEFINE ("aging", "1.0", "Aging priority queue strategy (binary heap)",
                  aging_queues, NULL)

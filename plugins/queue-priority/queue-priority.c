/* queue-priority.c: the priority queue strategy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A binary min-heap ordered by (weight, sequence): the smallest weight runs
 * first and equal weights run in submission order. Each entry carries its
 * keys so that comparisons touch only the heap array; each job keeps its heap
 * index so that removing a cancelled job is O(log n) too.
 */

#include <taskpool/tp-plugin.h>

typedef struct {
  gint64  weight;
  guint64 sequence;
  TpJob  *job;
} HeapEntry;

typedef struct {
  HeapEntry *entries;
  guint      length;
  guint      capacity;
} PriorityQueue;

static const char * const priority_keys[] = { "default-weight", NULL };

static gpointer
priority_create (GKeyFile    *config,
                 const char  *group,
                 GError     **error)
{
  return g_new0 (PriorityQueue, 1);
}

static void
priority_destroy (gpointer data)
{
  PriorityQueue *queue = data;

  g_free (queue->entries);
  g_free (queue);
}

static inline gboolean
entry_less (const HeapEntry *a,
            const HeapEntry *b)
{
  return a->weight < b->weight || (a->weight == b->weight && a->sequence < b->sequence);
}

static inline void
heap_place (PriorityQueue   *queue,
            guint            index,
            const HeapEntry *entry)
{
  queue->entries[index] = *entry;
  tp_job_set_queue_data (entry->job, GUINT_TO_POINTER (index));
}

static void
heap_sift_up (PriorityQueue *queue,
              guint          index)
{
  HeapEntry entry = queue->entries[index];

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
heap_sift_down (PriorityQueue *queue,
                guint          index)
{
  HeapEntry entry = queue->entries[index];

  for (;;)
    {
      guint child = 2 * index + 1;

      if (child >= queue->length)
        break;
      if (child + 1 < queue->length && entry_less (&queue->entries[child + 1], &queue->entries[child]))
        child++;
      if (!entry_less (&queue->entries[child], &entry))
        break;
      heap_place (queue, index, &queue->entries[child]);
      index = child;
    }
  heap_place (queue, index, &entry);
}

static void
priority_push (gpointer  data,
               TpJob    *job)
{
  PriorityQueue *queue = data;

  if (queue->length == queue->capacity)
    {
      queue->capacity = MAX (16, queue->capacity * 2);
      queue->entries = g_renew (HeapEntry, queue->entries, queue->capacity);
    }

  queue->entries[queue->length] = (HeapEntry) {
    .weight = tp_job_get_weight (job),
    .sequence = tp_job_get_sequence (job),
    .job = job,
  };
  queue->length++;
  heap_sift_up (queue, queue->length - 1);
}

static void
heap_delete (PriorityQueue *queue,
             guint          index)
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

static TpJob *
priority_pop (gpointer data)
{
  PriorityQueue *queue = data;
  TpJob *job;

  if (queue->length == 0)
    return NULL;

  job = queue->entries[0].job;
  heap_delete (queue, 0);
  return job;
}

static void
priority_remove (gpointer  data,
                 TpJob    *job)
{
  PriorityQueue *queue = data;
  guint index = GPOINTER_TO_UINT (tp_job_get_queue_data (job));

  g_return_if_fail (index < queue->length && queue->entries[index].job == job);

  heap_delete (queue, index);
}

static guint
priority_length (gpointer data)
{
  return ((PriorityQueue *) data)->length;
}

static const TpQueueStrategy priority_strategy = {
  .struct_size = sizeof (TpQueueStrategy),
  .name = "priority",
  .description = "Smallest weight first; equal weights in submission order",
  .keys = priority_keys,
  .create = priority_create,
  .destroy = priority_destroy,
  .push = priority_push,
  .pop = priority_pop,
  .remove = priority_remove,
  .length = priority_length,
};

static const TpQueueStrategy * const priority_queues[] = { &priority_strategy, NULL };

TP_PLUGIN_DEFINE ("queue-priority", "1.0", "Priority queue strategy (binary heap)",
                  priority_queues, NULL)

/* requeue-heap.h: where the FIFO and LIFO queues keep the jobs a gate gave back
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A job that a gate held comes back through `requeue`, older than jobs
 * pushed since. The simple and lifo queues keep their pushes in push order,
 * which is submission order, in an array; a job that would fall between two
 * of them goes to this binary min-heap instead, and a pop takes the better
 * of the array's next job and the heap's root. The heap holds only the
 * requeued jobs still queued, so its O(log r) costs nothing to a queue no
 * gate uses.
 *
 * Each job keeps its heap index in its queue data, tagged with the low bit
 * (REQUEUE_TAG) so that `remove` tells it from the address of its slot in
 * the queue's segments, which leaves that bit clear.
 *
 * The array grows by doubling as jobs come back, which is while other jobs
 * complete, and it is kept when the heap empties, until the queue goes: the
 * next burst of held jobs asks malloc for nothing unless it is larger, as
 * with the queues' own segments (a large request makes malloc merge the
 * small blocks freed since its last one, see doc/performance.md).
 */

#pragma once

#include <taskpool/tp-plugin.h>

#define REQUEUE_TAG ((gsize) 1)

typedef struct {
  guint64  order;   /* smaller pops first */
  TpJob   *job;
} RequeueEntry;

typedef struct {
  RequeueEntry *entries;
  guint         length;
  guint         capacity;
} RequeueHeap;

static inline gboolean
requeue_data_is_heap (gpointer queue_data)
{
  return (GPOINTER_TO_SIZE (queue_data) & REQUEUE_TAG) != 0;
}

static inline void
requeue_heap_place (RequeueHeap        *heap,
                    guint               index,
                    const RequeueEntry *entry)
{
  heap->entries[index] = *entry;
  tp_job_set_queue_data (entry->job, GSIZE_TO_POINTER (((gsize) index << 1) | REQUEUE_TAG));
}

static inline void
requeue_heap_sift_up (RequeueHeap *heap,
                      guint        index)
{
  RequeueEntry entry = heap->entries[index];

  while (index > 0)
    {
      guint parent = (index - 1) / 2;

      if (heap->entries[parent].order <= entry.order)
        break;
      requeue_heap_place (heap, index, &heap->entries[parent]);
      index = parent;
    }
  requeue_heap_place (heap, index, &entry);
}

static inline void
requeue_heap_sift_down (RequeueHeap *heap,
                        guint        index)
{
  RequeueEntry entry = heap->entries[index];

  for (;;)
    {
      gsize child = 2 * (gsize) index + 1;

      if (child >= heap->length)
        break;
      if (child + 1 < heap->length && heap->entries[child + 1].order < heap->entries[child].order)
        child++;
      if (heap->entries[child].order >= entry.order)
        break;
      requeue_heap_place (heap, index, &heap->entries[child]);
      index = (guint) child;
    }
  requeue_heap_place (heap, index, &entry);
}

static inline void
requeue_heap_insert (RequeueHeap *heap,
                     TpJob       *job,
                     guint64      order)
{
  if (heap->length == heap->capacity)
    {
      heap->capacity = MAX (8, heap->capacity * 2);
      heap->entries = g_renew (RequeueEntry, heap->entries, heap->capacity);
    }
  heap->entries[heap->length] = (RequeueEntry) { .order = order, .job = job };
  requeue_heap_sift_up (heap, heap->length++);
}

/* Removes the entry at @index and returns its job */
static inline TpJob *
requeue_heap_take (RequeueHeap *heap,
                   guint        index)
{
  TpJob *job = heap->entries[index].job;
  guint64 order = heap->entries[index].order;

  heap->length--;
  if (index < heap->length)
    {
      heap->entries[index] = heap->entries[heap->length];
      if (heap->entries[index].order < order)
        requeue_heap_sift_up (heap, index);
      else
        requeue_heap_sift_down (heap, index);
    }
  return job;
}

/* The index @job's queue data gives, checked: -1 if @job is not in the heap there */
static inline gssize
requeue_heap_find (RequeueHeap *heap,
                   TpJob       *job)
{
  gsize index = GPOINTER_TO_SIZE (tp_job_get_queue_data (job)) >> 1;

  if (index >= heap->length || heap->entries[index].job != job)
    return -1;
  return (gssize) index;
}

static inline void
requeue_heap_clear (RequeueHeap *heap)
{
  g_clear_pointer (&heap->entries, g_free);
  heap->length = heap->capacity = 0;
}

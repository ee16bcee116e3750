/* queue-priority.c: the priority queue strategy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A binary min-heap ordered by (weight, sequence): the smallest weight runs
 * first and equal weights run in submission order. Each entry carries its
 * keys so that comparisons touch only the heap array. A job does not keep its
 * heap index: with a million jobs queued, that was a write to a job out of
 * the caches at every level a pop moved an entry. Removing a cancelled job
 * marks its sequence removed instead, O(1); its entry is dropped when it
 * reaches the root, or when removed entries are half the heap (the heap is
 * then rebuilt, O(n), amortized over as many removals). HEAP_ARITY can make
 * it a 4-ary heap, half the levels for twice the comparisons: measured, no
 * faster at a million jobs.
 *
 * Most jobs of most pools have one weight, the default. In a heap, a run of
 * equal weights is the worst case of a pop: the newest entry, moved to the
 * root, sinks through every level. So a run of one weight pushed in
 * submission order goes to a lane instead: a FIFO ring, pushed and popped in
 * O(1). A push joins the lane if its weight is the lane's and its sequence
 * follows the lane's last one; otherwise it goes to the heap. The lane takes
 * the weight of the first push after it emptied. A pop takes the smaller of
 * the lane's head and the heap's root, by (weight, sequence), so the order is
 * exactly the heap's alone. A removed lane job leaves a hole that pops skip.
 *
 * A job's queue data says where it is: 0 in the heap, or
 * (lane position << 1) | 1 where the lane position counts pushes to the lane.
 */

#include <taskpool/tp-plugin.h>

typedef struct {
  gint64  weight;
  guint64 sequence;
  TpJob  *job;
} HeapEntry;

typedef struct {
  guint64 sequence;
  TpJob  *job;       /* NULL: a hole left by a removed job */
} LaneEntry;

typedef struct {
  HeapEntry  *entries;
  guint       length;    /* entries, removed ones included */
  guint       capacity;
  GHashTable *removed;   /* the sequences of removed entries still in the heap */

  /* The lane: positions [lane_head, lane_head + lane_length) of a ring of
   * lane_capacity (a power of two) entries; lane_live of them are jobs */
  LaneEntry *lane;
  gsize      lane_head;
  gsize      lane_length;
  gsize      lane_capacity;
  gsize      lane_live;
  gint64     lane_weight;
} PriorityQueue;

#define LANE_TAG ((gsize) 1)

static const char * const priority_keys[] = { "default-weight", NULL };

static gpointer
priority_create (GKeyFile    *config,
                 const char  *group,
                 GError     **error)
{
  PriorityQueue *queue = g_new0 (PriorityQueue, 1);

  queue->removed = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  return queue;
}

static void
priority_destroy (gpointer data)
{
  PriorityQueue *queue = data;

  g_free (queue->entries);
  g_free (queue->lane);
  g_hash_table_unref (queue->removed);
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
}

#define HEAP_ARITY 2

static inline guint
heap_parent (guint index)
{
  return (index - 1) / HEAP_ARITY;
}

static void
heap_sift_up (PriorityQueue *queue,
              guint          index)
{
  HeapEntry entry = queue->entries[index];

  while (index > 0)
    {
      guint parent = heap_parent (index);

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
      guint first = HEAP_ARITY * index + 1;
      guint last;
      guint child;

      if (first >= queue->length)
        break;
      /* The smallest of the (up to) HEAP_ARITY children */
      last = MIN (first + HEAP_ARITY, queue->length);
      child = first;
      for (guint other = first + 1; other < last; other++)
        {
          if (entry_less (&queue->entries[other], &queue->entries[child]))
            child = other;
        }
      if (!entry_less (&queue->entries[child], &entry))
        break;
      heap_place (queue, index, &queue->entries[child]);
      index = child;
    }
  heap_place (queue, index, &entry);
}

static inline LaneEntry *
lane_at (PriorityQueue *queue,
         gsize          position)
{
  return &queue->lane[position & (queue->lane_capacity - 1)];
}

/* Doubles the ring; positions, and so the jobs' queue data, stay valid */
static void
lane_grow (PriorityQueue *queue)
{
  gsize capacity = MAX (16, queue->lane_capacity * 2);
  LaneEntry *lane = g_new (LaneEntry, capacity);

  for (gsize position = queue->lane_head;
       position != queue->lane_head + queue->lane_length; position++)
    lane[position & (capacity - 1)] = *lane_at (queue, position);
  g_free (queue->lane);
  queue->lane = lane;
  queue->lane_capacity = capacity;
}

/* Whether a job of @weight and @sequence may join the lane's tail */
static inline gboolean
lane_takes (PriorityQueue *queue,
            gint64         weight,
            guint64        sequence)
{
  if (queue->lane_live == 0)
    return TRUE;
  return weight == queue->lane_weight &&
         sequence > lane_at (queue, queue->lane_head + queue->lane_length - 1)->sequence;
}

static void
lane_push (PriorityQueue *queue,
           TpJob         *job,
           gint64         weight,
           guint64        sequence)
{
  gsize position;

  if (queue->lane_live == 0)
    {
      /* Holes of removed jobs go with the lane's old weight */
      queue->lane_head += queue->lane_length;
      queue->lane_length = 0;
      queue->lane_weight = weight;
    }
  if (queue->lane_length == queue->lane_capacity)
    lane_grow (queue);

  position = queue->lane_head + queue->lane_length++;
  *lane_at (queue, position) = (LaneEntry) { .sequence = sequence, .job = job };
  queue->lane_live++;
  tp_job_set_queue_data (job, GSIZE_TO_POINTER ((position << 1) | LANE_TAG));
}

/* Drops the holes at both ends, so that the head and the tail are jobs */
static void
lane_trim (PriorityQueue *queue)
{
  if (queue->lane_live == 0)
    {
      queue->lane_head += queue->lane_length;
      queue->lane_length = 0;
      return;
    }
  while (lane_at (queue, queue->lane_head)->job == NULL)
    {
      queue->lane_head++;
      queue->lane_length--;
    }
  while (lane_at (queue, queue->lane_head + queue->lane_length - 1)->job == NULL)
    queue->lane_length--;
}

static guint
priority_length (gpointer data)
{
  PriorityQueue *queue = data;

  return queue->length - g_hash_table_size (queue->removed) + (guint) queue->lane_live;
}

static void
priority_push (gpointer  data,
               TpJob    *job)
{
  PriorityQueue *queue = data;
  gint64 weight = tp_job_get_weight (job);
  guint64 sequence = tp_job_get_sequence (job);

  if (lane_takes (queue, weight, sequence))
    {
      lane_push (queue, job, weight, sequence);
      return;
    }

  if (queue->length == queue->capacity)
    {
      queue->capacity = MAX (16, queue->capacity * 2);
      queue->entries = g_renew (HeapEntry, queue->entries, queue->capacity);
    }

  queue->entries[queue->length] = (HeapEntry) {
    .weight = weight,
    .sequence = sequence,
    .job = job,
  };
  queue->length++;
  tp_job_set_queue_data (job, NULL);
  heap_sift_up (queue, queue->length - 1);
}

static void
heap_delete_root (PriorityQueue *queue)
{
  queue->length--;
  if (queue->length == 0)
    return;

  queue->entries[0] = queue->entries[queue->length];
  heap_sift_down (queue, 0);
}

static inline gboolean
heap_entry_removed (PriorityQueue   *queue,
                    const HeapEntry *entry)
{
  gint64 sequence = (gint64) entry->sequence;

  return g_hash_table_size (queue->removed) > 0 &&
         g_hash_table_contains (queue->removed, &sequence);
}

/* Drops removed entries from the root, so that the root is a job */
static void
heap_settle_root (PriorityQueue *queue)
{
  while (queue->length > 0 && heap_entry_removed (queue, &queue->entries[0]))
    {
      gint64 sequence = (gint64) queue->entries[0].sequence;

      g_hash_table_remove (queue->removed, &sequence);
      heap_delete_root (queue);
    }
}

/* Rebuilds the heap without its removed entries (Floyd's heap construction) */
static void
heap_compact (PriorityQueue *queue)
{
  guint kept = 0;

  for (guint i = 0; i < queue->length; i++)
    {
      if (!heap_entry_removed (queue, &queue->entries[i]))
        queue->entries[kept++] = queue->entries[i];
    }
  queue->length = kept;
  g_hash_table_remove_all (queue->removed);

  for (guint i = kept / HEAP_ARITY + 1; i-- > 0;)
    {
      if (i < kept)
        heap_sift_down (queue, i);
    }
}

static TpJob *
priority_pop (gpointer data)
{
  PriorityQueue *queue = data;
  TpJob *job;

  /* The lane's head is a job whenever the lane has one (lane_trim()) */
  if (queue->lane_live > 0)
    {
      const LaneEntry *head = lane_at (queue, queue->lane_head);

      if (queue->length == 0 ||
          queue->lane_weight < queue->entries[0].weight ||
          (queue->lane_weight == queue->entries[0].weight &&
           head->sequence < queue->entries[0].sequence))
        {
          job = head->job;
          queue->lane_head++;
          queue->lane_length--;
          queue->lane_live--;
          lane_trim (queue);
          return job;
        }
    }

  if (queue->length == 0)
    return NULL;

  job = queue->entries[0].job;
  heap_delete_root (queue);
  heap_settle_root (queue);
  return job;
}

static void
priority_remove (gpointer  data,
                 TpJob    *job)
{
  PriorityQueue *queue = data;
  gsize where = GPOINTER_TO_SIZE (tp_job_get_queue_data (job));
  gint64 *sequence;

  if (where & LANE_TAG)
    {
      gsize position = where >> 1;
      LaneEntry *entry;

      g_return_if_fail (position - queue->lane_head < queue->lane_length);
      entry = lane_at (queue, position);
      g_return_if_fail (entry->job == job);

      entry->job = NULL;
      queue->lane_live--;
      lane_trim (queue);
      return;
    }

  g_return_if_fail (queue->length > g_hash_table_size (queue->removed));
  sequence = g_new (gint64, 1);
  *sequence = (gint64) tp_job_get_sequence (job);
  /* Not in g_return_if_fail(), which G_DISABLE_CHECKS compiles out */
  if (!g_hash_table_add (queue->removed, sequence))
    {
      g_critical ("%s: job %" G_GINT64_FORMAT " removed twice", G_STRFUNC, *sequence);
      return;
    }

  heap_settle_root (queue);
  if (g_hash_table_size (queue->removed) > 32 &&
      g_hash_table_size (queue->removed) > queue->length / 2)
    heap_compact (queue);
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
  .flags = TP_QUEUE_IGNORES_SUBMIT_TIME,
};

static const TpQueueStrategy * const priority_queues[] = { &priority_strategy, NULL };

TP_PLUGIN_DEFINE ("queue-priority", "1.0", "Priority queue strategy (binary heap and a FIFO lane)",
                  priority_queues, NULL)

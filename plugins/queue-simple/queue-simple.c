/* queue-simple.c: the FIFO queue strategy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A ring of job pointers indexed by absolute position: push and pop are O(1)
 * and allocate nothing once the ring has grown. A cancelled job leaves a hole
 * (its position, shifted left by one, is kept in the job) that pop skips.
 *
 * A job a gate gave back (`requeue`) is older than some jobs in the ring.
 * If it is newer than the ring's newest job it joins the ring; otherwise it
 * waits in a small heap ordered by sequence, and a pop takes the older of
 * the ring's head and the heap's root (requeue-heap.h). The ring holds jobs
 * in submission order, so this is the queue's order exactly.
 */

#include <taskpool/tp-plugin.h>

#include "../common/requeue-heap.h"

typedef struct {
  TpJob     **slots;
  guint64     head;     /* absolute position of the oldest slot */
  guint64     tail;     /* absolute position of the next push */
  guint       capacity; /* a power of two */
  guint       length;   /* jobs in the ring, holes excluded */
  RequeueHeap requeued; /* given back, older than the ring's newest job */
} SimpleQueue;

static gpointer
simple_create (GKeyFile    *config,
               const char  *group,
               GError     **error)
{
  SimpleQueue *queue = g_new0 (SimpleQueue, 1);

  queue->capacity = 16;
  queue->slots = g_new0 (TpJob *, queue->capacity);
  return queue;
}

static void
simple_destroy (gpointer data)
{
  SimpleQueue *queue = data;

  requeue_heap_clear (&queue->requeued);
  g_free (queue->slots);
  g_free (queue);
}

static void
simple_grow (SimpleQueue *queue)
{
  guint capacity = queue->capacity * 2;
  TpJob **slots = g_new0 (TpJob *, capacity);

  /* Positions stay valid: only the mask changes */
  for (guint64 pos = queue->head; pos < queue->tail; pos++)
    slots[pos & (capacity - 1)] = queue->slots[pos & (queue->capacity - 1)];
  g_free (queue->slots);
  queue->slots = slots;
  queue->capacity = capacity;
}

static void
simple_push (gpointer  data,
             TpJob    *job)
{
  SimpleQueue *queue = data;

  if (queue->tail - queue->head == queue->capacity)
    simple_grow (queue);
  queue->slots[queue->tail & (queue->capacity - 1)] = job;
  tp_job_set_queue_data (job, GSIZE_TO_POINTER ((gsize) queue->tail << 1));
  queue->tail++;
  queue->length++;
}

/* Skips the holes at the ring's head: returns its oldest job, or NULL */
static TpJob *
simple_peek (SimpleQueue *queue)
{
  while (queue->head < queue->tail)
    {
      TpJob *job = queue->slots[queue->head & (queue->capacity - 1)];

      if (job != NULL)
        return job;
      queue->head++;
    }
  return NULL;
}

static TpJob *
simple_pop (gpointer data)
{
  SimpleQueue *queue = data;
  TpJob *job = simple_peek (queue);

  if (G_UNLIKELY (queue->requeued.length > 0) &&
      (job == NULL || queue->requeued.entries[0].order < tp_job_get_sequence (job)))
    return requeue_heap_take (&queue->requeued, 0);

  if (job != NULL)
    {
      queue->slots[queue->head & (queue->capacity - 1)] = NULL;
      queue->head++;
      queue->length--;
    }
  return job;
}

static void
simple_requeue (gpointer  data,
                TpJob    *job)
{
  SimpleQueue *queue = data;
  guint64 sequence = tp_job_get_sequence (job);

  /* The ring has no hole at its tail (simple_remove() trims them) */
  if (queue->length == 0 ||
      sequence > tp_job_get_sequence (queue->slots[(queue->tail - 1) & (queue->capacity - 1)]))
    simple_push (queue, job);
  else
    requeue_heap_insert (&queue->requeued, job, sequence);
}

static void
simple_remove (gpointer  data,
               TpJob    *job)
{
  SimpleQueue *queue = data;
  gpointer where = tp_job_get_queue_data (job);
  guint64 pos = GPOINTER_TO_SIZE (where) >> 1;

  if (requeue_data_is_heap (where))
    {
      gssize index = requeue_heap_find (&queue->requeued, job);

      /* Not in g_return_if_fail(), which G_DISABLE_CHECKS compiles out */
      if (index < 0)
        {
          g_critical ("%s: job %" G_GUINT64_FORMAT " is not queued", G_STRFUNC,
                      tp_job_get_sequence (job));
          return;
        }
      requeue_heap_take (&queue->requeued, (guint) index);
      return;
    }

  g_return_if_fail (pos >= queue->head && pos < queue->tail);
  g_return_if_fail (queue->slots[pos & (queue->capacity - 1)] == job);

  queue->slots[pos & (queue->capacity - 1)] = NULL;
  queue->length--;
  /* Trim holes at both ends so that a drained queue is empty again */
  while (queue->head < queue->tail && queue->slots[queue->head & (queue->capacity - 1)] == NULL)
    queue->head++;
  while (queue->tail > queue->head && queue->slots[(queue->tail - 1) & (queue->capacity - 1)] == NULL)
    queue->tail--;
}

static guint
simple_length (gpointer data)
{
  SimpleQueue *queue = data;

  return queue->length + queue->requeued.length;
}

static const TpQueueStrategy simple_strategy = {
  .struct_size = sizeof (TpQueueStrategy),
  .name = "simple",
  .description = "First in, first out",
  .keys = NULL,
  .create = simple_create,
  .destroy = simple_destroy,
  .push = simple_push,
  .pop = simple_pop,
  .remove = simple_remove,
  .length = simple_length,
  .flags = TP_QUEUE_IGNORES_SUBMIT_TIME,
  .requeue = simple_requeue,
};

static const TpQueueStrategy * const simple_queues[] = { &simple_strategy, NULL };

TP_PLUGIN_DEFINE ("queue-simple", "1.0", "FIFO queue strategy", simple_queues, NULL)

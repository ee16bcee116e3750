/* queue-simple.c: the FIFO queue strategy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A ring of job pointers indexed by absolute position: push and pop are O(1)
 * and allocate nothing once the ring has grown. A cancelled job leaves a hole
 * (its position is kept in the job) that pop skips.
 */

#include <taskpool/tp-plugin.h>

typedef struct {
  TpJob **slots;
  guint64 head;     /* absolute position of the oldest slot */
  guint64 tail;     /* absolute position of the next push */
  guint   capacity; /* a power of two */
  guint   length;   /* jobs, holes excluded */
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
  tp_job_set_queue_data (job, GSIZE_TO_POINTER ((gsize) queue->tail));
  queue->tail++;
  queue->length++;
}

static TpJob *
simple_pop (gpointer data)
{
  SimpleQueue *queue = data;

  while (queue->head < queue->tail)
    {
      TpJob **slot = &queue->slots[queue->head & (queue->capacity - 1)];
      TpJob *job = *slot;

      *slot = NULL;
      queue->head++;
      if (job != NULL)
        {
          queue->length--;
          return job;
        }
    }
  return NULL;
}

static void
simple_remove (gpointer  data,
               TpJob    *job)
{
  SimpleQueue *queue = data;
  guint64 pos = GPOINTER_TO_SIZE (tp_job_get_queue_data (job));

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
  return ((SimpleQueue *) data)->length;
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
};

static const TpQueueStrategy * const simple_queues[] = { &simple_strategy, NULL };

TP_PLUGIN_DEFINE ("queue-simple", "1.0", "FIFO queue strategy", simple_queues, NULL)

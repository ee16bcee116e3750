/* queue-lifo.c: the LIFO queue strategy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A stack of job pointers: the newest job runs first. A cancelled job leaves
 * a hole (its index, shifted left by one, is kept in the job) that pop skips.
 *
 * A job a gate gave back (`requeue`) is older than jobs pushed since. If it
 * is newer than the stack's top it goes on top; otherwise it waits in a
 * small heap ordered newest first, and a pop takes the newer of the stack's
 * top and the heap's root (requeue-heap.h). The stack holds jobs in
 * submission order, so this is the queue's order exactly.
 */

#include <taskpool/tp-plugin.h>

#include "../common/requeue-heap.h"

typedef struct {
  GPtrArray   *stack;
  guint        length;   /* jobs on the stack, holes excluded */
  RequeueHeap  requeued; /* given back, older than the stack's top */
} LifoQueue;

/* The heap pops the smallest order first: the newest job */
#define LIFO_ORDER(sequence) (G_MAXUINT64 - (sequence))

static gpointer
lifo_create (GKeyFile    *config,
             const char  *group,
             GError     **error)
{
  LifoQueue *queue = g_new0 (LifoQueue, 1);

  queue->stack = g_ptr_array_sized_new (16);
  return queue;
}

static void
lifo_destroy (gpointer data)
{
  LifoQueue *queue = data;

  requeue_heap_clear (&queue->requeued);
  g_ptr_array_unref (queue->stack);
  g_free (queue);
}

static void
lifo_push (gpointer  data,
           TpJob    *job)
{
  LifoQueue *queue = data;

  tp_job_set_queue_data (job, GSIZE_TO_POINTER ((gsize) queue->stack->len << 1));
  g_ptr_array_add (queue->stack, job);
  queue->length++;
}

static void
lifo_trim (LifoQueue *queue)
{
  while (queue->stack->len > 0 && queue->stack->pdata[queue->stack->len - 1] == NULL)
    g_ptr_array_set_size (queue->stack, queue->stack->len - 1);
}

static TpJob *
lifo_pop (gpointer data)
{
  LifoQueue *queue = data;
  TpJob *job;

  lifo_trim (queue);
  if (G_UNLIKELY (queue->requeued.length > 0) &&
      (queue->stack->len == 0 ||
       queue->requeued.entries[0].order <
       LIFO_ORDER (tp_job_get_sequence (queue->stack->pdata[queue->stack->len - 1]))))
    return requeue_heap_take (&queue->requeued, 0);
  if (queue->stack->len == 0)
    return NULL;

  job = g_ptr_array_steal_index (queue->stack, queue->stack->len - 1);
  queue->length--;
  lifo_trim (queue);
  return job;
}

static void
lifo_requeue (gpointer  data,
              TpJob    *job)
{
  LifoQueue *queue = data;
  guint64 sequence = tp_job_get_sequence (job);

  /* The stack has no hole at its top (lifo_trim()) */
  if (queue->length == 0 ||
      sequence > tp_job_get_sequence (queue->stack->pdata[queue->stack->len - 1]))
    lifo_push (queue, job);
  else
    requeue_heap_insert (&queue->requeued, job, LIFO_ORDER (sequence));
}

static void
lifo_remove (gpointer  data,
             TpJob    *job)
{
  LifoQueue *queue = data;
  gpointer where = tp_job_get_queue_data (job);
  gsize index = GPOINTER_TO_SIZE (where) >> 1;

  if (requeue_data_is_heap (where))
    {
      gssize heap_index = requeue_heap_find (&queue->requeued, job);

      /* Not in g_return_if_fail(), which G_DISABLE_CHECKS compiles out */
      if (heap_index < 0)
        {
          g_critical ("%s: job %" G_GUINT64_FORMAT " is not queued", G_STRFUNC,
                      tp_job_get_sequence (job));
          return;
        }
      requeue_heap_take (&queue->requeued, (guint) heap_index);
      return;
    }

  g_return_if_fail (index < queue->stack->len && queue->stack->pdata[index] == job);

  queue->stack->pdata[index] = NULL;
  queue->length--;
  lifo_trim (queue);
}

static guint
lifo_length (gpointer data)
{
  LifoQueue *queue = data;

  return queue->length + queue->requeued.length;
}

static const TpQueueStrategy lifo_strategy = {
  .struct_size = sizeof (TpQueueStrategy),
  .name = "lifo",
  .description = "Last in, first out: the newest job runs first",
  .keys = NULL,
  .create = lifo_create,
  .destroy = lifo_destroy,
  .push = lifo_push,
  .pop = lifo_pop,
  .remove = lifo_remove,
  .length = lifo_length,
  .flags = TP_QUEUE_IGNORES_SUBMIT_TIME,
  .requeue = lifo_requeue,
};

static const TpQueueStrategy * const lifo_queues[] = { &lifo_strategy, NULL };

TP_PLUGIN_DEFINE ("queue-lifo", "1.0", "LIFO queue strategy", lifo_queues, NULL)

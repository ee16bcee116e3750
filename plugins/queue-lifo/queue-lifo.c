/* queue-lifo.c: the LIFO queue strategy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A stack of job pointers: the newest job runs first. A cancelled job leaves
 * a hole (its index is kept in the job) that pop skips.
 */

#include <taskpool/tp-plugin.h>

typedef struct {
  GPtrArray *stack;
  guint      length;   /* jobs, holes excluded */
} LifoQueue;

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

  g_ptr_array_unref (queue->stack);
  g_free (queue);
}

static void
lifo_push (gpointer  data,
           TpJob    *job)
{
  LifoQueue *queue = data;

  tp_job_set_queue_data (job, GUINT_TO_POINTER (queue->stack->len));
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
  if (queue->stack->len == 0)
    return NULL;

  job = g_ptr_array_steal_index (queue->stack, queue->stack->len - 1);
  queue->length--;
  lifo_trim (queue);
  return job;
}

static void
lifo_remove (gpointer  data,
             TpJob    *job)
{
  LifoQueue *queue = data;
  guint index = GPOINTER_TO_UINT (tp_job_get_queue_data (job));

  g_return_if_fail (index < queue->stack->len && queue->stack->pdata[index] == job);

  queue->stack->pdata[index] = NULL;
  queue->length--;
  lifo_trim (queue);
}

static guint
lifo_length (gpointer data)
{
  return ((LifoQueue *) data)->length;
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
};

static const TpQueueStrategy * const lifo_queues[] = { &lifo_strategy, NULL };

TP_PLUGIN_DEFINE ("queue-lifo", "1.0", "LIFO queue strategy", lifo_queues, NULL)

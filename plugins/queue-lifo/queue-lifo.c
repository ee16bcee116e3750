/* queue-lifo.c: the LIFO queue strategy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A stack of job pointers, in segments (job-segments.h): the newest job runs
 * first. Push and pop are O(1), allocate nothing once the stack has held as
 * many jobs, and never copy it. A cancelled job leaves a hole (the job keeps
 * its slot's address) that pop skips.
 *
 * A job a gate gave back (`requeue`) is older than jobs pushed since. If it
 * is newer than the stack's top it goes on top; otherwise it waits in a
 * small heap ordered newest first, and a pop takes the newer of the stack's
 * top and the heap's root (requeue-heap.h). The stack holds jobs in
 * submission order, so this is the queue's order exactly.
 */

#include <taskpool/tp-plugin.h>

#include "../common/job-segments.h"
#include "../common/requeue-heap.h"

typedef struct {
  JobSegments  stack;    /* its newest end is the top */
  guint        length;   /* jobs on the stack, holes excluded */
  RequeueHeap  requeued; /* given back, older than the stack's top */
} LifoQueue;

G_STATIC_ASSERT (G_ALIGNOF (TpJob *) > 1);  /* a slot's address leaves REQUEUE_TAG clear */

/* The heap pops the smallest order first: the newest job */
#define LIFO_ORDER(sequence) (G_MAXUINT64 - (sequence))

static gpointer
lifo_create (GKeyFile    *config,
             const char  *group,
             GError     **error)
{
  return g_new0 (LifoQueue, 1);
}

static void
lifo_destroy (gpointer data)
{
  LifoQueue *queue = data;

  requeue_heap_clear (&queue->requeued);
  job_segments_clear (&queue->stack);
  g_free (queue);
}

static void
lifo_push (gpointer  data,
           TpJob    *job)
{
  LifoQueue *queue = data;
  TpJob **slot = job_segments_push (&queue->stack);

  *slot = job;
  tp_job_set_queue_data (job, slot);
  queue->length++;
}

/* Drops the holes at the top: returns the top job's slot, or NULL */
static TpJob **
lifo_trim (LifoQueue *queue)
{
  TpJob **slot;

  while ((slot = job_segments_newest (&queue->stack)) != NULL && *slot == NULL)
    job_segments_drop_newest (&queue->stack);
  return slot;
}

static TpJob *
lifo_pop (gpointer data)
{
  LifoQueue *queue = data;
  TpJob **top = lifo_trim (queue);
  TpJob *job;

  if (G_UNLIKELY (queue->requeued.length > 0) &&
      (top == NULL ||
       queue->requeued.entries[0].order < LIFO_ORDER (tp_job_get_sequence (*top))))
    return requeue_heap_take (&queue->requeued, 0);
  if (top == NULL)
    return NULL;

  job = *top;
  job_segments_drop_newest (&queue->stack);
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
  TpJob **top = job_segments_newest (&queue->stack);

  /* The stack has no hole at its top (lifo_trim()) */
  if (top == NULL || sequence > tp_job_get_sequence (*top))
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
  TpJob **slot = where;

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

  /* A queued job's slot is in the segments, which are never freed before
   * the queue: only a job of another queue would point elsewhere */
  g_return_if_fail (slot != NULL && *slot == job);

  *slot = NULL;
  queue->length--;
  /* Holes at the bottom too, so that a stack emptied by removals is empty */
  job_segments_trim (&queue->stack);
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

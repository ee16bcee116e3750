/* queue-simple.c: the FIFO queue strategy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The jobs in submission order, in segments of job pointers
 * (job-segments.h): push and pop are O(1), allocate nothing once the queue
 * has held as many jobs, and never copy the queue. A cancelled job leaves a
 * hole (the job keeps its slot's address) that pop skips.
 *
 * A job a gate gave back (`requeue`) is older than some jobs in the
 * segments. If it is newer than the newest job there it joins them;
 * otherwise it waits in a small heap ordered by sequence, and a pop takes
 * the older of the oldest job and the heap's root (requeue-heap.h). The
 * segments hold jobs in submission order, so this is the queue's order
 * exactly.
 */

#include <taskpool/tp-plugin.h>

#include "../common/job-segments.h"
#include "../common/requeue-heap.h"

typedef struct {
  JobSegments segments;
  guint       length;   /* jobs in the segments, holes excluded */
  RequeueHeap requeued; /* given back, older than the newest job queued */
} SimpleQueue;

G_STATIC_ASSERT (G_ALIGNOF (TpJob *) > 1);  /* a slot's address leaves REQUEUE_TAG clear */

static gpointer
simple_create (GKeyFile    *config,
               const char  *group,
               GError     **error)
{
  return g_new0 (SimpleQueue, 1);
}

static void
simple_destroy (gpointer data)
{
  SimpleQueue *queue = data;

  requeue_heap_clear (&queue->requeued);
  job_segments_clear (&queue->segments);
  g_free (queue);
}

static void
simple_push (gpointer  data,
             TpJob    *job)
{
  SimpleQueue *queue = data;
  TpJob **slot = job_segments_push (&queue->segments);

  *slot = job;
  tp_job_set_queue_data (job, slot);
  queue->length++;
}

/* Skips the holes at the oldest end: returns the slot of the oldest job, or
 * NULL */
static TpJob **
simple_peek (SimpleQueue *queue)
{
  TpJob **slot;

  while ((slot = job_segments_oldest (&queue->segments)) != NULL && *slot == NULL)
    job_segments_drop_oldest (&queue->segments);
  return slot;
}

static TpJob *
simple_pop (gpointer data)
{
  SimpleQueue *queue = data;
  TpJob **slot = simple_peek (queue);
  TpJob *job = slot != NULL ? *slot : NULL;

  if (G_UNLIKELY (queue->requeued.length > 0) &&
      (job == NULL || queue->requeued.entries[0].order < tp_job_get_sequence (job)))
    return requeue_heap_take (&queue->requeued, 0);

  if (job != NULL)
    {
      job_segments_drop_oldest (&queue->segments);
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
  TpJob **newest = job_segments_newest (&queue->segments);

  /* No hole at the newest end (simple_remove() trims them) */
  if (newest == NULL || sequence > tp_job_get_sequence (*newest))
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
  TpJob **slot = where;

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

  /* A queued job's slot is in the segments, which are never freed before
   * the queue: only a job of another queue would point elsewhere */
  g_return_if_fail (slot != NULL && *slot == job);

  *slot = NULL;
  queue->length--;
  /* Trim holes at both ends so that a drained queue is empty again */
  job_segments_trim (&queue->segments);
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

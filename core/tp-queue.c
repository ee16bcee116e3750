/* tp-queue.c: every call into a queue strategy, checked
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A queue strategy is a plugin's code, and a broken one must not break the
 * application: a pop() that returns NULL while jobs are queued, or the same
 * job twice, a remove() that leaves the job queued, a length() that lies.
 * So the pool keeps the jobs of each queue in a list of its own too (the
 * jobs' links are free while they are queued), and checks after every call
 * that the strategy's length is the list's. A popped job must be queued
 * here, in this queue: the strategy's length having just been right, it is
 * one the pool gave it and that is still there.
 *
 * On the first answer that breaks the contract, the pool reports it once,
 * naming the plugin and the strategy, and stops calling the strategy of
 * that pool: its queues go on as the pool's own lists, first in first out,
 * so that every job still runs, or fails, exactly once. The strategy's
 * queues are still destroyed with the pool, holding what the strategy kept
 * of jobs long gone: its destroy must free them without reading them.
 */

#include "config.h"

#include "tp-pool-private.h"
#include "tp-registry-private.h"

void
tp_queue_init (TpQueue  *queue,
               gpointer  strategy_queue)
{
  queue->strategy_queue = strategy_queue;
  queue->jobs = (TpJobList) { NULL, NULL, 0 };
}

void
tp_pool_queue_clear (TpPool  *self,
                     TpQueue *queue)
{
  if (queue->strategy_queue == NULL)
    return;
  self->queue_vt->destroy (queue->strategy_queue);
  queue->strategy_queue = NULL;
}

/* The strategy broke its contract: once per pool, a critical that names it */
void
tp_pool_queue_broke (TpPool     *self,
                     const char *what)
{
  g_autofree char *who = NULL;

  if (self->queue_broken)
    return;
  self->queue_broken = TRUE;
  who = tp_registry_describe_strategy (self->queue_vt);
  g_log (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL,
         "%s: %s %s: a broken queue strategy; the pool runs its jobs in the order they were "
         "queued from now on", tp_pool_where (self), who != NULL ? who : self->queue_vt->name,
         what);
}

/* The strategy's length after @after was not the pool's count */
void
tp_pool_queue_broke_length (TpPool     *self,
                            TpQueue    *queue,
                            guint       length,
                            guint       expected,
                            const char *after)
{
  g_autofree char *what =
    g_strdup_printf ("reports %u jobs after %s, where %u are queued", length, after, expected);

  tp_pool_queue_broke (self, what);
}

/* A job older than some queued ones (one a gate gave back) at its place */
void
tp_pool_queue_requeue (TpPool  *self,
                       TpQueue *queue,
                       TpJob   *job)
{
  TpQueueRequeueFunc requeue;

  tp_job_list_push_tail (&queue->jobs, job);
  if (G_UNLIKELY (self->queue_broken))
    return;
  requeue = tp_queue_strategy_get_requeue (self->queue_vt);
  if (requeue != NULL)
    requeue (queue->strategy_queue, job);
  else
    self->queue_vt->push (queue->strategy_queue, job);
  tp_pool_queue_check_length (self, queue, requeue != NULL ? "requeue()" : "push()");
}

/* pop() broke the contract: @job is what it returned, @length its length
 * then; the pool's own list gives the job instead */
TpJob *
tp_pool_queue_pop_broken (TpPool  *self,
                          TpQueue *queue,
                          TpJob   *job,
                          guint    length)
{
  if (job == NULL)
    tp_pool_queue_broke (self, "pop() returned no job while jobs are queued");
  else if (length != queue->jobs.length - 1)
    tp_pool_queue_broke_length (self, queue, length, queue->jobs.length - 1, "pop()");
  else
    tp_pool_queue_broke (self, "pop() returned a job that is not queued");
  return tp_job_list_pop_head (&queue->jobs);
}

void
tp_pool_queue_remove (TpPool  *self,
                      TpQueue *queue,
                      TpJob   *job)
{
  tp_job_list_unlink (&queue->jobs, job);
  if (G_UNLIKELY (self->queue_broken))
    return;
  self->queue_vt->remove (queue->strategy_queue, job);
  tp_pool_queue_check_length (self, queue, "remove()");
}

#if defined(__GNUC__) || defined(__clang__)
# define tp_prefetch_for_write(address) __builtin_prefetch ((address), 1, 3)
#else
# define tp_prefetch_for_write(address) ((void) (address))
#endif

/* Asks the strategy for up to @max jobs in a row, into @jobs, checking its
 * answers as tp_pool_queue_pop() does; stops at the first that breaks the
 * contract, which it reports. No job is read or asked of the processor
 * here: see tp_pool_queue_pop_batch(). */
static guint
tp_pool_queue_pop_row (TpPool   *self,
                       TpQueue  *queue,
                       TpJob   **jobs,
                       guint     max)
{
  guint listed = queue->jobs.length;
  guint n = 0;

  for (; n < max; n++)
    {
      TpJob *job = self->queue_vt->pop (queue->strategy_queue);
      guint length = self->queue_vt->length (queue->strategy_queue);

      if (G_UNLIKELY (job == NULL))
        {
          tp_pool_queue_broke (self, "pop() returned no job while jobs are queued");
          break;
        }
      if (G_UNLIKELY (length != listed - n - 1))
        {
          tp_pool_queue_broke_length (self, queue, length, listed - n - 1, "pop()");
          break;
        }
      jobs[n] = job;
    }
  return n;
}

/* Pops up to @max queued jobs at once, for as many idle workers, into @jobs;
 * returns how many, each unlinked from the pool's list and still
 * TP_JOB_QUEUED. With many jobs queued, each is out of the caches, and so
 * are the two that its unlinking writes: asked for together, their misses
 * overlap instead of following one another. They are asked for once the
 * strategy has given them all: a job asked for between two of its pops made
 * those pops slower (a priority heap's pop at 1 M queued, 550 counter ticks
 * against 320), most likely its record's page and lines taking what the
 * heap's walk needed. On the first answer that breaks the contract, the
 * pool reports it, and the jobs the strategy gave after it stay in the
 * pool's list, from which the next pops take them. The strategy is not
 * broken when this is called. */
guint
tp_pool_queue_pop_batch (TpPool   *self,
                         TpQueue  *queue,
                         TpJob   **jobs,
                         guint     max)
{
  guint n;
  guint valid;

  g_assert (!self->queue_broken && max <= queue->jobs.length);
  n = tp_pool_queue_pop_row (self, queue, jobs, max);
  for (guint i = 0; i < n; i++)
    tp_prefetch_for_write (jobs[i]);

  /* Their neighbours in the list, as each job arrives */
  for (guint i = 0; i < n; i++)
    {
      tp_prefetch_for_write (jobs[i]->prev);
      tp_prefetch_for_write (jobs[i]->next);
    }

  for (valid = 0; valid < n; valid++)
    {
      TpJob *job = jobs[valid];

      /* Queued here, in this list: not one taken earlier in this batch,
       * which is unlinked but still TP_JOB_QUEUED */
      if (G_UNLIKELY (job->pool != self || job->state != TP_JOB_QUEUED ||
                      (job->prev == NULL && queue->jobs.head != job)))
        {
          tp_pool_queue_broke (self, "pop() returned a job that is not queued");
          break;
        }
      tp_job_list_unlink (&queue->jobs, job);
    }
  return valid;
}

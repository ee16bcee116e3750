/* tp-executor.c: thread jobs, and the thread pools that run them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A thread job that gets a worker is pushed to the pool's executor: its own
 * GThreadPool, as large as the pool may grow (`threads`, the default), or
 * GIO's shared pool through g_task_run_in_thread() (`gtask`). A worker
 * thread runs the job, releases its worker slot and, when the queue holds
 * another thread job for it, runs that one too without a hand-off.
 */

#include "config.h"

#include "tp-pool-private.h"

/* The body of every worker thread: runs thread jobs back to back while the
 * queue holds thread jobs for this worker. */
static void
tp_pool_run_thread_jobs (TpJob *job)
{
  while (job != NULL)
    {
      TpPool *self = job->pool;
      GTask *task = g_steal_pointer (&job->task);
      TpJob *next = NULL;

      /* Its callback may run on the submitter's thread while this one still
       * uses the job */
      tp_job_hook (job, task);
      tp_job_disconnect_queued (job);
      job->func (task, self, job->job_data, tp_job_get_run_cancellable (job));

      tp_pool_lock (self);
      self->counts[tp_job_outcome_of_task (job, task)]++;
      tp_pool_release_locked (self, job, &next);
      tp_pool_unlock (self);

      /* May finalize the job, and the pool with it when nothing is next */
      g_object_unref (task);
      job = next;
    }
}

static void
tp_pool_thread_func (gpointer data,
                     gpointer user_data)
{
  tp_pool_run_thread_jobs (data);
}

static void
tp_pool_gtask_thread_func (GTask        *carrier,
                           gpointer      source_object,
                           gpointer      task_data,
                           GCancellable *cancellable)
{
  tp_pool_run_thread_jobs (task_data);
}

void
tp_pool_start_executor_locked (TpPool *self)
{
  if (!self->use_gtask)
    self->threads = g_thread_pool_new (tp_pool_thread_func, NULL,
                                       self->limits.max_size, FALSE, NULL);
}

/* When the pool is finalized: no job is left to run */
void
tp_pool_stop_executor (TpPool *self)
{
  if (self->threads != NULL)
    g_thread_pool_free (g_steal_pointer (&self->threads), FALSE, FALSE);
}

void
tp_pool_start_thread_job_locked (TpPool *self,
                                 TpJob  *job)
{
  if (self->use_gtask)
    {
      /* A carrier task only to reach GIO's thread pool; the job keeps its own
       * task. The carrier completes in the thread-default context of the
       * thread that fills the worker: a thread that never iterates that
       * context keeps one small idle source per job it started. */
      GTask *carrier = g_task_new (NULL, NULL, NULL, NULL);

      g_task_set_task_data (carrier, job, NULL);
      g_task_run_in_thread (carrier, tp_pool_gtask_thread_func);
      g_object_unref (carrier);
    }
  else
    {
      g_thread_pool_push (self->threads, job, NULL);
    }
}

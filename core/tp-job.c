/* tp-job.c: the job accessors of the plugin SDK
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tp-job-private.h"

/**
 * tp_job_get_weight:
 * @job: a queued job
 *
 * Gets the job's weight: smaller runs first in a priority queue.
 *
 * Returns: the weight given at submission, or the pool's `default-weight`
 *
 * Since: 1.0
 */
int
tp_job_get_weight (const TpJob *job)
{
  g_return_val_if_fail (job != NULL, 0);

  return job->weight;
}

/**
 * tp_job_get_sequence:
 * @job: a queued job
 *
 * Gets the job's submission sequence number: unique in its pool and
 * increasing in submission order, to break ties.
 *
 * Returns: the sequence number
 *
 * Since: 1.0
 */
guint64
tp_job_get_sequence (const TpJob *job)
{
  g_return_val_if_fail (job != NULL, 0);

  return job->sequence;
}

/**
 * tp_job_get_submit_time:
 * @job: a queued job
 *
 * Gets when the job was submitted, for strategies that age jobs. A strategy
 * that sets %TP_QUEUE_IGNORES_SUBMIT_TIME must not call it: the pool did not
 * read the clock.
 *
 * Returns: the g_get_monotonic_time() of the submission, in microseconds, or
 *   0 with a critical warning if the job's strategy said it ignores it
 *
 * Since: 1.0
 */
gint64
tp_job_get_submit_time (const TpJob *job)
{
  g_return_val_if_fail (job != NULL, 0);
  /* Its queue strategy set TP_QUEUE_IGNORES_SUBMIT_TIME */
  g_return_val_if_fail (job->timed, 0);

  return job->extra->submit_time;
}

/**
 * tp_job_get_in_thread:
 * @job: a queued job
 *
 * Gets whether the job is a thread job.
 *
 * Returns: %TRUE for a thread job, %FALSE for an async job
 *
 * Since: 1.0
 */
gboolean
tp_job_get_in_thread (const TpJob *job)
{
  g_return_val_if_fail (job != NULL, FALSE);

  return job->in_thread;
}

/**
 * tp_job_get_queue_data:
 * @job: a queued job
 *
 * Gets the pointer the queue strategy stored in @job.
 *
 * Returns: (nullable): what tp_job_set_queue_data() stored, %NULL at first
 *
 * Since: 1.0
 */
gpointer
tp_job_get_queue_data (const TpJob *job)
{
  g_return_val_if_fail (job != NULL, NULL);

  return job->queue_data;
}

/**
 * tp_job_set_queue_data:
 * @job: a queued job
 * @queue_data: (nullable): the strategy's pointer, such as a list link or an index
 *
 * Stores one pointer of the queue strategy's in @job, so that `remove` can
 * find the job without a search.
 *
 * Since: 1.0
 */
void
tp_job_set_queue_data (TpJob    *job,
                       gpointer  queue_data)
{
  g_return_if_fail (job != NULL);

  job->queue_data = queue_data;
}

/**
 * tp_job_get_key:
 * @job: a job
 *
 * Gets the job's key, such as the host a download connects to: what
 * per-key gates and the `fair` queue group jobs by.
 *
 * Returns: (nullable): the key given with tp_job_options_set_key(), or %NULL
 *
 * Since: 1.2
 */
const char *
tp_job_get_key (const TpJob *job)
{
  g_return_val_if_fail (job != NULL, NULL);

  return job->extra != NULL ? job->extra->key : NULL;
}

TpJobExtra *
tp_job_ensure_extra (TpJob *job)
{
  if (job->extra == NULL)
    job->extra = g_new0 (TpJobExtra, 1);
  return job->extra;
}

void
tp_job_free_extra (TpJob *job)
{
  TpJobExtra *extra = g_steal_pointer (&job->extra);

  if (extra == NULL)
    return;
  g_clear_pointer (&extra->key, g_ref_string_release);
  g_free (extra);
}

TpJob *
tp_job_new_detached (int         weight,
                     guint64     sequence,
                     const char *key,
                     gboolean    in_thread)
{
  TpJob *job = g_new0 (TpJob, 1);

  job->weight = weight;
  job->sequence = sequence;
  job->in_thread = in_thread != FALSE;
  job->state = TP_JOB_QUEUED;
  if (key != NULL)
    tp_job_ensure_extra (job)->key = g_ref_string_new_intern (key);
  return job;
}

void
tp_job_free_detached (TpJob *job)
{
  tp_job_free_extra (job);
  g_free (job);
}

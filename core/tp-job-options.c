/* tp-job-options.c: how one job is to be run
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tp-job-options-private.h"
#include <taskpool/tp-plugin.h>

/**
 * TpJobOptions:
 *
 * How one job is to be run, beyond its function: whether it runs on a
 * thread, its weight, its key (such as the host a download connects to, for
 * the gates and the `fair` queue), and how long it may wait and run.
 *
 * Options are reference-counted and may be shared by many submissions: the
 * pool copies what it needs when a job is submitted, so setting an option
 * later does not change a job already submitted. They are not thread-safe
 * while being set; once set, any thread may submit with them.
 *
 * ```c
 * g_autoptr(TpJobOptions) options = tp_job_options_new ();
 *
 * tp_job_options_set_key (options, g_uri_get_host (uri));
 * tp_job_options_set_queue_timeout (options, 30000);
 * tp_pool_submit_with_options_async (pool, options, download_job, g_uri_ref (uri),
 *                                    (GDestroyNotify) g_uri_unref, cancellable,
 *                                    download_done_cb, self);
 * ```
 *
 * Since: 1.2
 */

G_DEFINE_BOXED_TYPE (TpJobOptions, tp_job_options, tp_job_options_ref, tp_job_options_unref)

/* Keys {{{ */

/* A job's key is an interned GRefString: equal keys are one address while
 * any holder keeps a reference. In GLib 2.74, g_ref_string_release() drops
 * the count to zero before it takes the lock that removes the string from
 * the table of interned ones, so that an intern of the same text on another
 * thread in between would take a reference on a string about to be freed.
 * Every intern and every release goes through this lock. */
static GMutex tp_key_lock;

char *
tp_key_intern (const char *key)
{
  char *interned;

  g_mutex_lock (&tp_key_lock);
  interned = g_ref_string_new_intern (key);
  g_mutex_unlock (&tp_key_lock);
  return interned;
}

void
tp_key_release (gpointer key)
{
  g_mutex_lock (&tp_key_lock);
  g_ref_string_release (key);
  g_mutex_unlock (&tp_key_lock);
}

/**
 * tp_key_ref:
 * @key: a key, from tp_job_get_key()
 *
 * Takes a reference on a job's key, for a strategy that keeps the key
 * beyond the job: a count per key, a window of recent starts. While the
 * reference is held, the key stays interned, and the jobs of that key
 * submitted later have it at the same address.
 *
 * Returns: @key
 *
 * Since: 1.4
 */
const char *
tp_key_ref (const char *key)
{
  g_return_val_if_fail (key != NULL, NULL);

  return g_ref_string_acquire ((char *) key);
}

/**
 * tp_key_unref:
 * @key: a key, referenced with tp_key_ref()
 *
 * Drops a reference taken with tp_key_ref(); the last one frees the key.
 * Use it rather than g_ref_string_release(): a key freed on one thread while
 * another interns the same text for a new job must not be found by it, and
 * the library keeps the two apart.
 *
 * Since: 1.4
 */
void
tp_key_unref (const char *key)
{
  g_return_if_fail (key != NULL);

  tp_key_release ((char *) key);
}

/* }}} */

/**
 * tp_job_options_new:
 *
 * Makes options that change nothing: an async job of the pool's
 * `default-weight`, without a key, with the pool's timeouts.
 *
 * Returns: (transfer full): new options
 *
 * Since: 1.2
 */
TpJobOptions *
tp_job_options_new (void)
{
  TpJobOptions *options = g_new0 (TpJobOptions, 1);

  g_atomic_ref_count_init (&options->ref_count);
  return options;
}

/**
 * tp_job_options_ref:
 * @options: options
 *
 * Takes a reference.
 *
 * Returns: (transfer full): @options
 *
 * Since: 1.2
 */
TpJobOptions *
tp_job_options_ref (TpJobOptions *options)
{
  g_return_val_if_fail (options != NULL, NULL);

  g_atomic_ref_count_inc (&options->ref_count);
  return options;
}

/**
 * tp_job_options_unref:
 * @options: (transfer full): options
 *
 * Drops a reference; the last one frees @options.
 *
 * Since: 1.2
 */
void
tp_job_options_unref (TpJobOptions *options)
{
  g_return_if_fail (options != NULL);

  if (!g_atomic_ref_count_dec (&options->ref_count))
    return;
  g_clear_pointer (&options->key, tp_key_release);
  g_free (options->label);
  g_free (options);
}

/**
 * tp_job_options_set_flags:
 * @options: options
 * @flags: %TP_SUBMIT_IN_THREAD for a blocking job, %TP_SUBMIT_NO_WAIT to fail
 *   at once instead of waiting for room in a full queue
 *
 * Sets how the job is submitted, as [method@TaskPool.Pool.submit_full_async]
 * takes them.
 *
 * Since: 1.2
 */
void
tp_job_options_set_flags (TpJobOptions  *options,
                          TpSubmitFlags  flags)
{
  g_return_if_fail (options != NULL);
  g_return_if_fail ((flags & ~(TP_SUBMIT_IN_THREAD | TP_SUBMIT_NO_WAIT)) == 0);

  options->flags = flags;
}

/**
 * tp_job_options_get_flags:
 * @options: options
 *
 * Gets the submission flags.
 *
 * Returns: the flags, %TP_SUBMIT_DEFAULT unless set
 *
 * Since: 1.2
 */
TpSubmitFlags
tp_job_options_get_flags (TpJobOptions *options)
{
  g_return_val_if_fail (options != NULL, TP_SUBMIT_DEFAULT);

  return options->flags;
}

/**
 * tp_job_options_set_weight:
 * @options: options
 * @weight: the job's weight: priority queues run the smallest first
 *
 * Sets the job's weight. Without it, the job has the pool's
 * `default-weight`.
 *
 * Since: 1.2
 */
void
tp_job_options_set_weight (TpJobOptions *options,
                           int           weight)
{
  g_return_if_fail (options != NULL);

  options->weight = weight;
  options->weight_set = TRUE;
}

/**
 * tp_job_options_get_weight:
 * @options: options
 *
 * Gets the weight set with [method@TaskPool.JobOptions.set_weight].
 *
 * Returns: the weight, or 0 when none was set (the job then has the pool's
 *   `default-weight`: see [method@TaskPool.JobOptions.get_weight_set])
 *
 * Since: 1.2
 */
int
tp_job_options_get_weight (TpJobOptions *options)
{
  g_return_val_if_fail (options != NULL, 0);

  return options->weight;
}

/**
 * tp_job_options_get_weight_set:
 * @options: options
 *
 * Gets whether a weight was set, or the job has the pool's `default-weight`.
 *
 * Returns: %TRUE if [method@TaskPool.JobOptions.set_weight] was called
 *
 * Since: 1.2
 */
gboolean
tp_job_options_get_weight_set (TpJobOptions *options)
{
  g_return_val_if_fail (options != NULL, FALSE);

  return options->weight_set;
}

/**
 * tp_job_options_set_key:
 * @options: options
 * @key: (nullable): the job's key, such as a host name; %NULL for none
 *
 * Sets the job's key: the `per-key` gate limits the jobs of one key that
 * run at once, the `rate` gate may count starts per key, and the `fair`
 * queue takes keys in turn. Jobs without a key are not limited by key.
 *
 * Since: 1.2
 */
void
tp_job_options_set_key (TpJobOptions *options,
                        const char   *key)
{
  g_return_if_fail (options != NULL);

  g_clear_pointer (&options->key, tp_key_release);
  /* Interned: jobs of one key share one string, and gates compare keys by
   * address */
  if (key != NULL)
    options->key = tp_key_intern (key);
}

/**
 * tp_job_options_get_key:
 * @options: options
 *
 * Gets the job's key.
 *
 * Returns: (nullable): the key, or %NULL for none
 *
 * Since: 1.2
 */
const char *
tp_job_options_get_key (TpJobOptions *options)
{
  g_return_val_if_fail (options != NULL, NULL);

  return options->key;
}

/**
 * tp_job_options_set_queue_timeout:
 * @options: options
 * @timeout_ms: how long the job may wait before it starts, in milliseconds;
 *   0 for no limit
 *
 * A job not started within @timeout_ms of its submission — waiting for a
 * worker, for room in a full queue, or held by a gate — completes with
 * %TP_POOL_ERROR_TIMED_OUT and never runs. Without it, the job has the
 * pool's `queue-timeout`; 0 lifts the pool's for this job.
 *
 * Since: 1.2
 */
void
tp_job_options_set_queue_timeout (TpJobOptions *options,
                                  guint         timeout_ms)
{
  g_return_if_fail (options != NULL);

  options->queue_timeout_ms = timeout_ms;
  options->queue_timeout_set = TRUE;
}

/**
 * tp_job_options_get_queue_timeout:
 * @options: options
 *
 * Gets the queue timeout.
 *
 * Returns: the timeout in milliseconds, 0 for none or unset
 *
 * Since: 1.2
 */
guint
tp_job_options_get_queue_timeout (TpJobOptions *options)
{
  g_return_val_if_fail (options != NULL, 0);

  return options->queue_timeout_ms;
}

/**
 * tp_job_options_set_run_timeout:
 * @options: options
 * @timeout_ms: how long the job may run, in milliseconds; 0 for no limit
 *
 * When a job has run for @timeout_ms, the pool cancels the cancellable it
 * gave the job. A job is never interrupted: its worker stays busy until it
 * completes its task. A job that then fails with %G_IO_ERROR_CANCELLED is
 * delivered as %G_IO_ERROR_TIMED_OUT, so that its submitter can tell the
 * deadline from its own cancellation. Without it, the job has the pool's
 * `run-timeout`; 0 lifts the pool's for this job.
 *
 * Since: 1.2
 */
void
tp_job_options_set_run_timeout (TpJobOptions *options,
                                guint         timeout_ms)
{
  g_return_if_fail (options != NULL);

  options->run_timeout_ms = timeout_ms;
  options->run_timeout_set = TRUE;
}

/**
 * tp_job_options_get_run_timeout:
 * @options: options
 *
 * Gets the run timeout.
 *
 * Returns: the timeout in milliseconds, 0 for none or unset
 *
 * Since: 1.2
 */
guint
tp_job_options_get_run_timeout (TpJobOptions *options)
{
  g_return_val_if_fail (options != NULL, 0);

  return options->run_timeout_ms;
}

/**
 * tp_job_options_set_label:
 * @options: options
 * @label: (nullable): what a user calls the job, such as a file name; %NULL
 *   for none
 *
 * Gives the job a label: a job with one is listed, with its state and
 * progress, by [method@TaskPool.Pool.get_jobs] while it is in the pool, and
 * can be cancelled from there with [method@TaskPool.JobInfo.cancel].
 *
 * Since: 1.4
 */
void
tp_job_options_set_label (TpJobOptions *options,
                          const char   *label)
{
  g_return_if_fail (options != NULL);

  g_free (options->label);
  options->label = g_strdup (label);
}

/**
 * tp_job_options_get_label:
 * @options: options
 *
 * Gets the job's label.
 *
 * Returns: (nullable): the label, or %NULL for none
 *
 * Since: 1.4
 */
const char *
tp_job_options_get_label (TpJobOptions *options)
{
  g_return_val_if_fail (options != NULL, NULL);

  return options->label;
}

/* taskpool-run-finished.c: finished jobs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The submission callback runs exactly once per job, whatever happened: it
 * counts the job, reports it, prints --keep-order output whose turn came,
 * keeps a record for --json and reads the next line.
 */

#include <stdio.h>
#include <unistd.h>

#include "taskpool-run-private.h"

void
job_record_clear (gpointer data)
{
  JobRecord *record = data;

  g_free (record->command);
  g_free (record->key);
}

static JobStatus
job_status (JobResult    *result,
            const GError *error)
{
  if (result == NULL)
    {
      /* Not started within its queue timeout, or past its run timeout
       * before it could spawn anything: failed, as the timeout meant */
      if (g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_TIMED_OUT) ||
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        return JOB_FAILED;
      /* Refused, discarded or cancelled before it started: it never ran */
      if ((error->domain == TP_POOL_ERROR && error->code != TP_POOL_ERROR_JOB_LOST) ||
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return JOB_NOT_RUN;
      return JOB_FAILED;
    }
  if (result->timed_out)
    return JOB_FAILED;
  if (result->exited && result->exit_code == 0)
    return JOB_SUCCEEDED;
  return result->terminated ? JOB_CANCELLED : JOB_FAILED;
}

/* Past its queue timeout, or its run timeout */
static gboolean
job_timed_out (JobResult    *result,
               const GError *error)
{
  if (result != NULL)
    return result->timed_out;
  return g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_TIMED_OUT) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
}

static char *
job_describe (Run          *run,
              JobStatus     status,
              JobResult    *result,
              const GError *error)
{
  double seconds = result != NULL ? result->elapsed_us / (double) G_USEC_PER_SEC : 0;

  if (g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_TIMED_OUT))
    return g_strdup_printf ("failed, not started within its queue timeout of %.2f s",
                            tp_pool_get_queue_timeout (run->pool) / 1000.0);
  if (result == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_strdup ("failed, timed out before it started");
  if (result == NULL)
    return g_strdup_printf ("%s: %s", status == JOB_NOT_RUN ? "not run" : "failed, cannot run",
                            error->message);
  if (status == JOB_SUCCEEDED)
    return g_strdup_printf ("ok (%.2f s)", seconds);
  if (status == JOB_CANCELLED)
    return g_strdup_printf ("cancelled (%.2f s)", seconds);
  if (result->timed_out)
    return g_strdup_printf ("failed, timed out after %.2f s", seconds);
  if (result->exited)
    return g_strdup_printf ("failed, exit status %d (%.2f s)", result->exit_code, seconds);
  return g_strdup_printf ("failed, killed by signal %d, %s (%.2f s)", result->signal,
                          g_strsignal (result->signal), seconds);
}

/* Plain mode logs every job that ran; the status line mode only failures */
static void
run_report_job (Run          *run,
                Job          *job,
                JobStatus     status,
                JobResult    *result,
                const GError *error)
{
  g_autofree char *description = NULL;

  if (run->opts->quiet || status == JOB_NOT_RUN)
    return;
  if (run->status_mode && status != JOB_FAILED)
    return;

  description = job_describe (run, status, result, error);
  run_message (run, "line %u: %s: %s", job->line, description, job->command);
}

static void
run_record_job (Run          *run,
                Job          *job,
                JobStatus     status,
                JobResult    *result,
                const GError *error)
{
  JobRecord record = {
    .line = job->line,
    .status = status,
    .exit_code = result != NULL && result->exited ? result->exit_code : -1,
    .signal = result != NULL ? result->signal : 0,
    .timed_out = job_timed_out (result, error),
    .elapsed_us = result != NULL ? result->elapsed_us : 0,
    .command = g_steal_pointer (&job->command),
    .key = g_steal_pointer (&job->key),
  };

  g_array_append_val (run->records, record);
}

/* --keep-order: outputs wait here until every earlier job's was printed */
static void
run_flush_outputs (Run *run)
{
  gpointer value;
  gboolean wrote = FALSE;

  while (g_hash_table_steal_extended (run->outputs, GUINT_TO_POINTER (run->next_output + 1),
                                      NULL, &value))
    {
      g_autoptr(GBytes) output = value;
      gsize size;
      const char *data = g_bytes_get_data (output, &size);

      if (size > 0 && !wrote && isatty (STDOUT_FILENO))
        run_clear_status (run);
      if (size > 0)
        wrote = fwrite (data, 1, size, stdout) > 0 || wrote;
      run->next_output++;
    }
  if (wrote)
    fflush (stdout);
}

static void
run_push_output (Run    *run,
                 guint   index,
                 GBytes *output)
{
  g_hash_table_insert (run->outputs, GUINT_TO_POINTER (index + 1),
                       output != NULL ? g_bytes_ref (output) : g_bytes_new_static ("", 0));
  run_flush_outputs (run);
}

/* The submission callback: runs exactly once per job, whatever happened */
void
job_done_cb (GObject      *source,
             GAsyncResult *res,
             gpointer      user_data)
{
  g_autoptr(Job) job = user_data;
  Run *run = job->run;
  g_autoptr(GError) error = NULL;
  g_autoptr(JobResult) result = tp_pool_submit_finish (TP_POOL (source), res, &error);
  JobStatus status;

  /* A job its cancellable terminated left its result beside the error */
  if (result == NULL && job->result != NULL)
    {
      result = g_steal_pointer (&job->result);
      result->timed_out = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
    }
  status = job_status (result, error);

  run->pending--;
  run->counts[status]++;
  if (job_timed_out (result, error))
    run->timed_out++;

  run_report_job (run, job, status, result, error);
  if (run->opts->keep_order)
    run_push_output (run, job->index, result != NULL ? result->output : NULL);
  if (status == JOB_FAILED && run->opts->halt_on_error)
    run_halt (run, job);
  if (run->records != NULL)
    run_record_job (run, job, status, result, error);

  run_maybe_read (run);
  run_maybe_finish (run);
}

/* taskpool-run-close.c: closing the pool and ending the run
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The end of input drains the pool; --halt-on-error and input errors discard
 * the queued jobs; interrupts cancel the running ones. A later close escalates
 * an earlier one.
 */

#include "taskpool-run-private.h"

void
run_maybe_finish (Run *run)
{
  if (run->closed && run->pending == 0)
    g_main_loop_quit (run->loop);
}

static void
run_closed_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Run *run = user_data;

  tp_pool_close_finish (TP_POOL (source), result, NULL);
  if (--run->closes_pending == 0)
    run->closed = TRUE;
  run_maybe_finish (run);
}

/* Closing again with stronger flags escalates; the run ends when every close
 * completed and every job's callback ran. */
void
run_close (Run          *run,
           TpCloseFlags  flags)
{
  run->closed = FALSE;
  run->closes_pending++;
  tp_pool_close_async (run->pool, flags, NULL, run_closed_cb, run);
}

void
run_halt (Run *run,
          Job *job)
{
  if (run->halted || run->interrupt_signal != 0)
    return;

  run->halted = TRUE;
  run_message (run, "line %u failed: starting no more jobs (--halt-on-error)", job->line);
  run_stop_input (run);
  run_close (run, TP_CLOSE_DISCARD_QUEUED);
}

/* taskpool-run-signals.c: scaling and interrupts by signal
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * SIGUSR1 and SIGUSR2 scale the pool; SIGINT, SIGTERM and SIGHUP stop the
 * reading and cancel the running jobs, and the same signal again exits at once.
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib-unix.h>

#include "taskpool-run-private.h"

static void
run_scale (Run        *run,
           int         delta,
           const char *signal_name)
{
  guint before = tp_pool_get_target_size (run->pool);
  guint after = (guint) tp_pool_scale (run->pool, delta);

  run->peak_size = MAX (run->peak_size, tp_pool_get_size (run->pool));
  if (after == before)
    run_message (run, "%s: size stays %u (limits %u to %u)", signal_name, after,
                 tp_pool_get_min_size (run->pool), tp_pool_get_max_size (run->pool));
  else
    run_message (run, "%s: size %u (was %u)", signal_name, after, before);
  run_maybe_read (run);
}

static gboolean
run_usr1_cb (gpointer user_data)
{
  run_scale (user_data, 1, "SIGUSR1");
  return G_SOURCE_CONTINUE;
}

static gboolean
run_usr2_cb (gpointer user_data)
{
  run_scale (user_data, -1, "SIGUSR2");
  return G_SOURCE_CONTINUE;
}

static const char *
signal_name (int signum)
{
  switch (signum)
    {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    default:
      return "a signal";
    }
}

/* The second interrupt: kill what is left and exit without waiting */
static void G_GNUC_NORETURN
run_exit_now (Run *run,
              int  signum)
{
  guint killed = run->running.length;

  for (GList *link = run->running.head; link != NULL; link = link->next)
    job_signal (link->data, SIGKILL);

  run_clear_status (run);
  fflush (stdout);
  fprintf (stderr, PROGRAM ": %s again: killed %u running job%s, exiting at once\n",
           signal_name (signum), killed, killed == 1 ? "" : "s");
  exit (128 + signum);
}

static void
run_interrupt (Run *run,
               int  signum)
{
  guint queued;

  if (run->interrupt_signal != 0)
    run_exit_now (run, signum);

  run->interrupt_signal = signum;
  queued = tp_pool_get_waiting (run->pool) + tp_pool_get_backlog (run->pool);
  run_message (run, "interrupted by %s: terminating %u running job%s, %u queued will not run "
               "(%s again exits at once)", signal_name (signum), run->running.length,
               run->running.length == 1 ? "" : "s", queued, signal_name (signum));
  run_stop_input (run);
  run_close (run, TP_CLOSE_CANCEL_RUNNING);
}

static gboolean
run_sigint_cb (gpointer user_data)
{
  run_interrupt (user_data, SIGINT);
  return G_SOURCE_CONTINUE;
}

static gboolean
run_sigterm_cb (gpointer user_data)
{
  run_interrupt (user_data, SIGTERM);
  return G_SOURCE_CONTINUE;
}

static gboolean
run_sighup_cb (gpointer user_data)
{
  run_interrupt (user_data, SIGHUP);
  return G_SOURCE_CONTINUE;
}

void
run_watch_signals (Run *run)
{
  g_unix_signal_add (SIGUSR1, run_usr1_cb, run);
  g_unix_signal_add (SIGUSR2, run_usr2_cb, run);
  g_unix_signal_add (SIGINT, run_sigint_cb, run);
  g_unix_signal_add (SIGTERM, run_sigterm_cb, run);
  g_unix_signal_add (SIGHUP, run_sighup_cb, run);
}

/* taskpool-run-status.c: messages and the status line
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * On a terminal, a status line on stderr is redrawn every STATUS_INTERVAL_MS;
 * messages are printed above it.
 */

#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "taskpool-run-private.h"

double
seconds_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
}

void
run_clear_status (Run *run)
{
  if (!run->status_drawn)
    return;
  fputs ("\r\033[K", stderr);
  run->status_drawn = FALSE;
}

static guint
terminal_width (void)
{
  struct winsize size;

  if (ioctl (STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col >= 20)
    return size.ws_col;
  return 80;
}

static guint
run_finished (Run *run)
{
  return run->counts[JOB_SUCCEEDED] + run->counts[JOB_FAILED] + run->counts[JOB_CANCELLED] +
         run->counts[JOB_NOT_RUN];
}

static void
append_eta (GString *out,
            double   seconds)
{
  guint64 s = (guint64) (seconds + 0.5);

  if (s >= 3600)
    g_string_append_printf (out, ", ETA %u:%02u:%02u", (guint) (s / 3600),
                            (guint) (s / 60 % 60), (guint) (s % 60));
  else
    g_string_append_printf (out, ", ETA %u:%02u", (guint) (s / 60), (guint) (s % 60));
}

static char *
run_status_text (Run *run)
{
  GString *out = g_string_new (NULL);
  guint finished = run_finished (run);
  double elapsed = seconds_since (run->start_time);
  double rate = elapsed > 0 ? finished / elapsed : 0;
  guint queued = tp_pool_get_waiting (run->pool) + tp_pool_get_backlog (run->pool);
  guint width = terminal_width () - 1;

  if (run->eof)
    g_string_append_printf (out, "done %u/%u", finished, run->submitted);
  else
    g_string_append_printf (out, "done %u (%u read)", finished, run->submitted);
  if (run->counts[JOB_FAILED] > 0)
    g_string_append_printf (out, ", failed %u", run->counts[JOB_FAILED]);
  g_string_append_printf (out, ", running %u, queued %u, workers %u, %.1f/s",
                          run->running.length, queued, tp_pool_get_size (run->pool), rate);
  if (run->eof && rate > 0 && finished < run->submitted)
    append_eta (out, (run->submitted - finished) / rate);

  if (out->len > width)
    g_string_truncate (out, width);
  return g_string_free (out, FALSE);
}

static void
run_draw_status (Run *run)
{
  g_autofree char *text = run_status_text (run);

  fprintf (stderr, "\r%s\033[K", text);
  run->status_drawn = TRUE;
}

gboolean
run_status_cb (gpointer user_data)
{
  run_draw_status (user_data);
  return G_SOURCE_CONTINUE;
}

/* A line on stderr, above the status line when there is one */
void
run_message (Run        *run,
             const char *format,
             ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  run_clear_status (run);
  fprintf (stderr, PROGRAM ": %s\n", text);
  if (run->status_id != 0)
    run_draw_status (run);
}

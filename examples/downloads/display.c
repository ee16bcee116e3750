/* display.c: what the downloader shows
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * On a terminal, one line per running download with a bar, redrawn ten
 * times a second while the pool's list of jobs is not empty, and a line that
 * counts the downloads that wait. Messages (a file saved, a download failed)
 * are printed above the bars. When standard output is not a terminal, only
 * the messages are printed, one line each.
 *
 * The lines follow the pool's own list (tp_pool_get_jobs()): what it says
 * is running is drawn, in submission order.
 */

#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "downloads.h"

#define DISPLAY_INTERVAL_MS 100
#define DISPLAY_BAR_WIDTH 24
#define DISPLAY_NAME_WIDTH 28

static guint
display_terminal_width (void)
{
  struct winsize size;

  if (ioctl (STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col >= 40)
    return size.ws_col;
  return 80;
}

/* Erases the bars: the cursor goes back to where they began */
static void
display_erase (Display *display)
{
  if (display->lines == 0)
    return;
  printf ("\033[%uA\r\033[J", display->lines);
  display->lines = 0;
}

/* Cuts @line to @width characters, so that no line wraps */
static void
display_fit (GString *line,
             guint    width)
{
  if (g_utf8_strlen (line->str, -1) > width)
    g_string_truncate (line, g_utf8_offset_to_pointer (line->str, width) - line->str);
}

static void
display_append_name (GString    *line,
                     const char *name)
{
  glong length = g_utf8_strlen (name, -1);

  if (length > DISPLAY_NAME_WIDTH)
    {
      g_string_append_len (line, name, g_utf8_offset_to_pointer (name, DISPLAY_NAME_WIDTH - 1) -
                                       name);
      g_string_append (line, "…");
    }
  else
    {
      g_string_append (line, name);
      for (glong i = length; i < DISPLAY_NAME_WIDTH; i++)
        g_string_append_c (line, ' ');
    }
}

static void
display_append_bar (GString *line,
                    double   fraction)
{
  guint filled = (guint) (fraction * DISPLAY_BAR_WIDTH);

  g_string_append (line, " [");
  for (guint i = 0; i < DISPLAY_BAR_WIDTH; i++)
    g_string_append_c (line, i < filled ? '#' : '-');
  g_string_append_printf (line, "] %3u%% ", (guint) (fraction * 100));
}

static void
display_append_sizes (GString  *line,
                      Download *download)
{
  g_autofree char *received = g_format_size (download_get_received (download));

  if (download_get_total (download) >= 0)
    {
      g_autofree char *total = g_format_size (download_get_total (download));

      g_string_append_printf (line, " %s of %s", received, total);
    }
  else
    g_string_append_printf (line, " %s", received);
  g_string_append_printf (line, "  %s", download_get_key (download));
}

static void
display_draw_job (Display   *display,
                  TpJobInfo *info)
{
  Download *download = g_hash_table_lookup (display->by_name, tp_job_info_get_label (info));
  g_autoptr(GString) line = g_string_new (NULL);

  display_append_name (line, tp_job_info_get_label (info));
  if (download != NULL && !download_has_response (download))
    g_string_append (line, " [ waiting for the server ]");
  else if (download != NULL && download_get_total (download) < 0)
    g_string_append (line, " [ size unknown ]          ");
  else
    display_append_bar (line, tp_job_info_get_progress (info));
  if (download != NULL)
    display_append_sizes (line, download);
  display_fit (line, display->width - 1);
  printf ("%s\n", line->str);
  display->lines++;
}

/* Held jobs wait for their host's limit (the per-key gate); queued ones
 * for a free slot in the pool */
static void
display_draw_waiting (Display *display,
                      guint    queued,
                      guint    held)
{
  if (queued == 0 && held == 0)
    return;
  if (queued > 0 && held > 0)
    printf ("%u waiting for a free slot, %u for their host\n", queued, held);
  else if (queued > 0)
    printf ("%u waiting for a free slot\n", queued);
  else
    printf ("%u waiting for their host\n", held);
  display->lines++;
}

static void
display_draw (Display *display)
{
  guint n_items = g_list_model_get_n_items (display->jobs);
  guint counts[TP_JOB_STATE_RUNNING + 1] = { 0, };

  display->width = display_terminal_width ();
  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(TpJobInfo) info = g_list_model_get_item (display->jobs, i);
      TpJobState state = tp_job_info_get_state (info);

      counts[state]++;
      if (state == TP_JOB_STATE_RUNNING)
        display_draw_job (display, info);
    }
  display_draw_waiting (display, counts[TP_JOB_STATE_QUEUED], counts[TP_JOB_STATE_HELD]);
}

static void
display_redraw (Display *display)
{
  display_erase (display);
  display_draw (display);
  fflush (stdout);
}

static gboolean
display_redraw_cb (gpointer user_data)
{
  Display *display = user_data;

  display_redraw (display);
  if (g_list_model_get_n_items (display->jobs) > 0)
    return G_SOURCE_CONTINUE;
  display->redraw_id = 0;
  return G_SOURCE_REMOVE;
}

/* Redraws while the list has jobs; no timer when it is empty */
static void
display_jobs_changed_cb (GListModel *jobs,
                         guint       position,
                         guint       removed,
                         guint       added,
                         gpointer    user_data)
{
  Display *display = user_data;

  if (display->redraw_id == 0 && g_list_model_get_n_items (jobs) > 0)
    display->redraw_id = g_timeout_add (DISPLAY_INTERVAL_MS, display_redraw_cb, display);
}

void
display_init (Display    *display,
              TpPool     *pool,
              GHashTable *by_name)
{
  const char *term = g_getenv ("TERM");

  display->tty = isatty (STDOUT_FILENO) && term != NULL && g_strcmp0 (term, "dumb") != 0;
  display->jobs = tp_pool_get_jobs (pool);
  display->by_name = g_hash_table_ref (by_name);
  if (display->tty)
    g_signal_connect (display->jobs, "items-changed", G_CALLBACK (display_jobs_changed_cb),
                      display);
}

void
display_clear (Display *display)
{
  if (display->tty)
    {
      display_erase (display);
      fflush (stdout);
      g_signal_handlers_disconnect_by_data (display->jobs, display);
    }
  g_clear_handle_id (&display->redraw_id, g_source_remove);
  g_clear_object (&display->jobs);
  g_clear_pointer (&display->by_name, g_hash_table_unref);
}

void
display_message (Display    *display,
                 const char *format,
                 ...)
{
  va_list args;

  if (display->tty)
    display_erase (display);
  va_start (args, format);
  vprintf (format, args);
  va_end (args);
  putchar ('\n');
  if (display->tty && display->jobs != NULL)
    display_draw (display);
  fflush (stdout);
}

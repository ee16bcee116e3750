/* taskpool-run-input.c: reading lines and submitting them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Input is read one line at a time; with a queue capacity the next line is
 * read only once the previous job got into the queue, so a long input never
 * sits in memory.
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>
#include <glib/gstdio.h>

#include "taskpool-run-private.h"

gboolean
run_open_input (Run     *run,
                GError **error)
{
  const char *path = run->opts->files != NULL ? run->opts->files[0] : NULL;
  g_autoptr(GInputStream) stream = NULL;
  struct stat info;
  int fd = STDIN_FILENO;

  if (path != NULL && strcmp (path, "-") != 0)
    {
      fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
      if (fd < 0 || (fstat (fd, &info) == 0 && S_ISDIR (info.st_mode)))
        {
          int saved_errno = fd < 0 ? errno : EISDIR;

          if (fd >= 0)
            close (fd);
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "cannot read “%s”: %s", path, g_strerror (saved_errno));
          return FALSE;
        }
    }

  stream = g_unix_input_stream_new (fd, fd != STDIN_FILENO);
  run->input = g_data_input_stream_new (stream);
  g_data_input_stream_set_newline_type (run->input, G_DATA_STREAM_NEWLINE_TYPE_LF);
  run->read_cancellable = g_cancellable_new ();
  return TRUE;
}

void
run_stop_input (Run *run)
{
  run->input_done = TRUE;
  g_cancellable_cancel (run->read_cancellable);
}

/* A line that cannot be read or understood ends the input: jobs already
 * running finish, queued ones do not run, and the exit status is 2. */
static void
run_input_failed (Run        *run,
                  const char *message)
{
  run_message (run, "%s", message);
  run->input_error = TRUE;
  run_stop_input (run);
  run_close (run, TP_CLOSE_DISCARD_QUEUED);
}

static gboolean
line_is_blank_or_comment (const char *line)
{
  while (g_ascii_isspace (*line))
    line++;
  return *line == '\0' || *line == '#';
}

/* A command line skips blanks and comments; with -- COMMAND a line is an
 * argument, data, and only an empty one says nothing */
static gboolean
run_skips (Run        *run,
           const char *text)
{
  if (run->opts->command != NULL)
    return text[0] == '\0';
  return line_is_blank_or_comment (text);
}

/* What a line holds after the fields read so far: COMMAND, or ARGUMENT with
 * -- COMMAND; with --keys before that, KEY<TAB> */
static const char *
run_line_rest (Run      *run,
               gboolean  with_key)
{
  if (run->opts->command != NULL)
    return with_key ? "KEY<TAB>ARGUMENT" : "ARGUMENT";
  return with_key ? "KEY<TAB>COMMAND" : "COMMAND";
}

/* Splits a --weights line, WEIGHT<TAB>COMMAND or, with -- COMMAND,
 * WEIGHT<TAB>ARGUMENT; with --keys, KEY<TAB> comes before COMMAND */
static gboolean
run_parse_weight (Run         *run,
                  char        *line,
                  int         *weight,
                  char       **rest,
                  GError     **error)
{
  const char *what = run_line_rest (run, run->opts->keys);
  char *tab = strchr (line, '\t');
  gint64 value;

  if (tab == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "line %u: no TAB in “%s”: --weights expects WEIGHT<TAB>%s",
                   run->line_no, line, what);
      return FALSE;
    }
  *tab = '\0';
  g_strstrip (line);
  if (!g_ascii_string_to_signed (line, 10, G_MININT, G_MAXINT, &value, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "line %u: “%s” is not a weight: --weights expects WEIGHT<TAB>%s "
                   "with a whole number from %d to %d", run->line_no, line, what, G_MININT,
                   G_MAXINT);
      return FALSE;
    }
  /* With --keys, the key's own check says what is missing */
  if (!run->opts->keys && run_skips (run, tab + 1))
    {
      g_autofree char *lower = g_ascii_strdown (what, -1);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "line %u: no %s after the weight %s", run->line_no, lower, line);
      return FALSE;
    }
  *weight = (int) value;
  *rest = tab + 1;
  return TRUE;
}

/* Splits a --keys line, KEY<TAB>COMMAND or KEY<TAB>ARGUMENT. Blanks around
 * the key go; an empty key is none. */
static gboolean
run_parse_key (Run         *run,
               char        *text,
               const char **key,
               char       **rest,
               GError     **error)
{
  const char *what = run_line_rest (run, FALSE);
  char *tab = strchr (text, '\t');

  if (tab == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "line %u: no TAB in “%s”: --keys expects %s%s", run->line_no, text,
                   run->opts->weights ? "WEIGHT<TAB>" : "", run_line_rest (run, TRUE));
      return FALSE;
    }
  *tab = '\0';
  g_strstrip (text);
  if (run_skips (run, tab + 1))
    {
      g_autofree char *lower = g_ascii_strdown (what, -1);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "line %u: no %s after the key “%s”", run->line_no, lower, text);
      return FALSE;
    }
  *key = text[0] != '\0' ? text : NULL;
  *rest = tab + 1;
  return TRUE;
}

static void
run_submit (Run        *run,
            int         weight,
            const char *key,
            const char *command)
{
  g_autoptr(TpJobOptions) options = tp_job_options_new ();
  Job *job = job_new (run, command, key);

  run->submitted++;
  run->pending++;
  tp_job_options_set_weight (options, weight);
  tp_job_options_set_key (options, key);
  tp_pool_submit_with_options_async (run->pool, options, job_run_cb, job, NULL, NULL,
                                     job_done_cb, job);
}

static void
run_take_line (Run  *run,
               char *line,
               gsize length)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *expanded = NULL;
  char *text = line;
  const char *key = NULL;
  int weight = run->default_weight;

  run->line_no++;
  if (length > 0 && line[length - 1] == '\r')
    line[length - 1] = '\0';
  if (run_skips (run, line))
    return;

  if ((run->opts->weights && !run_parse_weight (run, text, &weight, &text, &error)) ||
      (run->opts->keys && !run_parse_key (run, text, &key, &text, &error)))
    {
      run_input_failed (run, error->message);
      return;
    }
  if (run->opts->command != NULL)
    text = expanded = template_expand (run->opts->command, text);
  run_submit (run, weight, key, text);
}

static void
run_input_ended (Run *run)
{
  run->eof = TRUE;
  run->input_done = TRUE;
  run_close (run, TP_CLOSE_DRAIN);
}

static void
run_line_read_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Run *run = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  gsize length = 0;
  g_autofree char *line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source),
                                                                result, &length, &error);

  run->reading = FALSE;
  if (run->input_done)
    return;  /* halted or interrupted meanwhile: the line is not used */

  if (error != NULL)
    {
      message = g_strdup_printf ("cannot read line %u of the input: %s", run->line_no + 1,
                                 error->message);
      run_input_failed (run, message);
      return;
    }
  if (line == NULL)
    {
      run_input_ended (run);
      return;
    }

  run_take_line (run, line, length);
  run_maybe_read (run);
}

/* Reads the next line unless the last submission still waits for room in a
 * full queue: that is the pool's back-pressure reaching the input. */
void
run_maybe_read (Run *run)
{
  if (run->reading || run->input_done)
    return;
  if (run->capacity > 0 && tp_pool_get_backlog (run->pool) > 0)
    return;

  run->reading = TRUE;
  g_data_input_stream_read_line_async (run->input, G_PRIORITY_DEFAULT, run->read_cancellable,
                                       run_line_read_cb, run);
}

void
run_pool_changed_cb (GObject    *pool,
                     GParamSpec *pspec,
                     gpointer    user_data)
{
  run_maybe_read (user_data);
}

/* taskpool-run-summary.c: the summary and the JSON report
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>

#include "taskpool-run-private.h"

int
run_exit_status (Run *run)
{
  if (run->interrupt_signal != 0)
    return 128 + run->interrupt_signal;
  if (run->input_error)
    return EXIT_USAGE;
  if (run->counts[JOB_SUCCEEDED] < run->submitted)
    return EXIT_FAILED;
  return EXIT_SUCCESS;
}

void
run_print_summary (Run *run)
{
  fprintf (stderr, PROGRAM ": %u job%s in %.2f s: %u succeeded, %u failed", run->submitted,
           run->submitted == 1 ? "" : "s", seconds_since (run->start_time),
           run->counts[JOB_SUCCEEDED], run->counts[JOB_FAILED]);
  if (run->timed_out > 0)
    fprintf (stderr, " (%u timed out)", run->timed_out);
  fprintf (stderr, ", %u cancelled, %u not run; size %u, at most %u running\n",
           run->counts[JOB_CANCELLED], run->counts[JOB_NOT_RUN],
           tp_pool_get_target_size (run->pool), run->peak_running);
}

static const char * const job_status_names[N_JOB_STATUSES] = {
  "succeeded", "failed", "cancelled", "not_run"
};

static void
json_append_string (GString    *out,
                    const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);

  g_string_append_c (out, '"');
  for (const char *p = valid; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c == '"' || c == '\\')
        g_string_append_printf (out, "\\%c", c);
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c < 0x20)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_c (out, (char) c);
    }
  g_string_append_c (out, '"');
}

static void
json_append_seconds (GString *out,
                     gint64   microseconds)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append (out, g_ascii_formatd (buffer, sizeof buffer, "%.3f",
                                         microseconds / (double) G_USEC_PER_SEC));
}

static int
compare_records (gconstpointer a,
                 gconstpointer b)
{
  const JobRecord *ra = a, *rb = b;

  return ra->line < rb->line ? -1 : ra->line > rb->line;
}

static void
json_append_record (GString         *out,
                    const JobRecord *record)
{
  g_string_append_printf (out, "{\"line\":%u,\"status\":\"%s\",\"exit_code\":", record->line,
                          job_status_names[record->status]);
  if (record->exit_code >= 0)
    g_string_append_printf (out, "%d", record->exit_code);
  else
    g_string_append (out, "null");
  g_string_append (out, ",\"signal\":");
  if (record->signal > 0)
    g_string_append_printf (out, "%d", record->signal);
  else
    g_string_append (out, "null");
  g_string_append_printf (out, ",\"timed_out\":%s,\"elapsed_s\":",
                          record->timed_out ? "true" : "false");
  json_append_seconds (out, record->elapsed_us);
  g_string_append (out, ",\"command\":");
  json_append_string (out, record->command);
  g_string_append_c (out, '}');
}

void
run_print_json (Run *run)
{
  g_autoptr(GString) out = g_string_new ("{");

  g_string_append_printf (out, "\"submitted\":%u,\"succeeded\":%u,\"failed\":%u,"
                          "\"timed_out\":%u,\"cancelled\":%u,\"not_run\":%u,\"exit_status\":%d,"
                          "\"interrupted\":%s,\"elapsed_s\":",
                          run->submitted, run->counts[JOB_SUCCEEDED], run->counts[JOB_FAILED],
                          run->timed_out, run->counts[JOB_CANCELLED], run->counts[JOB_NOT_RUN],
                          run_exit_status (run), run->interrupt_signal != 0 ? "true" : "false");
  json_append_seconds (out, g_get_monotonic_time () - run->start_time);
  g_string_append (out, ",\"kind\":");
  json_append_string (out, tp_pool_get_kind (run->pool));
  g_string_append_printf (out, ",\"size\":%u,\"peak_size\":%u,\"peak_running\":%u,\"jobs\":[",
                          tp_pool_get_target_size (run->pool), run->peak_size,
                          run->peak_running);

  g_array_sort (run->records, compare_records);
  for (guint i = 0; i < run->records->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      json_append_record (out, &g_array_index (run->records, JobRecord, i));
    }
  g_string_append (out, "]}\n");

  fwrite (out->str, 1, out->len, stdout);
  fflush (stdout);
}

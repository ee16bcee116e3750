/* taskpool-run-summary.c: the summary and the JSON report
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-glib/json-glib.h>

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

static int
compare_records (gconstpointer a,
                 gconstpointer b)
{
  const JobRecord *ra = a, *rb = b;

  return ra->line < rb->line ? -1 : ra->line > rb->line;
}

static void
json_add_int (JsonBuilder *builder,
              const char  *member,
              gint64       value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_int_value (builder, value);
}

/* A figure that some jobs lack: null then, never a made-up number */
static void
json_add_int_or_null (JsonBuilder *builder,
                      const char  *member,
                      gboolean     present,
                      gint64       value)
{
  json_builder_set_member_name (builder, member);
  if (present)
    json_builder_add_int_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
json_add_boolean (JsonBuilder *builder,
                  const char  *member,
                  gboolean     value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_boolean_value (builder, value);
}

/* Commands are bytes from the input: JSON strings are UTF-8 */
static void
json_add_string (JsonBuilder *builder,
                 const char  *member,
                 const char  *value)
{
  g_autofree char *valid = g_utf8_make_valid (value, -1);

  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, valid);
}

static void
json_add_string_or_null (JsonBuilder *builder,
                         const char  *member,
                         const char  *value)
{
  if (value != NULL)
    {
      json_add_string (builder, member, value);
      return;
    }
  json_builder_set_member_name (builder, member);
  json_builder_add_null_value (builder);
}

/* Seconds to the millisecond, as the messages give them */
static void
json_add_seconds (JsonBuilder *builder,
                  const char  *member,
                  gint64       microseconds)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_double_value (builder, round (microseconds / 1000.0) / 1000.0);
}

static void
json_add_record (JsonBuilder     *builder,
                 const JobRecord *record)
{
  json_builder_begin_object (builder);
  json_add_int (builder, "line", record->line);
  json_add_string (builder, "status", job_status_names[record->status]);
  json_add_int_or_null (builder, "exit_code", record->exit_code >= 0, record->exit_code);
  json_add_int_or_null (builder, "signal", record->signal > 0, record->signal);
  json_add_boolean (builder, "timed_out", record->timed_out);
  json_add_seconds (builder, "elapsed_s", record->elapsed_us);
  json_add_string (builder, "command", record->command);
  json_add_string_or_null (builder, "key", record->key);
  json_builder_end_object (builder);
}

static JsonNode *
run_build_json (Run *run)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_add_int (builder, "submitted", run->submitted);
  json_add_int (builder, "succeeded", run->counts[JOB_SUCCEEDED]);
  json_add_int (builder, "failed", run->counts[JOB_FAILED]);
  json_add_int (builder, "timed_out", run->timed_out);
  json_add_int (builder, "cancelled", run->counts[JOB_CANCELLED]);
  json_add_int (builder, "not_run", run->counts[JOB_NOT_RUN]);
  json_add_int (builder, "exit_status", run_exit_status (run));
  json_add_boolean (builder, "interrupted", run->interrupt_signal != 0);
  json_add_seconds (builder, "elapsed_s", g_get_monotonic_time () - run->start_time);
  json_add_string (builder, "kind", tp_pool_get_kind (run->pool));
  json_add_int (builder, "size", tp_pool_get_target_size (run->pool));
  json_add_int (builder, "peak_size", run->peak_size);
  json_add_int (builder, "peak_running", run->peak_running);

  json_builder_set_member_name (builder, "jobs");
  json_builder_begin_array (builder);
  g_array_sort (run->records, compare_records);
  for (guint i = 0; i < run->records->len; i++)
    json_add_record (builder, &g_array_index (run->records, JobRecord, i));
  json_builder_end_array (builder);

  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* One line, the last of standard output */
void
run_print_json (Run *run)
{
  g_autoptr(JsonNode) root = run_build_json (run);
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;
  gsize length = 0;

  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &length);
  fwrite (text, 1, length, stdout);
  fputc ('\n', stdout);
  fflush (stdout);
}

/* tp-bench-report.c: the rows of results, as a table or as JSON
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>

#include "tp-bench-private.h"

/* A row's value and samples are in its unit, the one the JSON names */
static const char * const unit_names[] = {
  [UNIT_RATE] = "jobs/s",
  [UNIT_IDEAL] = "wall/ideal",
  [UNIT_SECONDS] = "s/op",
  [UNIT_MS] = "ms",
  [UNIT_BYTES] = "bytes/job",
  [UNIT_COUNT] = "count",
};

static GPtrArray *rows;

static void
row_free (gpointer data)
{
  Row *row = data;

  g_free (row->workload);
  g_free (row->baseline);
  g_free (row->target);
  g_clear_pointer (&row->samples, g_array_unref);
  g_clear_pointer (&row->baseline_samples, g_array_unref);
  g_free (row);
}

void
rows_init (void)
{
  rows = g_ptr_array_new_with_free_func (row_free);
}

void
rows_clear (void)
{
  g_clear_pointer (&rows, g_ptr_array_unref);
}

/* Adds a row; takes @samples and @baseline_samples */
Row *
row_add (Section     section,
         Unit        unit,
         const char *workload,
         GArray     *samples,
         const char *baseline,
         GArray     *baseline_samples)
{
  Row *row = g_new0 (Row, 1);

  row->section = section;
  row->unit = unit;
  row->workload = g_strdup (workload);
  row->samples = samples;
  row->value = median (samples);
  row->met = -1;
  if (baseline != NULL)
    {
      row->baseline = g_strdup (baseline);
      row->baseline_samples = baseline_samples;
      row->baseline_value = median (baseline_samples);
      row->has_ratio = row->baseline_value != 0;
      row->ratio = row->has_ratio ? row->value / row->baseline_value : 0;
    }
  g_ptr_array_add (rows, row);
  return row;
}

GArray *
samples_of (double value)
{
  GArray *samples = samples_new ();

  samples_add (samples, value);
  return samples;
}

void
row_target (Row        *row,
            const char *target,
            gboolean    met)
{
  g_free (row->target);
  row->target = g_strdup (target);
  row->met = met ? 1 : 0;
}

static char *
format_value (Unit   unit,
              double value)
{
  switch (unit)
    {
    case UNIT_RATE:
      if (value >= 1e6)
        return g_strdup_printf ("%.2f M/s", value / 1e6);
      if (value >= 1e4)
        return g_strdup_printf ("%.0f k/s", value / 1e3);
      return g_strdup_printf ("%.1f/s", value);
    case UNIT_IDEAL:
      return g_strdup_printf ("%.3f", value);
    case UNIT_SECONDS:
      if (value < 1e-6)
        return g_strdup_printf ("%.0f ns", value * 1e9);
      return g_strdup_printf ("%.2f µs", value * 1e6);
    case UNIT_MS:
      return g_strdup_printf ("%.2f ms", value);
    case UNIT_BYTES:
      return g_strdup_printf ("%.0f B", value);
    case UNIT_COUNT:
    default:
      return g_strdup_printf ("%.0f", value);
    }
}

/* The rows by section, in the order each section added them */
static GPtrArray *
rows_in_order (void)
{
  GPtrArray *ordered = g_ptr_array_new ();

  for (guint s = 0; s < N_SECTIONS; s++)
    for (guint i = 0; i < rows->len; i++)
      if (((Row *) rows->pdata[i])->section == s)
        g_ptr_array_add (ordered, rows->pdata[i]);
  return ordered;
}

/* Markdown cells padded to a width counted in characters, not bytes */
static void
print_cell (GString    *line,
            const char *text,
            guint       width)
{
  glong length = g_utf8_strlen (text, -1);

  g_string_append_printf (line, "| %s", text);
  for (glong i = length; i < (glong) width; i++)
    g_string_append_c (line, ' ');
  g_string_append_c (line, ' ');
}

#define N_COLUMNS 7

static void
row_cells (Row  *row,
           char *cells[N_COLUMNS])
{
  cells[0] = g_strdup (row->workload);
  cells[1] = format_value (row->unit, row->value);
  cells[2] = g_strdup (row->baseline != NULL ? row->baseline : "—");
  cells[3] = row->baseline != NULL ? format_value (row->unit, row->baseline_value) : g_strdup ("—");
  cells[4] = row->has_ratio ? g_strdup_printf ("%.2f", row->ratio) : g_strdup ("—");
  cells[5] = g_strdup (row->target != NULL ? row->target : "—");
  cells[6] = g_strdup (row->met < 0 ? "—" : row->met ? "met" : "**not met**");
}

void
print_table (void)
{
  const char *headers[N_COLUMNS] = {
    "workload", "libtaskpool", "baseline", "baseline figure", "ratio", "target", "met",
  };
  guint widths[N_COLUMNS];
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autoptr(GPtrArray) ordered = rows_in_order ();
  g_autoptr(GString) line = g_string_new (NULL);

  for (guint c = 0; c < N_COLUMNS; c++)
    widths[c] = g_utf8_strlen (headers[c], -1);

  for (guint i = 0; i < ordered->len; i++)
    {
      char **cells = g_new0 (char *, N_COLUMNS + 1);

      row_cells (ordered->pdata[i], cells);
      for (guint c = 0; c < N_COLUMNS; c++)
        widths[c] = MAX (widths[c], (guint) g_utf8_strlen (cells[c], -1));
      g_ptr_array_add (lines, cells);
    }

  for (guint c = 0; c < N_COLUMNS; c++)
    print_cell (line, headers[c], widths[c]);
  g_string_append (line, "|\n");
  for (guint c = 0; c < N_COLUMNS; c++)
    {
      g_string_append (line, "|");
      for (guint i = 0; i < widths[c] + 2; i++)
        g_string_append_c (line, '-');
    }
  g_string_append (line, "|\n");
  for (guint i = 0; i < lines->len; i++)
    {
      char **cells = lines->pdata[i];

      for (guint c = 0; c < N_COLUMNS; c++)
        print_cell (line, cells[c], widths[c]);
      g_string_append (line, "|\n");
    }
  fputs (line->str, stdout);
}

static void
json_string (GString    *out,
             const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_printf (out, "\\%c", *p);
      else if ((guchar) *p < 0x20)
        g_string_append_printf (out, "\\u%04x", (guchar) *p);
      else
        g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

static void
json_samples (GString *out,
              GArray  *samples)
{
  g_string_append_c (out, '[');
  for (guint i = 0; samples != NULL && i < samples->len; i++)
    g_string_append_printf (out, "%s%.6g", i > 0 ? ", " : "", g_array_index (samples, double, i));
  g_string_append_c (out, ']');
}

void
print_json (void)
{
  static const char * const section_names[] = {
    "W1", "W2", "W3", "W4", "queue", "memory", "burst", "idle", "limits", "aged",
  };
  g_autoptr(GString) out = g_string_new ("{\n");
  g_autoptr(GPtrArray) ordered = rows_in_order ();

  g_string_append_printf (out, "  \"cpus\": %u,\n  \"glib\": \"%u.%u.%u\",\n",
                          g_get_num_processors (), glib_major_version, glib_minor_version,
                          glib_micro_version);
  g_string_append_printf (out, "  \"warmup\": %d,\n  \"runs\": %d,\n  \"quick\": %s,\n",
                          WARMUP_RUNS, opts.runs, opts.quick ? "true" : "false");
  g_string_append (out, "  \"rows\": [");
  for (guint i = 0; i < ordered->len; i++)
    {
      Row *row = ordered->pdata[i];

      g_string_append_printf (out, "%s\n    {\"section\": \"%s\", \"workload\": ", i > 0 ? "," : "",
                              section_names[row->section]);
      json_string (out, row->workload);
      g_string_append_printf (out, ", \"unit\": \"%s\", \"value\": %.6g, \"samples\": ",
                              unit_names[row->unit], row->value);
      json_samples (out, row->samples);
      if (row->baseline != NULL)
        {
          g_string_append (out, ", \"baseline\": ");
          json_string (out, row->baseline);
          g_string_append_printf (out, ", \"baseline_value\": %.6g, \"baseline_samples\": ",
                                  row->baseline_value);
          json_samples (out, row->baseline_samples);
        }
      if (row->has_ratio)
        g_string_append_printf (out, ", \"ratio\": %.6g", row->ratio);
      if (row->target != NULL)
        {
          g_string_append (out, ", \"target\": ");
          json_string (out, row->target);
          g_string_append_printf (out, ", \"met\": %s", row->met ? "true" : "false");
        }
      g_string_append_c (out, '}');
    }
  g_string_append (out, "\n  ]\n}\n");
  fputs (out->str, stdout);
}

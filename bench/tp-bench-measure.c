/* tp-bench-measure.c: timing: samples, medians, interleaved trials
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <malloc.h>

#include "tp-bench-private.h"

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return x < y ? -1 : x > y;
}

double
median (GArray *samples)
{
  g_autoptr(GArray) sorted = NULL;
  guint n = samples->len;

  g_assert (n > 0);
  sorted = g_array_copy (samples);
  g_array_sort (sorted, compare_doubles);
  if (n % 2 == 1)
    return g_array_index (sorted, double, n / 2);
  return (g_array_index (sorted, double, n / 2 - 1) + g_array_index (sorted, double, n / 2)) / 2;
}

GArray *
samples_new (void)
{
  return g_array_new (FALSE, FALSE, sizeof (double));
}

void
samples_add (GArray *samples,
             double  value)
{
  g_array_append_val (samples, value);
}

/* Each sample of @seconds turned into @scale / seconds (a rate) */
GArray *
samples_inverse (GArray *seconds,
                 double  scale)
{
  GArray *rates = samples_new ();

  for (guint i = 0; i < seconds->len; i++)
    samples_add (rates, scale / g_array_index (seconds, double, i));
  return rates;
}

/* Each sample of @seconds divided by @unit (wall/ideal, time per operation) */
GArray *
samples_scaled (GArray *seconds,
                double  unit)
{
  GArray *scaled = samples_new ();

  for (guint i = 0; i < seconds->len; i++)
    samples_add (scaled, g_array_index (seconds, double, i) / unit);
  return scaled;
}

/* Pool memory as glibc's malloc sees it: the arenas and the mmap()ed blocks */
gint64
heap_in_use (void)
{
  struct mallinfo2 info = mallinfo2 ();

  return (gint64) info.uordblks + (gint64) info.hblkhd;
}

/* Runs every trial WARMUP_RUNS + runs times, interleaved so that a change of
 * load hits all of them alike, and rotated so that none always runs first. */
void
trials_run (Trial *trials,
            guint  n_trials)
{
  guint rounds = WARMUP_RUNS + opts.runs;

  for (guint i = 0; i < n_trials; i++)
    trials[i].seconds = samples_new ();

  for (guint round = 0; round < rounds; round++)
    for (guint k = 0; k < n_trials; k++)
      {
        Trial *trial = &trials[(k + round) % n_trials];
        double seconds = trial->func (trial->data);

        if (round >= WARMUP_RUNS)
          samples_add (trial->seconds, seconds);
      }
}

void
trials_clear (Trial *trials,
              guint  n_trials)
{
  for (guint i = 0; i < n_trials; i++)
    g_clear_pointer (&trials[i].seconds, g_array_unref);
}

/* Runs this program again with @args (NULL-terminated; a NULL among them
 * ends them early) and returns what it printed; a measurement whose process
 * cannot run or fails ends the bench, naming @section */
char *
run_child (const char  *section,
           const char **args)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  char *out = NULL;
  GError *error = NULL;
  int status;

  g_ptr_array_add (argv, self);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  if (self == NULL ||
      !g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL,
                     &out, NULL, &status, &error) ||
      !g_spawn_check_wait_status (status, &error))
    g_error ("%s: cannot run the measuring process: %s", section,
             error != NULL ? error->message : "no /proc/self/exe");
  return out;
}

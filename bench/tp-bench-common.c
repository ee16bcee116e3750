/* tp-bench-common.c: what several workloads use
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "tp-bench-private.h"

void
count_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Count *count = user_data;
  GError *error = NULL;

  tp_pool_submit_finish (TP_POOL (source), result, &error);
  if (error != NULL)
    {
      count->failed++;
      g_error_free (error);
    }
  count->done++;
}

/* Iterates the thread-default context until *counter reaches @target */
void
wait_count (const guint *counter,
            guint        target)
{
  GMainContext *context = g_main_context_get_thread_default ();

  while (*counter < target)
    g_main_context_iteration (context, TRUE);
}

void
check_count (const Count *count,
             guint        expected,
             const char  *what)
{
  if (count->done != expected || count->failed != 0)
    g_error ("%s: %u callbacks (%u failed), expected %u successes", what, count->done,
             count->failed, expected);
}

static gboolean
count_idle_cb (gpointer data)
{
  guint *counter = data;

  (*counter)++;
  return G_SOURCE_REMOVE;
}

/* What a thread does to tell the main thread a job ended: an idle per job */
void
post_count (GMainContext *context,
            guint        *counter)
{
  GSource *source = g_idle_source_new ();

  g_source_set_callback (source, count_idle_cb, counter, NULL);
  g_source_attach (source, context);
  g_source_unref (source);
}

void
add_timeout (guint       ms,
             GSourceFunc func,
             gpointer    data,
             GDestroyNotify destroy)
{
  GSource *source = g_timeout_source_new (ms);

  g_source_set_callback (source, func, data, destroy);
  g_source_attach (source, g_main_context_get_thread_default ());
  g_source_unref (source);
}

/* Makes and starts a pool on the thread-default context */
TpPool *
bench_pool_new (const char *first_property,
                ...)
{
  GError *error = NULL;
  TpPool *pool;
  va_list args;

  va_start (args, first_property);
  pool = (TpPool *) g_initable_new_valist (TP_TYPE_POOL, first_property, args, NULL, &error);
  va_end (args);
  if (pool == NULL || !tp_pool_start (pool, &error))
    g_error ("Cannot make a pool: %s", error->message);
  return pool;
}

/* A pool of @kind that runs @size jobs at once */
TpPool *
pool_of_size (const char *kind,
              guint       size)
{
  if (g_str_has_prefix (kind, "autoscale-"))
    return bench_pool_new ("kind", kind, "min-size", size, "max-size", MAX (size, 1), NULL);
  return bench_pool_new ("kind", kind, "size", size, NULL);
}

/* An async job that completes at once */
void
noop_job (GTask        *task,
          gpointer      pool,
          gpointer      job_data,
          GCancellable *cancellable)
{
  g_task_return_pointer (task, NULL, NULL);
}

static gboolean
timer_job_done_cb (gpointer data)
{
  g_task_return_pointer (data, NULL, NULL);
  return G_SOURCE_REMOVE;
}

/* An async job that completes its task @job_data ms later */
void
timer_job (GTask        *task,
           gpointer      pool,
           gpointer      job_data,
           GCancellable *cancellable)
{
  add_timeout (GPOINTER_TO_UINT (job_data), timer_job_done_cb, g_object_ref (task),
               g_object_unref);
}

static gboolean
chain_timer_cb (gpointer data)
{
  Chain *chain = data;

  chain->done++;
  if (chain->started < chain->jobs)
    {
      chain->started++;
      add_timeout (chain->ms, chain_timer_cb, chain, NULL);
    }
  return G_SOURCE_REMOVE;
}

/* Runs @jobs timers of @ms, @at_once at a time; returns the seconds taken */
double
chain_timers_run (guint jobs,
                  guint at_once,
                  guint ms)
{
  Chain chain = { .jobs = jobs, .ms = ms };
  double start = now_s ();

  while (chain.started < MIN (at_once, jobs))
    {
      chain.started++;
      add_timeout (ms, chain_timer_cb, &chain, NULL);
    }
  wait_count (&chain.done, jobs);
  return now_s () - start;
}

/* "10 k", "1 M": a count of queued jobs, for the names of rows */
const char *
depth_name (guint depth)
{
  static char names[4][32];
  static guint next;
  char *name = names[next++ % G_N_ELEMENTS (names)];

  if (depth >= 1000000 && depth % 1000000 == 0)
    g_snprintf (name, sizeof names[0], "%u M", depth / 1000000);
  else if (depth >= 1000 && depth % 1000 == 0)
    g_snprintf (name, sizeof names[0], "%u k", depth / 1000);
  else
    g_snprintf (name, sizeof names[0], "%u", depth);
  return name;
}


/* seed-examples.c: the Python task pool's three examples, in C, on all six kinds
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: seed-examples [--steps N] [--step-ms MS] [KIND…]
 *
 * 1. An async job ("test e") that takes a few timer steps and returns
 *    "ok:e done"; then scale(3).
 * 2. Four jobs on a pool of three: at most three run at once, as thread jobs
 *    (blocking sleeps) and as async jobs.
 * 3. The start/close life cycle: a closed pool refuses jobs.
 */

#include <stdio.h>
#include <taskpool/taskpool.h>

static const char * const all_kinds[] = {
  "fixed-simple", "fixed-lifo", "fixed-priority",
  "autoscale-simple", "autoscale-lifo", "autoscale-priority",
  NULL
};

static int steps = 5;
static int step_ms = 100;

typedef struct {
  GMutex  lock;
  guint   running;
  guint   peak;
  guint   finished;
} Counter;

static Counter counter;

static void
counter_enter (void)
{
  g_mutex_lock (&counter.lock);
  counter.running++;
  counter.peak = MAX (counter.peak, counter.running);
  g_mutex_unlock (&counter.lock);
}

static void
counter_leave (void)
{
  g_mutex_lock (&counter.lock);
  counter.running--;
  g_mutex_unlock (&counter.lock);
}

/* The seed's async `test(name)`: prints, awaits `steps` sleeps, returns */
typedef struct {
  GTask *task;
  char  *name;
  int    step;
} AsyncTest;

static gboolean
async_test_step_cb (gpointer data)
{
  AsyncTest *test = data;

  if (++test->step < steps)
    return G_SOURCE_CONTINUE;

  printf ("  %s done\n", test->name);
  counter_leave ();
  g_task_return_pointer (test->task, g_strdup_printf ("ok:%s done", test->name), g_free);
  g_object_unref (test->task);
  g_free (test);
  return G_SOURCE_REMOVE;
}

static void
async_test_job (GTask        *task,
                gpointer      pool,
                gpointer      job_data,
                GCancellable *cancellable)
{
  AsyncTest *test = g_new0 (AsyncTest, 1);

  test->task = g_object_ref (task);
  test->name = job_data;
  printf ("  %s start\n", test->name);
  counter_enter ();
  g_timeout_add (step_ms, async_test_step_cb, test);
}

/* The seed's blocking `test(name)`, run on a worker thread */
static void
thread_test_job (GTask        *task,
                 gpointer      pool,
                 gpointer      job_data,
                 GCancellable *cancellable)
{
  const char *name = job_data;

  printf ("  %s start (thread)\n", name);
  counter_enter ();
  for (int i = 0; i < steps; i++)
    g_usleep ((gulong) step_ms * 1000);
  printf ("  %s done (thread)\n", name);
  counter_leave ();
  g_task_return_pointer (task, g_strdup_printf ("ok:%s done", name), g_free);
}

typedef struct {
  guint  pending;
  char  *last_result;
  GError *last_error;
} Waiter;

static void
job_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Waiter *waiter = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *value = tp_pool_submit_finish (TP_POOL (source), result, &error);

  if (value != NULL)
    printf ("  result: %s\n", value);
  else
    printf ("  error: %s\n", error->message);

  g_free (waiter->last_result);
  waiter->last_result = g_steal_pointer (&value);
  g_clear_error (&waiter->last_error);
  waiter->last_error = g_steal_pointer (&error);
  waiter->pending--;
  counter.finished++;
}

static void
bool_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static void
wait_pending (Waiter *waiter)
{
  while (waiter->pending > 0)
    g_main_context_iteration (NULL, TRUE);
}

static gboolean
close_pool (TpPool       *pool,
            TpCloseFlags  flags)
{
  GAsyncResult *result = NULL;
  gboolean closed;

  tp_pool_close_async (pool, flags, NULL, bool_done_cb, &result);
  closed = tp_pool_close_finish (pool, wait_for (&result), NULL);
  g_object_unref (result);
  return closed;
}

static gboolean
example_one (const char *kind)
{
  g_autoptr(TpPool) pool = NULL;
  g_autoptr(GError) error = NULL;
  Waiter waiter = { 0 };
  GAsyncResult *scaled = NULL;
  gboolean ok;

  pool = tp_pool_new (kind, &error);
  if (pool == NULL || !tp_pool_start (pool, &error))
    {
      printf ("  cannot start: %s\n", error->message);
      return FALSE;
    }

  printf ("test pool size %u\n", tp_pool_get_size (pool));
  printf ("test await blocking submit\n");
  waiter.pending = 1;
  tp_pool_submit_async (pool, async_test_job, g_strdup ("e"), NULL, NULL, job_done_cb, &waiter);
  wait_pending (&waiter);
  ok = g_strcmp0 (waiter.last_result, "ok:e done") == 0;
  printf ("assert r == \"ok:e done\": %s\n", ok ? "yes" : "NO");

  printf ("scale 3\n");
  tp_pool_scale_async (pool, 3, NULL, bool_done_cb, &scaled);
  tp_pool_scale_finish (pool, wait_for (&scaled), NULL);
  g_object_unref (scaled);
  printf ("test pool size %u\n", tp_pool_get_size (pool));

  close_pool (pool, TP_CLOSE_DRAIN);
  g_free (waiter.last_result);
  g_clear_error (&waiter.last_error);
  return ok;
}

static gboolean
example_two (const char *kind,
             gboolean    in_thread)
{
  const char *names[] = { "c", "b", "a", "d" };
  g_autoptr(TpPool) pool = NULL;
  g_autoptr(GError) error = NULL;
  Waiter waiter = { 0 };

  /* A pool of three: max-size 3 keeps an autoscale pool from growing */
  pool = g_initable_new (TP_TYPE_POOL, NULL, &error, "kind", kind, "max-size", 3, NULL);
  if (pool == NULL || !tp_pool_start (pool, &error))
    {
      printf ("  cannot start: %s\n", error->message);
      return FALSE;
    }

  printf ("test pool size %u\n", tp_pool_get_size (pool));
  printf ("test 4 task with pool size 3 (%s jobs)\n", in_thread ? "thread" : "async");
  counter.peak = 0;
  waiter.pending = G_N_ELEMENTS (names);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      tp_pool_submit_full_async (pool, in_thread ? TP_SUBMIT_IN_THREAD : TP_SUBMIT_DEFAULT,
                                 (int) i, in_thread ? thread_test_job : async_test_job,
                                 in_thread ? (gpointer) names[i] : g_strdup (names[i]), NULL,
                                 NULL, job_done_cb, &waiter);
    }
  wait_pending (&waiter);
  printf ("at most %u ran at once (pool size %u)\n", counter.peak, tp_pool_get_size (pool));

  close_pool (pool, TP_CLOSE_DRAIN);
  g_free (waiter.last_result);
  g_clear_error (&waiter.last_error);
  return counter.peak <= 3 && counter.peak > 0;
}

static gboolean
example_three (const char *kind)
{
  g_autoptr(TpPool) pool = NULL;
  g_autoptr(GError) error = NULL;
  Waiter waiter = { 0 };
  gboolean refused;

  pool = tp_pool_new (kind, &error);
  if (pool == NULL || !tp_pool_start (pool, &error))
    return FALSE;

  printf ("start: size %u, closed %s\n", tp_pool_get_size (pool),
          tp_pool_get_closed (pool) ? "yes" : "no");
  waiter.pending = 1;
  tp_pool_submit_async (pool, async_test_job, g_strdup ("e"), NULL, NULL, job_done_cb, &waiter);
  wait_pending (&waiter);

  close_pool (pool, TP_CLOSE_DRAIN);
  printf ("close: size %u, closed %s\n", tp_pool_get_size (pool),
          tp_pool_get_closed (pool) ? "yes" : "no");

  waiter.pending = 1;
  tp_pool_submit_async (pool, async_test_job, g_strdup ("late"), g_free, NULL, job_done_cb, &waiter);
  wait_pending (&waiter);
  refused = g_error_matches (waiter.last_error, TP_POOL_ERROR, TP_POOL_ERROR_NOT_ACCEPTING);
  printf ("submit after close refused: %s\n", refused ? "yes" : "NO");

  g_free (waiter.last_result);
  g_clear_error (&waiter.last_error);
  return refused && tp_pool_get_size (pool) == 0;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = g_option_context_new ("[KIND…] — the seed's examples");
  g_autoptr(GError) error = NULL;
  const GOptionEntry entries[] = {
    { "steps", 0, 0, G_OPTION_ARG_INT, &steps, "Sleeps per job (default 5)", "N" },
    { "step-ms", 0, 0, G_OPTION_ARG_INT, &step_ms, "Length of one sleep (default 100)", "MS" },
    G_OPTION_ENTRY_NULL
  };
  const char * const *kinds = all_kinds;
  guint failures = 0;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 2;
    }
  if (argc > 1)
    kinds = (const char * const *) argv + 1;

  setvbuf (stdout, NULL, _IOLBF, 0);
  for (guint i = 0; kinds[i] != NULL; i++)
    {
      gboolean ok;

      printf ("=== %s ===\n", kinds[i]);
      printf ("-- example 1: await a submit, then scale\n");
      ok = example_one (kinds[i]);
      printf ("-- example 2: four jobs, pool of three\n");
      ok = example_two (kinds[i], TRUE) && ok;
      ok = example_two (kinds[i], FALSE) && ok;
      printf ("-- example 3: start and close\n");
      ok = example_three (kinds[i]) && ok;
      printf ("=== %s: %s ===\n\n", kinds[i], ok ? "as the seed says" : "FAILED");
      failures += ok ? 0 : 1;
    }

  return failures == 0 ? 0 : 1;
}

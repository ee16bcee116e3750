/* test-queue-lifo.c: the LIFO queue strategy, on its vtable and in fixed and autoscale pools
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "tp-queue-test-util.h"
#include "../plugins/common/job-segments.h"
#include "tp-registry-private.h"

#define RANDOM_SEED 0x11f0c0deu

/* Vtable {{{ */

static void
test_unit_empty (QueueFixture  *fixture,
                 gconstpointer  data)
{
  g_test_summary ("pop on a new queue returns NULL and its length is 0; after a push and a "
                  "pop it is empty again");

  assert_empty (fixture);
  queue_fixture_make_jobs (fixture, 1);
  push (fixture, 0);
  assert_pop (fixture, 0);
  assert_empty (fixture);
}

static void
test_unit_lifo_order (QueueFixture  *fixture,
                      gconstpointer  data)
{
  const guint n_jobs = 100;

  g_test_summary ("Jobs pop newest first, whatever their weight and sequence, and the length "
                  "follows every push and pop");

  queue_fixture_make_jobs (fixture, n_jobs);
  for (guint i = 0; i < n_jobs; i++)
    {
      /* Weights must not matter to a LIFO queue */
      fixture->jobs[i].weight = (i % 2) ? -(int) i : (int) (n_jobs - i);
      push (fixture, i);
      g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, i + 1);
    }
  for (guint i = n_jobs; i > 0; i--)
    assert_pop (fixture, i - 1);
  assert_empty (fixture);
}

static void
test_unit_interleaved (QueueFixture  *fixture,
                       gconstpointer  data)
{
  g_test_summary ("Pushes and pops interleaved keep LIFO order: each pop returns the newest "
                  "job still queued");

  queue_fixture_make_jobs (fixture, 8);
  push (fixture, 0);
  push (fixture, 1);
  assert_pop (fixture, 1);
  push (fixture, 2);
  push (fixture, 3);
  assert_pop (fixture, 3);
  push (fixture, 4);
  assert_pop (fixture, 4);
  assert_pop (fixture, 2);
  push (fixture, 5);
  assert_pop (fixture, 5);
  assert_pop (fixture, 0);
  assert_empty (fixture);
  push (fixture, 6);
  push (fixture, 7);
  assert_pop (fixture, 7);
  assert_pop (fixture, 6);
  assert_empty (fixture);
}

/* Pushes 0..n_jobs-1, removes @removed, then checks the rest pops newest first */
static void
check_remove_one (guint n_jobs,
                  guint removed)
{
  QueueFixture fixture = { NULL, };

  queue_fixture_set_up (&fixture, NULL);
  queue_fixture_make_jobs (&fixture, n_jobs);
  for (guint i = 0; i < n_jobs; i++)
    push (&fixture, i);
  remove_job (&fixture, removed);
  g_assert_cmpuint (fixture.vt->length (fixture.queue), ==, n_jobs - 1);
  for (guint i = n_jobs; i > 0; i--)
    {
      if (i - 1 != removed)
        assert_pop (&fixture, i - 1);
    }
  assert_empty (&fixture);
  queue_fixture_tear_down (&fixture, NULL);
}

static void
test_unit_remove_head (void)
{
  g_test_summary ("Removing the newest job (the next to pop): the others pop newest first and "
                  "the length is right");
  check_remove_one (10, 9);
}

static void
test_unit_remove_middle (void)
{
  g_test_summary ("Removing a job in the middle: the others pop newest first and the length "
                  "is right");
  check_remove_one (10, 5);
}

static void
test_unit_remove_tail (void)
{
  g_test_summary ("Removing the oldest job (the last to pop): the others pop newest first "
                  "and the length is right");
  check_remove_one (10, 0);
}

static void
test_unit_remove_each (void)
{
  g_test_summary ("Removing the job at each position of stacks of several sizes (within one "
                  "segment and across two boundaries) leaves the others newest first");

  for (guint n_jobs = 1; n_jobs <= 2 * JOB_SEGMENT_SLOTS + 10; n_jobs += 3)
    {
      for (guint removed = 0; removed < n_jobs; removed++)
        check_remove_one (n_jobs, removed);
    }
}

static void
test_unit_remove_then_push (QueueFixture  *fixture,
                            gconstpointer  data)
{
  g_test_summary ("Jobs pushed after removals (holes below the top, a removed top) still pop "
                  "first, the holes are skipped, and a stack emptied by removals is empty");

  queue_fixture_make_jobs (fixture, 12);
  for (guint i = 0; i < 5; i++)
    push (fixture, i);
  remove_job (fixture, 1);   /* a hole near the bottom */
  remove_job (fixture, 3);   /* a hole below the top */
  push (fixture, 5);
  push (fixture, 6);
  remove_job (fixture, 6);   /* the top */
  push (fixture, 7);
  assert_pop (fixture, 7);
  assert_pop (fixture, 5);
  assert_pop (fixture, 4);
  push (fixture, 8);
  assert_pop (fixture, 8);
  assert_pop (fixture, 2);
  assert_pop (fixture, 0);
  assert_empty (fixture);

  /* Emptied by removals only, the top last */
  push (fixture, 9);
  push (fixture, 10);
  push (fixture, 11);
  remove_job (fixture, 9);
  remove_job (fixture, 10);
  remove_job (fixture, 11);
  assert_empty (fixture);
}

static void
test_unit_segments (QueueFixture  *fixture,
                    gconstpointer  data)
{
  const guint slots = JOB_SEGMENT_SLOTS;
  const guint n = 3 * slots + 5;
  guint next = n;

  g_test_summary ("A stack across several segments: a whole segment of holes is skipped, holes "
                  "at the bottom are dropped, and the segments left are taken again in order");

  queue_fixture_make_jobs (fixture, 2 * n);
  for (guint i = 0; i < n; i++)
    push (fixture, i);

  /* The second segment, all holes */
  for (guint i = slots; i < 2 * slots; i++)
    remove_job (fixture, i);
  g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, n - slots);
  for (guint i = n; i-- > 2 * slots;)
    assert_pop (fixture, i);
  assert_pop (fixture, slots - 1);

  /* From the bottom up: only job slots - 2 is left */
  for (guint i = 0; i < slots - 2; i++)
    remove_job (fixture, i);
  g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, 1);

  /* New jobs go on top of it, in segments taken again */
  for (guint i = 0; i < slots + 2; i++)
    push (fixture, next++);
  for (guint i = next; i-- > n;)
    assert_pop (fixture, i);
  assert_pop (fixture, slots - 2);
  assert_empty (fixture);

  push (fixture, next);
  push (fixture, next + 1);
  assert_pop (fixture, next + 1);
  assert_pop (fixture, next);
  assert_empty (fixture);
}

static const QueueModel lifo_model = {
  .summary = "Random pushes, pops and removals (fixed seed) match a stack model at every "
             "step, while the queue grows and shrinks",
  .seed = RANDOM_SEED,
  .n_ops = 200000,
  .pop_below = 85,
  .order = queue_order_lifo,
};

/* The queue's order: newest sequence first */
static int
compare_newest_first (gconstpointer a,
                      gconstpointer b,
                      gpointer      user_data)
{
  guint64 x = ((const TpJob *) a)->sequence;
  guint64 y = ((const TpJob *) b)->sequence;

  return x > y ? -1 : x < y;
}

static int
no_weight (GRand *rand)
{
  return 4;
}

static void
test_unit_requeue_order (QueueFixture  *fixture,
                         gconstpointer  data)
{
  g_test_summary ("A job given back (requeue) pops at its place, newest sequence first: "
                  "after newer jobs pushed since, before older ones, and on top when it is "
                  "the newest");

  g_assert_nonnull (fixture->vt->requeue);
  queue_fixture_make_jobs (fixture, 12);
  for (guint i = 0; i < 6; i++)
    push (fixture, i);
  assert_pop (fixture, 5);
  assert_pop (fixture, 4);
  assert_pop (fixture, 3);
  push (fixture, 6);

  requeue (fixture, 3);
  requeue (fixture, 5);
  assert_pop (fixture, 6);
  assert_pop (fixture, 5);
  requeue (fixture, 4);
  assert_pop (fixture, 4);
  assert_pop (fixture, 3);
  assert_pop (fixture, 2);

  /* Newer than every queued job: on top */
  requeue (fixture, 6);
  assert_pop (fixture, 6);
  push (fixture, 7);
  requeue (fixture, 2);
  requeue (fixture, 6);
  assert_pop (fixture, 7);
  assert_pop (fixture, 6);
  assert_pop (fixture, 2);
  assert_pop (fixture, 1);
  assert_pop (fixture, 0);
  assert_empty (fixture);
}

static void
test_unit_requeue_remove (QueueFixture  *fixture,
                          gconstpointer  data)
{
  g_test_summary ("Jobs given back can be removed (cancelled) wherever they wait, and the "
                  "others keep their order");

  queue_fixture_make_jobs (fixture, 20);
  for (guint i = 0; i < 10; i++)
    push (fixture, i);
  for (guint i = 10; i > 0; i--)
    assert_pop (fixture, i - 1);
  for (guint i = 10; i < 20; i++)
    push (fixture, i);
  for (guint i = 0; i < 10; i++)
    requeue (fixture, (i * 7) % 10);
  remove_job (fixture, 0);   /* the oldest */
  remove_job (fixture, 5);
  remove_job (fixture, 9);   /* the newest given back */
  remove_job (fixture, 15);  /* one never popped */
  for (guint i = 20; i > 0; i--)
    {
      if (i - 1 != 0 && i - 1 != 5 && i - 1 != 9 && i - 1 != 15)
        assert_pop (fixture, i - 1);
    }
  assert_empty (fixture);

  /* Emptied by removals alone */
  requeue (fixture, 3);
  requeue (fixture, 1);
  push (fixture, 19);
  remove_job (fixture, 1);
  remove_job (fixture, 19);
  remove_job (fixture, 3);
  assert_empty (fixture);
}

static void
test_unit_requeue_only (QueueFixture  *fixture,
                        gconstpointer  data)
{
  const guint n_jobs = 1000;

  g_test_summary ("A queue fed by requeue alone (where a pool parks the jobs a gate holds "
                  "for their key), in order or in reverse, pops newest first");

  queue_fixture_make_jobs (fixture, n_jobs);
  for (guint i = n_jobs; i > n_jobs / 2; i--)
    requeue (fixture, i - 1);
  for (guint i = 0; i < n_jobs / 2; i++)
    requeue (fixture, i);
  for (guint i = n_jobs; i > 0; i--)
    assert_pop (fixture, i - 1);
  assert_empty (fixture);
}

static void
test_unit_requeue_random (QueueFixture  *fixture,
                          gconstpointer  data)
{
  g_test_summary ("Random pushes, pops, removals and requeues of popped jobs (fixed seed) "
                  "match a model sorted newest first at every step");

  queue_test_random_requeue (fixture, compare_newest_first, no_weight, RANDOM_SEED + 2, 100000,
                             1);
}

/* }}} */

/* In a pool {{{ */

static void
test_pool_lifo_order (gconstpointer data)
{
  const char *kind = data;
  const char *names[] = { "a", "b", "c", "d", "e" };
  g_autoptr(TpPool) pool = one_worker_pool (kind);
  g_autofree char *order = NULL;
  TpTestJob *held;
  TpTestLog log;

  g_test_summary ("On a pool of one worker, jobs queued behind a running job start newest "
                  "first once it ends");
  tp_test_log_init (&log);

  held = hold_the_worker (pool, &log);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    tp_test_submit (pool, &log, names[i], TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, (int) i, NULL);
  drain_pending ();
  g_assert_cmpuint (log.started, ==, 1);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 1);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 5);

  tp_test_release (held);
  tp_test_wait_count (&log.callbacks, 6);
  tp_test_wait_count (&log.destroyed, 6);

  order = tp_test_log_order (&log);
  g_assert_cmpstr (order, ==, "h e d c b a");
  g_assert_cmpuint (log.done, ==, 6);
  g_assert_cmpuint (log.peak, ==, 1);
  g_assert_cmpstr (log.results->pdata[1], ==, "ok:e");
  g_assert_cmpstr (log.results->pdata[5], ==, "ok:a");

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_pool_newer_first (gconstpointer data)
{
  const char *kind = data;
  g_autoptr(TpPool) pool = one_worker_pool (kind);
  g_autofree char *order = NULL;
  TpTestJob *held;
  TpTestJob *second;
  TpTestLog log;

  g_test_summary ("A job submitted while older ones wait runs before them: the queue is "
                  "LIFO at every pop, not only for one batch");
  tp_test_log_init (&log);

  held = hold_the_worker (pool, &log);
  tp_test_submit (pool, &log, "a", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "b", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  second = tp_test_submit (pool, &log, "c", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_release (held);
  tp_test_wait_count (&log.started, 2);
  drain_pending ();
  g_assert_cmpuint (log.started, ==, 2);

  /* c holds the worker; d and e arrive after a and b */
  tp_test_submit (pool, &log, "d", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "e", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 4);
  tp_test_release (second);
  tp_test_wait_count (&log.callbacks, 6);
  tp_test_wait_count (&log.destroyed, 6);

  order = tp_test_log_order (&log);
  g_assert_cmpstr (order, ==, "h c e d b a");
  g_assert_cmpuint (log.done, ==, 6);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_pool_cancel_middle (gconstpointer data)
{
  const char *kind = data;
  const char *names[] = { "a", "b", "c", "d", "e" };
  g_autoptr(TpPool) pool = one_worker_pool (kind);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *order = NULL;
  TpTestJob *held;
  TpTestLog log;

  g_test_summary ("Cancelling a queued job in the middle completes it at once with "
                  "G_IO_ERROR_CANCELLED; it never starts and the others keep LIFO order");
  tp_test_log_init (&log);

  held = hold_the_worker (pool, &log);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    tp_test_submit (pool, &log, names[i], TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4,
                    i == 2 ? cancellable : NULL);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 5);

  g_cancellable_cancel (cancellable);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 4);
  tp_test_wait_count (&log.callbacks, 1);
  g_assert_cmpuint (log.cancelled, ==, 1);
  g_assert_cmpuint (log.started, ==, 1);
  tp_test_wait_count (&log.destroyed, 1);

  tp_test_release (held);
  tp_test_wait_count (&log.callbacks, 6);
  tp_test_wait_count (&log.destroyed, 6);

  order = tp_test_log_order (&log);
  g_assert_cmpstr (order, ==, "h e d b a");
  g_assert_cmpuint (log.done, ==, 5);
  g_assert_cmpuint (log.cancelled, ==, 1);
  g_assert_cmpuint (log.callbacks, ==, 6);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  const char *kinds[] = { "fixed-lifo", "autoscale-lifo" };

  g_test_init (&argc, &argv, NULL);
  tp_queue_test_strategy = "lifo";

  g_test_add ("/queue/lifo/empty", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_empty, queue_fixture_tear_down);
  g_test_add ("/queue/lifo/lifo-order", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_lifo_order, queue_fixture_tear_down);
  g_test_add ("/queue/lifo/interleaved", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_interleaved, queue_fixture_tear_down);
  g_test_add_func ("/queue/lifo/remove-head", test_unit_remove_head);
  g_test_add_func ("/queue/lifo/remove-middle", test_unit_remove_middle);
  g_test_add_func ("/queue/lifo/remove-tail", test_unit_remove_tail);
  g_test_add_func ("/queue/lifo/remove-each", test_unit_remove_each);
  g_test_add ("/queue/lifo/remove-then-push", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_remove_then_push, queue_fixture_tear_down);
  g_test_add ("/queue/lifo/segments", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_segments, queue_fixture_tear_down);
  g_test_add ("/queue/lifo/random", QueueFixture, &lifo_model,
              queue_fixture_set_up, queue_test_random_model, queue_fixture_tear_down);
  g_test_add ("/queue/lifo/requeue/order", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_requeue_order, queue_fixture_tear_down);
  g_test_add ("/queue/lifo/requeue/remove", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_requeue_remove, queue_fixture_tear_down);
  g_test_add ("/queue/lifo/requeue/only", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_requeue_only, queue_fixture_tear_down);
  g_test_add ("/queue/lifo/requeue/random", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_requeue_random, queue_fixture_tear_down);

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *order_path = g_strdup_printf ("/queue/lifo/pool/%s/lifo-order", kinds[i]);
      g_autofree char *newer_path = g_strdup_printf ("/queue/lifo/pool/%s/newer-first", kinds[i]);
      g_autofree char *cancel_path = g_strdup_printf ("/queue/lifo/pool/%s/cancel-middle",
                                                      kinds[i]);

      g_test_add_data_func (order_path, kinds[i], test_pool_lifo_order);
      g_test_add_data_func (newer_path, kinds[i], test_pool_newer_first);
      g_test_add_data_func (cancel_path, kinds[i], test_pool_cancel_middle);
    }

  return g_test_run ();
}

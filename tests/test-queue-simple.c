/* test-queue-simple.c: the FIFO queue strategy, on its vtable and in fixed and autoscale pools
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "tp-queue-test-util.h"
#include "../plugins/common/job-segments.h"
#include "tp-registry-private.h"

#define RANDOM_SEED 0x5eed5173u

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
test_unit_fifo_order (QueueFixture  *fixture,
                      gconstpointer  data)
{
  const guint n_jobs = 100;

  g_test_summary ("Jobs pop in the order they were pushed, whatever their weight, and the "
                  "length follows every push and pop");

  queue_fixture_make_jobs (fixture, n_jobs);
  for (guint i = 0; i < n_jobs; i++)
    {
      /* Weights must not matter to a FIFO queue */
      fixture->jobs[i].weight = (i % 2) ? -(int) i : (int) (n_jobs - i);
      push (fixture, i);
      g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, i + 1);
    }
  for (guint i = 0; i < n_jobs; i++)
    assert_pop (fixture, i);
  assert_empty (fixture);
}

static void
test_unit_interleaved (QueueFixture  *fixture,
                       gconstpointer  data)
{
  g_test_summary ("Pushes and pops interleaved keep FIFO order: each pop returns the oldest "
                  "job still queued");

  queue_fixture_make_jobs (fixture, 8);
  push (fixture, 0);
  push (fixture, 1);
  assert_pop (fixture, 0);
  push (fixture, 2);
  push (fixture, 3);
  assert_pop (fixture, 1);
  assert_pop (fixture, 2);
  push (fixture, 4);
  assert_pop (fixture, 3);
  assert_pop (fixture, 4);
  assert_empty (fixture);
  push (fixture, 5);
  push (fixture, 6);
  assert_pop (fixture, 5);
  push (fixture, 7);
  assert_pop (fixture, 6);
  assert_pop (fixture, 7);
  assert_empty (fixture);
}

/* Pushes 0..n_jobs-1, removes @removed, then checks the rest pops in order */
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
  for (guint i = 0; i < n_jobs; i++)
    {
      if (i != removed)
        assert_pop (&fixture, i);
    }
  assert_empty (&fixture);
  queue_fixture_tear_down (&fixture, NULL);
}

static void
test_unit_remove_head (void)
{
  g_test_summary ("Removing the oldest job: the others pop in order and the length is right");
  check_remove_one (10, 0);
}

static void
test_unit_remove_middle (void)
{
  g_test_summary ("Removing a job in the middle: the others pop in order and the length is "
                  "right");
  check_remove_one (10, 5);
}

static void
test_unit_remove_tail (void)
{
  g_test_summary ("Removing the newest job: the others pop in order and the length is right");
  check_remove_one (10, 9);
}

static void
test_unit_remove_each (void)
{
  g_test_summary ("Removing the job at each position of queues of several sizes (within one "
                  "segment and across two boundaries) leaves the others in order");

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
  g_test_summary ("After removals at the head and at the tail, new jobs still go behind the "
                  "old ones and a queue emptied by removals is empty");

  queue_fixture_make_jobs (fixture, 10);
  for (guint i = 0; i < 4; i++)
    push (fixture, i);
  remove_job (fixture, 3);   /* the newest */
  remove_job (fixture, 0);   /* the oldest */
  push (fixture, 4);
  push (fixture, 5);
  remove_job (fixture, 5);
  push (fixture, 6);
  assert_pop (fixture, 1);
  assert_pop (fixture, 2);
  assert_pop (fixture, 4);
  assert_pop (fixture, 6);
  assert_empty (fixture);

  /* Emptied by removals only, in an order that leaves holes first */
  push (fixture, 7);
  push (fixture, 8);
  push (fixture, 9);
  remove_job (fixture, 8);
  remove_job (fixture, 7);
  remove_job (fixture, 9);
  assert_empty (fixture);
}

static void
test_unit_wrap_and_grow (QueueFixture  *fixture,
                         gconstpointer  data)
{
  const guint n_cycles = 1000;
  guint next = 0;
  guint expected = 0;
  g_autoptr(GArray) removed = g_array_new (FALSE, FALSE, sizeof (guint));

  g_test_summary ("Many push/pop cycles through one segment; growing to several segments "
                  "while the queue holds holes keeps FIFO order and the length");

  queue_fixture_make_jobs (fixture, n_cycles * 3 + 200);

  /* Keep 10 jobs queued while the positions go round a ring of 16 many times */
  for (guint i = 0; i < 10; i++)
    push (fixture, next++);
  for (guint cycle = 0; cycle < n_cycles; cycle++)
    {
      push (fixture, next++);
      assert_pop (fixture, expected++);
      g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, 10);
    }

  /* Fill the wrapped ring to capacity with holes in it, then grow it twice */
  for (guint i = 0; i < 6; i++)
    push (fixture, next++);
  for (guint i = expected + 3; i < expected + 12; i += 4)
    {
      remove_job (fixture, i);
      g_array_append_val (removed, i);
    }
  for (guint i = 0; i < 40; i++)
    {
      push (fixture, next++);
      if (i == 20)
        {
          guint hole = next - 5;

          remove_job (fixture, hole);
          g_array_append_val (removed, hole);
        }
    }
  g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, next - expected - removed->len);

  /* Pop everything, pushing one job every third pop: the grown ring wraps too */
  for (; expected < next; expected++)
    {
      gboolean was_removed = FALSE;

      for (guint i = 0; i < removed->len; i++)
        was_removed |= g_array_index (removed, guint, i) == expected;
      if (!was_removed)
        assert_pop (fixture, expected);
      if (expected % 3 == 0 && next < fixture->n_jobs)
        push (fixture, next++);
    }
  assert_empty (fixture);
}

static void
test_unit_segments (QueueFixture  *fixture,
                    gconstpointer  data)
{
  const guint slots = JOB_SEGMENT_SLOTS;
  const guint n = 3 * slots + 5;
  guint next = n;

  g_test_summary ("Jobs across several segments: a whole segment of holes is skipped, holes at "
                  "the newest end across a boundary are dropped, and the segments left are "
                  "taken again in order");

  queue_fixture_make_jobs (fixture, 2 * n);
  for (guint i = 0; i < n; i++)
    push (fixture, i);

  /* The second segment, all holes */
  for (guint i = 2 * slots; i-- > slots;)
    remove_job (fixture, i);
  g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, n - slots);
  for (guint i = 0; i < slots; i++)
    assert_pop (fixture, i);
  assert_pop (fixture, 2 * slots);

  /* From the newest end back across the third segment's start */
  for (guint i = n; i-- > 2 * slots + 2;)
    remove_job (fixture, i);
  g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, 1);

  /* New jobs go behind the one left, in segments taken again */
  for (guint i = 0; i < slots + 2; i++)
    push (fixture, next++);
  assert_pop (fixture, 2 * slots + 1);
  for (guint i = n; i < next; i++)
    assert_pop (fixture, i);
  assert_empty (fixture);

  push (fixture, next);
  push (fixture, next + 1);
  assert_pop (fixture, next);
  assert_pop (fixture, next + 1);
  assert_empty (fixture);
}

static const QueueModel fifo_model = {
  .summary = "Random pushes, pops and removals (fixed seed) match a FIFO model at every step, "
             "while the queue grows, shrinks and wraps",
  .seed = RANDOM_SEED,
  .n_ops = 200000,
  .pop_below = 90,
  .order = queue_order_fifo,
};

/* The queue's order: by sequence */
static int
compare_sequence (gconstpointer a,
                  gconstpointer b,
                  gpointer      user_data)
{
  guint64 x = ((const TpJob *) a)->sequence;
  guint64 y = ((const TpJob *) b)->sequence;

  return x < y ? -1 : x > y;
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
  g_test_summary ("A job given back (requeue) pops at its place by sequence: before newer "
                  "jobs pushed since, after older ones given back too, and a job newer than "
                  "every queued one after them");

  g_assert_nonnull (fixture->vt->requeue);
  queue_fixture_make_jobs (fixture, 12);
  for (guint i = 0; i < 6; i++)
    push (fixture, i);
  assert_pop (fixture, 0);
  assert_pop (fixture, 1);
  assert_pop (fixture, 2);
  push (fixture, 6);

  requeue (fixture, 2);
  requeue (fixture, 0);
  assert_pop (fixture, 0);
  requeue (fixture, 1);
  assert_pop (fixture, 1);
  assert_pop (fixture, 2);
  assert_pop (fixture, 3);

  /* Newer than the newest queued job: it simply goes last */
  assert_pop (fixture, 4);
  push (fixture, 7);
  assert_pop (fixture, 5);
  assert_pop (fixture, 6);
  assert_pop (fixture, 7);
  requeue (fixture, 7);
  push (fixture, 8);
  requeue (fixture, 4);
  assert_pop (fixture, 4);
  assert_pop (fixture, 7);
  assert_pop (fixture, 8);
  assert_empty (fixture);
}

static void
test_unit_requeue_remove (QueueFixture  *fixture,
                          gconstpointer  data)
{
  g_test_summary ("Jobs given back can be removed (cancelled) wherever they wait, and the "
                  "others keep their order");

  queue_fixture_make_jobs (fixture, 20);
  for (guint i = 0; i < 20; i++)
    push (fixture, i);
  for (guint i = 0; i < 10; i++)
    assert_pop (fixture, i);
  for (guint i = 0; i < 10; i++)
    requeue (fixture, (i * 7) % 10);
  remove_job (fixture, 0);   /* the oldest */
  remove_job (fixture, 5);
  remove_job (fixture, 9);   /* the newest given back */
  remove_job (fixture, 15);  /* one never popped, among them */
  for (guint i = 0; i < 20; i++)
    {
      if (i != 0 && i != 5 && i != 9 && i != 15)
        assert_pop (fixture, i);
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
                  "for their key), in order or in reverse, pops by sequence");

  queue_fixture_make_jobs (fixture, n_jobs);
  for (guint i = 0; i < n_jobs / 2; i++)
    requeue (fixture, i);
  for (guint i = n_jobs; i > n_jobs / 2; i--)
    requeue (fixture, i - 1);
  for (guint i = 0; i < n_jobs; i++)
    assert_pop (fixture, i);
  assert_empty (fixture);
}

static void
test_unit_requeue_random (QueueFixture  *fixture,
                          gconstpointer  data)
{
  g_test_summary ("Random pushes, pops, removals and requeues of popped jobs (fixed seed) "
                  "match a model sorted by sequence at every step");

  queue_test_random_requeue (fixture, compare_sequence, no_weight, RANDOM_SEED + 2, 100000,
                             1);
}

/* }}} */

/* In a pool {{{ */

static void
test_pool_fifo_order (gconstpointer data)
{
  const char *kind = data;
  const char *names[] = { "a", "b", "c", "d", "e" };
  g_autoptr(TpPool) pool = one_worker_pool (kind);
  g_autofree char *order = NULL;
  TpTestJob *held;
  TpTestLog log;

  g_test_summary ("On a pool of one worker, jobs queued behind a running job start in "
                  "submission order, and their results arrive in that order");
  tp_test_log_init (&log);

  held = hold_the_worker (pool, &log);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    tp_test_submit (pool, &log, names[i], TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT,
                    10 - (int) i, NULL);
  drain_pending ();
  g_assert_cmpuint (log.started, ==, 1);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 1);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 5);

  tp_test_release (held);
  tp_test_wait_count (&log.callbacks, 6);
  tp_test_wait_count (&log.destroyed, 6);

  order = tp_test_log_order (&log);
  g_assert_cmpstr (order, ==, "h a b c d e");
  g_assert_cmpuint (log.done, ==, 6);
  g_assert_cmpuint (log.peak, ==, 1);
  g_assert_cmpstr (log.results->pdata[0], ==, "ok:h");
  g_assert_cmpstr (log.results->pdata[1], ==, "ok:a");
  g_assert_cmpstr (log.results->pdata[5], ==, "ok:e");

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
                  "G_IO_ERROR_CANCELLED; it never starts and the others keep FIFO order");
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
  g_assert_cmpstr (order, ==, "h a b d e");
  g_assert_cmpuint (log.done, ==, 5);
  g_assert_cmpuint (log.cancelled, ==, 1);
  g_assert_cmpuint (log.callbacks, ==, 6);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static gboolean
cancel_cb (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

/* The body of test_pool_cancel_in_dispatch(), in a subprocess: a deadlock there fails the
 * test instead of hanging the suite */
static void
cancel_in_dispatch_subprocess (void)
{
  g_autoptr(TpPool) pool = one_worker_pool ("fixed-simple");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *order = NULL;
  TpTestJob *held;
  TpTestLog log;

  tp_test_log_init (&log);
  held = hold_the_worker (pool, &log);
  tp_test_submit (pool, &log, "a", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, cancellable);
  tp_test_submit (pool, &log, "b", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  drain_pending ();

  /* As an application does: cancel from a callback of the main loop */
  g_idle_add (cancel_cb, cancellable);
  tp_test_wait_count (&log.callbacks, 1);
  g_assert_cmpuint (log.cancelled, ==, 1);

  tp_test_release (held);
  tp_test_wait_count (&log.callbacks, 3);
  tp_test_wait_count (&log.destroyed, 3);
  order = tp_test_log_order (&log);
  g_assert_cmpstr (order, ==, "h b");

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_pool_cancel_in_dispatch (void)
{
  g_test_summary ("Cancelling a queued job from a main-loop callback (a source dispatched on "
                  "the pool's context) completes it with G_IO_ERROR_CANCELLED; it does not "
                  "deadlock");

  if (g_test_subprocess ())
    {
      cancel_in_dispatch_subprocess ();
      return;
    }

  /* The time limit only turns a deadlock into a failure */
  g_test_trap_subprocess (NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  const char *kinds[] = { "fixed-simple", "autoscale-simple" };

  g_test_init (&argc, &argv, NULL);
  tp_queue_test_strategy = "simple";

  g_test_add ("/queue/simple/empty", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_empty, queue_fixture_tear_down);
  g_test_add ("/queue/simple/fifo-order", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_fifo_order, queue_fixture_tear_down);
  g_test_add ("/queue/simple/interleaved", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_interleaved, queue_fixture_tear_down);
  g_test_add_func ("/queue/simple/remove-head", test_unit_remove_head);
  g_test_add_func ("/queue/simple/remove-middle", test_unit_remove_middle);
  g_test_add_func ("/queue/simple/remove-tail", test_unit_remove_tail);
  g_test_add_func ("/queue/simple/remove-each", test_unit_remove_each);
  g_test_add ("/queue/simple/remove-then-push", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_remove_then_push, queue_fixture_tear_down);
  g_test_add ("/queue/simple/wrap-and-grow", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_wrap_and_grow, queue_fixture_tear_down);
  g_test_add ("/queue/simple/segments", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_segments, queue_fixture_tear_down);
  g_test_add ("/queue/simple/random", QueueFixture, &fifo_model,
              queue_fixture_set_up, queue_test_random_model, queue_fixture_tear_down);
  g_test_add ("/queue/simple/requeue/order", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_requeue_order, queue_fixture_tear_down);
  g_test_add ("/queue/simple/requeue/remove", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_requeue_remove, queue_fixture_tear_down);
  g_test_add ("/queue/simple/requeue/only", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_requeue_only, queue_fixture_tear_down);
  g_test_add ("/queue/simple/requeue/random", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_requeue_random, queue_fixture_tear_down);

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *order_path = g_strdup_printf ("/queue/simple/pool/%s/fifo-order", kinds[i]);
      g_autofree char *cancel_path = g_strdup_printf ("/queue/simple/pool/%s/cancel-middle",
                                                      kinds[i]);

      g_test_add_data_func (order_path, kinds[i], test_pool_fifo_order);
      g_test_add_data_func (cancel_path, kinds[i], test_pool_cancel_middle);
    }
  g_test_add_func ("/queue/simple/pool/fixed-simple/cancel-in-dispatch",
                   test_pool_cancel_in_dispatch);

  return g_test_run ();
}

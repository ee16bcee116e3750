/* tp-queue-test-util.c: a queue strategy driven through its vtable, for the queue tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "tp-queue-test-util.h"

#include "tp-registry-private.h"

const char *tp_queue_test_strategy;

void
queue_fixture_set_up (QueueFixture  *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->vt = tp_registry_lookup_queue (NULL, tp_queue_test_strategy, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fixture->vt);
  g_assert_cmpstr (fixture->vt->name, ==, tp_queue_test_strategy);
  g_assert_cmpuint (fixture->vt->struct_size, ==, sizeof (TpQueueStrategy));

  fixture->queue = tp_queue_strategy_create (fixture->vt, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fixture->queue);
  g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, 0);
}

void
queue_fixture_tear_down (QueueFixture  *fixture,
                         gconstpointer  data)
{
  /* destroy() takes an empty queue */
  while (fixture->vt->pop (fixture->queue) != NULL)
    ;
  fixture->vt->destroy (fixture->queue);
  g_free (fixture->jobs);
}

/* Makes @n_jobs jobs whose sequence is their index, all of weight 4 */
void
queue_fixture_make_jobs (QueueFixture *fixture,
                         guint         n_jobs)
{
  g_assert_null (fixture->jobs);
  fixture->jobs = g_new0 (TpJob, n_jobs);
  fixture->n_jobs = n_jobs;
  for (guint i = 0; i < n_jobs; i++)
    {
      fixture->jobs[i].sequence = i;
      fixture->jobs[i].weight = 4;
    }
}

void
push (QueueFixture *fixture,
      guint         index)
{
  guint length = fixture->vt->length (fixture->queue);

  fixture->vt->push (fixture->queue, &fixture->jobs[index]);
  g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, length + 1);
}

void
remove_job (QueueFixture *fixture,
            guint         index)
{
  guint length = fixture->vt->length (fixture->queue);

  fixture->vt->remove (fixture->queue, &fixture->jobs[index]);
  g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, length - 1);
}

/* Pops one job and checks it is jobs[@index] */
void
assert_pop (QueueFixture *fixture,
            guint         index)
{
  guint length = fixture->vt->length (fixture->queue);
  TpJob *job = fixture->vt->pop (fixture->queue);

  g_assert_nonnull (job);
  g_assert_cmpint (tp_job_get_weight (job), ==, fixture->jobs[index].weight);
  g_assert_cmpuint (tp_job_get_sequence (job), ==, fixture->jobs[index].sequence);
  g_assert_true (job == &fixture->jobs[index]);
  g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, length - 1);
}

void
assert_empty (QueueFixture *fixture)
{
  g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, 0);
  g_assert_null (fixture->vt->pop (fixture->queue));
  g_assert_null (fixture->vt->pop (fixture->queue));
  g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, 0);
}

int
queue_order_fifo (gconstpointer a,
                  gconstpointer b,
                  gpointer      user_data)
{
  const TpJob *ja = a;
  const TpJob *jb = b;

  return ja->sequence < jb->sequence ? -1 : ja->sequence > jb->sequence;
}

int
queue_order_lifo (gconstpointer a,
                  gconstpointer b,
                  gpointer      user_data)
{
  return queue_order_fifo (b, a, user_data);
}

int
queue_order_priority (gconstpointer a,
                      gconstpointer b,
                      gpointer      user_data)
{
  const TpJob *ja = a;
  const TpJob *jb = b;

  if (ja->weight != jb->weight)
    return ja->weight < jb->weight ? -1 : 1;
  return queue_order_fifo (a, b, user_data);
}

/* The job the model says pops next, or NULL; removed from the model */
static TpJob *
model_pop (GSequence *model)
{
  GSequenceIter *first = g_sequence_get_begin_iter (model);
  TpJob *job;

  if (g_sequence_iter_is_end (first))
    return NULL;
  job = g_sequence_get (first);
  g_sequence_remove (first);
  return job;
}

void
queue_test_random_model (QueueFixture  *fixture,
                         gconstpointer  data)
{
  const QueueModel *spec = data;
  g_autoptr(GRand) rand = g_rand_new_with_seed (spec->seed);
  g_autoptr(GSequence) model = g_sequence_new (NULL);
  guint next = 0;

  g_test_summary (spec->summary);
  g_test_message ("seed %u", spec->seed);

  queue_fixture_make_jobs (fixture, spec->n_ops);
  for (guint op = 0; op < spec->n_ops; op++)
    {
      /* Drift between growing and draining phases */
      guint push_bias = (op / 5000) % 2 ? 35 : 60;
      guint roll = g_rand_int_range (rand, 0, 100);
      guint length = (guint) g_sequence_get_length (model);

      if (roll < push_bias && next < fixture->n_jobs)
        {
          if (spec->pick_weight != NULL)
            fixture->jobs[next].weight = spec->pick_weight (rand);
          g_sequence_insert_sorted (model, &fixture->jobs[next], spec->order, NULL);
          push (fixture, next++);
        }
      else if (roll < spec->pop_below || length == 0)
        {
          TpJob *expected = model_pop (model);

          g_assert_true (fixture->vt->pop (fixture->queue) == expected);
        }
      else
        {
          GSequenceIter *iter = g_sequence_get_iter_at_pos (model,
                                                            g_rand_int_range (rand, 0, length));

          fixture->vt->remove (fixture->queue, g_sequence_get (iter));
          g_sequence_remove (iter);
        }
      g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, g_sequence_get_length (model));
    }

  while (g_sequence_get_length (model) > 0)
    g_assert_true (fixture->vt->pop (fixture->queue) == model_pop (model));
  assert_empty (fixture);
}

/* A pool of one worker, so that queued jobs start one at a time in queue order */
void
requeue (QueueFixture *fixture,
         guint         index)
{
  guint length = fixture->vt->length (fixture->queue);

  if (fixture->vt->requeue != NULL)
    fixture->vt->requeue (fixture->queue, &fixture->jobs[index]);
  else
    fixture->vt->push (fixture->queue, &fixture->jobs[index]);
  g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, length + 1);
}

/* Pops one job and checks it is the first of @model, which it leaves */
static void
assert_pop_first (QueueFixture *fixture,
                  GSequence    *model)
{
  GSequenceIter *first = g_sequence_get_begin_iter (model);
  TpJob *expected = g_sequence_iter_is_end (first) ? NULL : g_sequence_get (first);
  TpJob *job = fixture->vt->pop (fixture->queue);

  if (job != expected)
    g_error ("popped job %" G_GUINT64_FORMAT ", expected %" G_GUINT64_FORMAT,
             job != NULL ? job->sequence : G_MAXUINT64,
             expected != NULL ? expected->sequence : G_MAXUINT64);
  if (expected != NULL)
    g_sequence_remove (first);
}

void
queue_test_random_requeue (QueueFixture     *fixture,
                           GCompareDataFunc  compare,
                           int             (*pick_weight) (GRand *rand),
                           guint32           seed,
                           guint             n_ops,
                           guint64           max_step)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(GSequence) model = g_sequence_new (NULL);
  g_autoptr(GPtrArray) held = g_ptr_array_new ();   /* popped, may come back */
  guint requeued = 0;
  guint next = 0;

  g_test_message ("seed %u", seed);
  queue_fixture_make_jobs (fixture, n_ops);
  for (guint i = 1; i < n_ops; i++)
    {
      guint64 step = max_step > 1 ? (guint64) g_rand_double_range (rand, 1, (double) max_step) : 1;

      fixture->jobs[i].sequence = fixture->jobs[i - 1].sequence + step;
    }
  for (guint op = 0; op < n_ops; op++)
    {
      /* Phases: growing, draining, and bursts where gates give jobs back */
      guint phase = (op / 3000) % 3;
      guint roll = g_rand_int_range (rand, 0, 100);
      guint length = (guint) g_sequence_get_length (model);

      if (roll < (phase == 0 ? 45 : 25) && next < fixture->n_jobs)
        {
          fixture->jobs[next].weight = pick_weight (rand);
          g_sequence_insert_sorted (model, &fixture->jobs[next], compare, NULL);
          push (fixture, next++);
        }
      else if (roll < (phase == 2 ? 50 : 65) || length == 0)
        {
          GSequenceIter *first = g_sequence_get_begin_iter (model);

          if (!g_sequence_iter_is_end (first) && g_rand_int_range (rand, 0, 3) > 0)
            g_ptr_array_add (held, g_sequence_get (first));
          assert_pop_first (fixture, model);
        }
      else if (roll < 75 || held->len == 0)
        {
          GSequenceIter *iter = g_sequence_get_iter_at_pos (model,
                                                            g_rand_int_range (rand, 0, length));

          remove_job (fixture, (TpJob *) g_sequence_get (iter) - fixture->jobs);
          g_sequence_remove (iter);
        }
      else
        {
          /* Often the oldest held job, as a gate that holds a key gives its jobs back in
           * order; sometimes any of them */
          guint nth = g_rand_boolean (rand) ? 0 : g_rand_int_range (rand, 0, held->len);
          TpJob *job = g_ptr_array_steal_index (held, nth);

          g_sequence_insert_sorted (model, job, compare, NULL);
          requeue (fixture, job - fixture->jobs);
          requeued++;
        }
      g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, g_sequence_get_length (model));
    }

  g_test_message ("%u jobs pushed, %u requeued", next, requeued);
  g_assert_cmpuint (requeued, >, n_ops / 20);
  while (g_sequence_get_length (model) > 0)
    assert_pop_first (fixture, model);
  assert_empty (fixture);
}

TpPool *
one_worker_pool (const char *kind)
{
  if (g_str_has_prefix (kind, "autoscale-"))
    return tp_test_pool_new (kind, "kind", kind, "min-size", 1, "max-size", 1, NULL);
  return tp_test_pool_new (kind, "kind", kind, "size", 1, NULL);
}

/* Submits a job that holds the only worker and waits until it started */
TpTestJob *
hold_the_worker (TpPool    *pool,
                 TpTestLog *log)
{
  TpTestJob *held = tp_test_submit (pool, log, "h", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 0, NULL);

  tp_test_wait_count (&log->started, 1);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 1);
  return held;
}

/* Runs what is due now without blocking; the bound catches a source that re-arms forever */
void
drain_pending (void)
{
  guint i;

  for (i = 0; i < 10000 && g_main_context_iteration (NULL, FALSE); i++)
    ;
  g_assert_cmpuint (i, <, 10000);
}

/* test-queue-priority.c: the priority queue strategy, on its vtable and in fixed and autoscale
 * pools
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "tp-queue-test-util.h"
#include "tp-registry-private.h"

#ifdef G_OS_UNIX
# include <sys/mman.h>
# include <unistd.h>
#endif

#define RANDOM_SEED 0x9a10b17eu

/* The reference order of two indices in the jobs array @user_data */
static int
compare_indices (gconstpointer a,
                 gconstpointer b,
                 gpointer      user_data)
{
  const TpJob *jobs = user_data;

  return queue_order_priority (&jobs[*(const guint *) a], &jobs[*(const guint *) b], NULL);
}

/* Pops every job and checks they come out sorted by (weight, sequence): @queued holds the
 * indices of the jobs in the queue, in any order */
static void
assert_drain_sorted (QueueFixture *fixture,
                     GArray       *queued)
{
  g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, queued->len);
  g_array_sort_with_data (queued, compare_indices, fixture->jobs);
  for (guint i = 0; i < queued->len; i++)
    assert_pop (fixture, g_array_index (queued, guint, i));
  assert_empty (fixture);
}

static GArray *
push_all (QueueFixture *fixture)
{
  GArray *queued = g_array_sized_new (FALSE, FALSE, sizeof (guint), fixture->n_jobs);

  for (guint i = 0; i < fixture->n_jobs; i++)
    {
      push (fixture, i);
      g_array_append_val (queued, i);
    }
  return queued;
}

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
test_unit_priority_order (QueueFixture  *fixture,
                          gconstpointer  data)
{
  g_autoptr(GArray) queued = NULL;

  g_test_summary ("Jobs pop smallest weight first, whatever the order they were pushed in");

  queue_fixture_make_jobs (fixture, 50);
  for (guint i = 0; i < fixture->n_jobs; i++)
    fixture->jobs[i].weight = (int) ((i * 17) % 50) - 25;   /* a permutation of -25..24 */
  queued = push_all (fixture);
  g_assert_true (fixture->vt->pop (fixture->queue) == &fixture->jobs[0]);   /* weight -25 */
  g_array_remove_index (queued, 0);
  assert_drain_sorted (fixture, queued);
}

static void
test_unit_ties_stable (QueueFixture  *fixture,
                       gconstpointer  data)
{
  const guint n_jobs = 20;

  g_test_summary ("Equal weights pop by increasing sequence number, over all 64 bits, "
                  "whatever the push order");

  queue_fixture_make_jobs (fixture, n_jobs);
  for (guint i = 0; i < n_jobs; i++)
    {
      /* Rank k in the high half, 20 - k in the low one: truncating the sequence to 32 bits
       * would reverse the order */
      guint k = (i * 7) % n_jobs;

      fixture->jobs[i].weight = 7;
      fixture->jobs[i].sequence = ((guint64) k << 32) | (n_jobs - k);
    }
  for (guint i = 0; i < n_jobs; i++)
    push (fixture, i);
  for (guint k = 0; k < n_jobs; k++)
    {
      TpJob *job = fixture->vt->pop (fixture->queue);

      g_assert_nonnull (job);
      g_assert_cmpint (tp_job_get_weight (job), ==, 7);
      g_assert_cmpuint (tp_job_get_sequence (job) >> 32, ==, k);
      g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, n_jobs - k - 1);
    }
  assert_empty (fixture);
}

static void
test_unit_ties_mixed (QueueFixture  *fixture,
                      gconstpointer  data)
{
  g_autoptr(GArray) queued = g_array_new (FALSE, FALSE, sizeof (guint));

  g_test_summary ("Jobs of three weights pushed newest first pop by weight, and within a "
                  "weight in submission (sequence) order");

  queue_fixture_make_jobs (fixture, 30);
  for (guint i = fixture->n_jobs; i > 0; i--)
    {
      guint index = i - 1;

      fixture->jobs[index].weight = (int) (index % 3);
      push (fixture, index);
      g_array_append_val (queued, index);
    }
  assert_drain_sorted (fixture, queued);
}

static void
test_unit_extreme_weights (QueueFixture  *fixture,
                           gconstpointer  data)
{
  const int weights[] = {
    G_MAXINT, G_MININT, 0, -1, 1, G_MININT + 1, G_MAXINT - 1, G_MININT, G_MAXINT,
    -2147483000, 2147483000, -1, 0, G_MININT,
  };
  g_autoptr(GArray) queued = NULL;

  g_test_summary ("Negative weights, G_MININT and G_MAXINT, and ties at both ends, sort "
                  "correctly (no overflow in the comparison)");

  queue_fixture_make_jobs (fixture, G_N_ELEMENTS (weights));
  for (guint i = 0; i < G_N_ELEMENTS (weights); i++)
    fixture->jobs[i].weight = weights[i];
  queued = push_all (fixture);

  /* Spelled out for the three first and the two last */
  g_assert_true (fixture->vt->pop (fixture->queue) == &fixture->jobs[1]);
  g_assert_true (fixture->vt->pop (fixture->queue) == &fixture->jobs[7]);
  g_assert_true (fixture->vt->pop (fixture->queue) == &fixture->jobs[13]);
  g_array_remove_index (queued, 13);
  g_array_remove_index (queued, 7);
  g_array_remove_index (queued, 1);
  g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, queued->len);

  for (guint i = 0; i < queued->len; i++)
    {
      if (g_array_index (queued, guint, i) == 0 || g_array_index (queued, guint, i) == 8)
        g_array_remove_index (queued, i--);
    }
  g_array_sort_with_data (queued, compare_indices, fixture->jobs);
  for (guint i = 0; i < queued->len; i++)
    assert_pop (fixture, g_array_index (queued, guint, i));
  assert_pop (fixture, 0);
  assert_pop (fixture, 8);
  assert_empty (fixture);
}

static void
test_unit_interleaved (QueueFixture  *fixture,
                       gconstpointer  data)
{
  const int weights[] = { 5, 3, 1, 4, 4, 0, 4, 9 };

  g_test_summary ("Pushes and pops interleaved: each pop returns the smallest weight queued, "
                  "the oldest of equals");

  queue_fixture_make_jobs (fixture, G_N_ELEMENTS (weights));
  for (guint i = 0; i < G_N_ELEMENTS (weights); i++)
    fixture->jobs[i].weight = weights[i];

  push (fixture, 0);          /* 5 */
  push (fixture, 1);          /* 3 */
  assert_pop (fixture, 1);
  push (fixture, 2);          /* 1 */
  push (fixture, 3);          /* 4 */
  assert_pop (fixture, 2);
  push (fixture, 4);          /* 4, after 3 */
  push (fixture, 5);          /* 0 */
  assert_pop (fixture, 5);
  assert_pop (fixture, 3);
  push (fixture, 6);          /* 4, after 4 */
  assert_pop (fixture, 4);
  assert_pop (fixture, 6);
  push (fixture, 7);          /* 9 */
  assert_pop (fixture, 0);
  assert_pop (fixture, 7);
  assert_empty (fixture);
}

/* Pushes @n_jobs jobs of permuted weights, removes the one of rank @rank in priority order,
 * then checks the rest pops sorted */
static void
check_remove_rank (guint n_jobs,
                   guint rank)
{
  QueueFixture fixture = { NULL, };
  g_autoptr(GArray) queued = NULL;

  queue_fixture_set_up (&fixture, NULL);
  queue_fixture_make_jobs (&fixture, n_jobs);
  for (guint i = 0; i < n_jobs; i++)
    fixture.jobs[i].weight = (int) ((i * 11) % n_jobs) / 2;   /* with ties */
  queued = push_all (&fixture);
  g_array_sort_with_data (queued, compare_indices, fixture.jobs);

  remove_job (&fixture, g_array_index (queued, guint, rank));
  g_array_remove_index (queued, rank);
  assert_drain_sorted (&fixture, queued);
  queue_fixture_tear_down (&fixture, NULL);
}

static void
test_unit_remove_head (void)
{
  g_test_summary ("Removing the job that would pop next: the others pop in order and the "
                  "length is right");
  check_remove_rank (10, 0);
}

static void
test_unit_remove_middle (void)
{
  g_test_summary ("Removing a job in the middle of the order: the others pop in order and "
                  "the length is right");
  check_remove_rank (10, 5);
}

static void
test_unit_remove_tail (void)
{
  g_test_summary ("Removing the job that would pop last: the others pop in order and the "
                  "length is right");
  check_remove_rank (10, 9);
}

static void
test_unit_remove_each (void)
{
  g_test_summary ("Removing the job of each rank from queues of several sizes (so from every "
                  "place in the heap) leaves the others in order");

  for (guint n_jobs = 1; n_jobs <= 40; n_jobs += 3)
    {
      for (guint rank = 0; rank < n_jobs; rank++)
        check_remove_rank (n_jobs, rank);
    }
}

static void
test_unit_remove_all (QueueFixture  *fixture,
                      gconstpointer  data)
{
  g_test_summary ("A queue emptied by removals alone is empty and takes new jobs again");

  queue_fixture_make_jobs (fixture, 9);
  for (guint i = 0; i < 8; i++)
    {
      fixture->jobs[i].weight = (int) (i % 4);
      push (fixture, i);
    }
  for (guint i = 0; i < 8; i++)
    remove_job (fixture, (i * 3) % 8);
  assert_empty (fixture);
  push (fixture, 8);
  assert_pop (fixture, 8);
  assert_empty (fixture);
}

static int
random_weight (GRand *rand)
{
  switch (g_rand_int_range (rand, 0, 100))
    {
    case 0:
      return G_MININT;
    case 1:
      return G_MAXINT;
    case 2:
      return (int) g_rand_int (rand);
    default:
      /* A narrow range, for many ties */
      return g_rand_int_range (rand, -100, 100);
    }
}

static void
test_unit_random_bulk (QueueFixture  *fixture,
                       gconstpointer  data)
{
  const guint n_jobs = 10000;
  const guint n_removed = GPOINTER_TO_UINT (data);
  g_autoptr(GRand) rand = g_rand_new_with_seed (RANDOM_SEED);
  g_autoptr(GArray) queued = NULL;
  g_autofree gboolean *removed = g_new0 (gboolean, n_jobs);

  g_test_summary (n_removed > n_jobs / 2 ?
                  "10000 jobs of random weights (fixed seed), 7000 of them removed at "
                  "random, which makes the heap drop its removed entries: the rest pops in "
                  "(weight, sequence) order, checked against a sorted reference" :
                  "10000 jobs of random weights (fixed seed), 3000 of them removed at "
                  "random: the rest pops in (weight, sequence) order, checked against a "
                  "sorted reference");
  g_test_message ("seed %u", RANDOM_SEED);

  queue_fixture_make_jobs (fixture, n_jobs);
  for (guint i = 0; i < n_jobs; i++)
    fixture->jobs[i].weight = random_weight (rand);
  queued = push_all (fixture);

  /* A partial Fisher-Yates shuffle picks the jobs to remove */
  for (guint i = 0; i < n_removed; i++)
    {
      guint j = g_rand_int_range (rand, i, n_jobs);
      guint index = g_array_index (queued, guint, j);

      g_array_index (queued, guint, j) = g_array_index (queued, guint, i);
      g_array_index (queued, guint, i) = index;
      remove_job (fixture, index);
      removed[index] = TRUE;
    }
  g_array_remove_range (queued, 0, n_removed);
  for (guint i = 0; i < queued->len; i++)
    g_assert_false (removed[g_array_index (queued, guint, i)]);

  assert_drain_sorted (fixture, queued);
}

/* Mostly the default weight 4, sometimes 3 or 5: runs for the lane, ties
 * between the lane and the heap */
static int
lane_weight (GRand *rand)
{
  guint roll = g_rand_int_range (rand, 0, 10);

  return roll < 8 ? 4 : roll == 8 ? 3 : 5;
}

static const QueueModel priority_model = {
  .summary = "Random pushes, pops and removals (fixed seed) match a sorted model at every step",
  .seed = RANDOM_SEED + 1,
  .n_ops = 100000,
  .pop_below = 85,
  .order = queue_order_priority,
  .pick_weight = random_weight,
};

static const QueueModel priority_lane_model = {
  .summary = "Random pushes, pops and removals (fixed seed), mostly of one weight, match a "
             "sorted model at every step",
  .seed = RANDOM_SEED + 1,
  .n_ops = 100000,
  .pop_below = 85,
  .order = queue_order_priority,
  .pick_weight = lane_weight,
};

static void
test_unit_lane (QueueFixture  *fixture,
                gconstpointer  data)
{
  /* Weights in push order; the default 4 makes runs, 1 and 9 interrupt them */
  static const int weights[] = { 4, 4, 4, 1, 4, 9, 4, 4, 1, 1, 4, 9, 4, 4, 4 };
  const guint n_run = G_N_ELEMENTS (weights);
  g_autoptr(GArray) queued = NULL;

  g_test_summary ("Runs of one weight mixed with other weights pop by (weight, sequence), "
                  "ties between a run and other jobs of its weight included");

  queue_fixture_make_jobs (fixture, n_run + 2);
  for (guint i = 0; i < n_run; i++)
    {
      fixture->jobs[i].weight = weights[i];
      fixture->jobs[i].sequence = 2 * i;
    }
  /* Two more jobs of weight 4, pushed last, whose sequences come before the run's tail:
   * they cannot follow it, and must still pop in their place */
  fixture->jobs[n_run].weight = 4;
  fixture->jobs[n_run].sequence = 1;        /* between jobs 0 and 1 */
  fixture->jobs[n_run + 1].weight = 4;
  fixture->jobs[n_run + 1].sequence = 9;    /* between jobs 4 and 6 */

  queued = push_all (fixture);
  assert_drain_sorted (fixture, queued);
}

static void
test_unit_lane_segments (QueueFixture  *fixture,
                         gconstpointer  data)
{
  const guint n = 100;   /* more than three segments of 30 lane entries */
  g_autoptr(GArray) queued = g_array_new (FALSE, FALSE, sizeof (guint));
  guint next = n;

  g_test_summary ("A run of one weight across several segments of its lane: a whole segment "
                  "of holes is skipped, holes at the tail across a boundary are dropped, the "
                  "run then grows again from there, and a heap job still pops in its place");

  queue_fixture_make_jobs (fixture, 2 * n);
  for (guint i = 0; i < n; i++)
    push (fixture, i);
  for (guint i = 30; i < 60; i++)
    remove_job (fixture, i);
  for (guint i = 0; i < 30; i++)
    assert_pop (fixture, i);
  assert_pop (fixture, 60);
  g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, n - 61);

  /* From the tail back across the boundary at 90 */
  for (guint i = n; i-- > 85;)
    remove_job (fixture, i);

  /* The run goes on from 84; a job of a smaller weight goes to the heap */
  for (; next < n + 40; next++)
    push (fixture, next);
  fixture->jobs[next].weight = -1;
  push (fixture, next++);
  assert_pop (fixture, next - 1);

  for (guint i = 61; i < 85; i++)
    g_array_append_val (queued, i);
  for (guint i = n; i < n + 40; i++)
    g_array_append_val (queued, i);
  assert_drain_sorted (fixture, queued);
}

static void
test_unit_lane_holes (QueueFixture  *fixture,
                      gconstpointer  data)
{
  g_autoptr(GArray) queued = g_array_new (FALSE, FALSE, sizeof (guint));
  guint next = 0;

  g_test_summary ("A run of one weight that spans two segments of its lane, with removals "
                  "at its head, its tail and its middle, pops in order and keeps its length");

  queue_fixture_make_jobs (fixture, 100);
  for (; next < 10; next++)
    push (fixture, next);
  for (guint i = 0; i < 5; i++)
    assert_pop (fixture, i);
  for (; next < 40; next++)   /* past the first segment of 30 entries */
    push (fixture, next);

  remove_job (fixture, 5);    /* the head */
  remove_job (fixture, 39);   /* the tail */
  remove_job (fixture, 20);   /* the middle */
  remove_job (fixture, 21);
  assert_pop (fixture, 6);

  /* A lower weight goes to the heap and pops first; the run goes on behind it */
  fixture->jobs[next].weight = 1;
  push (fixture, next++);
  for (; next < 45; next++)
    push (fixture, next);
  assert_pop (fixture, 40);

  for (guint i = 7; i < 45; i++)
    {
      if (i != 20 && i != 21 && i != 39 && i != 40)
        g_array_append_val (queued, i);
    }
  assert_drain_sorted (fixture, queued);

  /* Emptied by removals alone, the run starts again with another weight */
  for (; next < 50; next++)
    {
      fixture->jobs[next].weight = 8;
      push (fixture, next);
    }
  for (guint i = 45; i < 50; i++)
    remove_job (fixture, i);
  assert_empty (fixture);
  for (; next < 53; next++)
    {
      fixture->jobs[next].weight = 2;
      push (fixture, next);
    }
  for (guint i = 50; i < 53; i++)
    assert_pop (fixture, i);
  assert_empty (fixture);
}

static void
test_unit_requeue_random (QueueFixture  *fixture,
                          gconstpointer  data)
{
  int (*pick_weight) (GRand *) = GPOINTER_TO_INT (data) ? lane_weight : random_weight;

  g_test_summary (GPOINTER_TO_INT (data) ?
                  "Random pushes, pops, removals and jobs given back (pushed again, older than "
                  "others) mostly of one weight (fixed seed) match a sorted model" :
                  "Random pushes, pops, removals and jobs given back (pushed again, older than "
                  "others) (fixed seed) match a sorted model");
  g_assert_null (fixture->vt->requeue);
  queue_test_random_requeue (fixture, queue_order_priority, pick_weight, RANDOM_SEED + 3, 100000, 1);
}

static void
test_unit_wide_sequences (QueueFixture  *fixture,
                          gconstpointer  data)
{
  int (*pick_weight) (GRand *) = GPOINTER_TO_INT (data) ? lane_weight : random_weight;

  g_test_summary ("Sequences billions apart, as after billions of submissions, with jobs given "
                  "back long after they were pushed: the heap moves its 32-bit window of "
                  "sequences and keeps jobs older than it apart, and the order stays exact");
  queue_test_random_requeue (fixture, queue_order_priority, pick_weight, RANDOM_SEED + 4, 20000,
                             G_GUINT64_CONSTANT (1) << 31);
}

static void
test_unit_sequence_window (QueueFixture  *fixture,
                           gconstpointer  data)
{
  const guint64 window = G_GUINT64_CONSTANT (1) << 32;
  g_autoptr(GArray) queued = g_array_new (FALSE, FALSE, sizeof (guint));

  g_test_summary ("A job waits while four billion others are submitted, and jobs older than "
                  "every queued one come back: each pops at its place by (weight, sequence), "
                  "and each can be removed wherever it waits");

  queue_fixture_make_jobs (fixture, 12);
  for (guint i = 0; i < 12; i++)
    fixture->jobs[i].weight = 9 - (int) (i % 3);
  fixture->jobs[0].sequence = 5;                  /* waits through it all */
  fixture->jobs[1].sequence = 6;
  fixture->jobs[2].sequence = 7;
  fixture->jobs[3].sequence = window + 2;         /* the window must move */
  fixture->jobs[4].sequence = 3 * window;         /* past the oldest's window */
  fixture->jobs[5].sequence = 3 * window + 1;
  fixture->jobs[6].sequence = 1;                  /* older than everything, given back */
  fixture->jobs[7].sequence = 2 * window;         /* given back after the window moved */
  fixture->jobs[8].sequence = 8 * window;
  fixture->jobs[9].sequence = 8 * window + 1;
  fixture->jobs[10].sequence = 8 * window + 2;
  fixture->jobs[11].sequence = 9 * window;

  for (guint i = 0; i < 12; i++)
    {
      push (fixture, i);
      g_array_append_val (queued, i);
    }
  /* One removed from among the oldest, one from the newest */
  remove_job (fixture, 1);
  remove_job (fixture, 10);
  for (guint i = 0; i < queued->len; i++)
    {
      if (g_array_index (queued, guint, i) == 1 || g_array_index (queued, guint, i) == 10)
        g_array_remove_index (queued, i--);
    }
  assert_drain_sorted (fixture, queued);

  /* And again, popping some in the middle and giving them back */
  g_array_set_size (queued, 0);
  for (guint i = 0; i < 12; i++)
    {
      push (fixture, i);
      g_array_append_val (queued, i);
    }
  g_array_sort_with_data (queued, compare_indices, fixture->jobs);
  for (guint i = 0; i < 4; i++)
    assert_pop (fixture, g_array_index (queued, guint, i));
  for (guint i = 4; i > 0; i--)
    push (fixture, g_array_index (queued, guint, i - 1));
  remove_job (fixture, g_array_index (queued, guint, 2));
  g_array_remove_index (queued, 2);
  assert_drain_sorted (fixture, queued);
}

/* Mostly weights smaller than any queued (G_MININT and a little above), which
 * land among the smallest queued jobs, else any */
static int
small_or_random_weight (GRand *rand)
{
  if (g_rand_boolean (rand))
    return G_MININT + g_rand_int_range (rand, 0, 50);
  return random_weight (rand);
}

static void
test_unit_large (QueueFixture  *fixture,
                 gconstpointer  data)
{
  const guint n_initial = 140000;
  const guint n_ops = 150000;
  g_autoptr(GRand) rand = g_rand_new_with_seed (RANDOM_SEED + 5);
  g_autoptr(GSequence) model = g_sequence_new (NULL);
  g_autoptr(GPtrArray) held = g_ptr_array_new ();
  guint next = 0;

  g_test_summary ("A heap large enough to keep its smallest entries apart (140 000 jobs and "
                  "more), then below and above that size again: random pushes (many smaller "
                  "than every queued job), pops, removals and jobs given back (fixed seed) "
                  "match a sorted model at every step");
  g_test_message ("seed %u", RANDOM_SEED + 5);

  queue_fixture_make_jobs (fixture, n_initial + n_ops);
  for (; next < n_initial; next++)
    {
      fixture->jobs[next].weight = random_weight (rand);
      g_sequence_insert_sorted (model, &fixture->jobs[next], queue_order_priority, NULL);
      fixture->vt->push (fixture->queue, &fixture->jobs[next]);
    }
  g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, n_initial);

  for (guint op = 0; op < n_ops; op++)
    {
      /* Draining below the size where the top is used, then growing again */
      guint phase = op / (n_ops / 3);
      guint roll = g_rand_int_range (rand, 0, 100);
      guint length = (guint) g_sequence_get_length (model);

      if (roll < (phase == 1 ? 15 : phase == 2 ? 60 : 35) && next < fixture->n_jobs)
        {
          fixture->jobs[next].weight = small_or_random_weight (rand);
          g_sequence_insert_sorted (model, &fixture->jobs[next], queue_order_priority, NULL);
          fixture->vt->push (fixture->queue, &fixture->jobs[next++]);
        }
      else if (roll < 75 || length == 0)
        {
          GSequenceIter *first = g_sequence_get_begin_iter (model);
          TpJob *expected = g_sequence_iter_is_end (first) ? NULL : g_sequence_get (first);
          TpJob *job = fixture->vt->pop (fixture->queue);

          g_assert_true (job == expected);
          if (expected != NULL)
            {
              g_sequence_remove (first);
              if (g_rand_int_range (rand, 0, 4) == 0)
                g_ptr_array_add (held, job);
            }
        }
      else if (roll < 90 || held->len == 0)
        {
          /* Often among the smallest, where the top is */
          guint position = g_rand_boolean (rand) ? g_rand_int_range (rand, 0, MIN (length, 200))
                                                 : g_rand_int_range (rand, 0, length);
          GSequenceIter *iter = g_sequence_get_iter_at_pos (model, position);

          fixture->vt->remove (fixture->queue, g_sequence_get (iter));
          g_sequence_remove (iter);
        }
      else
        {
          TpJob *job = g_ptr_array_steal_index_fast (held, g_rand_int_range (rand, 0, held->len));

          g_sequence_insert_sorted (model, job, queue_order_priority, NULL);
          fixture->vt->push (fixture->queue, job);
        }
      g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, g_sequence_get_length (model));
    }

  while (g_sequence_get_length (model) > 0)
    {
      GSequenceIter *first = g_sequence_get_begin_iter (model);

      g_assert_true (fixture->vt->pop (fixture->queue) == g_sequence_get (first));
      g_sequence_remove (first);
    }
  assert_empty (fixture);
}

/* Pushes @n_jobs jobs newest first (so that none joins the lane: the heap
 * holds them all), weighted by @weight_of, then pops them all in order */
static void
push_newest_first_and_drain (QueueFixture *fixture,
                             guint         n_jobs,
                             int         (*weight_of) (guint index, GRand *rand),
                             GRand        *rand)
{
  g_autoptr(GArray) queued = g_array_sized_new (FALSE, FALSE, sizeof (guint), n_jobs);

  queue_fixture_make_jobs (fixture, n_jobs);
  for (guint i = n_jobs; i-- > 0;)
    {
      fixture->jobs[i].weight = weight_of (i, rand);
      push (fixture, i);
      g_array_append_val (queued, i);
    }
  assert_drain_sorted (fixture, queued);
}

/* Long stretches of one extreme weight, then of random extremes */
static int
extreme_weight (guint  index,
                GRand *rand)
{
  static const int weights[] = { G_MININT, G_MININT + 1, -1, 0, 1, G_MAXINT - 1, G_MAXINT };

  if ((index / 20000) % 2 == 0)
    return weights[(index / 20000) % G_N_ELEMENTS (weights)];
  return weights[g_rand_int_range (rand, 0, G_N_ELEMENTS (weights))];
}

/* The first 2 000 spread over the whole range, the others the largest */
static int
sparse_then_largest_weight (guint  index,
                            GRand *rand)
{
  return index < 2000 ? g_rand_int_range (rand, G_MININT, G_MAXINT) : G_MAXINT;
}

/* A large heap pushed newest first and drained, its weights from a function */
typedef struct {
  const char *summary;
  guint       seed;
  int       (*weight_of) (guint index, GRand *rand);
} LargeDrain;

static const LargeDrain large_extremes = {
  "A large heap whose keys are the extreme weights and runs of one weight (pushed newest first, "
  "so that the heap holds them, not the lane): the batches its top takes, found by a span of "
  "keys that may reach the largest key, or by the search, come out in order, ties by submission",
  RANDOM_SEED + 8, extreme_weight,
};

static const LargeDrain large_sparse_then_largest = {
  "A large heap whose first jobs have weights spread over the whole range, and whose other jobs "
  "have the largest weight: the span of keys its top learned from the first would reach past "
  "the largest key for the others; all come out in order",
  RANDOM_SEED + 9, sparse_then_largest_weight,
};

static void
test_unit_large_drain (QueueFixture  *fixture,
                       gconstpointer  data)
{
  const LargeDrain *test = data;
  g_autoptr(GRand) rand = g_rand_new_with_seed (test->seed);

  g_test_summary (test->summary);
  g_test_message ("seed %u", test->seed);
  push_newest_first_and_drain (fixture, 150000, test->weight_of, rand);
}

static void
test_unit_large_rebase (QueueFixture  *fixture,
                        gconstpointer  data)
{
  const guint n_jobs = 140000;
  const guint64 window = G_GUINT64_CONSTANT (1) << 32;
  g_autoptr(GRand) rand = g_rand_new_with_seed (RANDOM_SEED + 6);
  g_autoptr(GArray) queued = g_array_sized_new (FALSE, FALSE, sizeof (guint), n_jobs);
  guint popped = 0;

  g_test_summary ("A large heap whose smallest entries are kept apart moves its window of "
                  "sequences and drops its removed entries with them, in order");
  g_test_message ("seed %u", RANDOM_SEED + 6);

  queue_fixture_make_jobs (fixture, n_jobs);
  for (guint i = 0; i < n_jobs; i++)
    {
      fixture->jobs[i].weight = random_weight (rand);
      /* The last ones four billion submissions later, then later still */
      if (i >= n_jobs - 10)
        fixture->jobs[i].sequence = (i - (n_jobs - 10) + 1) * window + i;
    }
  for (guint i = 0; i < n_jobs - 10; i++)
    {
      push (fixture, i);
      g_array_append_val (queued, i);
    }
  g_array_sort_with_data (queued, compare_indices, fixture->jobs);

  /* Some pops start using the top; removals mark entries in it and in the array */
  for (; popped < 100; popped++)
    assert_pop (fixture, g_array_index (queued, guint, popped));
  for (guint i = 0; i < 100; i++)
    {
      guint position = popped + (i % 2 ? i : (guint) g_rand_int_range (rand, 200,
                                                                        queued->len - popped));

      remove_job (fixture, g_array_index (queued, guint, position));
      g_array_remove_index (queued, position);
    }
  g_array_remove_range (queued, 0, popped);

  for (guint i = n_jobs - 10; i < n_jobs; i++)
    {
      push (fixture, i);
      g_array_append_val (queued, i);
    }
  assert_drain_sorted (fixture, queued);
}

#ifdef G_OS_UNIX
/* A job alone on its page, which can be made unreadable */
static TpJob *
guarded_job_new (guint64 sequence,
                 int     weight)
{
  TpJob *job = mmap (NULL, (gsize) sysconf (_SC_PAGESIZE), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

  g_assert_true (job != MAP_FAILED);
  memset (job, 0, sizeof *job);
  job->sequence = sequence;
  job->weight = weight;
  return job;
}

static void
test_unit_large_removed_unread (QueueFixture  *fixture,
                                gconstpointer  data)
{
  const guint n_jobs = 140000;
  const guint n_guarded = 16;
  gsize page = (gsize) sysconf (_SC_PAGESIZE);
  g_autoptr(GRand) rand = g_rand_new_with_seed (RANDOM_SEED + 7);
  g_autoptr(GArray) queued = g_array_sized_new (FALSE, FALSE, sizeof (guint), n_jobs);
  g_autofree TpJob **guarded = g_new (TpJob *, n_guarded);

  g_test_summary ("A large heap never reads a job removed from its top, which the pool may "
                  "have freed (the lane and the FIFO and LIFO queues leave a hole instead): the "
                  "removed jobs' pages are made unreadable, and the pops that pass them return "
                  "the rest in order");

  /* The smallest weights, so that they are in the top once a pop makes it */
  for (guint i = 0; i < n_guarded; i++)
    {
      guarded[i] = guarded_job_new (n_jobs + i, -100 + (int) i);
      fixture->vt->push (fixture->queue, guarded[i]);
    }
  queue_fixture_make_jobs (fixture, n_jobs);
  for (guint i = 0; i < n_jobs; i++)
    {
      fixture->jobs[i].weight = g_rand_int_range (rand, 0, 1000);
      push (fixture, i);
      g_array_append_val (queued, i);
    }

  g_assert_true (fixture->vt->pop (fixture->queue) == guarded[0]);
  /* Every guarded job but the next, each unreadable once removed */
  for (guint i = 2; i < n_guarded; i++)
    {
      fixture->vt->remove (fixture->queue, guarded[i]);
      g_assert_cmpint (mprotect (guarded[i], page, PROT_NONE), ==, 0);
    }
  g_assert_true (fixture->vt->pop (fixture->queue) == guarded[1]);
  assert_drain_sorted (fixture, queued);

  for (guint i = 0; i < n_guarded; i++)
    g_assert_cmpint (munmap (guarded[i], page), ==, 0);
}
#endif

/* }}} */

/* In a pool {{{ */

/* Like one_worker_pool(), with a default-weight */
static TpPool *
one_worker_pool_weighted (const char *kind,
                          int         default_weight)
{
  if (g_str_has_prefix (kind, "autoscale-"))
    return tp_test_pool_new (kind, "kind", kind, "min-size", 1, "max-size", 1,
                             "default-weight", default_weight, NULL);
  return tp_test_pool_new (kind, "kind", kind, "size", 1, "default-weight", default_weight, NULL);
}

/* Submits a RETURN job through tp_pool_submit_async(): with the pool's default-weight */
static void
submit_plain (TpPool     *pool,
              TpTestLog  *log,
              const char *name)
{
  tp_pool_submit_async (pool, tp_test_job_func, tp_test_job_new (log, name, TP_TEST_JOB_RETURN),
                        tp_test_job_free, NULL, tp_test_job_done_cb, log);
}

typedef struct {
  const char *name;
  int         weight;
} WeightedName;

static const WeightedName weighted[] = {
  { "a", 5 }, { "b", 1 }, { "c", 3 }, { "d", 1 }, { "e", -2 },
  { "f", G_MAXINT }, { "g", G_MININT }, { "i", 3 },
};

static void
test_pool_priority_order (gconstpointer data)
{
  const char *kind = data;
  g_autoptr(TpPool) pool = one_worker_pool (kind);
  g_autofree char *order = NULL;
  TpTestJob *held;
  TpTestLog log;

  g_test_summary ("On a pool of one worker, jobs queued behind a running job start smallest "
                  "weight first, equal weights in submission order, G_MININT to G_MAXINT");
  tp_test_log_init (&log);

  held = hold_the_worker (pool, &log);
  for (guint i = 0; i < G_N_ELEMENTS (weighted); i++)
    tp_test_submit (pool, &log, weighted[i].name, TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT,
                    weighted[i].weight, NULL);
  drain_pending ();
  g_assert_cmpuint (log.started, ==, 1);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 1);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, G_N_ELEMENTS (weighted));

  tp_test_release (held);
  tp_test_wait_count (&log.callbacks, 1 + G_N_ELEMENTS (weighted));
  tp_test_wait_count (&log.destroyed, 1 + G_N_ELEMENTS (weighted));

  order = tp_test_log_order (&log);
  g_assert_cmpstr (order, ==, "h g e b d c i a f");
  g_assert_cmpuint (log.done, ==, 1 + G_N_ELEMENTS (weighted));
  g_assert_cmpuint (log.peak, ==, 1);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_pool_cancel_middle (gconstpointer data)
{
  const char *kind = data;
  g_autoptr(TpPool) pool = one_worker_pool (kind);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *order = NULL;
  TpTestJob *held;
  TpTestLog log;

  g_test_summary ("Cancelling a queued job in the middle of the priority order completes it "
                  "at once with G_IO_ERROR_CANCELLED; it never starts and the others keep "
                  "their order");
  tp_test_log_init (&log);

  held = hold_the_worker (pool, &log);
  for (guint i = 0; i < G_N_ELEMENTS (weighted); i++)
    tp_test_submit (pool, &log, weighted[i].name, TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT,
                    weighted[i].weight, g_str_equal (weighted[i].name, "c") ? cancellable : NULL);

  g_cancellable_cancel (cancellable);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, G_N_ELEMENTS (weighted) - 1);
  tp_test_wait_count (&log.callbacks, 1);
  g_assert_cmpuint (log.cancelled, ==, 1);
  g_assert_cmpuint (log.started, ==, 1);
  tp_test_wait_count (&log.destroyed, 1);

  tp_test_release (held);
  tp_test_wait_count (&log.callbacks, 1 + G_N_ELEMENTS (weighted));
  tp_test_wait_count (&log.destroyed, 1 + G_N_ELEMENTS (weighted));

  order = tp_test_log_order (&log);
  g_assert_cmpstr (order, ==, "h g e b d i a f");
  g_assert_cmpuint (log.done, ==, G_N_ELEMENTS (weighted));
  g_assert_cmpuint (log.cancelled, ==, 1);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_pool_default_weight (gconstpointer data)
{
  const char *kind = data;
  g_autoptr(TpPool) pool = one_worker_pool_weighted (kind, 2);
  g_autofree char *order = NULL;
  int weight = 0;
  TpTestJob *held;
  TpTestLog log;

  g_test_summary ("tp_pool_submit_async() gives a job the pool's default-weight (here 2): "
                  "it runs after weight 1, before weight 3, and in submission order with "
                  "explicit weight 2");
  tp_test_log_init (&log);

  g_assert_cmpint (tp_pool_get_default_weight (pool), ==, 2);
  g_object_get (pool, "default-weight", &weight, NULL);
  g_assert_cmpint (weight, ==, 2);

  held = hold_the_worker (pool, &log);
  submit_plain (pool, &log, "p1");
  tp_test_submit (pool, &log, "w3", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 3, NULL);
  tp_test_submit (pool, &log, "w1", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 1, NULL);
  submit_plain (pool, &log, "p2");
  tp_test_submit (pool, &log, "w2", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 2, NULL);
  submit_plain (pool, &log, "p3");

  tp_test_release (held);
  tp_test_wait_count (&log.callbacks, 7);
  tp_test_wait_count (&log.destroyed, 7);

  order = tp_test_log_order (&log);
  g_assert_cmpstr (order, ==, "h w1 p1 p2 w2 p3 w3");

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_pool_default_weight_default (gconstpointer data)
{
  const char *kind = data;
  g_autoptr(TpPool) pool = one_worker_pool (kind);
  g_autofree char *order = NULL;
  TpTestJob *held;
  TpTestLog log;

  g_test_summary ("Without default-weight, tp_pool_submit_async() uses 4, as in the seed");
  tp_test_log_init (&log);

  g_assert_cmpint (tp_pool_get_default_weight (pool), ==, 4);
  held = hold_the_worker (pool, &log);
  tp_test_submit (pool, &log, "w5", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 5, NULL);
  submit_plain (pool, &log, "p");
  tp_test_submit (pool, &log, "w4", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "w3", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 3, NULL);

  tp_test_release (held);
  tp_test_wait_count (&log.callbacks, 5);
  tp_test_wait_count (&log.destroyed, 5);

  order = tp_test_log_order (&log);
  g_assert_cmpstr (order, ==, "h w3 p w4 w5");

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_pool_default_weight_keyfile (void)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = NULL;
  g_autofree char *order = NULL;
  TpTestJob *held;
  TpTestLog log;

  g_test_summary ("The keyfile key default-weight, negative here, is the weight of "
                  "tp_pool_submit_async()");
  tp_test_log_init (&log);

  g_assert_true (g_key_file_load_from_data (keyfile,
                                            "[jobs]\n"
                                            "kind=fixed-priority\n"
                                            "size=1\n"
                                            "default-weight=-7\n",
                                            -1, G_KEY_FILE_NONE, &error));
  g_assert_no_error (error);
  pool = tp_pool_new_from_keyfile (keyfile, "jobs", &error);
  g_assert_no_error (error);
  g_assert_nonnull (pool);
  g_assert_true (tp_pool_start (pool, &error));
  g_assert_no_error (error);
  g_assert_cmpint (tp_pool_get_default_weight (pool), ==, -7);
  g_assert_cmpuint (tp_pool_get_size (pool), ==, 1);

  held = hold_the_worker (pool, &log);
  tp_test_submit (pool, &log, "m6", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, -6, NULL);
  submit_plain (pool, &log, "p");
  tp_test_submit (pool, &log, "m8", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, -8, NULL);

  tp_test_release (held);
  tp_test_wait_count (&log.callbacks, 4);
  tp_test_wait_count (&log.destroyed, 4);

  order = tp_test_log_order (&log);
  g_assert_cmpstr (order, ==, "h m8 p m6");

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  const char *kinds[] = { "fixed-priority", "autoscale-priority" };

  g_test_init (&argc, &argv, NULL);
  tp_queue_test_strategy = "priority";

  g_test_add ("/queue/priority/empty", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_empty, queue_fixture_tear_down);
  g_test_add ("/queue/priority/priority-order", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_priority_order, queue_fixture_tear_down);
  g_test_add ("/queue/priority/ties-stable", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_ties_stable, queue_fixture_tear_down);
  g_test_add ("/queue/priority/ties-mixed", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_ties_mixed, queue_fixture_tear_down);
  g_test_add ("/queue/priority/extreme-weights", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_extreme_weights, queue_fixture_tear_down);
  g_test_add ("/queue/priority/interleaved", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_interleaved, queue_fixture_tear_down);
  g_test_add_func ("/queue/priority/remove-head", test_unit_remove_head);
  g_test_add_func ("/queue/priority/remove-middle", test_unit_remove_middle);
  g_test_add_func ("/queue/priority/remove-tail", test_unit_remove_tail);
  g_test_add_func ("/queue/priority/remove-each", test_unit_remove_each);
  g_test_add ("/queue/priority/remove-all", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_remove_all, queue_fixture_tear_down);
  g_test_add ("/queue/priority/random-bulk", QueueFixture, GUINT_TO_POINTER (3000),
              queue_fixture_set_up, test_unit_random_bulk, queue_fixture_tear_down);
  g_test_add ("/queue/priority/random-bulk-compact", QueueFixture, GUINT_TO_POINTER (7000),
              queue_fixture_set_up, test_unit_random_bulk, queue_fixture_tear_down);
  g_test_add ("/queue/priority/random-ops", QueueFixture, &priority_model,
              queue_fixture_set_up, queue_test_random_model, queue_fixture_tear_down);
  g_test_add ("/queue/priority/random-ops-runs", QueueFixture, &priority_lane_model,
              queue_fixture_set_up, queue_test_random_model, queue_fixture_tear_down);
  g_test_add ("/queue/priority/lane", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_lane, queue_fixture_tear_down);
  g_test_add ("/queue/priority/lane-segments", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_lane_segments, queue_fixture_tear_down);
  g_test_add ("/queue/priority/lane-holes", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_lane_holes, queue_fixture_tear_down);
  g_test_add ("/queue/priority/requeue/random", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_requeue_random, queue_fixture_tear_down);
  g_test_add ("/queue/priority/requeue/random-runs", QueueFixture, GINT_TO_POINTER (TRUE),
              queue_fixture_set_up, test_unit_requeue_random, queue_fixture_tear_down);
  g_test_add ("/queue/priority/wide-sequences", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_wide_sequences, queue_fixture_tear_down);
  g_test_add ("/queue/priority/wide-sequences-runs", QueueFixture, GINT_TO_POINTER (TRUE),
              queue_fixture_set_up, test_unit_wide_sequences, queue_fixture_tear_down);
  g_test_add ("/queue/priority/sequence-window", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_sequence_window, queue_fixture_tear_down);
  g_test_add ("/queue/priority/large", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_large, queue_fixture_tear_down);
  g_test_add ("/queue/priority/large-extremes", QueueFixture, &large_extremes,
              queue_fixture_set_up, test_unit_large_drain, queue_fixture_tear_down);
  g_test_add ("/queue/priority/large-sparse-then-largest", QueueFixture,
              &large_sparse_then_largest, queue_fixture_set_up, test_unit_large_drain,
              queue_fixture_tear_down);
  g_test_add ("/queue/priority/large-rebase", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_large_rebase, queue_fixture_tear_down);
#ifdef G_OS_UNIX
  g_test_add ("/queue/priority/large-removed-unread", QueueFixture, NULL,
              queue_fixture_set_up, test_unit_large_removed_unread, queue_fixture_tear_down);
#endif

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *order_path = g_strdup_printf ("/queue/priority/pool/%s/priority-order",
                                                     kinds[i]);
      g_autofree char *cancel_path = g_strdup_printf ("/queue/priority/pool/%s/cancel-middle",
                                                      kinds[i]);
      g_autofree char *weight_path = g_strdup_printf ("/queue/priority/pool/%s/default-weight",
                                                      kinds[i]);
      g_autofree char *weight4_path = g_strdup_printf ("/queue/priority/pool/%s/default-weight-4",
                                                       kinds[i]);

      g_test_add_data_func (order_path, kinds[i], test_pool_priority_order);
      g_test_add_data_func (cancel_path, kinds[i], test_pool_cancel_middle);
      g_test_add_data_func (weight_path, kinds[i], test_pool_default_weight);
      g_test_add_data_func (weight4_path, kinds[i], test_pool_default_weight_default);
    }
  g_test_add_func ("/queue/priority/pool/fixed-priority/default-weight-keyfile",
                   test_pool_default_weight_keyfile);

  return g_test_run ();
}

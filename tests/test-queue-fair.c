/* test-queue-fair.c: the fair queue strategy, on its vtable and in fixed and autoscale pools
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "tp-queue-test-util.h"
#include "tp-registry-private.h"

#define RANDOM_SEED 0xfa17u

/* Gives jobs[@index] the key @key (NULL: none) */
static void
set_key (QueueFixture *fixture,
         guint         index,
         const char   *key)
{
  TpJob *job = &fixture->jobs[index];

  tp_job_free_extra (job);
  if (key != NULL)
    tp_job_ensure_extra (job)->key = g_ref_string_new_intern (key);
}

/* Pushes jobs [@first, @first + @n) with key @key */
static void
push_keyed (QueueFixture *fixture,
            guint         first,
            guint         n,
            const char   *key)
{
  for (guint i = first; i < first + n; i++)
    {
      set_key (fixture, i, key);
      push (fixture, i);
    }
}

static void
fair_tear_down (QueueFixture  *fixture,
                gconstpointer  data)
{
  while (fixture->vt->pop (fixture->queue) != NULL)
    ;
  for (guint i = 0; i < fixture->n_jobs; i++)
    tp_job_free_extra (&fixture->jobs[i]);
  queue_fixture_tear_down (fixture, data);
}

/* The model {{{
 *
 * The documented order, spelled out with GQueues: a round of groups, one per key
 * with queued jobs (the keyless jobs are one group), each in sequence order. */

typedef struct {
  GQueue jobs;
} ModelGroup;

typedef struct {
  GHashTable *groups;   /* key, or "" for no key → ModelGroup */
  GQueue      round;    /* of ModelGroup, whose turn first */
  TpJob      *popped;
  guint       length;
} Model;

static void
model_group_free (gpointer data)
{
  ModelGroup *group = data;

  g_queue_clear (&group->jobs);
  g_free (group);
}

static void
model_init (Model *model)
{
  model->groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, model_group_free);
  g_queue_init (&model->round);
  model->popped = NULL;
  model->length = 0;
}

static void
model_clear (Model *model)
{
  g_queue_clear (&model->round);
  g_hash_table_unref (model->groups);
}

static ModelGroup *
model_group (Model *model,
             TpJob *job)
{
  const char *key = tp_job_get_key (job) != NULL ? tp_job_get_key (job) : "";
  ModelGroup *group = g_hash_table_lookup (model->groups, key);

  if (group == NULL)
    {
      group = g_new0 (ModelGroup, 1);
      g_hash_table_insert (model->groups, g_strdup (key), group);
    }
  return group;
}

static void
model_push (Model *model,
            TpJob *job)
{
  ModelGroup *group = model_group (model, job);

  if (group->jobs.length == 0)
    g_queue_push_tail (&model->round, group);
  g_queue_push_tail (&group->jobs, job);
  model->length++;
}

static TpJob *
model_pop (Model *model)
{
  ModelGroup *group = g_queue_pop_head (&model->round);
  TpJob *job;

  if (group == NULL)
    return NULL;
  job = g_queue_pop_head (&group->jobs);
  if (group->jobs.length > 0)
    g_queue_push_tail (&model->round, group);
  model->popped = job;
  model->length--;
  return job;
}

static int
model_compare_sequence (gconstpointer a,
                        gconstpointer b,
                        gpointer      user_data)
{
  guint64 x = tp_job_get_sequence (a);
  guint64 y = tp_job_get_sequence (b);

  return x < y ? -1 : x > y;
}

static void
model_requeue (Model *model,
               TpJob *job)
{
  ModelGroup *group = model_group (model, job);

  if (group->jobs.length == 0)
    g_queue_push_head (&model->round, group);
  else if (job == model->popped)
    {
      g_queue_remove (&model->round, group);
      g_queue_push_head (&model->round, group);
    }
  model->popped = NULL;
  g_queue_insert_sorted (&group->jobs, job, model_compare_sequence, NULL);
  model->length++;
}

static void
model_remove (Model *model,
              TpJob *job)
{
  ModelGroup *group = model_group (model, job);

  g_assert_true (g_queue_remove (&group->jobs, job));
  if (group->jobs.length == 0)
    g_queue_remove (&model->round, group);
  model->length--;
}

/* }}} */

/* Vtable {{{ */

static void
test_unit_strategy (QueueFixture  *fixture,
                    gconstpointer  data)
{
  g_test_summary ("The queue “fair” reads no key, takes jobs back with requeue and does not "
                  "need submission times");

  g_assert_cmpstr (fixture->vt->name, ==, "fair");
  g_assert_null (fixture->vt->keys);
  g_assert_nonnull (fixture->vt->requeue);
  g_assert_cmpint (fixture->vt->flags, ==, TP_QUEUE_IGNORES_SUBMIT_TIME);
}

static void
test_unit_empty (QueueFixture  *fixture,
                 gconstpointer  data)
{
  g_test_summary ("pop on a new queue returns NULL and its length is 0; after a push and a "
                  "pop it is empty again");

  assert_empty (fixture);
  queue_fixture_make_jobs (fixture, 2);
  push (fixture, 0);
  assert_pop (fixture, 0);
  assert_empty (fixture);
  push_keyed (fixture, 1, 1, "a");
  assert_pop (fixture, 1);
  assert_empty (fixture);
}

static void
test_unit_round_robin (QueueFixture  *fixture,
                       gconstpointer  data)
{
  g_test_summary ("Keys take turns in the order they first had jobs queued, each key's jobs "
                  "in submission order; a key that runs out leaves the round");

  queue_fixture_make_jobs (fixture, 9);
  push_keyed (fixture, 0, 3, "a");
  push_keyed (fixture, 3, 2, "b");
  push_keyed (fixture, 5, 1, "c");
  assert_pop (fixture, 0);
  assert_pop (fixture, 3);
  assert_pop (fixture, 5);
  assert_pop (fixture, 1);
  /* c left the round; it joins again at its end */
  push_keyed (fixture, 6, 1, "c");
  push_keyed (fixture, 7, 1, "a");
  assert_pop (fixture, 4);
  assert_pop (fixture, 2);
  assert_pop (fixture, 6);
  assert_pop (fixture, 7);
  assert_empty (fixture);
}

static void
test_unit_no_starvation (QueueFixture  *fixture,
                         gconstpointer  data)
{
  const guint n_a = 10000;

  g_test_summary ("A key with 10 000 queued jobs cannot starve a key with one: the lone job "
                  "pops second, whether it was queued before the others started or after "
                  "thousands of them ran");

  queue_fixture_make_jobs (fixture, n_a + 2);
  push_keyed (fixture, 0, n_a, "bulk.example");
  push_keyed (fixture, n_a, 1, "lone.example");
  assert_pop (fixture, 0);
  assert_pop (fixture, n_a);
  for (guint i = 1; i < 5000; i++)
    assert_pop (fixture, i);

  push_keyed (fixture, n_a + 1, 1, "late.example");
  assert_pop (fixture, 5000);
  assert_pop (fixture, n_a + 1);
  for (guint i = 5001; i < n_a; i++)
    assert_pop (fixture, i);
  assert_empty (fixture);
}

static void
test_unit_keyless (QueueFixture  *fixture,
                   gconstpointer  data)
{
  g_test_summary ("Jobs without a key are one group of their own, which takes its turns like "
                  "a key; a queue of keyless jobs only is FIFO");

  queue_fixture_make_jobs (fixture, 10);
  push_keyed (fixture, 0, 3, NULL);
  push_keyed (fixture, 3, 2, "a");
  push_keyed (fixture, 5, 1, NULL);
  assert_pop (fixture, 0);
  assert_pop (fixture, 3);
  assert_pop (fixture, 1);
  assert_pop (fixture, 4);
  assert_pop (fixture, 2);
  assert_pop (fixture, 5);
  assert_empty (fixture);

  push_keyed (fixture, 6, 4, NULL);
  for (guint i = 6; i < 10; i++)
    assert_pop (fixture, i);
  assert_empty (fixture);
}

static void
test_unit_remove (QueueFixture  *fixture,
                  gconstpointer  data)
{
  g_test_summary ("Removing jobs (cancelled) anywhere keeps the others' order; removing a "
                  "key's last job takes the key out of the round");

  queue_fixture_make_jobs (fixture, 8);
  push_keyed (fixture, 0, 3, "a");
  push_keyed (fixture, 3, 1, "b");
  push_keyed (fixture, 4, 2, "c");
  push_keyed (fixture, 6, 2, NULL);
  remove_job (fixture, 1);   /* a's middle */
  remove_job (fixture, 3);   /* b's only job: b leaves the round */
  remove_job (fixture, 6);   /* the keyless group's head */
  assert_pop (fixture, 0);
  assert_pop (fixture, 4);
  assert_pop (fixture, 7);
  remove_job (fixture, 5);   /* c's last */
  assert_pop (fixture, 2);
  assert_empty (fixture);
}

static void
test_unit_requeue (QueueFixture  *fixture,
                   gconstpointer  data)
{
  g_test_summary ("A job given back (requeue) goes before the newer jobs of its key; a key "
                  "that had left the round comes back at its front; a key whose jobs were "
                  "all given back pops them in sequence order");

  queue_fixture_make_jobs (fixture, 12);
  push_keyed (fixture, 0, 3, "a");
  push_keyed (fixture, 3, 3, "b");
  assert_pop (fixture, 0);   /* a0, held by a gate */
  assert_pop (fixture, 3);
  assert_pop (fixture, 1);   /* a1, held */
  assert_pop (fixture, 4);
  push_keyed (fixture, 6, 1, "c");
  /* a keeps its place (it still has a2) and gets its jobs back first */
  requeue (fixture, 1);
  requeue (fixture, 0);
  assert_pop (fixture, 0);
  assert_pop (fixture, 5);
  assert_pop (fixture, 6);
  assert_pop (fixture, 1);
  assert_pop (fixture, 2);
  assert_empty (fixture);

  /* Every job of a key held, then given back in any order: back at the front */
  push_keyed (fixture, 7, 2, "d");
  push_keyed (fixture, 9, 2, "e");
  assert_pop (fixture, 7);
  assert_pop (fixture, 9);
  assert_pop (fixture, 8);
  requeue (fixture, 8);
  requeue (fixture, 7);
  assert_pop (fixture, 7);
  assert_pop (fixture, 10);
  assert_pop (fixture, 8);
  assert_empty (fixture);
}

static void
test_unit_requeue_last_popped (QueueFixture  *fixture,
                               gconstpointer  data)
{
  g_test_summary ("A gate that refuses every job for a while makes the pool give back the "
                  "job it just popped: that key keeps its turn, so keys alternate as if the "
                  "refusals had not happened, and no key loses its turns to the others");

  queue_fixture_make_jobs (fixture, 40);
  for (guint i = 0; i < 40; i++)
    set_key (fixture, i, i % 2 ? "b" : "a");
  for (guint i = 0; i < 40; i++)
    push (fixture, i);

  /* Every other attempt is refused and given back at once */
  for (guint i = 0; i < 40; i++)
    {
      TpJob *job = fixture->vt->pop (fixture->queue);

      g_assert_true (job == &fixture->jobs[i]);
      fixture->vt->requeue (fixture->queue, job);
      assert_pop (fixture, i);
    }
  assert_empty (fixture);
}

static void
test_unit_requeue_only (QueueFixture  *fixture,
                        gconstpointer  data)
{
  const guint n_jobs = 1000;

  g_test_summary ("A queue fed by requeue alone, with the jobs of one key (where a pool parks "
                  "the jobs a gate holds for their key), pops them in sequence order");

  queue_fixture_make_jobs (fixture, n_jobs);
  for (guint i = 0; i < n_jobs; i++)
    set_key (fixture, i, "parked");
  for (guint i = 0; i < n_jobs / 2; i++)
    requeue (fixture, i);
  for (guint i = n_jobs; i > n_jobs / 2; i--)
    requeue (fixture, i - 1);
  for (guint i = 0; i < n_jobs; i++)
    assert_pop (fixture, i);
  assert_empty (fixture);
}

static const char *
random_key (GRand *rand)
{
  static const char * const keys[] = { "a", "b", "c", "d", "e", NULL };
  guint roll = g_rand_int_range (rand, 0, 100);

  /* One key much busier than the others */
  if (roll < 40)
    return "busy";
  return keys[roll % G_N_ELEMENTS (keys)];
}

static void
test_unit_random (QueueFixture  *fixture,
                  gconstpointer  data)
{
  const guint n_ops = 100000;
  g_autoptr(GRand) rand = g_rand_new_with_seed (RANDOM_SEED);
  g_autoptr(GPtrArray) queued = g_ptr_array_new ();
  g_autoptr(GPtrArray) held = g_ptr_array_new ();
  Model model;
  guint next = 0;
  guint requeued = 0;

  g_test_summary ("Random pushes over seven groups, pops, removals and requeues of popped jobs "
                  "(fixed seed) match the documented order, spelled out with GQueues, at every "
                  "step");
  g_test_message ("seed %u", RANDOM_SEED);

  model_init (&model);
  queue_fixture_make_jobs (fixture, n_ops);
  for (guint op = 0; op < n_ops; op++)
    {
      guint phase = (op / 3000) % 3;
      guint roll = g_rand_int_range (rand, 0, 100);

      if (roll < (phase == 0 ? 45 : 25) && next < fixture->n_jobs)
        {
          set_key (fixture, next, random_key (rand));
          model_push (&model, &fixture->jobs[next]);
          g_ptr_array_add (queued, &fixture->jobs[next]);
          push (fixture, next++);
        }
      else if (roll < (phase == 2 ? 50 : 65) || model.length == 0)
        {
          TpJob *expected = model_pop (&model);
          TpJob *job = fixture->vt->pop (fixture->queue);

          g_assert_true (job == expected);
          if (job != NULL)
            {
              g_ptr_array_remove_fast (queued, job);
              if (g_rand_int_range (rand, 0, 3) > 0)
                g_ptr_array_add (held, job);
            }
        }
      else if (roll < 75 || held->len == 0)
        {
          TpJob *job = g_ptr_array_steal_index_fast (queued,
                                                     g_rand_int_range (rand, 0, queued->len));

          model_remove (&model, job);
          remove_job (fixture, job - fixture->jobs);
        }
      else
        {
          /* The job just popped, the oldest held or any held one */
          guint nth = g_rand_int_range (rand, 0, 3) == 0 ? held->len - 1 :
                      g_rand_boolean (rand) ? 0 : (guint) g_rand_int_range (rand, 0, held->len);
          TpJob *job = g_ptr_array_steal_index (held, nth);

          model_requeue (&model, job);
          g_ptr_array_add (queued, job);
          requeue (fixture, job - fixture->jobs);
          requeued++;
        }
      g_assert_cmpuint (fixture->vt->length (fixture->queue), ==, model.length);
    }

  g_test_message ("%u pushed, %u requeued", next, requeued);
  g_assert_cmpuint (requeued, >, n_ops / 20);
  while (model.length > 0)
    g_assert_true (fixture->vt->pop (fixture->queue) == model_pop (&model));
  assert_empty (fixture);
  model_clear (&model);
}

/* }}} */

/* In a pool {{{ */

static void
test_pool_keyless_fifo (gconstpointer data)
{
  const char *kind = data;
  const char *names[] = { "a", "b", "c", "d", "e" };
  g_autoptr(TpPool) pool = one_worker_pool (kind);
  g_autofree char *order = NULL;
  TpTestJob *held;
  TpTestLog log;

  g_test_summary ("The kinds fixed-fair and autoscale-fair exist; on a pool of one worker, "
                  "jobs submitted without a key (one group) start in submission order");
  tp_test_log_init (&log);

  held = hold_the_worker (pool, &log);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    tp_test_submit (pool, &log, names[i], TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT,
                    10 - (int) i, NULL);
  drain_pending ();
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 5);

  tp_test_release (held);
  tp_test_wait_count (&log.callbacks, 6);
  tp_test_wait_count (&log.destroyed, 6);

  order = tp_test_log_order (&log);
  g_assert_cmpstr (order, ==, "h a b c d e");
  g_assert_cmpuint (log.done, ==, 6);

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  const char *kinds[] = { "fixed-fair", "autoscale-fair" };

  g_test_init (&argc, &argv, NULL);
  tp_queue_test_strategy = "fair";

#define ADD(path, func) \
  g_test_add ("/queue/fair/" path, QueueFixture, NULL, queue_fixture_set_up, func, fair_tear_down)

  ADD ("strategy", test_unit_strategy);
  ADD ("empty", test_unit_empty);
  ADD ("round-robin", test_unit_round_robin);
  ADD ("no-starvation", test_unit_no_starvation);
  ADD ("keyless", test_unit_keyless);
  ADD ("remove", test_unit_remove);
  ADD ("requeue/order", test_unit_requeue);
  ADD ("requeue/last-popped", test_unit_requeue_last_popped);
  ADD ("requeue/only", test_unit_requeue_only);
  ADD ("random", test_unit_random);

#undef ADD

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *path = g_strdup_printf ("/queue/fair/pool/%s/keyless-fifo", kinds[i]);

      g_test_add_data_func (path, kinds[i], test_pool_keyless_fifo);
    }

  return g_test_run ();
}

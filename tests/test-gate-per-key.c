/* test-gate-per-key.c: the per-key gate, on its vtable
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "tp-gate-test-util.h"

#define RANDOM_SEED 0x9e4ce7u

static gboolean
per_key_gate_init (GateFixture *fixture,
                   const char  *keys,
                   GError     **error)
{
  g_autofree char *data = g_strdup_printf ("[pool]\n%s", keys);

  return gate_fixture_init (fixture, "gate-per-key", "per-key", data, error);
}

static void
test_per_key_strategy (void)
{
  const TpGateStrategy *vt = gate_test_lookup ("gate-per-key", "per-key");

  g_test_summary ("The module gate-per-key provides the gate “per-key”, which reads "
                  "per-key-limit and is told when jobs end");

  g_assert_cmpstr (vt->name, ==, "per-key");
  g_assert_nonnull (vt->description);
  g_assert_nonnull (vt->keys);
  g_assert_true (g_strv_contains (vt->keys, "per-key-limit"));
  g_assert_cmpuint (g_strv_length ((char **) vt->keys), ==, 1);
  g_assert_nonnull (vt->ended);
  g_assert_nonnull (vt->destroy);
}

static void
test_per_key_limit (void)
{
  g_autoptr(GError) error = NULL;
  TpJob *a1 = tp_job_new_detached (4, 0, "a.example", FALSE);
  TpJob *a2 = tp_job_new_detached (4, 1, "a.example", FALSE);
  TpJob *a3 = tp_job_new_detached (4, 2, "a.example", FALSE);
  TpJob *b1 = tp_job_new_detached (4, 3, "b.example", FALSE);
  TpJob *b2 = tp_job_new_detached (4, 4, "b.example", FALSE);
  g_autofree char *a_copy = g_strdup ("a.example");
  TpJob *a4 = tp_job_new_detached (4, 5, a_copy, FALSE);
  GateFixture fixture;
  gint64 retry_at;

  g_test_summary ("per-key-limit = 2: two jobs of a key run, the third is held alone "
                  "(TP_GATE_HOLD_KEY, no retry time: the end of a job of the key frees it) "
                  "while other keys start; keys compare by their text");

  g_assert_true (per_key_gate_init (&fixture, "per-key-limit=2\n", &error));
  g_assert_no_error (error);

  g_assert_true (gate_try_start (&fixture, a1, 0, &retry_at));
  g_assert_true (gate_try_start (&fixture, a2, 0, &retry_at));
  g_assert_cmpint (gate_admit (&fixture, a3, 0, &retry_at), ==, TP_GATE_HOLD_KEY);
  g_assert_cmpint (retry_at, ==, -1);
  g_assert_cmpint (gate_admit (&fixture, a4, 0, &retry_at), ==, TP_GATE_HOLD_KEY);

  g_assert_true (gate_try_start (&fixture, b1, 1, &retry_at));
  g_assert_true (gate_try_start (&fixture, b2, 1, &retry_at));
  g_assert_cmpint (gate_admit (&fixture, b1, 1, &retry_at), ==, TP_GATE_HOLD_KEY);

  /* An end frees one slot of its key only */
  fixture.vt->ended (fixture.gate, a1);
  g_assert_cmpint (gate_admit (&fixture, b1, 2, &retry_at), ==, TP_GATE_HOLD_KEY);
  g_assert_true (gate_try_start (&fixture, a3, 2, &retry_at));
  g_assert_cmpint (gate_admit (&fixture, a4, 2, &retry_at), ==, TP_GATE_HOLD_KEY);

  /* Every job of the key ends: the key starts afresh */
  fixture.vt->ended (fixture.gate, a2);
  fixture.vt->ended (fixture.gate, a3);
  g_assert_true (gate_try_start (&fixture, a4, 3, &retry_at));
  g_assert_true (gate_try_start (&fixture, a1, 3, &retry_at));
  g_assert_cmpint (gate_admit (&fixture, a2, 3, &retry_at), ==, TP_GATE_HOLD_KEY);

  fixture.vt->ended (fixture.gate, a4);
  fixture.vt->ended (fixture.gate, a1);
  fixture.vt->ended (fixture.gate, b1);
  fixture.vt->ended (fixture.gate, b2);
  g_assert_cmpuint (fixture.wakes, ==, 0);
  gate_fixture_clear (&fixture);

  tp_job_free_detached (a1);
  tp_job_free_detached (a2);
  tp_job_free_detached (a3);
  tp_job_free_detached (a4);
  tp_job_free_detached (b1);
  tp_job_free_detached (b2);
}

static void
test_per_key_keyless (void)
{
  g_autoptr(GError) error = NULL;
  TpJob *none = tp_job_new_detached (4, 0, NULL, FALSE);
  TpJob *a = tp_job_new_detached (4, 1, "a", FALSE);
  GateFixture fixture;
  gint64 retry_at;

  g_test_summary ("Jobs without a key are not limited by the gate, and do not count against "
                  "any key");

  g_assert_true (per_key_gate_init (&fixture, "per-key-limit=1\n", &error));
  for (guint i = 0; i < 100; i++)
    g_assert_true (gate_try_start (&fixture, none, i, &retry_at));
  g_assert_true (gate_try_start (&fixture, a, 100, &retry_at));
  g_assert_cmpint (gate_admit (&fixture, a, 100, &retry_at), ==, TP_GATE_HOLD_KEY);
  for (guint i = 0; i < 100; i++)
    fixture.vt->ended (fixture.gate, none);
  g_assert_cmpint (gate_admit (&fixture, a, 101, &retry_at), ==, TP_GATE_HOLD_KEY);
  fixture.vt->ended (fixture.gate, a);
  g_assert_cmpint (gate_admit (&fixture, a, 102, &retry_at), ==, TP_GATE_ADMIT);
  gate_fixture_clear (&fixture);

  tp_job_free_detached (none);
  tp_job_free_detached (a);
}

static void
test_per_key_random (void)
{
  const guint n_keys = 16;
  const guint limit = 3;
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (RANDOM_SEED);
  g_autoptr(GPtrArray) running = g_ptr_array_new ();
  g_autofree guint *count = g_new0 (guint, n_keys + 1);
  g_autoptr(GPtrArray) jobs =
    g_ptr_array_new_with_free_func ((GDestroyNotify) tp_job_free_detached);
  GateFixture fixture;
  guint held = 0;

  g_test_summary ("Random starts and ends over 16 keys and keyless jobs (fixed seed): the "
                  "gate admits a job exactly when fewer than per-key-limit jobs of its key "
                  "run, and a keyless job always");
  g_test_message ("seed %u", RANDOM_SEED);

  g_assert_true (per_key_gate_init (&fixture, "per-key-limit=3\n", &error));
  for (guint i = 0; i < 100000; i++)
    {
      if (running->len > 0 && g_rand_int_range (rand, 0, 100) < 45)
        {
          TpJob *job = g_ptr_array_steal_index_fast (running,
                                                     g_rand_int_range (rand, 0, running->len));
          const char *key = tp_job_get_key (job);

          fixture.vt->ended (fixture.gate, job);
          count[key != NULL ? (guint) atoi (key) : n_keys]--;
        }
      else
        {
          guint k = g_rand_int_range (rand, 0, n_keys + 1);
          g_autofree char *key = k < n_keys ? g_strdup_printf ("%u", k) : NULL;
          TpJob *job = tp_job_new_detached (4, i, key, FALSE);
          gint64 retry_at;
          TpGateVerdict verdict;

          g_ptr_array_add (jobs, job);
          verdict = gate_admit (&fixture, job, i, &retry_at);
          if (k == n_keys || count[k] < limit)
            {
              g_assert_cmpint (verdict, ==, TP_GATE_ADMIT);
              fixture.vt->started (fixture.gate, job, i);
              g_ptr_array_add (running, job);
              count[k]++;
            }
          else
            {
              g_assert_cmpint (verdict, ==, TP_GATE_HOLD_KEY);
              g_assert_cmpint (retry_at, ==, -1);
              held++;
            }
        }
    }
  g_test_message ("%u held", held);
  g_assert_cmpuint (held, >, 1000);

  /* The gate is destroyed once every job it started has ended */
  while (running->len > 0)
    fixture.vt->ended (fixture.gate, g_ptr_array_steal_index_fast (running, 0));
  gate_fixture_clear (&fixture);
}

static void
test_per_key_never_started (void)
{
  g_test_summary ("An end for a job of a key the gate never started is a critical warning "
                  "naming the key, neither a crash nor a count below zero");

  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      TpJob *job = tp_job_new_detached (4, 0, "stray", FALSE);
      GateFixture fixture;
      gint64 retry_at;

      /* Structured logging: g_test_expect_message() cannot catch it; check the output */
      g_log_set_always_fatal (G_LOG_FATAL_MASK);
      g_assert_true (per_key_gate_init (&fixture, "per-key-limit=1\n", &error));
      fixture.vt->ended (fixture.gate, job);
      g_assert_true (gate_try_start (&fixture, job, 0, &retry_at));
      g_assert_cmpint (gate_admit (&fixture, job, 0, &retry_at), ==, TP_GATE_HOLD_KEY);
      fixture.vt->ended (fixture.gate, job);
      g_assert_true (gate_try_start (&fixture, job, 1, &retry_at));
      fixture.vt->ended (fixture.gate, job);
      gate_fixture_clear (&fixture);
      tp_job_free_detached (job);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*CRITICAL*a job of key*stray*ended that the gate never started*");
}

static void
assert_config_error (const char *keys,
                     const char *message)
{
  g_autoptr(GError) error = NULL;
  GateFixture fixture;

  g_assert_false (per_key_gate_init (&fixture, keys, &error));
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
  g_test_message ("%s", error->message);
  g_assert_cmpstr (error->message, ==, message);
  gate_fixture_clear (&fixture);
}

static void
test_per_key_config (void)
{
  g_autoptr(GError) error = NULL;
  GateFixture fixture;

  g_test_summary ("A missing per-key-limit is an error naming the group and the key, never a "
                  "default; 0, more than 4096 (no pool runs more jobs at once), a sign or "
                  "text is an error naming the group, the key, the value and the range");

  assert_config_error ("", "Key “per-key-limit” is missing in group “pool”: the gate “per-key” "
                           "needs the most jobs of one key running at once, a whole number from "
                           "1 to 4096");
  assert_config_error ("per-key-limit=0\n", "Invalid value “0” for key “per-key-limit” in group "
                                            "“pool”: expected a whole number from 1 to 4096");
  assert_config_error ("per-key-limit=4097\n", "Invalid value “4097” for key “per-key-limit” in "
                                               "group “pool”: expected a whole number from 1 to "
                                               "4096");
  assert_config_error ("per-key-limit=+2\n", "Invalid value “+2” for key “per-key-limit” in "
                                             "group “pool”: expected a whole number from 1 to "
                                             "4096");
  assert_config_error ("per-key-limit=two\n", "Invalid value “two” for key “per-key-limit” in "
                                              "group “pool”: expected a whole number from 1 to "
                                              "4096");

  g_assert_false (gate_fixture_init (&fixture, "gate-per-key", "per-key", NULL, &error));
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
  g_assert_cmpstr (error->message, ==,
                   "The gate “per-key” of pool “test-pool” needs key “per-key-limit” (the most "
                   "jobs of one key running at once, a whole number from 1 to 4096), and the "
                   "pool has no keyfile group to read it from");
  gate_fixture_clear (&fixture);
  g_clear_error (&error);

  g_assert_true (per_key_gate_init (&fixture, "per-key-limit=4096\n", &error));
  g_assert_no_error (error);
  gate_fixture_clear (&fixture);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/gate/per-key/strategy", test_per_key_strategy);
  g_test_add_func ("/gate/per-key/limit", test_per_key_limit);
  g_test_add_func ("/gate/per-key/keyless", test_per_key_keyless);
  g_test_add_func ("/gate/per-key/random", test_per_key_random);
  g_test_add_func ("/gate/per-key/never-started", test_per_key_never_started);
  g_test_add_func ("/gate/per-key/config", test_per_key_config);

  return g_test_run ();
}

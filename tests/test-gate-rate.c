/* test-gate-rate.c: the rate gate, on its vtable, with synthetic times
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "tp-gate-test-util.h"

#define RANDOM_SEED 0x7a7e5eedu
#define MS          ((gint64) 1000)
#define SECOND      ((gint64) G_USEC_PER_SEC)

static gboolean
rate_gate_init (GateFixture *fixture,
                const char  *keys,
                GError     **error)
{
  g_autofree char *data = g_strdup_printf ("[pool]\n%s", keys);

  return gate_fixture_init (fixture, "gate-rate", "rate", data, error);
}

/* Checks that no window of @interval holds more than @limit of @starts (sorted times) */
static void
assert_windows (GArray *starts,
                guint   limit,
                gint64  interval)
{
  for (guint i = 0; i + limit < starts->len; i++)
    {
      gint64 first = g_array_index (starts, gint64, i);
      gint64 next = g_array_index (starts, gint64, i + limit);

      if (next - first < interval)
        g_error ("%u starts within %" G_GINT64_FORMAT " µs, from %" G_GINT64_FORMAT,
                 limit + 1, next - first, first);
    }
}

/* The most starts of @starts in any window of @interval */
static guint
most_in_window (GArray *starts,
                gint64  interval)
{
  guint most = 0;
  guint first = 0;

  for (guint last = 0; last < starts->len; last++)
    {
      while (g_array_index (starts, gint64, last) - g_array_index (starts, gint64, first) >=
             interval)
        first++;
      most = MAX (most, last - first + 1);
    }
  return most;
}

static void
test_rate_strategy (void)
{
  const TpGateStrategy *vt = gate_test_lookup ("gate-rate", "rate");

  g_test_summary ("The module gate-rate provides the gate “rate”, which declares the keys it "
                  "reads and needs no end of job");

  g_assert_cmpstr (vt->name, ==, "rate");
  g_assert_nonnull (vt->description);
  g_assert_nonnull (vt->keys);
  g_assert_true (g_strv_contains (vt->keys, "rate-limit"));
  g_assert_true (g_strv_contains (vt->keys, "rate-interval-ms"));
  g_assert_true (g_strv_contains (vt->keys, "rate-per-key"));
  g_assert_cmpuint (g_strv_length ((char **) vt->keys), ==, 3);
  g_assert_null (vt->ended);
}

static void
test_rate_first_window (void)
{
  g_autoptr(GError) error = NULL;
  TpJob *job = tp_job_new_detached (4, 0, NULL, FALSE);
  GateFixture fixture;
  gint64 retry_at;

  g_test_summary ("With rate-limit 3 per 1000 ms, three jobs start at once, the fourth is "
                  "held (the whole pool) until the first start is 1000 ms old, to the "
                  "microsecond; later starts slide the window");

  g_assert_true (rate_gate_init (&fixture, "rate-limit=3\nrate-interval-ms=1000\n", &error));
  g_assert_no_error (error);

  for (guint i = 0; i < 3; i++)
    g_assert_true (gate_try_start (&fixture, job, 10 * MS + i, &retry_at));
  g_assert_cmpint (gate_admit (&fixture, job, 10 * MS + 3, &retry_at), ==, TP_GATE_HOLD);
  g_assert_cmpint (retry_at, ==, 10 * MS + SECOND);
  g_assert_cmpint (gate_admit (&fixture, job, 10 * MS + SECOND - 1, &retry_at), ==, TP_GATE_HOLD);
  g_assert_cmpint (retry_at, ==, 10 * MS + SECOND);

  /* The first start leaves the window: one more; then the second's turn */
  g_assert_true (gate_try_start (&fixture, job, 10 * MS + SECOND, &retry_at));
  g_assert_cmpint (gate_admit (&fixture, job, 10 * MS + SECOND, &retry_at), ==, TP_GATE_HOLD);
  g_assert_cmpint (retry_at, ==, 10 * MS + 1 + SECOND);
  g_assert_true (gate_try_start (&fixture, job, 10 * MS + 2 + SECOND, &retry_at));
  g_assert_true (gate_try_start (&fixture, job, 10 * MS + 2 + SECOND, &retry_at));
  g_assert_cmpint (gate_admit (&fixture, job, 10 * MS + 3 + SECOND, &retry_at), ==, TP_GATE_HOLD);
  g_assert_cmpint (retry_at, ==, 10 * MS + 2 * SECOND);

  /* Long idle: a full burst again */
  for (guint i = 0; i < 3; i++)
    g_assert_true (gate_try_start (&fixture, job, 60 * SECOND, &retry_at));
  g_assert_cmpint (gate_admit (&fixture, job, 60 * SECOND, &retry_at), ==, TP_GATE_HOLD);
  g_assert_cmpint (retry_at, ==, 61 * SECOND);
  g_assert_cmpuint (fixture.wakes, ==, 0);

  gate_fixture_clear (&fixture);
  tp_job_free_detached (job);
}

static void
test_rate_no_edge_burst (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) starts = g_array_new (FALSE, FALSE, sizeof (gint64));
  TpJob *job = tp_job_new_detached (4, 0, NULL, FALSE);
  GateFixture fixture;
  gint64 retry_at;

  g_test_summary ("Jobs that arrive in bursts at the end of one second and the start of the "
                  "next never get more than rate-limit starts into any window: the window "
                  "slides, there is no reset at a fixed instant");

  g_assert_true (rate_gate_init (&fixture, "rate-limit=10\n", &error));
  for (gint64 second = 0; second < 5; second++)
    {
      /* Ten try at 0.999 s, ten at 1.001 s */
      for (guint i = 0; i < 10; i++)
        {
          gint64 now = second * SECOND + 999 * MS;

          if (gate_try_start (&fixture, job, now, &retry_at))
            g_array_append_val (starts, now);
        }
      for (guint i = 0; i < 10; i++)
        {
          gint64 now = (second + 1) * SECOND + 1 * MS;

          if (gate_try_start (&fixture, job, now, &retry_at))
            g_array_append_val (starts, now);
        }
    }
  g_assert_cmpuint (most_in_window (starts, SECOND), ==, 10);
  assert_windows (starts, 10, SECOND);
  g_assert_cmpuint (starts->len, ==, 50);

  gate_fixture_clear (&fixture);
  tp_job_free_detached (job);
}

/* Jobs always waiting: each refusal waits until its retry time, plus up to @late_us (the
 * pool's wake-up may come late). Returns the start times of @n_jobs jobs. */
static GArray *
run_saturated (GateFixture *fixture,
               guint        n_jobs,
               gint64       late_us,
               GRand       *rand)
{
  GArray *starts = g_array_sized_new (FALSE, FALSE, sizeof (gint64), n_jobs);
  TpJob *job = tp_job_new_detached (4, 0, NULL, FALSE);
  gint64 now = 5 * SECOND;
  gint64 retry_at;

  while (starts->len < n_jobs)
    {
      if (gate_try_start (fixture, job, now, &retry_at))
        {
          g_array_append_val (starts, now);
          continue;
        }
      g_assert_cmpint (retry_at, >, now);
      now = retry_at + (late_us > 0 ? g_rand_int_range (rand, 0, (gint32) late_us + 1) : 0);
    }
  tp_job_free_detached (job);
  return starts;
}

static void
test_rate_achieved (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (RANDOM_SEED);
  g_autoptr(GArray) exact = NULL;
  g_autoptr(GArray) late = NULL;
  GateFixture fixture;
  gint64 elapsed;
  double rate;

  g_test_summary ("At 200 per second with 1000 jobs always waiting, the k-th job starts at "
                  "k / 200 s exactly when the pool asks at the retry times; when each wake "
                  "comes up to 5 ms late the achieved rate is still at least 98 % of the "
                  "limit, and no 1 s window ever holds more than 200 starts");
  g_test_message ("seed %u", RANDOM_SEED);

  g_assert_true (rate_gate_init (&fixture, "rate-limit=200\nrate-interval-ms=1000\n", &error));
  exact = run_saturated (&fixture, 1000, 0, rand);
  for (guint k = 0; k < exact->len; k++)
    g_assert_cmpint (g_array_index (exact, gint64, k), ==, 5 * SECOND + (k / 200) * SECOND);
  g_assert_cmpuint (most_in_window (exact, SECOND), ==, 200);
  gate_fixture_clear (&fixture);

  g_assert_true (rate_gate_init (&fixture, "rate-limit=200\nrate-interval-ms=1000\n", &error));
  late = run_saturated (&fixture, 1000, 5 * MS, rand);
  assert_windows (late, 200, SECOND);
  g_assert_cmpuint (most_in_window (late, SECOND), ==, 200);
  /* The rate once the first window's burst is over */
  elapsed = g_array_index (late, gint64, late->len - 1) - g_array_index (late, gint64, 0);
  rate = (double) (late->len - 200) * SECOND / (double) elapsed;
  g_test_message ("achieved %.2f starts per second with late wakes", rate);
  g_assert_cmpfloat (rate, >=, 0.98 * 200);
  g_assert_cmpfloat (rate, <=, 200);
  gate_fixture_clear (&fixture);
}

/* The reference: how many of @starts (times, in the order they happened) are in
 * (now - interval, now], and the retry time a full window gives */
static guint
reference_count (GArray *starts,
                 gint64  now,
                 gint64  interval,
                 guint   limit,
                 gint64 *retry_at)
{
  guint recent = 0;

  for (guint i = starts->len; i > 0 && now - g_array_index (starts, gint64, i - 1) < interval; i--)
    {
      /* The limit-th newest start leaves the window last among the newest limit */
      if (++recent == limit)
        *retry_at = g_array_index (starts, gint64, i - 1) + interval;
    }
  return recent;
}

static void
check_random (gboolean per_key)
{
  const char *keys[] = { "a.example", "b.example", "c.example", NULL, "d.example" };
  const guint limit = 5;
  const gint64 interval = 100 * MS;
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (RANDOM_SEED + per_key);
  g_autoptr(GPtrArray) per_key_starts =
    g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_autoptr(GArray) all_starts = g_array_new (FALSE, FALSE, sizeof (gint64));
  TpJob *jobs[G_N_ELEMENTS (keys)];
  GateFixture fixture;
  guint admitted = 0;
  guint refused = 0;
  gint64 now = 0;

  g_test_message ("seed %u", RANDOM_SEED + per_key);
  g_assert_true (rate_gate_init (&fixture,
                                 per_key ? "rate-limit=5\nrate-interval-ms=100\nrate-per-key=true\n"
                                         : "rate-limit=5\nrate-interval-ms=100\n",
                                 &error));
  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    {
      jobs[k] = tp_job_new_detached (4, k, keys[k], FALSE);
      g_ptr_array_add (per_key_starts, g_array_new (FALSE, FALSE, sizeof (gint64)));
    }

  for (guint op = 0; op < 100000; op++)
    {
      guint k = g_rand_int_range (rand, 0, G_N_ELEMENTS (keys));
      GArray *starts = per_key ? per_key_starts->pdata[k] : all_starts;
      gint64 expected_retry = -1;
      gint64 retry_at;
      guint recent;
      TpGateVerdict verdict;

      /* Bursts of attempts at one instant, quiet spells, and long idle gaps */
      switch (g_rand_int_range (rand, 0, 20))
        {
        case 0:
          now += g_rand_int_range (rand, 0, 3 * (gint32) interval);
          break;
        case 1:
        case 2:
        case 3:
          break;
        default:
          now += g_rand_int_range (rand, 0, (gint32) (interval / 20));
          break;
        }

      recent = reference_count (starts, now, interval, limit, &expected_retry);
      verdict = gate_admit (&fixture, jobs[k], now, &retry_at);
      if (recent < limit)
        {
          g_assert_cmpint (verdict, ==, TP_GATE_ADMIT);
          fixture.vt->started (fixture.gate, jobs[k], now);
          g_array_append_val (starts, now);
          admitted++;
        }
      else
        {
          g_assert_cmpint (verdict, ==, per_key ? TP_GATE_HOLD_KEY : TP_GATE_HOLD);
          g_assert_cmpint (retry_at, ==, expected_retry);
          refused++;
        }
    }

  g_test_message ("%u admitted, %u refused", admitted, refused);
  g_assert_cmpuint (admitted, >, 10000);
  g_assert_cmpuint (refused, >, 10000);
  if (per_key)
    {
      for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
        assert_windows (per_key_starts->pdata[k], limit, interval);
    }
  else
    assert_windows (all_starts, limit, interval);

  gate_fixture_clear (&fixture);
  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    tp_job_free_detached (jobs[k]);
}

static void
test_rate_random (void)
{
  g_test_summary ("100 000 attempts at random times (fixed seed), in bursts and after idle "
                  "gaps: the gate admits exactly when fewer than rate-limit starts lie in the "
                  "last interval, refuses with the retry time at which the oldest of them "
                  "leaves it, and no window ever holds more than rate-limit starts");
  check_random (FALSE);
}

static void
test_rate_per_key_random (void)
{
  g_test_summary ("The same with rate-per-key = true over four keys and jobs without a key: "
                  "each key, and the keyless jobs together, have a window of their own, and "
                  "a full key is refused alone (TP_GATE_HOLD_KEY)");
  check_random (TRUE);
}

static void
test_rate_per_key (void)
{
  g_autoptr(GError) error = NULL;
  TpJob *a = tp_job_new_detached (4, 0, "a.example", FALSE);
  TpJob *b = tp_job_new_detached (4, 1, "b.example", FALSE);
  TpJob *none = tp_job_new_detached (4, 2, NULL, FALSE);
  GateFixture fixture;
  gint64 retry_at;

  g_test_summary ("rate-per-key = true: a key at its limit is held with TP_GATE_HOLD_KEY and "
                  "its own retry time while other keys and keyless jobs start; jobs without "
                  "a key share one window");

  g_assert_true (rate_gate_init (&fixture, "rate-limit=2\nrate-interval-ms=50\nrate-per-key=true\n",
                                 &error));
  g_assert_no_error (error);

  g_assert_true (gate_try_start (&fixture, a, 0, &retry_at));
  g_assert_true (gate_try_start (&fixture, a, 10 * MS, &retry_at));
  g_assert_cmpint (gate_admit (&fixture, a, 20 * MS, &retry_at), ==, TP_GATE_HOLD_KEY);
  g_assert_cmpint (retry_at, ==, 50 * MS);

  g_assert_true (gate_try_start (&fixture, b, 20 * MS, &retry_at));
  g_assert_true (gate_try_start (&fixture, none, 20 * MS, &retry_at));
  g_assert_true (gate_try_start (&fixture, b, 30 * MS, &retry_at));
  g_assert_true (gate_try_start (&fixture, none, 30 * MS, &retry_at));
  g_assert_cmpint (gate_admit (&fixture, b, 30 * MS, &retry_at), ==, TP_GATE_HOLD_KEY);
  g_assert_cmpint (retry_at, ==, 70 * MS);
  g_assert_cmpint (gate_admit (&fixture, none, 30 * MS, &retry_at), ==, TP_GATE_HOLD_KEY);
  g_assert_cmpint (retry_at, ==, 70 * MS);

  g_assert_true (gate_try_start (&fixture, a, 50 * MS, &retry_at));
  g_assert_cmpint (gate_admit (&fixture, a, 59 * MS, &retry_at), ==, TP_GATE_HOLD_KEY);
  g_assert_cmpint (retry_at, ==, 60 * MS);

  /* Long after: every key's window has been dropped, and works again from scratch */
  for (guint i = 0; i < 2; i++)
    {
      g_assert_true (gate_try_start (&fixture, a, 10 * SECOND, &retry_at));
      g_assert_true (gate_try_start (&fixture, none, 10 * SECOND, &retry_at));
    }
  g_assert_cmpint (gate_admit (&fixture, a, 10 * SECOND, &retry_at), ==, TP_GATE_HOLD_KEY);
  g_assert_cmpint (gate_admit (&fixture, none, 10 * SECOND, &retry_at), ==, TP_GATE_HOLD_KEY);
  g_assert_cmpint (gate_admit (&fixture, b, 10 * SECOND, &retry_at), ==, TP_GATE_ADMIT);

  gate_fixture_clear (&fixture);
  tp_job_free_detached (a);
  tp_job_free_detached (b);
  tp_job_free_detached (none);
}

static void
test_rate_many_keys (void)
{
  g_autoptr(GError) error = NULL;
  GateFixture fixture;
  gint64 retry_at;
  gint64 now = 0;

  g_test_summary ("200 000 keys, each started twice then idle, with time moving on: windows "
                  "idle for an interval are dropped as others start (run under valgrind and "
                  "ASan: nothing leaks, nothing is used after it is freed), and a key seen "
                  "again starts afresh");

  g_assert_true (rate_gate_init (&fixture, "rate-limit=2\nrate-interval-ms=1\nrate-per-key=true\n",
                                 &error));
  for (guint i = 0; i < 200000; i++)
    {
      g_autofree char *key = g_strdup_printf ("host-%u", i % 50000);
      TpJob *job = tp_job_new_detached (4, i, i % 7 == 0 ? NULL : key, FALSE);

      now += 100;
      if (gate_try_start (&fixture, job, now, &retry_at))
        {
          g_assert_true (gate_try_start (&fixture, job, now, &retry_at));
          g_assert_cmpint (gate_admit (&fixture, job, now, &retry_at), ==, TP_GATE_HOLD_KEY);
          g_assert_cmpint (retry_at, ==, now + MS);
        }
      else
        {
          /* Only keyless jobs come back within the interval */
          g_assert_null (tp_job_get_key (job));
        }
      tp_job_free_detached (job);
    }
  gate_fixture_clear (&fixture);
}

static void
assert_config_error (const char *keys,
                     const char *message)
{
  g_autoptr(GError) error = NULL;
  GateFixture fixture;

  g_assert_false (rate_gate_init (&fixture, keys, &error));
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
  g_test_message ("%s", error->message);
  g_assert_cmpstr (error->message, ==, message);
  gate_fixture_clear (&fixture);
}

static void
test_rate_config (void)
{
  g_autoptr(GError) error = NULL;
  GateFixture fixture;

  g_test_summary ("A missing rate-limit is an error naming the group and the key, never a "
                  "default; a value out of range or of the wrong type is an error naming the "
                  "group, the key, the value and what is allowed");

  assert_config_error ("", "Key “rate-limit” is missing in group “pool”: the gate “rate” needs "
                           "the most starts in any window of rate-interval-ms, a whole number "
                           "from 1 to 1000000");
  assert_config_error ("rate-interval-ms=100\n",
                       "Key “rate-limit” is missing in group “pool”: the gate “rate” needs "
                       "the most starts in any window of rate-interval-ms, a whole number "
                       "from 1 to 1000000");
  assert_config_error ("rate-limit=0\n", "Invalid value “0” for key “rate-limit” in group “pool”: "
                                         "expected a whole number from 1 to 1000000");
  assert_config_error ("rate-limit=1000001\n", "Invalid value “1000001” for key “rate-limit” in "
                                               "group “pool”: expected a whole number from 1 to "
                                               "1000000");
  assert_config_error ("rate-limit=-5\n", "Invalid value “-5” for key “rate-limit” in group "
                                          "“pool”: expected a whole number from 1 to 1000000");
  assert_config_error ("rate-limit=10/s\n", "Invalid value “10/s” for key “rate-limit” in group "
                                            "“pool”: expected a whole number from 1 to 1000000");
  assert_config_error ("rate-limit=10\nrate-interval-ms=0\n",
                       "Invalid value “0” for key “rate-interval-ms” in group “pool”: expected a "
                       "whole number from 1 to 86400000");
  assert_config_error ("rate-limit=10\nrate-interval-ms=86400001\n",
                       "Invalid value “86400001” for key “rate-interval-ms” in group “pool”: "
                       "expected a whole number from 1 to 86400000");
  assert_config_error ("rate-limit=10\nrate-interval-ms=1s\n",
                       "Invalid value “1s” for key “rate-interval-ms” in group “pool”: expected "
                       "a whole number from 1 to 86400000");
  assert_config_error ("rate-limit=10\nrate-per-key=yes\n",
                       "Invalid value “yes” for key “rate-per-key” in group “pool”: expected "
                       "true or false");

  /* No keyfile at all */
  g_assert_false (gate_fixture_init (&fixture, "gate-rate", "rate", NULL, &error));
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
  g_assert_cmpstr (error->message, ==,
                   "The gate “rate” of pool “test-pool” needs key “rate-limit” (the most starts "
                   "in any window of rate-interval-ms, a whole number from 1 to 1000000), and "
                   "the pool has no keyfile group to read it from");
  gate_fixture_clear (&fixture);
  g_clear_error (&error);

  /* The bounds themselves are valid */
  g_assert_true (rate_gate_init (&fixture, "rate-limit=1000000\nrate-interval-ms=86400000\n"
                                           "rate-per-key=false\n", &error));
  g_assert_no_error (error);
  gate_fixture_clear (&fixture);
}

static void
test_rate_default_interval (void)
{
  g_autoptr(GError) error = NULL;
  TpJob *job = tp_job_new_detached (4, 0, "a.example", FALSE);
  GateFixture fixture;
  gint64 retry_at;

  g_test_summary ("Without rate-interval-ms the window is 1000 ms, and without rate-per-key "
                  "one window holds the whole pool (keys do not matter)");

  g_assert_true (rate_gate_init (&fixture, "rate-limit=1\n", &error));
  g_assert_true (gate_try_start (&fixture, job, 7 * SECOND, &retry_at));
  g_assert_cmpint (gate_admit (&fixture, job, 7 * SECOND, &retry_at), ==, TP_GATE_HOLD);
  g_assert_cmpint (retry_at, ==, 8 * SECOND);
  gate_fixture_clear (&fixture);
  tp_job_free_detached (job);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/gate/rate/strategy", test_rate_strategy);
  g_test_add_func ("/gate/rate/first-window", test_rate_first_window);
  g_test_add_func ("/gate/rate/no-edge-burst", test_rate_no_edge_burst);
  g_test_add_func ("/gate/rate/achieved", test_rate_achieved);
  g_test_add_func ("/gate/rate/random", test_rate_random);
  g_test_add_func ("/gate/rate/per-key", test_rate_per_key);
  g_test_add_func ("/gate/rate/per-key-random", test_rate_per_key_random);
  g_test_add_func ("/gate/rate/many-keys", test_rate_many_keys);
  g_test_add_func ("/gate/rate/config", test_rate_config);
  g_test_add_func ("/gate/rate/default-interval", test_rate_default_interval);

  return g_test_run ();
}

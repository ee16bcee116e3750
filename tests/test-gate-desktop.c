/* test-gate-desktop.c: the gates `network` and `power`, driven by fake monitors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GIO makes its default network, power profile and memory monitors from the
 * implementations of an extension point, the one of highest priority that
 * initializes (or the one an environment variable names). This test
 * registers fakes of its own there before anything asks for a default, so
 * that the gates watch them; it then flips their state and emits their
 * signals as GIO's would. Nothing here touches the real network or power
 * profile, polls or sleeps.
 */

#include <gio/gio.h>

#include "tp-test-util.h"

#define FAKE_PRIORITY 1000

/* Fake monitors {{{ */

static gboolean
fake_initable_init (GInitable     *initable,
                    GCancellable  *cancellable,
                    GError       **error)
{
  return TRUE;
}

static void
fake_initable_iface_init (GInitableIface *iface)
{
  iface->init = fake_initable_init;
}

/* Network: available and metered as the test says. The fields are atomic:
 * a test flips them from another thread. */
#define FAKE_TYPE_NETWORK_MONITOR (fake_network_monitor_get_type ())
G_DECLARE_FINAL_TYPE (FakeNetworkMonitor, fake_network_monitor, FAKE, NETWORK_MONITOR, GObject)

struct _FakeNetworkMonitor
{
  GObject parent_instance;
  int     available;
  int     metered;
};

enum {
  NETWORK_PROP_0,
  NETWORK_PROP_AVAILABLE,
  NETWORK_PROP_METERED,
  NETWORK_PROP_CONNECTIVITY,
};

static void
fake_network_monitor_iface_init (GNetworkMonitorInterface *iface)
{
}

G_DEFINE_TYPE_WITH_CODE (FakeNetworkMonitor, fake_network_monitor, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, fake_initable_iface_init)
                         G_IMPLEMENT_INTERFACE (G_TYPE_NETWORK_MONITOR,
                                                fake_network_monitor_iface_init))

static void
fake_network_monitor_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  FakeNetworkMonitor *self = FAKE_NETWORK_MONITOR (object);
  gboolean available = g_atomic_int_get (&self->available);

  switch (prop_id)
    {
    case NETWORK_PROP_AVAILABLE:
      g_value_set_boolean (value, available);
      break;
    case NETWORK_PROP_METERED:
      g_value_set_boolean (value, g_atomic_int_get (&self->metered));
      break;
    case NETWORK_PROP_CONNECTIVITY:
      g_value_set_enum (value, available ? G_NETWORK_CONNECTIVITY_FULL
                                         : G_NETWORK_CONNECTIVITY_LOCAL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fake_network_monitor_class_init (FakeNetworkMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = fake_network_monitor_get_property;
  g_object_class_override_property (object_class, NETWORK_PROP_AVAILABLE, "network-available");
  g_object_class_override_property (object_class, NETWORK_PROP_METERED, "network-metered");
  g_object_class_override_property (object_class, NETWORK_PROP_CONNECTIVITY, "connectivity");
}

static void
fake_network_monitor_init (FakeNetworkMonitor *self)
{
  self->available = TRUE;
}

/* Signals a change as GIO's monitors do: notify::network-metered for the
 * metered state, network-changed for the network coming and going */
static void
fake_network_set (FakeNetworkMonitor *self,
                  gboolean            available,
                  gboolean            metered)
{
  gboolean was_available = g_atomic_int_get (&self->available);
  gboolean was_metered = g_atomic_int_get (&self->metered);

  g_atomic_int_set (&self->available, available);
  g_atomic_int_set (&self->metered, metered);
  if (was_metered != metered)
    g_object_notify (G_OBJECT (self), "network-metered");
  if (was_available != available)
    {
      g_object_notify (G_OBJECT (self), "network-available");
      g_signal_emit_by_name (self, "network-changed", available);
    }
}

/* Power profile: power saver as the test says */
#define FAKE_TYPE_POWER_MONITOR (fake_power_monitor_get_type ())
G_DECLARE_FINAL_TYPE (FakePowerMonitor, fake_power_monitor, FAKE, POWER_MONITOR, GObject)

struct _FakePowerMonitor
{
  GObject parent_instance;
  int     power_saver;
};

enum {
  POWER_PROP_0,
  POWER_PROP_SAVER,
};

static void
fake_power_monitor_iface_init (GPowerProfileMonitorInterface *iface)
{
}

G_DEFINE_TYPE_WITH_CODE (FakePowerMonitor, fake_power_monitor, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, fake_initable_iface_init)
                         G_IMPLEMENT_INTERFACE (G_TYPE_POWER_PROFILE_MONITOR,
                                                fake_power_monitor_iface_init))

static void
fake_power_monitor_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  FakePowerMonitor *self = FAKE_POWER_MONITOR (object);

  switch (prop_id)
    {
    case POWER_PROP_SAVER:
      g_value_set_boolean (value, g_atomic_int_get (&self->power_saver));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fake_power_monitor_class_init (FakePowerMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = fake_power_monitor_get_property;
  g_object_class_override_property (object_class, POWER_PROP_SAVER, "power-saver-enabled");
}

static void
fake_power_monitor_init (FakePowerMonitor *self)
{
}

static void
fake_power_set (FakePowerMonitor *self,
                gboolean          power_saver)
{
  if (g_atomic_int_get (&self->power_saver) == power_saver)
    return;
  g_atomic_int_set (&self->power_saver, power_saver);
  g_object_notify (G_OBJECT (self), "power-saver-enabled");
}

/* Memory: warns when the test says */
#define FAKE_TYPE_MEMORY_MONITOR (fake_memory_monitor_get_type ())
G_DECLARE_FINAL_TYPE (FakeMemoryMonitor, fake_memory_monitor, FAKE, MEMORY_MONITOR, GObject)

struct _FakeMemoryMonitor
{
  GObject parent_instance;
};

static void
fake_memory_monitor_iface_init (GMemoryMonitorInterface *iface)
{
}

G_DEFINE_TYPE_WITH_CODE (FakeMemoryMonitor, fake_memory_monitor, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, fake_initable_iface_init)
                         G_IMPLEMENT_INTERFACE (G_TYPE_MEMORY_MONITOR,
                                                fake_memory_monitor_iface_init))

static void
fake_memory_monitor_class_init (FakeMemoryMonitorClass *klass)
{
}

static void
fake_memory_monitor_init (FakeMemoryMonitor *self)
{
}

static void
fake_memory_warn (FakeMemoryMonitor          *self,
                  GMemoryMonitorWarningLevel  level)
{
  g_signal_emit_by_name (self, "low-memory-warning", level);
}

static FakeNetworkMonitor *network;
static FakePowerMonitor *power;
static FakeMemoryMonitor *memory;

/* Registers the fakes where GIO looks for its default monitors, first by
 * priority and by name, then takes the defaults: they must be the fakes.
 * Registering an extension point GIO registered already is a no-op, and
 * GIO registers them the same way when it first needs them. */
static void
fakes_install (void)
{
  const struct {
    const char *point;
    GType       required;
    GType       fake;
    const char *name;
    const char *variable;
  } fakes[] = {
    { G_NETWORK_MONITOR_EXTENSION_POINT_NAME, G_TYPE_NETWORK_MONITOR,
      FAKE_TYPE_NETWORK_MONITOR, "taskpool-fake", "GIO_USE_NETWORK_MONITOR" },
    { G_POWER_PROFILE_MONITOR_EXTENSION_POINT_NAME, G_TYPE_POWER_PROFILE_MONITOR,
      FAKE_TYPE_POWER_MONITOR, "taskpool-fake", "GIO_USE_POWER_PROFILE_MONITOR" },
    { G_MEMORY_MONITOR_EXTENSION_POINT_NAME, G_TYPE_MEMORY_MONITOR,
      FAKE_TYPE_MEMORY_MONITOR, "taskpool-fake", "GIO_USE_MEMORY_MONITOR" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (fakes); i++)
    {
      GIOExtensionPoint *point = g_io_extension_point_register (fakes[i].point);

      g_io_extension_point_set_required_type (point, fakes[i].required);
      g_assert_nonnull (g_io_extension_point_implement (fakes[i].point, fakes[i].fake,
                                                        fakes[i].name, FAKE_PRIORITY));
      g_setenv (fakes[i].variable, fakes[i].name, TRUE);
    }

  network = g_object_ref ((FakeNetworkMonitor *) g_network_monitor_get_default ());
  power = (FakePowerMonitor *) g_power_profile_monitor_dup_default ();
  memory = (FakeMemoryMonitor *) g_memory_monitor_dup_default ();
  g_assert_true (FAKE_IS_NETWORK_MONITOR (network));
  g_assert_true (FAKE_IS_POWER_MONITOR (power));
  g_assert_true (FAKE_IS_MEMORY_MONITOR (memory));
}

static void
fakes_remove (void)
{
  g_clear_object (&network);
  g_clear_object (&power);
  g_clear_object (&memory);
}

/* Each test starts online, unmetered, not in power saver */
static void
fakes_reset (void)
{
  fake_network_set (network, TRUE, FALSE);
  fake_power_set (power, FALSE);
}

/* }}} */

/* Helpers {{{ */

static TpPool *
desktop_pool_new (const char  *group_data,
                  GError     **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autofree char *data = g_strdup_printf ("[pool]\n%s", group_data);
  TpPool *pool;

  g_assert_true (g_key_file_load_from_data (keyfile, data, -1, G_KEY_FILE_NONE, NULL));
  pool = tp_pool_new_from_keyfile (keyfile, "pool", error);
  if (pool != NULL)
    g_assert_true (tp_pool_start (pool, NULL));
  return pool;
}

static TpPool *
desktop_pool_new_ok (const char *group_data)
{
  g_autoptr(GError) error = NULL;
  TpPool *pool = desktop_pool_new (group_data, &error);

  g_assert_no_error (error);
  return pool;
}

static void
drain_pending (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
assert_exactly_once (TpTestLog *log,
                     guint      n_jobs)
{
  tp_test_wait_count (&log->callbacks, n_jobs);
  tp_test_wait_count (&log->destroyed, n_jobs);
  drain_pending ();
  g_assert_cmpuint (log->callbacks, ==, n_jobs);
  g_assert_cmpuint (log->destroyed, ==, n_jobs);
}

static void
assert_order (TpTestLog  *log,
              const char *expected)
{
  g_autofree char *order = tp_test_log_order (log);

  g_assert_cmpstr (order, ==, expected);
}

/* Submits jobs j0 … j<n-1>; returns them (valid until released, for HOLD) */
static GPtrArray *
submit_jobs (TpPool        *pool,
             TpTestLog     *log,
             guint          n_jobs,
             TpTestJobMode  mode)
{
  GPtrArray *jobs = g_ptr_array_new ();

  for (guint i = 0; i < n_jobs; i++)
    {
      g_autofree char *name = g_strdup_printf ("j%u", i);

      g_ptr_array_add (jobs, tp_test_submit (pool, log, name, mode, TP_SUBMIT_DEFAULT, 4, NULL));
    }
  return jobs;
}

/* }}} */

/* network {{{ */

static void
test_network_down (gconstpointer data)
{
  const char *kind = data;
  const int weights[] = { 5, 3, 9, 1, 3 };
  g_autofree char *group = g_strdup_printf ("kind=%s\nsize=1\ngates=network\n", kind);
  g_autoptr(TpPool) pool = NULL;
  TpTestLog log;

  g_test_summary ("While the network is down no job starts, async or thread, and none fails; "
                  "when the monitor says it is back the jobs start, in queue order");
  fakes_reset ();
  fake_network_set (network, FALSE, FALSE);
  pool = desktop_pool_new_ok (group);
  tp_test_log_init (&log);

  for (guint i = 0; i < G_N_ELEMENTS (weights); i++)
    {
      g_autofree char *name = g_strdup_printf ("w%d.%u", weights[i], i);

      tp_test_submit (pool, &log, name, TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, weights[i], NULL);
    }
  tp_test_submit (pool, &log, "thread", TP_TEST_JOB_RETURN, TP_SUBMIT_IN_THREAD, 10, NULL);
  drain_pending ();
  g_assert_cmpuint (log.started, ==, 0);
  g_assert_cmpuint (log.callbacks, ==, 0);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 0);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, G_N_ELEMENTS (weights) + 1);

  fake_network_set (network, TRUE, FALSE);
  assert_exactly_once (&log, G_N_ELEMENTS (weights) + 1);
  g_assert_cmpuint (log.done, ==, G_N_ELEMENTS (weights) + 1);
  if (g_str_has_suffix (kind, "priority"))
    assert_order (&log, "w1.3 w3.1 w3.4 w5.0 w9.2 thread");
  else
    assert_order (&log, "w5.0 w3.1 w9.2 w1.3 w3.4 thread");

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_network_lost_while_running (void)
{
  g_autoptr(TpPool) pool = desktop_pool_new_ok ("kind=fixed-simple\nsize=4\ngates=network\n");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GPtrArray) running = NULL;
  TpTestLog log;

  g_test_summary ("Jobs running when the network goes away are not interrupted (not even "
                  "cancelled) and complete; the jobs queued behind them wait, also when the "
                  "network comes back and goes again before the pool could act");
  fakes_reset ();
  tp_test_log_init (&log);

  running = submit_jobs (pool, &log, 2, TP_TEST_JOB_HOLD);
  tp_test_submit (pool, &log, "watcher", TP_TEST_JOB_WAIT_CANCEL, TP_SUBMIT_DEFAULT, 4,
                  cancellable);
  tp_test_wait_count (&log.started, 3);
  fake_network_set (network, FALSE, FALSE);
  tp_test_submit (pool, &log, "a", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  tp_test_submit (pool, &log, "b", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, NULL);
  drain_pending ();
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 3);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 2);
  g_assert_cmpuint (log.callbacks, ==, 0);

  /* Back and gone again within one dispatch: the pool asks, the gate says no */
  fake_network_set (network, TRUE, FALSE);
  fake_network_set (network, FALSE, FALSE);
  for (guint i = 0; i < running->len; i++)
    tp_test_release (running->pdata[i]);
  tp_test_wait_count (&log.callbacks, 2);
  drain_pending ();
  g_assert_cmpuint (log.done, ==, 2);
  g_assert_cmpuint (log.started, ==, 3);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 2);

  fake_network_set (network, TRUE, FALSE);
  tp_test_wait_count (&log.callbacks, 4);
  assert_order (&log, "j0 j1 watcher a b");
  g_cancellable_cancel (cancellable);
  assert_exactly_once (&log, 5);
  g_assert_cmpuint (log.done, ==, 4);
  g_assert_cmpuint (log.cancelled, ==, 1);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_network_metered (gconstpointer data)
{
  gboolean hold = GPOINTER_TO_INT (data);
  g_autofree char *group = g_strdup_printf ("size=2\ngates=network\nnetwork-metered=%s\n",
                                            hold ? "hold" : "run");
  g_autoptr(TpPool) pool = NULL;
  TpTestLog log;

  g_test_summary ("On a metered network, network-metered=hold holds every start until the "
                  "network is no longer metered (notify::network-metered); "
                  "network-metered=run, the default, runs them");
  fakes_reset ();
  fake_network_set (network, TRUE, TRUE);
  pool = desktop_pool_new_ok (group);
  tp_test_log_init (&log);

  g_ptr_array_unref (submit_jobs (pool, &log, 3, TP_TEST_JOB_RETURN));
  drain_pending ();
  if (hold)
    {
      g_assert_cmpuint (log.started, ==, 0);
      g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 3);
      /* Not metered, but down: still held */
      fake_network_set (network, FALSE, FALSE);
      drain_pending ();
      g_assert_cmpuint (log.started, ==, 0);
      fake_network_set (network, TRUE, TRUE);
      drain_pending ();
      g_assert_cmpuint (log.started, ==, 0);
      fake_network_set (network, TRUE, FALSE);
    }
  assert_exactly_once (&log, 3);
  g_assert_cmpuint (log.done, ==, 3);
  assert_order (&log, "j0 j1 j2");
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static gpointer
network_up_thread (gpointer data)
{
  fake_network_set (network, TRUE, FALSE);
  return NULL;
}

static void
test_network_back_from_thread (void)
{
  g_autoptr(TpPool) pool = NULL;
  GThread *thread;
  TpTestLog log;

  g_test_summary ("A monitor that signals on another thread than the pool's wakes it all the "
                  "same: the gate's handlers take only its own lock");
  fakes_reset ();
  fake_network_set (network, FALSE, FALSE);
  pool = desktop_pool_new_ok ("size=2\ngates=network\n");
  tp_test_log_init (&log);

  g_ptr_array_unref (submit_jobs (pool, &log, 3, TP_TEST_JOB_RETURN));
  drain_pending ();
  g_assert_cmpuint (log.started, ==, 0);
  thread = g_thread_new ("network-up", network_up_thread, NULL);
  g_thread_join (thread);
  assert_exactly_once (&log, 3);
  assert_order (&log, "j0 j1 j2");
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

/* }}} */

/* power {{{ */

static void
test_power_saver (gconstpointer data)
{
  guint limit = GPOINTER_TO_UINT (data);
  g_autofree char *group = g_strdup_printf ("size=4\ngates=power\npower-saver-limit=%u\n", limit);
  g_autoptr(TpPool) pool = NULL;
  g_autoptr(GPtrArray) jobs = NULL;
  guint released = 0;
  TpTestLog log;

  g_test_summary ("In power saver at most power-saver-limit jobs run (0: none starts) while "
                  "the others wait, in queue order; when power saver ends, the cap lifts at "
                  "once, without a job ending");
  fakes_reset ();
  fake_power_set (power, TRUE);
  pool = desktop_pool_new_ok (group);
  tp_test_log_init (&log);

  jobs = submit_jobs (pool, &log, 6, TP_TEST_JOB_HOLD);
  tp_test_wait_count (&log.started, limit);
  drain_pending ();
  g_assert_cmpuint (log.started, ==, limit);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, limit);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 6 - limit);

  if (limit > 0)
    {
      /* A job ends: one more starts, never more than the cap */
      tp_test_release (jobs->pdata[0]);
      released = 1;
      tp_test_wait_count (&log.started, limit + 1);
      drain_pending ();
      g_assert_cmpuint (log.started, ==, limit + 1);
      g_assert_cmpuint (tp_pool_get_running (pool), ==, limit);
    }

  /* Every worker busy at once: the jobs released, and four running */
  fake_power_set (power, FALSE);
  tp_test_wait_count (&log.started, released + 4);
  drain_pending ();
  g_assert_cmpuint (log.started, ==, released + 4);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 4);
  for (guint i = released; i < jobs->len; i++)
    {
      tp_test_wait_count (&log.started, i + 1);
      tp_test_release (jobs->pdata[i]);
    }
  assert_exactly_once (&log, 6);
  g_assert_cmpuint (log.done, ==, 6);
  g_assert_cmpuint (log.peak, ==, 4);
  assert_order (&log, "j0 j1 j2 j3 j4 j5");
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_power_saver_running (void)
{
  g_autoptr(TpPool) pool = desktop_pool_new_ok ("size=4\ngates=power\npower-saver-limit=1\n");
  g_autoptr(GPtrArray) jobs = NULL;
  TpTestLog log;

  g_test_summary ("Entering power saver interrupts no running job: the three running go on and "
                  "complete; the next starts only once the running ones are below the cap");
  fakes_reset ();
  tp_test_log_init (&log);

  jobs = submit_jobs (pool, &log, 5, TP_TEST_JOB_HOLD);
  tp_test_wait_count (&log.started, 4);
  fake_power_set (power, TRUE);
  for (guint i = 0; i < 4; i++)
    {
      tp_test_release (jobs->pdata[i]);
      tp_test_wait_count (&log.callbacks, i + 1);
      drain_pending ();
      /* Four running, then three, two, one: the cap of one is reached only after the last */
      g_assert_cmpuint (log.started, ==, i < 3 ? 4 : 5);
    }
  g_assert_cmpuint (log.done, ==, 4);
  tp_test_release (jobs->pdata[4]);
  assert_exactly_once (&log, 5);
  assert_order (&log, "j0 j1 j2 j3 j4");
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_low_memory (gconstpointer data)
{
  GMemoryMonitorWarningLevel level = GPOINTER_TO_UINT (data);
  g_autoptr(TpPool) pool = desktop_pool_new_ok ("size=4\ngates=power\nlow-memory-limit=1\n"
                                                "low-memory-ms=3600000\n");
  g_autoptr(GPtrArray) jobs = NULL;
  TpTestLog log;

  g_test_summary ("After a low-memory warning, of any level, at most low-memory-limit jobs "
                  "run while the others wait; the two running when it came go on");
  fakes_reset ();
  tp_test_log_init (&log);

  jobs = submit_jobs (pool, &log, 2, TP_TEST_JOB_HOLD);
  tp_test_wait_count (&log.started, 2);
  fake_memory_warn (memory, level);
  for (guint i = 2; i < 5; i++)
    {
      g_autofree char *name = g_strdup_printf ("j%u", i);

      g_ptr_array_add (jobs, tp_test_submit (pool, &log, name, TP_TEST_JOB_HOLD,
                                             TP_SUBMIT_DEFAULT, 4, NULL));
    }
  drain_pending ();
  g_assert_cmpuint (log.started, ==, 2);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 3);

  for (guint i = 0; i < jobs->len; i++)
    {
      tp_test_release (jobs->pdata[i]);
      tp_test_wait_count (&log.callbacks, i + 1);
      drain_pending ();
      /* Two, then one running (no start), then one at a time */
      g_assert_cmpuint (log.started, ==, MIN (i < 1 ? 2 : i + 2, 5));
      g_assert_cmpuint (tp_pool_get_running (pool), ==, i < 4 ? 1 : 0);
    }
  assert_exactly_once (&log, 5);
  g_assert_cmpuint (log.done, ==, 5);
  assert_order (&log, "j0 j1 j2 j3 j4");
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_low_memory_ends (void)
{
  const guint low_memory_ms = 100;
  g_autofree char *group = g_strdup_printf ("size=2\ngates=power\nlow-memory-limit=0\n"
                                            "low-memory-ms=%u\n", low_memory_ms);
  g_autoptr(TpPool) pool = desktop_pool_new_ok (group);
  gint64 warned;
  TpTestLog log;

  g_test_summary ("The cap of a warning ends low-memory-ms after it: the pool asks the gate "
                  "again then, by itself, though no job ended and nothing woke it");
  fakes_reset ();
  tp_test_log_init (&log);

  warned = g_get_monotonic_time ();
  fake_memory_warn (memory, G_MEMORY_MONITOR_WARNING_LEVEL_CRITICAL);
  g_ptr_array_unref (submit_jobs (pool, &log, 3, TP_TEST_JOB_RETURN));
  /* The gates are asked as a job is submitted: a machine slow enough to take
   * the whole cap to get here would see the jobs start, which proves nothing */
  if (g_get_monotonic_time () - warned < low_memory_ms * 1000 / 2)
    g_assert_cmpuint (tp_pool_get_running (pool), ==, 0);
  else
    g_test_message ("The cap ended before the jobs were submitted");
  assert_exactly_once (&log, 3);
  g_assert_cmpuint (log.done, ==, 3);
  assert_order (&log, "j0 j1 j2");
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
test_power_both (void)
{
  g_autoptr(TpPool) pool = desktop_pool_new_ok ("size=4\ngates=power\npower-saver-limit=2\n"
                                                "low-memory-limit=1\nlow-memory-ms=3600000\n");
  g_autoptr(GPtrArray) jobs = NULL;
  TpTestLog log;

  g_test_summary ("Power saver and a warning together: the smaller cap holds; when power saver "
                  "ends, the warning's cap still does");
  fakes_reset ();
  tp_test_log_init (&log);

  fake_power_set (power, TRUE);
  jobs = submit_jobs (pool, &log, 4, TP_TEST_JOB_HOLD);
  tp_test_wait_count (&log.started, 2);
  fake_memory_warn (memory, G_MEMORY_MONITOR_WARNING_LEVEL_LOW);
  tp_test_release (jobs->pdata[0]);
  tp_test_wait_count (&log.callbacks, 1);
  drain_pending ();
  g_assert_cmpuint (log.started, ==, 2);
  fake_power_set (power, FALSE);
  drain_pending ();
  g_assert_cmpuint (log.started, ==, 2);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 2);

  for (guint i = 1; i < jobs->len; i++)
    {
      tp_test_wait_count (&log.started, i + 1);
      tp_test_release (jobs->pdata[i]);
    }
  assert_exactly_once (&log, 4);
  g_assert_cmpuint (log.peak, ==, 2);
  assert_order (&log, "j0 j1 j2 j3");
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

/* }}} */

/* Held jobs: cancel and close {{{ */

typedef enum {
  HELD_BY_NETWORK,
  HELD_BY_POWER_SAVER,
  HELD_BY_LOW_MEMORY,
} HeldBy;

static TpPool *
held_pool_new (HeldBy held_by)
{
  TpPool *pool;

  fakes_reset ();
  switch (held_by)
    {
    case HELD_BY_NETWORK:
      fake_network_set (network, FALSE, FALSE);
      return desktop_pool_new_ok ("size=2\ngates=network;power\npower-saver-limit=1\n");
    case HELD_BY_POWER_SAVER:
      fake_power_set (power, TRUE);
      return desktop_pool_new_ok ("size=2\ngates=network;power\npower-saver-limit=0\n");
    case HELD_BY_LOW_MEMORY:
      pool = desktop_pool_new_ok ("size=2\ngates=power;network\nlow-memory-limit=0\n"
                                  "low-memory-ms=3600000\n");
      fake_memory_warn (memory, G_MEMORY_MONITOR_WARNING_LEVEL_MEDIUM);
      return pool;
    default:
      g_assert_not_reached ();
    }
}

static void
held_release (HeldBy held_by)
{
  if (held_by == HELD_BY_NETWORK)
    fake_network_set (network, TRUE, FALSE);
  else if (held_by == HELD_BY_POWER_SAVER)
    fake_power_set (power, FALSE);
}

static void
test_held_cancel (gconstpointer data)
{
  HeldBy held_by = GPOINTER_TO_UINT (data);
  g_autoptr(TpPool) pool = held_pool_new (held_by);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  TpTestLog log;

  g_test_summary ("Jobs a gate holds can be cancelled: each is delivered once, CANCELLED, its "
                  "data destroyed once, and never runs");
  tp_test_log_init (&log);

  for (guint i = 0; i < 4; i++)
    tp_test_submit (pool, &log, "held", TP_TEST_JOB_RETURN,
                    i % 2 == 0 ? TP_SUBMIT_DEFAULT : TP_SUBMIT_IN_THREAD, 4, cancellable);
  drain_pending ();
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 4);
  g_cancellable_cancel (cancellable);
  assert_exactly_once (&log, 4);
  g_assert_cmpuint (log.cancelled, ==, 4);
  g_assert_cmpuint (log.started, ==, 0);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 0);
  held_release (held_by);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  tp_test_log_clear (&log);
}

static void
close_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  gboolean *closed = user_data;

  g_assert_true (tp_pool_close_finish (TP_POOL (source), result, NULL));
  *closed = TRUE;
}

static void
test_held_close_discard (gconstpointer data)
{
  HeldBy held_by = GPOINTER_TO_UINT (data);
  g_autoptr(TpPool) pool = held_pool_new (held_by);
  gboolean closed = FALSE;
  TpTestLog log;

  g_test_summary ("A discarding close fails the jobs a gate holds with CLOSED, each once, "
                  "with its data destroyed once");
  tp_test_log_init (&log);

  g_ptr_array_unref (submit_jobs (pool, &log, 3, TP_TEST_JOB_RETURN));
  tp_test_submit (pool, &log, "thread", TP_TEST_JOB_RETURN, TP_SUBMIT_IN_THREAD, 4, NULL);
  drain_pending ();
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 4);
  tp_pool_close_async (pool, TP_CLOSE_DISCARD_QUEUED, NULL, close_done_cb, &closed);
  tp_test_wait_flag (&closed);
  assert_exactly_once (&log, 4);
  g_assert_cmpuint (log.closed, ==, 4);
  g_assert_cmpuint (log.started, ==, 0);
  tp_test_log_clear (&log);
}

static void
test_held_close_drain (gconstpointer data)
{
  HeldBy held_by = GPOINTER_TO_UINT (data);
  g_autoptr(TpPool) pool = held_pool_new (held_by);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  gboolean closed = FALSE;
  TpTestLog log;

  g_test_summary ("A draining close waits for the jobs a gate holds: once the gate lets them "
                  "start they run, each once, and the close completes (behind a warning that "
                  "lasts an hour, once they are cancelled)");
  tp_test_log_init (&log);

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("j%u", i);

      tp_test_submit (pool, &log, name, TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 4, cancellable);
    }
  tp_pool_close_async (pool, TP_CLOSE_DRAIN, NULL, close_done_cb, &closed);
  drain_pending ();
  g_assert_false (closed);
  g_assert_cmpuint (log.started, ==, 0);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 3);

  if (held_by == HELD_BY_LOW_MEMORY)
    g_cancellable_cancel (cancellable);
  else
    held_release (held_by);
  tp_test_wait_flag (&closed);
  assert_exactly_once (&log, 3);
  if (held_by == HELD_BY_LOW_MEMORY)
    {
      g_assert_cmpuint (log.cancelled, ==, 3);
      g_assert_cmpuint (log.started, ==, 0);
    }
  else
    {
      g_assert_cmpuint (log.done, ==, 3);
      assert_order (&log, "j0 j1 j2");
    }
  tp_test_log_clear (&log);
}

/* }}} */

/* Configuration and life {{{ */

static void
test_bad_config (void)
{
  const struct {
    const char *data;
    const char *words[3];
  } cases[] = {
    { "gates=network\nnetwork-metered=sometimes\n",
      { "“sometimes” for key “network-metered” in group “pool”", "“run” or “hold”", NULL } },
    { "gates=network\nnetwork-metered=Hold\n",
      { "“Hold” for key “network-metered” in group “pool”", "“run” or “hold”", NULL } },
    { "network-metered=hold\n",
      { "Unknown key “network-metered” in group “pool”", NULL } },
    { "gates=network\npower-saver-limit=1\n",
      { "Unknown key “power-saver-limit” in group “pool”", NULL } },
    { "gates=power\npower-saver-limit=-1\n",
      { "“-1” for key “power-saver-limit” in group “pool”", "from 0 to 4096", NULL } },
    { "gates=power\npower-saver-limit=4097\n",
      { "“4097” for key “power-saver-limit” in group “pool”", "from 0 to 4096", NULL } },
    { "gates=power\nlow-memory-limit=half\n",
      { "“half” for key “low-memory-limit” in group “pool”", "from 0 to 4096", NULL } },
    { "gates=power\nlow-memory-limit=1\nlow-memory-ms=0\n",
      { "“0” for key “low-memory-ms” in group “pool”", "from 1 to 86400000", NULL } },
    { "gates=power\npower-saver-limit=1\nlow-memory-ms=1000\n",
      { "“low-memory-ms” in group “pool”", "without “low-memory-limit”", NULL } },
    { "gates=power\n",
      { "gate “power” of “pool” caps nothing", "“power-saver-limit”", "“low-memory-limit”" } },
  };

  g_test_summary ("Bad keys of the desktop gates: a bad value, a key without its gate, a key "
                  "that does nothing, a gate that would do nothing; each a clear CONFIG error "
                  "naming the group, the key, the value and what is allowed");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TpPool) pool = desktop_pool_new (cases[i].data, &error);

      g_assert_null (pool);
      g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
      for (guint w = 0; w < G_N_ELEMENTS (cases[i].words) && cases[i].words[w] != NULL; w++)
        if (strstr (error->message, cases[i].words[w]) == NULL)
          g_error ("case %u: “%s” lacks “%s”", i, error->message, cases[i].words[w]);
    }
}

static void
test_good_config (void)
{
  g_autoptr(TpPool) pool = NULL;

  g_test_summary ("Both gates with every key, spaces around values: the pool is made and lists "
                  "its gates in order");
  fakes_reset ();
  pool = desktop_pool_new_ok ("gates=power;network\nnetwork-metered = hold \n"
                              "power-saver-limit=0\nlow-memory-limit = 4096\n"
                              "low-memory-ms=86400000\n");
  g_assert_cmpstr (tp_pool_get_gates (pool)[0], ==, "power");
  g_assert_cmpstr (tp_pool_get_gates (pool)[1], ==, "network");
  g_assert_null (tp_pool_get_gates (pool)[2]);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
}

static void
test_gates_property (void)
{
  const char * const network_only[] = { "network", NULL };
  const char * const power_only[] = { "power", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = NULL;
  TpTestLog log;

  g_test_summary ("Without a keyfile, the network gate works with its defaults; the power "
                  "gate, which would cap nothing, is an error that says so");
  fakes_reset ();
  fake_network_set (network, FALSE, FALSE);
  tp_test_log_init (&log);
  pool = g_initable_new (TP_TYPE_POOL, NULL, &error, "gates", network_only, NULL);
  g_assert_no_error (error);
  g_assert_true (tp_pool_start (pool, NULL));
  g_ptr_array_unref (submit_jobs (pool, &log, 2, TP_TEST_JOB_RETURN));
  drain_pending ();
  g_assert_cmpuint (log.started, ==, 0);
  fake_network_set (network, TRUE, FALSE);
  assert_exactly_once (&log, 2);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  g_clear_object (&pool);
  tp_test_log_clear (&log);

  pool = g_initable_new (TP_TYPE_POOL, NULL, &error, "gates", power_only, NULL);
  g_assert_null (pool);
  g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "caps nothing"));
}

static gboolean
has_handler (gpointer    instance,
             const char *detailed_signal)
{
  guint signal_id;
  GQuark detail;

  g_assert_true (g_signal_parse_name (detailed_signal, G_OBJECT_TYPE (instance), &signal_id,
                                      &detail, TRUE));
  return g_signal_has_handler_pending (instance, signal_id, detail, TRUE);
}

/* Closes and drops @pool, and waits until it is finalized */
static void
pool_free (TpPool *pool)
{
  gpointer alive = pool;

  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  g_object_add_weak_pointer (G_OBJECT (pool), &alive);
  g_object_unref (pool);
  while (alive != NULL)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_destroy_disconnects (void)
{
  TpPool *pool;

  g_test_summary ("A pool's gates connect to the monitors they need, and only those, and "
                  "disconnect every handler when the pool goes; the monitors' later signals "
                  "reach nothing");
  fakes_reset ();
  drain_pending ();
  g_assert_false (has_handler (network, "network-changed"));
  g_assert_false (has_handler (power, "notify::power-saver-enabled"));
  g_assert_false (has_handler (memory, "low-memory-warning"));

  pool = desktop_pool_new_ok ("gates=network;power\npower-saver-limit=1\n");
  g_assert_true (has_handler (network, "network-changed"));
  g_assert_true (has_handler (network, "notify::network-metered"));
  g_assert_true (has_handler (power, "notify::power-saver-enabled"));
  g_assert_false (has_handler (memory, "low-memory-warning"));
  pool_free (pool);
  g_assert_false (has_handler (network, "network-changed"));
  g_assert_false (has_handler (network, "notify::network-metered"));
  g_assert_false (has_handler (power, "notify::power-saver-enabled"));

  pool = desktop_pool_new_ok ("gates=power\nlow-memory-limit=1\n");
  g_assert_false (has_handler (power, "notify::power-saver-enabled"));
  g_assert_true (has_handler (memory, "low-memory-warning"));
  pool_free (pool);
  g_assert_false (has_handler (memory, "low-memory-warning"));

  fake_network_set (network, FALSE, TRUE);
  fake_power_set (power, TRUE);
  fake_memory_warn (memory, G_MEMORY_MONITOR_WARNING_LEVEL_CRITICAL);
  drain_pending ();
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  fakes_install ();

  g_test_add_data_func ("/gate/network/down/fixed-simple", "fixed-simple", test_network_down);
  g_test_add_data_func ("/gate/network/down/fixed-priority", "fixed-priority",
                        test_network_down);
  g_test_add_func ("/gate/network/lost-while-running", test_network_lost_while_running);
  g_test_add_data_func ("/gate/network/metered/hold", GINT_TO_POINTER (TRUE),
                        test_network_metered);
  g_test_add_data_func ("/gate/network/metered/run", GINT_TO_POINTER (FALSE),
                        test_network_metered);
  g_test_add_func ("/gate/network/back-from-thread", test_network_back_from_thread);
  g_test_add_data_func ("/gate/power/saver/limit-0", GUINT_TO_POINTER (0), test_power_saver);
  g_test_add_data_func ("/gate/power/saver/limit-2", GUINT_TO_POINTER (2), test_power_saver);
  g_test_add_func ("/gate/power/saver/running", test_power_saver_running);
  g_test_add_data_func ("/gate/power/low-memory/low",
                        GUINT_TO_POINTER (G_MEMORY_MONITOR_WARNING_LEVEL_LOW), test_low_memory);
  g_test_add_data_func ("/gate/power/low-memory/medium",
                        GUINT_TO_POINTER (G_MEMORY_MONITOR_WARNING_LEVEL_MEDIUM),
                        test_low_memory);
  g_test_add_data_func ("/gate/power/low-memory/critical",
                        GUINT_TO_POINTER (G_MEMORY_MONITOR_WARNING_LEVEL_CRITICAL),
                        test_low_memory);
  g_test_add_func ("/gate/power/low-memory/ends", test_low_memory_ends);
  g_test_add_func ("/gate/power/both", test_power_both);
  {
    const char *names[] = { "network", "power-saver", "low-memory" };

    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      {
        g_autofree char *cancel = g_strdup_printf ("/gate/desktop/held/%s/cancel", names[i]);
        g_autofree char *discard = g_strdup_printf ("/gate/desktop/held/%s/close-discard",
                                                    names[i]);
        g_autofree char *drain = g_strdup_printf ("/gate/desktop/held/%s/close-drain", names[i]);

        g_test_add_data_func (cancel, GUINT_TO_POINTER (i), test_held_cancel);
        g_test_add_data_func (discard, GUINT_TO_POINTER (i), test_held_close_discard);
        g_test_add_data_func (drain, GUINT_TO_POINTER (i), test_held_close_drain);
      }
  }
  g_test_add_func ("/gate/desktop/config/bad", test_bad_config);
  g_test_add_func ("/gate/desktop/config/good", test_good_config);
  g_test_add_func ("/gate/desktop/config/property", test_gates_property);
  g_test_add_func ("/gate/desktop/destroy-disconnects", test_destroy_disconnects);

  status = g_test_run ();
  fakes_remove ();
  return status;
}

/* gate-desktop.c: the gates `network` and `power`, on GIO's monitors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * network: no job starts while GNetworkMonitor reports no network, nor,
 *   with network-metered = hold, while it reports a metered one.
 * power: at most power-saver-limit jobs run while GPowerProfileMonitor
 *   reports power saver, and at most low-memory-limit until low-memory-ms
 *   after the last GMemoryMonitor warning, whatever its level.
 * Neither interrupts a running job: they only hold back starts.
 *
 * Threads. The pool calls admit, started and ended with its lock held, from
 * any thread. GIO makes one monitor of each kind per process, which emits
 * its signals on the context that was thread-default when it was made: the
 * pool's, when this gate makes it first, else the application's. So the
 * monitor's state is copied, under the gate's own lock, by handlers that may
 * run on any thread, and their only call into the pool is
 * tp_gate_host_wake(). The pool may destroy a gate on any thread while a
 * handler runs on another: each handler holds a reference of the gate, and
 * destroy forgets the host, under the lock, before it returns.
 */

#include <taskpool/tp-plugin.h>

#include <gio/gio.h>

#define POWER_DEFAULT_LOW_MEMORY_MS  60000
#define POWER_MAX_LOW_MEMORY_MS      (24 * 3600 * 1000)

/* Monitors {{{ */

typedef gpointer (*DesktopDupFunc) (void);

/* The default monitor, made (if this is the first ask in the process) with
 * the pool's context as thread-default, so that its signals come there. A
 * context that another thread iterates now cannot be pushed: the monitor
 * then signals wherever GIO puts it, which the handlers do not mind. */
static gpointer
desktop_dup_monitor (TpGateHost     *host,
                     DesktopDupFunc  dup_default)
{
  GMainContext *context = tp_gate_host_get_main_context (host);
  gboolean pushed = g_main_context_acquire (context);
  gpointer monitor;

  if (pushed)
    g_main_context_push_thread_default (context);
  monitor = dup_default ();
  if (pushed)
    {
      g_main_context_pop_thread_default (context);
      g_main_context_release (context);
    }
  return monitor;
}

static gpointer
desktop_dup_network_monitor (void)
{
  return g_object_ref (g_network_monitor_get_default ());
}

static gpointer
desktop_dup_power_monitor (void)
{
  return g_power_profile_monitor_dup_default ();
}

static gpointer
desktop_dup_memory_monitor (void)
{
  return g_memory_monitor_dup_default ();
}

static gboolean
desktop_check_monitor (gpointer     monitor,
                       const char  *gate,
                       const char  *what,
                       TpGateHost  *host,
                       GError     **error)
{
  if (monitor != NULL)
    return TRUE;
  g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
               "The gate “%s” of “%s” needs a %s, and GIO has none", gate,
               tp_gate_host_get_name (host), what);
  return FALSE;
}

/* }}} */

/* network {{{ */

typedef struct {
  GMutex           lock;
  TpGateHost      *host;          /* NULL once the pool destroyed the gate */
  GNetworkMonitor *monitor;
  gulong           changed_id;
  gulong           metered_id;
  gboolean         hold_metered;
  gboolean         available;     /* as the monitor last said */
  gboolean         metered;
} NetworkGate;

static const char * const network_keys[] = { "network-metered", NULL };

static void
network_gate_clear (gpointer data)
{
  NetworkGate *self = data;

  g_clear_object (&self->monitor);
  g_mutex_clear (&self->lock);
}

static void
network_gate_release (gpointer  data,
                      GClosure *closure)
{
  g_atomic_rc_box_release_full (data, network_gate_clear);
}

static gboolean
network_is_open_locked (NetworkGate *self)
{
  return self->available && !(self->hold_metered && self->metered);
}

/* Copies the monitor's state; wakes the pool when jobs may start again.
 * Read under the lock: a copy made at create on one thread cannot then
 * overwrite a newer one that a signal made on another. */
static void
network_update (NetworkGate     *self,
                GNetworkMonitor *monitor)
{
  gboolean was_open;

  g_mutex_lock (&self->lock);
  was_open = network_is_open_locked (self);
  self->available = g_network_monitor_get_network_available (monitor);
  self->metered = g_network_monitor_get_network_metered (monitor);
  if (!was_open && network_is_open_locked (self) && self->host != NULL)
    tp_gate_host_wake (self->host);
  g_mutex_unlock (&self->lock);
}

static void
network_changed_cb (GNetworkMonitor *monitor,
                    gboolean         available,
                    gpointer         data)
{
  network_update (data, monitor);
}

static void
network_metered_cb (GNetworkMonitor *monitor,
                    GParamSpec      *pspec,
                    gpointer         data)
{
  network_update (data, monitor);
}

/* network-metered: run (the default) or hold */
static gboolean
network_read_metered (GKeyFile    *config,
                      const char  *group,
                      gboolean    *hold_metered,
                      GError     **error)
{
  g_autofree char *value = NULL;

  if (!tp_config_get_string (config, group, "network-metered", &value, NULL, error))
    return FALSE;
  if (value == NULL || g_str_equal (value, "run"))
    *hold_metered = FALSE;
  else if (g_str_equal (value, "hold"))
    *hold_metered = TRUE;
  else
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                   "Invalid value “%s” for key “network-metered” in group “%s”: "
                   "expected “run” or “hold”", value, group);
      return FALSE;
    }
  return TRUE;
}

static gboolean
network_create (GKeyFile     *config,
                const char   *group,
                TpGateHost   *host,
                gpointer     *gate,
                GError      **error)
{
  gboolean hold_metered = FALSE;
  GNetworkMonitor *monitor;
  NetworkGate *self;

  if (!network_read_metered (config, group, &hold_metered, error))
    return FALSE;
  monitor = desktop_dup_monitor (host, desktop_dup_network_monitor);

  self = g_atomic_rc_box_new0 (NetworkGate);
  g_mutex_init (&self->lock);
  self->host = host;
  self->monitor = monitor;
  self->hold_metered = hold_metered;
  /* Connected first: a change between the two is not missed */
  self->changed_id = g_signal_connect_data (monitor, "network-changed",
                                            G_CALLBACK (network_changed_cb),
                                            g_atomic_rc_box_acquire (self),
                                            network_gate_release, 0);
  self->metered_id = g_signal_connect_data (monitor, "notify::network-metered",
                                            G_CALLBACK (network_metered_cb),
                                            g_atomic_rc_box_acquire (self),
                                            network_gate_release, 0);
  network_update (self, monitor);
  *gate = self;
  return TRUE;
}

static void
network_destroy (gpointer gate)
{
  NetworkGate *self = gate;

  g_mutex_lock (&self->lock);
  self->host = NULL;
  g_mutex_unlock (&self->lock);
  g_signal_handler_disconnect (self->monitor, self->changed_id);
  g_signal_handler_disconnect (self->monitor, self->metered_id);
  g_atomic_rc_box_release_full (self, network_gate_clear);
}

static TpGateVerdict
network_admit (gpointer      gate,
               const TpJob  *job,
               gint64        now,
               gint64       *retry_at,
               GError      **error)
{
  NetworkGate *self = gate;
  gboolean open;

  g_mutex_lock (&self->lock);
  open = network_is_open_locked (self);
  g_mutex_unlock (&self->lock);
  /* No retry time: the monitor's signal wakes the pool */
  return open ? TP_GATE_ADMIT : TP_GATE_HOLD;
}

static void
network_started (gpointer      gate,
                 const TpJob  *job,
                 gint64        now)
{
}

static const TpGateStrategy network_gate = {
  .struct_size = sizeof (TpGateStrategy),
  .name = "network",
  .description = "No job starts while GIO reports no network (or, if asked, a metered one)",
  .keys = network_keys,
  .create = network_create,
  .destroy = network_destroy,
  .admit = network_admit,
  .started = network_started,
};

/* }}} */

/* power {{{ */

typedef struct {
  GMutex                lock;
  TpGateHost           *host;              /* NULL once the pool destroyed the gate */
  GPowerProfileMonitor *power;             /* NULL without power-saver-limit */
  GMemoryMonitor       *memory;            /* NULL without low-memory-limit */
  gulong                power_id;
  gulong                memory_id;
  guint                 power_saver_limit;
  guint                 low_memory_limit;
  gint64                low_memory_us;
  gboolean              power_saver;       /* as the monitor last said */
  gint64                low_memory_until;  /* monotonic µs; 0 before any warning */
  guint                 running;           /* started, not ended: only under the pool's lock */
} PowerGate;

static const char * const power_keys[] = {
  "power-saver-limit", "low-memory-limit", "low-memory-ms", NULL
};

typedef struct {
  guint    power_saver_limit;
  guint    low_memory_limit;
  guint    low_memory_ms;
  gboolean power_saver_set;
  gboolean low_memory_set;
} PowerConfig;

static void
power_gate_clear (gpointer data)
{
  PowerGate *self = data;

  g_clear_object (&self->power);
  g_clear_object (&self->memory);
  g_mutex_clear (&self->lock);
}

static void
power_gate_release (gpointer  data,
                    GClosure *closure)
{
  g_atomic_rc_box_release_full (data, power_gate_clear);
}

/* Copies the monitor's state, under the lock as network_update() does;
 * wakes the pool when the cap rises */
static void
power_update (PowerGate            *self,
              GPowerProfileMonitor *monitor)
{
  gboolean enabled;

  g_mutex_lock (&self->lock);
  enabled = g_power_profile_monitor_get_power_saver_enabled (monitor);
  if (self->power_saver && !enabled && self->host != NULL)
    tp_gate_host_wake (self->host);
  self->power_saver = enabled;
  g_mutex_unlock (&self->lock);
}

static void
power_saver_cb (GPowerProfileMonitor *monitor,
                GParamSpec           *pspec,
                gpointer              data)
{
  power_update (data, monitor);
}

/* Every level counts: each asks processes to use less memory, and not
 * starting jobs is the least a pool can do. The cap ends by the retry time
 * admit gives, without a wake. */
static void
power_low_memory_cb (GMemoryMonitor             *monitor,
                     GMemoryMonitorWarningLevel  level,
                     gpointer                    data)
{
  PowerGate *self = data;
  gint64 until = g_get_monotonic_time () + self->low_memory_us;

  g_mutex_lock (&self->lock);
  self->low_memory_until = until;
  g_mutex_unlock (&self->lock);
}

static gboolean
power_read_config (GKeyFile     *config,
                   const char   *group,
                   TpGateHost   *host,
                   PowerConfig  *out,
                   GError      **error)
{
  gboolean ms_set = FALSE;

  if (!tp_config_get_uint (config, group, "power-saver-limit", 0, TP_POOL_MAX_SIZE,
                           &out->power_saver_limit, &out->power_saver_set, error) ||
      !tp_config_get_uint (config, group, "low-memory-limit", 0, TP_POOL_MAX_SIZE,
                           &out->low_memory_limit, &out->low_memory_set, error) ||
      !tp_config_get_uint (config, group, "low-memory-ms", 1, POWER_MAX_LOW_MEMORY_MS,
                           &out->low_memory_ms, &ms_set, error))
    return FALSE;

  if (ms_set && !out->low_memory_set)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                   "Key “low-memory-ms” in group “%s” does nothing without “low-memory-limit”: "
                   "set both, or remove it", group);
      return FALSE;
    }
  if (!out->power_saver_set && !out->low_memory_set)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                   "The gate “power” of “%s” caps nothing: set “power-saver-limit”, "
                   "“low-memory-limit” or both in the pool's keyfile group",
                   tp_gate_host_get_name (host));
      return FALSE;
    }
  return TRUE;
}

static gboolean
power_watch_saver (PowerGate   *self,
                   GError     **error)
{
  self->power = desktop_dup_monitor (self->host, desktop_dup_power_monitor);
  if (!desktop_check_monitor (self->power, "power", "power profile monitor", self->host, error))
    return FALSE;
  self->power_id = g_signal_connect_data (self->power, "notify::power-saver-enabled",
                                          G_CALLBACK (power_saver_cb),
                                          g_atomic_rc_box_acquire (self),
                                          power_gate_release, 0);
  power_update (self, self->power);
  return TRUE;
}

static gboolean
power_watch_memory (PowerGate   *self,
                    GError     **error)
{
  self->memory = desktop_dup_monitor (self->host, desktop_dup_memory_monitor);
  if (!desktop_check_monitor (self->memory, "power", "memory monitor", self->host, error))
    return FALSE;
  self->memory_id = g_signal_connect_data (self->memory, "low-memory-warning",
                                           G_CALLBACK (power_low_memory_cb),
                                           g_atomic_rc_box_acquire (self),
                                           power_gate_release, 0);
  return TRUE;
}

static void power_destroy (gpointer gate);

static gboolean
power_create (GKeyFile     *config,
              const char   *group,
              TpGateHost   *host,
              gpointer     *gate,
              GError      **error)
{
  PowerConfig read = { .low_memory_ms = POWER_DEFAULT_LOW_MEMORY_MS };
  PowerGate *self;

  if (!power_read_config (config, group, host, &read, error))
    return FALSE;

  self = g_atomic_rc_box_new0 (PowerGate);
  g_mutex_init (&self->lock);
  self->host = host;
  self->power_saver_limit = read.power_saver_limit;
  self->low_memory_limit = read.low_memory_limit;
  self->low_memory_us = (gint64) read.low_memory_ms * 1000;

  if ((read.power_saver_set && !power_watch_saver (self, error)) ||
      (read.low_memory_set && !power_watch_memory (self, error)))
    {
      power_destroy (self);
      return FALSE;
    }
  *gate = self;
  return TRUE;
}

static void
power_destroy (gpointer gate)
{
  PowerGate *self = gate;

  g_assert (self->running == 0);

  g_mutex_lock (&self->lock);
  self->host = NULL;
  g_mutex_unlock (&self->lock);
  if (self->power_id != 0)
    g_signal_handler_disconnect (self->power, self->power_id);
  if (self->memory_id != 0)
    g_signal_handler_disconnect (self->memory, self->memory_id);
  g_atomic_rc_box_release_full (self, power_gate_clear);
}

/* Held by power saver: until it ends (a wake) or a job ends. Held by a
 * warning: also until its cap ends, when the pool asks again. */
static TpGateVerdict
power_admit (gpointer      gate,
             const TpJob  *job,
             gint64        now,
             gint64       *retry_at,
             GError      **error)
{
  PowerGate *self = gate;
  TpGateVerdict verdict = TP_GATE_ADMIT;

  g_mutex_lock (&self->lock);
  if (self->power_saver && self->running >= self->power_saver_limit)
    verdict = TP_GATE_HOLD;
  else if (self->memory != NULL && now < self->low_memory_until &&
           self->running >= self->low_memory_limit)
    {
      verdict = TP_GATE_HOLD;
      *retry_at = self->low_memory_until;
    }
  g_mutex_unlock (&self->lock);
  return verdict;
}

static void
power_started (gpointer      gate,
               const TpJob  *job,
               gint64        now)
{
  PowerGate *self = gate;

  self->running++;
}

static void
power_ended (gpointer      gate,
             const TpJob  *job)
{
  PowerGate *self = gate;

  g_assert (self->running > 0);
  self->running--;
}

static const TpGateStrategy power_gate = {
  .struct_size = sizeof (TpGateStrategy),
  .name = "power",
  .description = "Fewer jobs at once in power saver (power-saver-limit) and after a low-memory "
                 "warning (low-memory-limit)",
  .keys = power_keys,
  .create = power_create,
  .destroy = power_destroy,
  .admit = power_admit,
  .started = power_started,
  .ended = power_ended,
};

/* }}} */

static const TpGateStrategy * const desktop_gates[] = { &network_gate, &power_gate, NULL };

TP_PLUGIN_DEFINE_WITH_GATES ("gate-desktop", "1.4",
                             "Gates on GIO's network, power profile and memory monitors",
                             NULL, NULL, desktop_gates)

/* gate-rate.c: the rate gate
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * At most rate-limit starts in any window of rate-interval-ms. The window
 * slides: a counter reset at fixed instants would let twice the limit
 * through around each reset. The gate keeps the times of the last
 * rate-limit starts in a ring; a job may start when the oldest of them is
 * at least an interval old, and is otherwise refused until then (the retry
 * time the pool waits for). So no window of the interval, wherever it
 * begins, ever holds more than rate-limit starts, and jobs that wait start
 * as soon as the limit allows: the achieved rate is the limit.
 *
 * With rate-per-key = true each key has a window of its own, and the jobs
 * without a key share one; a job whose key is at its limit is refused alone
 * (TP_GATE_HOLD_KEY) and jobs of other keys go on. A key's ring is dropped
 * once its newest start is an interval old: it could refuse nothing any
 * more. Keys are kept in the order of their newest start, so that dropping
 * them costs O(1) per start, and memory is bounded by the keys that started
 * a job within the last interval. Keys are interned (see tp_job_get_key()):
 * windows are found by the key's address, and each keeps a reference on it.
 *
 * The gate counts starts, not running jobs: it needs no `ended`.
 */

#include <taskpool/tp-plugin.h>

#include "../common/required-key.h"

#define RATE_MAX_LIMIT        1000000
#define RATE_MAX_INTERVAL_MS  (24 * 3600 * 1000)
#define RATE_DEFAULT_INTERVAL_MS 1000

typedef struct _Window Window;
struct _Window
{
  gint64     *starts;    /* a ring: starts[head] is the oldest of count */
  guint       head;
  guint       count;
  guint       capacity;  /* grows up to the limit; head is 0 until it is full */
  gint64      newest;
  /* Per key */
  const char *key;       /* interned, a reference; NULL for the jobs without a key */
  Window     *older;     /* in the order of the newest start */
  Window     *newer;
};

typedef struct {
  guint       limit;
  gint64      interval_us;
  gboolean    per_key;

  Window      all;         /* not per key */

  GHashTable *windows;     /* per key: key → Window */
  Window     *keyless;     /* per key: the jobs without a key */
  Window     *oldest;      /* per key: the window whose newest start is the oldest */
  Window     *newest;
} RateGate;

static const char * const rate_keys[] = {
  "rate-limit", "rate-interval-ms", "rate-per-key", NULL
};

/* Windows {{{ */

static void
window_free (Window *window)
{
  g_free (window->starts);
  g_clear_pointer (&window->key, tp_key_unref);
  g_free (window);
}

static void
window_record (RateGate *self,
               Window   *window,
               gint64    now)
{
  if (window->count < self->limit)
    {
      if (window->count == window->capacity)
        {
          window->capacity = MIN (self->limit, MAX (8, window->capacity * 2));
          window->starts = g_renew (gint64, window->starts, window->capacity);
        }
      window->starts[window->count++] = now;
    }
  else
    {
      window->starts[window->head] = now;
      window->head = window->head + 1 == self->limit ? 0 : window->head + 1;
    }
  window->newest = now;
}

/* Whether @window lets a job start at @now; if not, when it will */
static gboolean
window_admits (RateGate     *self,
               const Window *window,
               gint64        now,
               gint64       *retry_at)
{
  gint64 oldest;

  if (window == NULL || window->count < self->limit)
    return TRUE;
  oldest = window->starts[window->head];
  if (now - oldest >= self->interval_us)
    return TRUE;
  *retry_at = oldest + self->interval_us;
  return FALSE;
}

/* }}} */

/* Windows per key {{{ */

static Window *
keyed_lookup (RateGate   *self,
              const char *key)
{
  return key != NULL ? g_hash_table_lookup (self->windows, key) : self->keyless;
}

static void
keyed_unlink (RateGate *self,
              Window   *window)
{
  if (window->older != NULL)
    window->older->newer = window->newer;
  else
    self->oldest = window->newer;
  if (window->newer != NULL)
    window->newer->older = window->older;
  else
    self->newest = window->older;
  window->older = window->newer = NULL;
}

static void
keyed_link_newest (RateGate *self,
                   Window   *window)
{
  window->older = self->newest;
  window->newer = NULL;
  if (self->newest != NULL)
    self->newest->newer = window;
  else
    self->oldest = window;
  self->newest = window;
}

static Window *
keyed_ensure (RateGate   *self,
              const char *key)
{
  Window *window = keyed_lookup (self, key);

  if (window != NULL)
    {
      keyed_unlink (self, window);
      return window;
    }

  window = g_new0 (Window, 1);
  window->key = key != NULL ? tp_key_ref (key) : NULL;
  if (key != NULL)
    g_hash_table_insert (self->windows, (gpointer) window->key, window);
  else
    self->keyless = window;
  return window;
}

static void
keyed_drop (RateGate *self,
            Window   *window)
{
  keyed_unlink (self, window);
  if (window->key != NULL)
    g_hash_table_remove (self->windows, window->key);
  else
    self->keyless = NULL;
  window_free (window);
}

/* Drops the windows whose newest start is an interval old at @now */
static void
keyed_drop_idle (RateGate *self,
                 gint64    now)
{
  while (self->oldest != NULL && now - self->oldest->newest >= self->interval_us)
    keyed_drop (self, self->oldest);
}

/* }}} */

static gboolean
rate_create (GKeyFile     *config,
             const char   *group,
             TpGateHost   *host,
             gpointer     *gate,
             GError      **error)
{
  guint limit = 0;
  guint interval_ms = RATE_DEFAULT_INTERVAL_MS;
  gboolean per_key = FALSE;
  RateGate *self;

  if (!required_key_get_uint (config, group, host, "rate", "rate-limit",
                              "the most starts in any window of rate-interval-ms",
                              1, RATE_MAX_LIMIT, &limit, error) ||
      !tp_config_get_uint (config, group, "rate-interval-ms", 1, RATE_MAX_INTERVAL_MS,
                           &interval_ms, NULL, error) ||
      !tp_config_get_boolean (config, group, "rate-per-key", &per_key, NULL, error))
    return FALSE;

  self = g_new0 (RateGate, 1);
  self->limit = limit;
  self->interval_us = (gint64) interval_ms * 1000;
  self->per_key = per_key;
  if (per_key)
    self->windows = g_hash_table_new (g_direct_hash, g_direct_equal);
  *gate = self;
  return TRUE;
}

static void
rate_destroy (gpointer gate)
{
  RateGate *self = gate;

  while (self->oldest != NULL)
    keyed_drop (self, self->oldest);
  g_clear_pointer (&self->windows, g_hash_table_unref);
  g_free (self->all.starts);
  g_free (self);
}

static TpGateVerdict
rate_admit (gpointer      gate,
            const TpJob  *job,
            gint64        now,
            gint64       *retry_at,
            GError      **error)
{
  RateGate *self = gate;

  if (!self->per_key)
    return window_admits (self, &self->all, now, retry_at) ? TP_GATE_ADMIT : TP_GATE_HOLD;

  return window_admits (self, keyed_lookup (self, tp_job_get_key (job)), now, retry_at) ?
         TP_GATE_ADMIT : TP_GATE_HOLD_KEY;
}

static void
rate_started (gpointer     gate,
              const TpJob *job,
              gint64       now)
{
  RateGate *self = gate;
  Window *window;

  if (!self->per_key)
    {
      window_record (self, &self->all, now);
      return;
    }

  window = keyed_ensure (self, tp_job_get_key (job));
  window_record (self, window, now);
  keyed_link_newest (self, window);
  keyed_drop_idle (self, now);
}

static const TpGateStrategy rate_strategy = {
  .struct_size = sizeof (TpGateStrategy),
  .name = "rate",
  .description = "At most rate-limit starts in any window of rate-interval-ms, optionally per key",
  .keys = rate_keys,
  .create = rate_create,
  .destroy = rate_destroy,
  .admit = rate_admit,
  .started = rate_started,
  .ended = NULL,
};

static const TpGateStrategy * const rate_gates[] = { &rate_strategy, NULL };

TP_PLUGIN_DEFINE_WITH_GATES ("gate-rate", "1.0", "Rate gate (sliding window, optionally per key)",
                             NULL, NULL, rate_gates)

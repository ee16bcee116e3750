/* gate-per-key.c: the per-key gate
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * At most per-key-limit jobs of one key running at once: a host that takes
 * two connections, a database that takes one writer per table. A job whose
 * key is at its limit is refused alone (TP_GATE_HOLD_KEY): jobs of other
 * keys go on, and the pool offers the key again when one of its jobs ends.
 * Jobs without a key are not limited by this gate.
 *
 * The gate counts the running jobs of each key in a hash table. Keys are
 * interned (see tp_job_get_key()): the table hashes and compares their
 * addresses, never their text, and holds a reference on each key it keeps.
 * A key whose last job ended stays in the table, idle, so that a key whose
 * jobs follow one another (per-key-limit = 1, the common case) costs one
 * lookup by address for each of admit and end, and nothing else: a start
 * takes the count that admit found, when it is of the same key.
 * Idle keys are dropped all at once when they are more than the keys
 * running and more than PER_KEY_IDLE_KEPT: memory is bounded by twice the
 * keys running now, plus a constant, and each drop pays for the ends that
 * made its keys idle.
 */

#include <taskpool/tp-plugin.h>

#include "../common/required-key.h"

/* Idle keys kept at least, whatever the keys running */
#define PER_KEY_IDLE_KEPT 64

typedef struct {
  const char *key;      /* the interned key, a reference of the gate's */
  guint       running;  /* jobs of the key running; 0 for an idle key */
} KeyCount;

typedef struct {
  guint       limit;
  guint       n_idle;    /* keys in the table with no job running */
  GHashTable *running;   /* key → KeyCount, by address */
  KeyCount   *admitted;  /* what the last admit found, for the start that follows */
} PerKeyGate;

static const char * const per_key_keys[] = { "per-key-limit", NULL };

static void
key_count_free (gpointer data)
{
  KeyCount *count = data;

  tp_key_unref (count->key);
  g_free (count);
}

static gboolean
key_count_is_idle (gpointer key,
                   gpointer value,
                   gpointer user_data)
{
  return ((KeyCount *) value)->running == 0;
}

static gboolean
per_key_create (GKeyFile     *config,
                const char   *group,
                TpGateHost   *host,
                gpointer     *gate,
                GError      **error)
{
  guint limit = 0;
  PerKeyGate *self;

  /* More than a pool's largest size would never refuse a job */
  if (!required_key_get_uint (config, group, host, "per-key", "per-key-limit",
                              "the most jobs of one key running at once",
                              1, TP_POOL_MAX_SIZE, &limit, error))
    return FALSE;

  self = g_new0 (PerKeyGate, 1);
  self->limit = limit;
  self->running = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, key_count_free);
  *gate = self;
  return TRUE;
}

static void
per_key_destroy (gpointer gate)
{
  PerKeyGate *self = gate;

  g_hash_table_unref (self->running);
  g_free (self);
}

static TpGateVerdict
per_key_admit (gpointer      gate,
               const TpJob  *job,
               gint64        now,
               gint64       *retry_at,
               GError      **error)
{
  PerKeyGate *self = gate;
  const char *key = tp_job_get_key (job);
  KeyCount *count;

  if (key == NULL)
    return TP_GATE_ADMIT;
  /* Refused until a job of the key ends: no retry time */
  count = g_hash_table_lookup (self->running, key);
  if (count != NULL && count->running >= self->limit)
    return TP_GATE_HOLD_KEY;
  self->admitted = count;
  return TP_GATE_ADMIT;
}

static void
per_key_started (gpointer     gate,
                 const TpJob *job,
                 gint64       now)
{
  PerKeyGate *self = gate;
  const char *key = tp_job_get_key (job);
  KeyCount *count;

  if (key == NULL)
    return;

  /* Another gate may have refused the job admit was last asked about */
  count = self->admitted;
  if (count == NULL || count->key != key)
    count = g_hash_table_lookup (self->running, key);
  if (count == NULL)
    {
      count = g_new (KeyCount, 1);
      count->key = tp_key_ref (key);
      count->running = 0;
      g_hash_table_insert (self->running, (gpointer) count->key, count);
    }
  else if (count->running == 0)
    self->n_idle--;
  count->running++;
}

static void
per_key_ended (gpointer     gate,
               const TpJob *job)
{
  PerKeyGate *self = gate;
  const char *key = tp_job_get_key (job);
  KeyCount *count;

  if (key == NULL)
    return;

  count = g_hash_table_lookup (self->running, key);
  if (count == NULL || count->running == 0)
    {
      g_critical ("Gate “per-key”: a job of key “%s” ended that the gate never started", key);
      return;
    }
  if (--count->running > 0)
    return;

  /* Idle keys go once they outnumber the busy ones and the constant */
  self->n_idle++;
  if (self->n_idle > PER_KEY_IDLE_KEPT && self->n_idle > g_hash_table_size (self->running) / 2)
    {
      g_hash_table_foreach_remove (self->running, key_count_is_idle, NULL);
      self->n_idle = 0;
      self->admitted = NULL;
    }
}

static const TpGateStrategy per_key_strategy = {
  .struct_size = sizeof (TpGateStrategy),
  .name = "per-key",
  .description = "At most per-key-limit jobs of one key running at once",
  .keys = per_key_keys,
  .create = per_key_create,
  .destroy = per_key_destroy,
  .admit = per_key_admit,
  .started = per_key_started,
  .ended = per_key_ended,
};

static const TpGateStrategy * const per_key_gates[] = { &per_key_strategy, NULL };

TP_PLUGIN_DEFINE_WITH_GATES ("gate-per-key", "1.0", "Per-key gate (running jobs of one key)",
                             NULL, NULL, per_key_gates)

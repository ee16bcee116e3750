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
 * The gate counts the running jobs of each key in a hash table; a key
 * leaves it when its last job ends, so memory is bounded by the keys
 * running now.
 */

#include <string.h>

#include <taskpool/tp-plugin.h>

#include "../common/required-key.h"

typedef struct {
  guint  running;        /* jobs of the key running, never 0 in the table */
  char   key[];
} KeyCount;

typedef struct {
  guint       limit;
  GHashTable *running;   /* key → KeyCount */
} PerKeyGate;

static const char * const per_key_keys[] = { "per-key-limit", NULL };

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
  self->running = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
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

  count = g_hash_table_lookup (self->running, key);
  if (count == NULL)
    {
      gsize size = strlen (key) + 1;

      count = g_malloc (sizeof (KeyCount) + size);
      count->running = 0;
      memcpy (count->key, key, size);
      g_hash_table_insert (self->running, count->key, count);
    }
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
  if (count == NULL)
    {
      g_critical ("Gate “per-key”: a job of key “%s” ended that the gate never started", key);
      return;
    }
  if (--count->running == 0)
    g_hash_table_remove (self->running, key);
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

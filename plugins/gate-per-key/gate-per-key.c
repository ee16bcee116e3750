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
 * running now. Keys are interned (see tp_job_get_key()): the table hashes
 * and compares their addresses, never their text, holds the count itself
 * as its value, and holds a reference on each key it keeps.
 */

#include <taskpool/tp-plugin.h>

#include "../common/required-key.h"

typedef struct {
  guint       limit;
  GHashTable *running;   /* interned key (a reference) → jobs running, never 0 */
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
  /* No destroy functions: a count replaced in place must not release the
   * key it was looked up with; the gate releases its own reference */
  self->running = g_hash_table_new (g_direct_hash, g_direct_equal);
  *gate = self;
  return TRUE;
}

static void
per_key_destroy (gpointer gate)
{
  PerKeyGate *self = gate;
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->running);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ref_string_release (key);
  g_hash_table_unref (self->running);
  g_free (self);
}

static inline guint
per_key_running (PerKeyGate *self,
                 const char *key)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (self->running, key));
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

  /* Refused until a job of the key ends: no retry time */
  if (key != NULL && per_key_running (self, key) >= self->limit)
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
  guint running;

  if (key == NULL)
    return;

  running = per_key_running (self, key);
  /* A new key is kept with a reference of the gate's; a known one keeps
   * the key it was first kept with (the same string) */
  g_hash_table_insert (self->running, running == 0 ? g_ref_string_acquire ((char *) key)
                                                   : (gpointer) key,
                       GUINT_TO_POINTER (running + 1));
}

static void
per_key_ended (gpointer     gate,
               const TpJob *job)
{
  PerKeyGate *self = gate;
  const char *key = tp_job_get_key (job);
  guint running;

  if (key == NULL)
    return;

  running = per_key_running (self, key);
  if (running == 0)
    {
      g_critical ("Gate “per-key”: a job of key “%s” ended that the gate never started", key);
      return;
    }
  if (running > 1)
    {
      g_hash_table_insert (self->running, (gpointer) key, GUINT_TO_POINTER (running - 1));
      return;
    }
  /* The key kept is @key: the job still holds it, so releasing the gate's
   * reference after the table let it go is safe */
  g_hash_table_remove (self->running, key);
  g_ref_string_release ((char *) key);
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

/* gates.c: a working plugin with gates “ticket”, “minimal” and “silent”
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Not broken: it must load, and its gates be found by name.
 *   ticket:  admits at most `ticket-limit` (default 1) started jobs that
 *            have not ended; every function is set
 *   minimal: admits everything, with only the required functions (no
 *            destroy, no ended) and no state
 *   silent:  its create fails without saying why, a plugin bug the registry
 *            turns into an error that names the plugin */

#include <taskpool/tp-plugin.h>

typedef struct {
  guint limit;
  guint running;
} Ticket;

static const char * const ticket_keys[] = { "ticket-limit", NULL };

static gboolean
ticket_create (GKeyFile     *config,
               const char   *group,
               TpGateHost   *host,
               gpointer     *gate,
               GError      **error)
{
  guint limit = 1;
  Ticket *self;

  if (!tp_config_get_uint (config, group, "ticket-limit", 1, G_MAXUINT, &limit, NULL, error))
    return FALSE;
  self = g_new0 (Ticket, 1);
  self->limit = limit;
  *gate = self;
  return TRUE;
}

static void
ticket_destroy (gpointer gate)
{
  Ticket *self = gate;

  g_assert_cmpuint (self->running, ==, 0);
  g_free (self);
}

static TpGateVerdict
ticket_admit (gpointer      gate,
              const TpJob  *job,
              gint64        now,
              gint64       *retry_at,
              GError      **error)
{
  Ticket *self = gate;

  return self->running < self->limit ? TP_GATE_ADMIT : TP_GATE_HOLD;
}

static void
ticket_started (gpointer      gate,
                const TpJob  *job,
                gint64        now)
{
  Ticket *self = gate;

  self->running++;
}

static void
ticket_ended (gpointer      gate,
              const TpJob  *job)
{
  Ticket *self = gate;

  g_assert_cmpuint (self->running, >, 0);
  self->running--;
}

static const TpGateStrategy ticket_gate = {
  .struct_size = sizeof (TpGateStrategy),
  .name = "ticket",
  .description = "At most ticket-limit jobs at once",
  .keys = ticket_keys,
  .create = ticket_create,
  .destroy = ticket_destroy,
  .admit = ticket_admit,
  .started = ticket_started,
  .ended = ticket_ended,
};

static gboolean
minimal_create (GKeyFile     *config,
                const char   *group,
                TpGateHost   *host,
                gpointer     *gate,
                GError      **error)
{
  *gate = NULL;
  return TRUE;
}

static TpGateVerdict
minimal_admit (gpointer      gate,
               const TpJob  *job,
               gint64        now,
               gint64       *retry_at,
               GError      **error)
{
  return TP_GATE_ADMIT;
}

static void
minimal_started (gpointer      gate,
                 const TpJob  *job,
                 gint64        now)
{
}

static const TpGateStrategy minimal_gate = {
  .struct_size = TP_GATE_STRATEGY_SIZE_FIRST,
  .name = "minimal",
  .description = "Admits every job",
  .create = minimal_create,
  .admit = minimal_admit,
  .started = minimal_started,
};

static gboolean
silent_create (GKeyFile     *config,
               const char   *group,
               TpGateHost   *host,
               gpointer     *gate,
               GError      **error)
{
  return FALSE;
}

static const TpGateStrategy silent_gate = {
  .struct_size = sizeof (TpGateStrategy),
  .name = "silent",
  .description = "Cannot be made, and does not say why",
  .create = silent_create,
  .admit = minimal_admit,
  .started = minimal_started,
};

static const TpGateStrategy * const gates[] = { &ticket_gate, &minimal_gate, &silent_gate, NULL };

TP_PLUGIN_DEFINE_WITH_GATES ("gates", "1.0", "Gates for the tests", NULL, NULL, gates)

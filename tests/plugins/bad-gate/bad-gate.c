/* bad-gate.c: a gate the registry must refuse
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Broken for one reason per build, chosen with -DBAD_GATE_CASE=:
 *   1 gate-no-create:  gate “nocreate” without create
 *   2 gate-no-admit:   gate “noadmit” without admit
 *   3 gate-no-started: gate “nostarted” without started
 *   4 gate-bad-name:   gate “bad.name” (a dot is not allowed)
 *   5 gate-twice:      gate “twice” listed twice
 *   6 gate-taken:      gate “ticket”, which the fixture “gates” provides */

#include <taskpool/tp-plugin.h>

#ifndef BAD_GATE_CASE
# error "build with -DBAD_GATE_CASE=1 to 6"
#endif

static gboolean
bad_create (GKeyFile     *config,
            const char   *group,
            TpGateHost   *host,
            gpointer     *gate,
            GError      **error)
{
  return TRUE;
}

static TpGateVerdict
bad_admit (gpointer      gate,
           const TpJob  *job,
           gint64        now,
           gint64       *retry_at,
           GError      **error)
{
  return TP_GATE_ADMIT;
}

static void
bad_started (gpointer      gate,
             const TpJob  *job,
             gint64        now)
{
}

#if BAD_GATE_CASE == 1
# define BAD_GATE_NAME "nocreate"
#elif BAD_GATE_CASE == 2
# define BAD_GATE_NAME "noadmit"
#elif BAD_GATE_CASE == 3
# define BAD_GATE_NAME "nostarted"
#elif BAD_GATE_CASE == 4
# define BAD_GATE_NAME "bad.name"
#elif BAD_GATE_CASE == 5
# define BAD_GATE_NAME "twice"
#else
# define BAD_GATE_NAME "ticket"
#endif

static const TpGateStrategy bad_gate = {
  .struct_size = sizeof (TpGateStrategy),
  .name = BAD_GATE_NAME,
  .description = "A gate to refuse",
  .create = BAD_GATE_CASE == 1 ? NULL : bad_create,
  .admit = BAD_GATE_CASE == 2 ? NULL : bad_admit,
  .started = BAD_GATE_CASE == 3 ? NULL : bad_started,
};

static const TpGateStrategy * const bad_gates[] = {
  &bad_gate, BAD_GATE_CASE == 5 ? &bad_gate : NULL, NULL
};

TP_PLUGIN_DEFINE_WITH_GATES ("bad-gate", "1.0", "A gate to refuse", NULL, NULL, bad_gates)

/* tp-gate-test-util.h: a gate driven through its vtable, for the gate tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "tp-test-util.h"
#include "tp-gate-private.h"
#include "tp-job-private.h"

G_BEGIN_DECLS

/* One gate made from a keyfile group, with a host on a context of its own */
typedef struct {
  const TpGateStrategy *vt;
  GMainContext         *context;
  TpGateHost           *host;
  gpointer              gate;
  guint                 wakes;     /* how many times the host's wake ran */
} GateFixture;

/* The gate @gate_name of the module @module_name (gate-rate …), opened from the
 * folders of TASKPOOL_PLUGIN_PATH with GModule and checked */
const TpGateStrategy *gate_test_lookup      (const char   *module_name,
                                             const char   *gate_name);

/* Makes the fixture's gate from @keyfile_data, group [pool]; %FALSE with @error set
 * when the gate refuses the configuration (the fixture then has no gate) */
gboolean              gate_fixture_init     (GateFixture  *fixture,
                                             const char   *module_name,
                                             const char   *gate_name,
                                             const char   *keyfile_data,
                                             GError      **error);
void                  gate_fixture_clear    (GateFixture  *fixture);

/* Asks the gate; checks that a refusal with a retry time gives one in the future, and
 * that an admission leaves *retry_at alone */
TpGateVerdict         gate_admit            (GateFixture  *fixture,
                                             TpJob        *job,
                                             gint64        now,
                                             gint64       *retry_at);
/* Asks the gate and, if it admits, tells it the job started; returns whether it did */
gboolean              gate_try_start        (GateFixture  *fixture,
                                             TpJob        *job,
                                             gint64        now,
                                             gint64       *retry_at);

G_END_DECLS

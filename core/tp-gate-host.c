/* tp-gate-host.c: what a pool gives each of its gates
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A gate that refuses a job may be driven from outside the pool (a server's
 * reply, a network monitor): it wakes the pool through its host. A wake may
 * come from any thread, and from inside the gate's own admit() or ended(),
 * which run with the pool's lock held: so it takes no lock of the pool's,
 * and only makes the host's own source ready on the pool's context, where
 * the pool then asks the gate again.
 */

#include "config.h"

#include "tp-gate-private.h"

struct _TpGateHost
{
  GSource       *source;
  GMainContext  *context;
  char          *name;
};

typedef struct {
  GSource         source;
  TpGateWakeFunc  func;
  gpointer        data;
  GDestroyNotify  data_destroy;
} TpGateWakeSource;

static gboolean
tp_gate_wake_source_dispatch (GSource     *source,
                              GSourceFunc  callback,
                              gpointer     user_data)
{
  TpGateWakeSource *wake = (TpGateWakeSource *) source;

  g_source_set_ready_time (source, -1);
  wake->func (wake->data);
  return G_SOURCE_CONTINUE;
}

static void
tp_gate_wake_source_finalize (GSource *source)
{
  TpGateWakeSource *wake = (TpGateWakeSource *) source;

  if (wake->data_destroy != NULL)
    wake->data_destroy (wake->data);
}

static GSourceFuncs tp_gate_wake_source_funcs = {
  .dispatch = tp_gate_wake_source_dispatch,
  .finalize = tp_gate_wake_source_finalize,
};

/* @func runs on @context after one or more wakes, with @data, which the
 * source frees when it goes: possibly after the host, if it was dispatching */
TpGateHost *
tp_gate_host_new_full (GMainContext   *context,
                       const char     *name,
                       TpGateWakeFunc  func,
                       gpointer        data,
                       GDestroyNotify  data_destroy)
{
  TpGateHost *host = g_new0 (TpGateHost, 1);
  TpGateWakeSource *wake;

  g_assert (context != NULL);
  g_assert (func != NULL);

  host->context = g_main_context_ref (context);
  host->name = g_strdup (name);
  wake = (TpGateWakeSource *) g_source_new (&tp_gate_wake_source_funcs, sizeof (TpGateWakeSource));
  wake->func = func;
  wake->data = data;
  wake->data_destroy = data_destroy;
  g_source_set_static_name ((GSource *) wake, "[taskpool] gate wake");
  g_source_set_ready_time ((GSource *) wake, -1);
  g_source_attach ((GSource *) wake, context);
  host->source = (GSource *) wake;
  return host;
}

/* For tests of a gate: @data must outlive the host */
TpGateHost *
tp_gate_host_new (GMainContext   *context,
                  const char     *name,
                  TpGateWakeFunc  func,
                  gpointer        data)
{
  return tp_gate_host_new_full (context, name, func, data, NULL);
}

void
tp_gate_host_free (TpGateHost *host)
{
  if (host == NULL)
    return;
  g_source_destroy (host->source);
  g_source_unref (host->source);
  g_main_context_unref (host->context);
  g_free (host->name);
  g_free (host);
}

/**
 * tp_gate_host_get_main_context:
 * @host: a gate's host
 *
 * Gets the pool's main context: where a gate attaches what drives it (a
 * server connection, a monitor's signals).
 *
 * Returns: (transfer none): the pool's main context
 *
 * Since: 1.2
 */
GMainContext *
tp_gate_host_get_main_context (TpGateHost *host)
{
  g_return_val_if_fail (host != NULL, NULL);

  return host->context;
}

/**
 * tp_gate_host_get_name:
 * @host: a gate's host
 *
 * Gets a name for the pool in messages: its keyfile group, or its kind.
 *
 * Returns: (transfer none): the pool's name
 *
 * Since: 1.2
 */
const char *
tp_gate_host_get_name (TpGateHost *host)
{
  g_return_val_if_fail (host != NULL, NULL);

  return host->name;
}

/**
 * tp_gate_host_wake:
 * @host: a gate's host
 *
 * Makes the pool ask the gate again, soon, on the pool's main context: for
 * a gate whose refusal ends on an event of its own (a slot granted by a
 * server, the network coming back). Several wakes before the pool gets to
 * it are one. Safe from any thread, and from inside the gate's own
 * functions.
 *
 * Since: 1.2
 */
void
tp_gate_host_wake (TpGateHost *host)
{
  g_return_if_fail (host != NULL);

  g_source_set_ready_time (host->source, 0);
}

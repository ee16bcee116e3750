/* tp-gate-private.h: gate hosts, as the pool makes them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <taskpool/tp-plugin.h>

G_BEGIN_DECLS

typedef void (*TpGateWakeFunc) (gpointer data);

TpGateHost *tp_gate_host_new      (GMainContext   *context,
                                   const char     *name,
                                   TpGateWakeFunc  func,
                                   gpointer        data);
TpGateHost *tp_gate_host_new_full (GMainContext   *context,
                                   const char     *name,
                                   TpGateWakeFunc  func,
                                   gpointer        data,
                                   GDestroyNotify  data_destroy);
void        tp_gate_host_free     (TpGateHost     *host);

G_END_DECLS

/* required-key.h: a keyfile key a gate cannot do without
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A gate whose limit has no sensible default (how many calls per second an
 * API allows, how many connections a host takes) refuses to be made without
 * it: a missing key is an error that names the gate, the group and the key,
 * never a silent default.
 */

#pragma once

#include <taskpool/tp-plugin.h>

/* Reads @key like tp_config_get_uint(), and fails if it is absent */
static inline gboolean
required_key_get_uint (GKeyFile    *config,
                       const char  *group,
                       TpGateHost  *host,
                       const char  *gate,
                       const char  *key,
                       const char  *meaning,
                       guint        min_value,
                       guint        max_value,
                       guint       *value,
                       GError     **error)
{
  gboolean was_set = FALSE;

  if (!tp_config_get_uint (config, group, key, min_value, max_value, value, &was_set, error))
    return FALSE;
  if (was_set)
    return TRUE;

  if (config != NULL && group != NULL)
    g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                 "Key “%s” is missing in group “%s”: the gate “%s” needs %s, "
                 "a whole number from %u to %u",
                 key, group, gate, meaning, min_value, max_value);
  else
    g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                 "The gate “%s” of pool “%s” needs key “%s” (%s, a whole number from %u to %u), "
                 "and the pool has no keyfile group to read it from",
                 gate, host != NULL ? tp_gate_host_get_name (host) : "(unnamed)", key, meaning,
                 min_value, max_value);
  return FALSE;
}

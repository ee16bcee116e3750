/* tp-registry-private.h: the process-wide plugin registry
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <taskpool/tp-plugin.h>

G_BEGIN_DECLS

#define TP_QUEUE_KNOWN_FLAGS (TP_QUEUE_IGNORES_SUBMIT_TIME)

/* A vtable built before the flags existed has none */
static inline TpQueueFlags
tp_queue_strategy_get_flags (const TpQueueStrategy *queue)
{
  if (queue->struct_size < G_STRUCT_OFFSET (TpQueueStrategy, flags) + sizeof (TpQueueFlags))
    return TP_QUEUE_FLAGS_NONE;
  return queue->flags;
}

gboolean               tp_registry_load_file    (const char          *path,
                                                 GError             **error);
const TpQueueStrategy *tp_registry_lookup_queue (const char * const  *extra_dirs,
                                                 const char          *name,
                                                 GError             **error);
const TpScaleStrategy *tp_registry_lookup_scale (const char * const  *extra_dirs,
                                                 const char          *name,
                                                 GError             **error);
char                  *tp_registry_describe     (const char * const  *extra_dirs);

G_END_DECLS

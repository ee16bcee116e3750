/* tp-pool-gi.h: companions of TpPool for language bindings
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (TASKPOOL_INSIDE) && !defined (TASKPOOL_COMPILATION)
# error "Only <taskpool/taskpool.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tp-version-macros.h"
#include "tp-pool.h"

G_BEGIN_DECLS

TP_AVAILABLE_IN_ALL
GValue       *tp_pool_submit_value_finish    (TpPool               *self,
                                              GAsyncResult         *result,
                                              GError              **error);

G_END_DECLS

/* taskpool.h: the libtaskpool umbrella header
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#define TASKPOOL_INSIDE
# include "tp-version-macros.h"
# include "tp-enum-types.h"
# include "tp-pool.h"
# include "tp-job-options.h"
# include "tp-job-info.h"
# include "tp-pool-gi.h"
#undef TASKPOOL_INSIDE

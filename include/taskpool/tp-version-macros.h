/* tp-version-macros.h: symbol visibility and availability
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (TASKPOOL_INSIDE) && !defined (TASKPOOL_COMPILATION)
# error "Only <taskpool/taskpool.h> can be included directly."
#endif

#include <glib.h>

#ifndef _TP_EXTERN
# define _TP_EXTERN __attribute__((visibility ("default"))) extern
#endif

#define TP_VERSION_1_0 (G_ENCODE_VERSION (1, 0))

#define TP_AVAILABLE_IN_ALL _TP_EXTERN
#define TP_AVAILABLE_IN_1_0 _TP_EXTERN

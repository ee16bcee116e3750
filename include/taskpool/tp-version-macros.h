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
#define TP_VERSION_1_1 (G_ENCODE_VERSION (1, 1))
#define TP_VERSION_1_2 (G_ENCODE_VERSION (1, 2))
#define TP_VERSION_1_3 (G_ENCODE_VERSION (1, 3))
#define TP_VERSION_1_4 (G_ENCODE_VERSION (1, 4))

#define TP_AVAILABLE_IN_ALL _TP_EXTERN
#define TP_AVAILABLE_IN_1_0 _TP_EXTERN
#define TP_AVAILABLE_IN_1_1 _TP_EXTERN
#define TP_AVAILABLE_IN_1_2 _TP_EXTERN
#define TP_AVAILABLE_IN_1_3 _TP_EXTERN
#define TP_AVAILABLE_IN_1_4 _TP_EXTERN

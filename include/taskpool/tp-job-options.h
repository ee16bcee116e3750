/* tp-job-options.h: how one job is to be run
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

#define TP_TYPE_JOB_OPTIONS (tp_job_options_get_type ())

/* TpJobOptions is declared in tp-pool.h, which submits with it */

TP_AVAILABLE_IN_1_2
GType          tp_job_options_get_type          (void) G_GNUC_CONST;
TP_AVAILABLE_IN_1_2
TpJobOptions  *tp_job_options_new               (void);
TP_AVAILABLE_IN_1_2
TpJobOptions  *tp_job_options_ref               (TpJobOptions  *options);
TP_AVAILABLE_IN_1_2
void           tp_job_options_unref             (TpJobOptions  *options);

TP_AVAILABLE_IN_1_2
void           tp_job_options_set_flags         (TpJobOptions  *options,
                                                 TpSubmitFlags  flags);
TP_AVAILABLE_IN_1_2
TpSubmitFlags  tp_job_options_get_flags         (TpJobOptions  *options);
TP_AVAILABLE_IN_1_2
void           tp_job_options_set_weight        (TpJobOptions  *options,
                                                 int            weight);
TP_AVAILABLE_IN_1_2
int            tp_job_options_get_weight        (TpJobOptions  *options);
TP_AVAILABLE_IN_1_2
gboolean       tp_job_options_get_weight_set    (TpJobOptions  *options);
TP_AVAILABLE_IN_1_2
void           tp_job_options_set_key           (TpJobOptions  *options,
                                                 const char    *key);
TP_AVAILABLE_IN_1_2
const char    *tp_job_options_get_key           (TpJobOptions  *options);
TP_AVAILABLE_IN_1_2
void           tp_job_options_set_queue_timeout (TpJobOptions  *options,
                                                 guint          timeout_ms);
TP_AVAILABLE_IN_1_2
guint          tp_job_options_get_queue_timeout (TpJobOptions  *options);
TP_AVAILABLE_IN_1_2
void           tp_job_options_set_run_timeout   (TpJobOptions  *options,
                                                 guint          timeout_ms);
TP_AVAILABLE_IN_1_2
guint          tp_job_options_get_run_timeout   (TpJobOptions  *options);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TpJobOptions, tp_job_options_unref)

G_END_DECLS

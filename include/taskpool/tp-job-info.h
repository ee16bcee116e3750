/* tp-job-info.h: a labelled job, as a list of jobs shows it
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

/**
 * TpJobState:
 * @TP_JOB_STATE_QUEUED: waiting in the queue for a worker
 * @TP_JOB_STATE_HELD: waiting because a gate holds it for its key (a limit per
 *   key, a rate per key), or because the pool is held ([method@TaskPool.Pool.hold])
 * @TP_JOB_STATE_RUNNING: running on a worker
 *
 * Where a job in [method@TaskPool.Pool.get_jobs] is. A job leaves the list
 * when it completes.
 *
 * Since: 1.4
 */
typedef enum {
  TP_JOB_STATE_QUEUED,
  TP_JOB_STATE_HELD,
  TP_JOB_STATE_RUNNING,
} TpJobState;

#define TP_TYPE_JOB_INFO (tp_job_info_get_type ())

TP_AVAILABLE_IN_1_4
G_DECLARE_FINAL_TYPE (TpJobInfo, tp_job_info, TP, JOB_INFO, GObject)

TP_AVAILABLE_IN_1_4
const char   *tp_job_info_get_label        (TpJobInfo     *self);
TP_AVAILABLE_IN_1_4
const char   *tp_job_info_get_key          (TpJobInfo     *self);
TP_AVAILABLE_IN_1_4
int           tp_job_info_get_weight       (TpJobInfo     *self);
TP_AVAILABLE_IN_1_4
TpJobState    tp_job_info_get_state        (TpJobInfo     *self);
TP_AVAILABLE_IN_1_4
gint64        tp_job_info_get_submit_time  (TpJobInfo     *self);
TP_AVAILABLE_IN_1_4
gint64        tp_job_info_get_start_time   (TpJobInfo     *self);
TP_AVAILABLE_IN_1_4
double        tp_job_info_get_progress     (TpJobInfo     *self);
TP_AVAILABLE_IN_1_4
void          tp_job_info_cancel           (TpJobInfo     *self);

TP_AVAILABLE_IN_1_4
GListModel   *tp_pool_get_jobs             (TpPool        *self);
TP_AVAILABLE_IN_1_4
void          tp_task_set_progress         (GTask         *task,
                                            double         fraction);
TP_AVAILABLE_IN_1_4
void          tp_job_options_set_label     (TpJobOptions  *options,
                                            const char    *label);
TP_AVAILABLE_IN_1_4
const char   *tp_job_options_get_label     (TpJobOptions  *options);

G_END_DECLS

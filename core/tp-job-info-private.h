/* tp-job-info-private.h: the pool's side of labelled jobs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <taskpool/taskpool.h>

#include "tp-job-private.h"

G_BEGIN_DECLS

#define TP_TYPE_JOB_LIST_MODEL (tp_job_list_model_get_type ())
G_DECLARE_FINAL_TYPE (TpJobListModel, tp_job_list_model, TP, JOB_LIST_MODEL, GObject)

TpJobInfo *tp_job_info_new                (TpJob       *job,
                                           const char  *label);
void       tp_job_info_attach_task        (TpJobInfo   *self,
                                           GTask       *task);

void       tp_pool_info_added_locked      (TpPool      *self,
                                           TpJob       *job);
void       tp_pool_info_changed_locked    (TpPool      *self,
                                           TpJobInfo   *info);
void       tp_pool_info_set_state_locked  (TpPool      *self,
                                           TpJob       *job,
                                           TpJobState   state);
void       tp_pool_info_removed_locked    (TpPool      *self,
                                           TpJob       *job);
void       tp_pool_flush_infos            (TpPool      *self);

G_END_DECLS

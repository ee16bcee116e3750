/* tp-gate-driver.h: a gate driven as a pool drives it, for the redis tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <taskpool/tp-plugin.h>

G_BEGIN_DECLS

typedef struct _TpGateDriver TpGateDriver;
typedef struct _TpDriverJob  TpDriverJob;

/* Runs a job: on the driver's context, or on a worker thread for a thread
 * job. The job ends when tp_driver_job_done() is called, from any thread */
typedef void (*TpDriverRunFunc)    (TpDriverJob  *job,
                                    gpointer      data);
/* Called on the driver's context once per job: @error is NULL for a job
 * that ran, or the gate's error for a job it failed */
typedef void (*TpDriverFinishFunc) (TpDriverJob  *job,
                                    const GError *error,
                                    gpointer      data);

const TpGateStrategy *tp_gate_driver_load_strategy (const char          *module_path,
                                                    const char          *name,
                                                    GError             **error);

TpGateDriver *tp_gate_driver_new       (const TpGateStrategy *strategy,
                                        GKeyFile             *keyfile,
                                        const char           *group,
                                        guint                 workers,
                                        TpDriverRunFunc       run,
                                        TpDriverFinishFunc    finish,
                                        gpointer              data,
                                        GError              **error);
void          tp_gate_driver_free      (TpGateDriver         *self);

TpDriverJob  *tp_gate_driver_submit    (TpGateDriver         *self,
                                        guint                 id,
                                        gboolean              in_thread);
/* Removes a job that has not started; FALSE if it had */
gboolean      tp_gate_driver_cancel    (TpGateDriver         *self,
                                        TpDriverJob          *job);
guint         tp_gate_driver_running   (TpGateDriver         *self);
guint         tp_gate_driver_finished  (TpGateDriver         *self);
guint         tp_gate_driver_holds     (TpGateDriver         *self);

guint         tp_driver_job_get_id     (TpDriverJob          *job);
void          tp_driver_job_set_data   (TpDriverJob          *job,
                                        gpointer              data);
gpointer      tp_driver_job_get_data   (TpDriverJob          *job);
void          tp_driver_job_done       (TpDriverJob          *job);

G_END_DECLS

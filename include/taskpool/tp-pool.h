/* tp-pool.h: a pool that limits how many jobs run at once
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (TASKPOOL_INSIDE) && !defined (TASKPOOL_COMPILATION)
# error "Only <taskpool/taskpool.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tp-version-macros.h"

G_BEGIN_DECLS

/**
 * TP_POOL_MAX_SIZE:
 *
 * The largest number of workers a pool can have. Pools whose `max-size` is
 * not set use this value: it is a safety cap, not a practical limit.
 *
 * Since: 1.0
 */
#define TP_POOL_MAX_SIZE 4096

/**
 * TP_POOL_ERROR:
 *
 * The error domain of libtaskpool.
 *
 * Since: 1.0
 */
#define TP_POOL_ERROR (tp_pool_error_quark ())

/**
 * TpPoolError:
 * @TP_POOL_ERROR_NOT_ACCEPTING: the pool is not started, paused, closing or closed
 * @TP_POOL_ERROR_FULL: the queue is at capacity and %TP_SUBMIT_NO_WAIT was given
 * @TP_POOL_ERROR_CLOSED: the pool was closed before the job could run
 * @TP_POOL_ERROR_PLUGIN: a strategy or plugin could not be found or loaded
 * @TP_POOL_ERROR_CONFIG: an invalid kind, size, key or value
 * @TP_POOL_ERROR_JOB_LOST: a job dropped its #GTask without completing it
 * @TP_POOL_ERROR_TIMED_OUT: the job was not started within its queue timeout
 *   (Since: 1.2)
 * @TP_POOL_ERROR_UNAVAILABLE: a gate could not decide because what it depends
 *   on is unreachable, such as the server of a shared limit (Since: 1.3)
 *
 * Errors of the %TP_POOL_ERROR domain. A job cancelled through its
 * #GCancellable fails with %G_IO_ERROR_CANCELLED instead, and a job cancelled
 * by its run timeout with %G_IO_ERROR_TIMED_OUT.
 *
 * Since: 1.0
 */
typedef enum {
  TP_POOL_ERROR_NOT_ACCEPTING,
  TP_POOL_ERROR_FULL,
  TP_POOL_ERROR_CLOSED,
  TP_POOL_ERROR_PLUGIN,
  TP_POOL_ERROR_CONFIG,
  TP_POOL_ERROR_JOB_LOST,
  TP_POOL_ERROR_TIMED_OUT,
  TP_POOL_ERROR_UNAVAILABLE,
} TpPoolError;

/**
 * TpSubmitFlags:
 * @TP_SUBMIT_DEFAULT: an async job, run on the pool's main context; wait for room
 *   when the queue is full
 * @TP_SUBMIT_IN_THREAD: a blocking job, run on a thread of the pool's executor
 * @TP_SUBMIT_NO_WAIT: fail with %TP_POOL_ERROR_FULL instead of waiting for room
 *
 * Flags for [method@TaskPool.Pool.submit_full_async].
 *
 * Since: 1.0
 */
typedef enum /*< flags >*/ {
  TP_SUBMIT_DEFAULT   = 0,
  TP_SUBMIT_IN_THREAD = 1 << 0,
  TP_SUBMIT_NO_WAIT   = 1 << 1,
} TpSubmitFlags;

/**
 * TpCloseFlags:
 * @TP_CLOSE_DRAIN: run every queued job, then retire the workers
 * @TP_CLOSE_DISCARD_QUEUED: complete queued jobs with %TP_POOL_ERROR_CLOSED
 * @TP_CLOSE_CANCEL_RUNNING: also cancel the cancellables of running jobs; implies
 *   %TP_CLOSE_DISCARD_QUEUED
 *
 * How [method@TaskPool.Pool.close_async] treats the jobs still in the pool.
 *
 * Since: 1.0
 */
typedef enum /*< flags >*/ {
  TP_CLOSE_DRAIN          = 0,
  TP_CLOSE_DISCARD_QUEUED = 1 << 0,
  TP_CLOSE_CANCEL_RUNNING = 1 << 1,
} TpCloseFlags;

typedef struct _TpJobOptions TpJobOptions;

#define TP_TYPE_POOL (tp_pool_get_type ())

TP_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TpPool, tp_pool, TP, POOL, GObject)

TP_AVAILABLE_IN_ALL
GQuark        tp_pool_error_quark            (void);

TP_AVAILABLE_IN_ALL
TpPool       *tp_pool_new                    (const char           *kind,
                                              GError              **error);
TP_AVAILABLE_IN_ALL
TpPool       *tp_pool_new_from_keyfile       (GKeyFile             *keyfile,
                                              const char           *group,
                                              GError              **error);
TP_AVAILABLE_IN_ALL
gboolean      tp_pool_start                  (TpPool               *self,
                                              GError              **error);

TP_AVAILABLE_IN_ALL
void          tp_pool_submit_async           (TpPool               *self,
                                              GTaskThreadFunc       job_func,
                                              gpointer              job_data,
                                              GDestroyNotify        job_data_destroy,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
TP_AVAILABLE_IN_ALL
void          tp_pool_submit_in_thread_async (TpPool               *self,
                                              GTaskThreadFunc       job_func,
                                              gpointer              job_data,
                                              GDestroyNotify        job_data_destroy,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
TP_AVAILABLE_IN_ALL
void          tp_pool_submit_full_async      (TpPool               *self,
                                              TpSubmitFlags         flags,
                                              int                   weight,
                                              GTaskThreadFunc       job_func,
                                              gpointer              job_data,
                                              GDestroyNotify        job_data_destroy,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
TP_AVAILABLE_IN_1_2
void          tp_pool_submit_with_options_async (TpPool            *self,
                                              TpJobOptions         *options,
                                              GTaskThreadFunc       job_func,
                                              gpointer              job_data,
                                              GDestroyNotify        job_data_destroy,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
TP_AVAILABLE_IN_ALL
gpointer      tp_pool_submit_finish          (TpPool               *self,
                                              GAsyncResult         *result,
                                              GError              **error);

TP_AVAILABLE_IN_ALL
int           tp_pool_scale                  (TpPool               *self,
                                              int                   delta);
TP_AVAILABLE_IN_ALL
void          tp_pool_scale_async            (TpPool               *self,
                                              int                   delta,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
TP_AVAILABLE_IN_ALL
int           tp_pool_scale_finish           (TpPool               *self,
                                              GAsyncResult         *result,
                                              GError              **error);

TP_AVAILABLE_IN_ALL
void          tp_pool_pause                  (TpPool               *self);
TP_AVAILABLE_IN_ALL
void          tp_pool_resume                 (TpPool               *self);
TP_AVAILABLE_IN_1_2
void          tp_pool_hold                   (TpPool               *self);
TP_AVAILABLE_IN_1_2
void          tp_pool_unhold                 (TpPool               *self);

TP_AVAILABLE_IN_ALL
void          tp_pool_close_async            (TpPool               *self,
                                              TpCloseFlags          flags,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
TP_AVAILABLE_IN_ALL
gboolean      tp_pool_close_finish           (TpPool               *self,
                                              GAsyncResult         *result,
                                              GError              **error);
TP_AVAILABLE_IN_ALL
void          tp_pool_wait_idle_async        (TpPool               *self,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
TP_AVAILABLE_IN_ALL
gboolean      tp_pool_wait_idle_finish       (TpPool               *self,
                                              GAsyncResult         *result,
                                              GError              **error);

TP_AVAILABLE_IN_ALL
const char   *tp_pool_get_kind               (TpPool               *self);
TP_AVAILABLE_IN_ALL
guint         tp_pool_get_size               (TpPool               *self);
TP_AVAILABLE_IN_ALL
guint         tp_pool_get_target_size        (TpPool               *self);
TP_AVAILABLE_IN_ALL
guint         tp_pool_get_running            (TpPool               *self);
TP_AVAILABLE_IN_ALL
guint         tp_pool_get_waiting            (TpPool               *self);
TP_AVAILABLE_IN_ALL
guint         tp_pool_get_backlog            (TpPool               *self);
TP_AVAILABLE_IN_ALL
guint         tp_pool_get_min_size           (TpPool               *self);
TP_AVAILABLE_IN_ALL
guint         tp_pool_get_max_size           (TpPool               *self);
TP_AVAILABLE_IN_ALL
guint         tp_pool_get_queue_capacity     (TpPool               *self);
TP_AVAILABLE_IN_ALL
int           tp_pool_get_default_weight     (TpPool               *self);
TP_AVAILABLE_IN_ALL
const char   *tp_pool_get_executor           (TpPool               *self);
TP_AVAILABLE_IN_ALL
GMainContext *tp_pool_get_main_context       (TpPool               *self);
TP_AVAILABLE_IN_ALL
gboolean      tp_pool_get_paused             (TpPool               *self);
TP_AVAILABLE_IN_ALL
gboolean      tp_pool_get_closed             (TpPool               *self);
TP_AVAILABLE_IN_1_2
gboolean      tp_pool_get_held               (TpPool               *self);
TP_AVAILABLE_IN_1_2
guint         tp_pool_get_queue_timeout      (TpPool               *self);
TP_AVAILABLE_IN_1_2
guint         tp_pool_get_run_timeout        (TpPool               *self);
TP_AVAILABLE_IN_1_2
const char * const *tp_pool_get_gates        (TpPool               *self);
TP_AVAILABLE_IN_1_4
guint64       tp_pool_get_n_submitted        (TpPool               *self);
TP_AVAILABLE_IN_1_4
guint64       tp_pool_get_n_succeeded        (TpPool               *self);
TP_AVAILABLE_IN_1_4
guint64       tp_pool_get_n_failed           (TpPool               *self);
TP_AVAILABLE_IN_1_4
guint64       tp_pool_get_n_cancelled        (TpPool               *self);
TP_AVAILABLE_IN_1_4
guint64       tp_pool_get_n_timed_out        (TpPool               *self);

G_END_DECLS

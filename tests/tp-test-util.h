/* tp-test-util.h: helpers shared by the tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <taskpool/taskpool.h>

G_BEGIN_DECLS

/* Iterates the thread-default context until *flag is TRUE */
void      tp_test_wait_flag       (const gboolean *flag);
/* Iterates the thread-default context until *counter >= target */
void      tp_test_wait_count      (const guint    *counter,
                                   guint           target);

/* Makes and starts a pool; aborts the test on error */
TpPool   *tp_test_pool_new        (const char     *kind,
                                   const char     *first_property,
                                   ...) G_GNUC_NULL_TERMINATED;
/* Closes a pool with @flags and waits for it */
void      tp_test_pool_close      (TpPool         *pool,
                                   TpCloseFlags    flags);

/* What the jobs and callbacks of one test saw. The counters are written
 * atomically (under the lock or not) and may be waited for with
 * tp_test_wait_count(); read them plainly once the waiting is over. */
typedef struct {
  GMutex     lock;
  guint      running;       /* jobs in their body now */
  guint      peak;          /* most jobs in their body at once */
  guint      started;
  guint      callbacks;     /* callbacks run */
  guint      destroyed;     /* job_data_destroy calls */
  guint      done;          /* callbacks with a result */
  guint      failed;        /* callbacks with an error of the job */
  guint      cancelled;     /* G_IO_ERROR_CANCELLED */
  guint      full;          /* TP_POOL_ERROR_FULL */
  guint      not_accepting; /* TP_POOL_ERROR_NOT_ACCEPTING */
  guint      closed;        /* TP_POOL_ERROR_CLOSED */
  guint      lost;          /* TP_POOL_ERROR_JOB_LOST */
  guint      timed_out;     /* TP_POOL_ERROR_TIMED_OUT: not started in time */
  guint      run_timed_out; /* G_IO_ERROR_TIMED_OUT: gave up at its run timeout */
  guint      unavailable;   /* TP_POOL_ERROR_UNAVAILABLE */
  GPtrArray *order;         /* job names, in the order they started */
  GPtrArray *results;       /* results, in callback order */
  GPtrArray *errors;        /* every error (GError), in callback order */
  GMainContext *context;    /* woken when a job's data is destroyed: it may be on any thread */
} TpTestLog;

void      tp_test_log_init        (TpTestLog *log);
void      tp_test_log_clear       (TpTestLog *log);
char     *tp_test_log_order       (TpTestLog *log);   /* "a b c" */

/* A job: job_data is a TpTestJob; the callback's user_data is the TpTestLog */
typedef enum {
  TP_TEST_JOB_RETURN,       /* returns "ok:<name>" at once */
  TP_TEST_JOB_FAIL,         /* returns a G_IO_ERROR_FAILED error */
  TP_TEST_JOB_HOLD,         /* async: completes when tp_test_release() is called */
  TP_TEST_JOB_SLEEP,        /* thread: sleeps sleep_ms, async: a timeout of sleep_ms */
  TP_TEST_JOB_DROP,         /* drops its task without completing it */
  TP_TEST_JOB_WAIT_CANCEL,  /* completes with CANCELLED once its cancellable fires */
} TpTestJobMode;

typedef struct {
  TpTestLog     *log;
  char          *name;
  TpTestJobMode  mode;
  guint          sleep_ms;
  GTask         *held;        /* HOLD, WAIT_CANCEL: the task, until completed */
  GCancellable  *cancellable; /* WAIT_CANCEL */
  gulong         cancel_id;
} TpTestJob;

TpTestJob *tp_test_job_new        (TpTestLog     *log,
                                   const char    *name,
                                   TpTestJobMode  mode);
void       tp_test_job_free       (gpointer       job);   /* counts log->destroyed */
void       tp_test_job_func       (GTask         *task,
                                   gpointer       pool,
                                   gpointer       job_data,
                                   GCancellable  *cancellable);
void       tp_test_job_done_cb    (GObject       *source,
                                   GAsyncResult  *result,
                                   gpointer       user_data);  /* user_data: TpTestLog */

/* Submits a job named @name; async unless @flags has TP_SUBMIT_IN_THREAD.
 * The job returned is freed once its task is: use it only for HOLD jobs
 * before they are released. */
TpTestJob *tp_test_submit         (TpPool        *pool,
                                   TpTestLog     *log,
                                   const char    *name,
                                   TpTestJobMode  mode,
                                   TpSubmitFlags  flags,
                                   int            weight,
                                   GCancellable  *cancellable);
/* Like tp_test_submit(), with options */
TpTestJob *tp_test_submit_with_options (TpPool        *pool,
                                        TpTestLog     *log,
                                        const char    *name,
                                        TpTestJobMode  mode,
                                        TpJobOptions  *options,
                                        GCancellable  *cancellable);
/* Completes a HOLD job's task with "ok:<name>" */
void       tp_test_release        (TpTestJob     *job);

G_END_DECLS

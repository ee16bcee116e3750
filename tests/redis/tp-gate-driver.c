/* tp-gate-driver.c: a gate driven as a pool drives it, for the redis tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A queue, a number of workers and one gate, with the pool's rules for
 * gates: a job starts only when the gate admits it, and then `started` is
 * called; `ended` is called once when it ends, from the thread that ends it,
 * under the driver's lock as the pool calls it under its own; after a hold
 * nothing is asked again until the gate's retry time, a wake, or the end of a
 * job. Jobs run on the driver's context, or on worker threads.
 */

#include "tp-gate-driver.h"

#include "tp-gate-private.h"
#include "tp-job-private.h"

typedef enum {
  DRIVER_JOB_QUEUED,
  DRIVER_JOB_RUNNING,
  DRIVER_JOB_DONE,
  DRIVER_JOB_FAILED,
} DriverJobState;

struct _TpDriverJob
{
  TpGateDriver   *driver;
  TpJob          *job;
  guint           id;
  gboolean        in_thread;
  DriverJobState  state;
  GError         *error;
  gpointer        data;
};

typedef struct {
  GSource       source;
  TpGateDriver *driver;
} DriverSource;

struct _TpGateDriver
{
  GMutex                lock;
  const TpGateStrategy *strategy;
  gpointer              gate;
  TpGateHost           *host;
  GMainContext         *context;
  guint                 workers;
  guint                 running;
  guint                 finished;
  guint                 holds;
  gboolean              holding;
  GQueue                queue;      /* queued jobs */
  GQueue                ready;      /* jobs to run or to report, on the context */
  GSource              *dispatch;   /* runs what is ready */
  GSource              *retry;      /* ready at the gate's retry time */
  GThreadPool          *threads;
  TpDriverRunFunc       run;
  TpDriverFinishFunc    finish;
  gpointer              data;
};

const TpGateStrategy *
tp_gate_driver_load_strategy (const char  *module_path,
                              const char  *name,
                              GError     **error)
{
  const TpPluginDescriptor *descriptor;
  TpPluginEntryFunc entry;
  GModule *module;

  module = g_module_open_full (module_path, G_MODULE_BIND_LOCAL, error);
  if (module == NULL)
    return NULL;
  g_module_make_resident (module);
  if (!g_module_symbol (module, TP_PLUGIN_ENTRY_SYMBOL, (gpointer *) &entry))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s has no entry point", module_path);
      return NULL;
    }
  descriptor = entry ();
  for (guint i = 0; descriptor->gate_strategies != NULL && descriptor->gate_strategies[i] != NULL;
       i++)
    {
      if (g_str_equal (descriptor->gate_strategies[i]->name, name))
        return descriptor->gate_strategies[i];
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s has no gate “%s”", module_path, name);
  return NULL;
}

static void
tp_gate_driver_job_free (TpDriverJob *job)
{
  tp_job_free_detached (job->job);
  g_clear_error (&job->error);
  g_free (job);
}

/* With the lock held: starts what the gate admits */
static void
tp_gate_driver_pump_locked (TpGateDriver *self)
{
  gint64 now = g_get_monotonic_time ();

  while (!self->holding && self->running < self->workers && self->queue.length > 0)
    {
      TpDriverJob *job = g_queue_peek_head (&self->queue);
      gint64 retry_at = -1;
      GError *error = NULL;

      switch (self->strategy->admit (self->gate, job->job, now, &retry_at, &error))
        {
        case TP_GATE_ADMIT:
          g_assert_null (error);
          g_queue_pop_head (&self->queue);
          self->strategy->started (self->gate, job->job, now);
          self->running++;
          job->state = DRIVER_JOB_RUNNING;
          g_queue_push_tail (&self->ready, job);
          break;
        case TP_GATE_HOLD:
        case TP_GATE_HOLD_KEY:
          g_assert_null (error);
          self->holding = TRUE;
          self->holds++;
          if (retry_at >= 0)
            g_source_set_ready_time (self->retry, retry_at);
          break;
        case TP_GATE_FAIL:
          g_assert_nonnull (error);
          g_queue_pop_head (&self->queue);
          job->state = DRIVER_JOB_FAILED;
          job->error = error;
          self->finished++;
          g_queue_push_tail (&self->ready, job);
          break;
        default:
          g_assert_not_reached ();
        }
    }
  if (self->ready.length > 0)
    g_source_set_ready_time (self->dispatch, 0);
}

static void
tp_gate_driver_unhold (gpointer data)
{
  TpGateDriver *self = data;

  g_mutex_lock (&self->lock);
  self->holding = FALSE;
  tp_gate_driver_pump_locked (self);
  g_mutex_unlock (&self->lock);
}

static gboolean
tp_gate_driver_retry_dispatch (GSource     *source,
                               GSourceFunc  callback,
                               gpointer     user_data)
{
  g_source_set_ready_time (source, -1);
  tp_gate_driver_unhold (((DriverSource *) source)->driver);
  return G_SOURCE_CONTINUE;
}

static gboolean
tp_gate_driver_dispatch (GSource     *source,
                         GSourceFunc  callback,
                         gpointer     user_data)
{
  TpGateDriver *self = ((DriverSource *) source)->driver;
  GQueue ready = G_QUEUE_INIT;
  TpDriverJob *job;

  g_source_set_ready_time (source, -1);
  g_mutex_lock (&self->lock);
  ready = self->ready;
  g_queue_init (&self->ready);
  g_mutex_unlock (&self->lock);

  while ((job = g_queue_pop_head (&ready)) != NULL)
    {
      switch (job->state)
        {
        case DRIVER_JOB_RUNNING:
          if (job->in_thread)
            g_thread_pool_push (self->threads, job, NULL);
          else
            self->run (job, self->data);
          break;
        case DRIVER_JOB_DONE:
        case DRIVER_JOB_FAILED:
          self->finish (job, job->error, self->data);
          tp_gate_driver_job_free (job);
          break;
        case DRIVER_JOB_QUEUED:
        default:
          g_assert_not_reached ();
        }
    }
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs tp_gate_driver_dispatch_funcs = { .dispatch = tp_gate_driver_dispatch };
static GSourceFuncs tp_gate_driver_retry_funcs = { .dispatch = tp_gate_driver_retry_dispatch };

static GSource *
tp_gate_driver_add_source (TpGateDriver *self,
                           GSourceFuncs *funcs)
{
  GSource *source = g_source_new (funcs, sizeof (DriverSource));

  ((DriverSource *) source)->driver = self;
  g_source_set_ready_time (source, -1);
  g_source_attach (source, self->context);
  return source;
}

static void
tp_gate_driver_thread (gpointer job,
                       gpointer data)
{
  TpGateDriver *self = data;

  self->run (job, self->data);
}

/* Drives @strategy on the thread-default context */
TpGateDriver *
tp_gate_driver_new (const TpGateStrategy  *strategy,
                    GKeyFile              *keyfile,
                    const char            *group,
                    guint                  workers,
                    TpDriverRunFunc        run,
                    TpDriverFinishFunc     finish,
                    gpointer               data,
                    GError               **error)
{
  TpGateDriver *self = g_new0 (TpGateDriver, 1);

  g_mutex_init (&self->lock);
  self->strategy = strategy;
  self->context = g_main_context_ref_thread_default ();
  self->workers = workers;
  self->run = run;
  self->finish = finish;
  self->data = data;
  self->dispatch = tp_gate_driver_add_source (self, &tp_gate_driver_dispatch_funcs);
  self->retry = tp_gate_driver_add_source (self, &tp_gate_driver_retry_funcs);
  self->threads = g_thread_pool_new (tp_gate_driver_thread, self, (int) workers, FALSE, NULL);
  self->host = tp_gate_host_new (self->context, group, tp_gate_driver_unhold, self);

  if (!strategy->create (keyfile, group, self->host, &self->gate, error))
    {
      self->gate = NULL;
      tp_gate_driver_free (self);
      return NULL;
    }
  return self;
}

/* Every job must have finished and been reported */
void
tp_gate_driver_free (TpGateDriver *self)
{
  g_assert_cmpuint (self->running, ==, 0);
  g_assert_cmpuint (self->queue.length, ==, 0);

  if (self->gate != NULL && self->strategy->destroy != NULL)
    self->strategy->destroy (self->gate);
  g_thread_pool_free (self->threads, FALSE, TRUE);
  tp_gate_host_free (self->host);
  g_source_destroy (self->dispatch);
  g_source_unref (self->dispatch);
  g_source_destroy (self->retry);
  g_source_unref (self->retry);
  g_main_context_unref (self->context);
  g_mutex_clear (&self->lock);
  g_free (self);
}

TpDriverJob *
tp_gate_driver_submit (TpGateDriver *self,
                       guint         id,
                       gboolean      in_thread)
{
  TpDriverJob *job = g_new0 (TpDriverJob, 1);

  job->driver = self;
  job->id = id;
  job->in_thread = in_thread;
  job->job = tp_job_new_detached (0, id, NULL, in_thread);

  g_mutex_lock (&self->lock);
  g_queue_push_tail (&self->queue, job);
  tp_gate_driver_pump_locked (self);
  g_mutex_unlock (&self->lock);
  return job;
}

gboolean
tp_gate_driver_cancel (TpGateDriver *self,
                       TpDriverJob  *job)
{
  gboolean removed;

  g_mutex_lock (&self->lock);
  removed = g_queue_remove (&self->queue, job);
  if (removed)
    {
      job->state = DRIVER_JOB_FAILED;
      job->error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled");
      self->finished++;
      g_queue_push_tail (&self->ready, job);
      g_source_set_ready_time (self->dispatch, 0);
    }
  g_mutex_unlock (&self->lock);
  return removed;
}

guint
tp_gate_driver_running (TpGateDriver *self)
{
  guint running;

  g_mutex_lock (&self->lock);
  running = self->running;
  g_mutex_unlock (&self->lock);
  return running;
}

guint
tp_gate_driver_finished (TpGateDriver *self)
{
  guint finished;

  g_mutex_lock (&self->lock);
  finished = self->finished;
  g_mutex_unlock (&self->lock);
  return finished;
}

guint
tp_gate_driver_holds (TpGateDriver *self)
{
  guint holds;

  g_mutex_lock (&self->lock);
  holds = self->holds;
  g_mutex_unlock (&self->lock);
  return holds;
}

guint
tp_driver_job_get_id (TpDriverJob *job)
{
  return job->id;
}

void
tp_driver_job_set_data (TpDriverJob *job,
                        gpointer     data)
{
  job->data = data;
}

gpointer
tp_driver_job_get_data (TpDriverJob *job)
{
  return job->data;
}

/* Any thread: the job ended; `ended` runs here, as the pool runs it */
void
tp_driver_job_done (TpDriverJob *job)
{
  TpGateDriver *self = job->driver;

  g_mutex_lock (&self->lock);
  g_assert_cmpint (job->state, ==, DRIVER_JOB_RUNNING);
  self->strategy->ended (self->gate, job->job);
  job->state = DRIVER_JOB_DONE;
  self->running--;
  self->finished++;
  self->holding = FALSE;
  g_queue_push_tail (&self->ready, job);
  tp_gate_driver_pump_locked (self);
  g_source_set_ready_time (self->dispatch, 0);
  g_mutex_unlock (&self->lock);
}

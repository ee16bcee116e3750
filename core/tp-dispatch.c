/* tp-dispatch.c: from the queue to a worker
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An accepted job enters the queue strategy, or the backlog while the queue
 * is full. tp_pool_fill_locked() gives queued jobs to idle workers: a thread
 * job goes to the executor at once, an async job to the ready list, which
 * tp_pool_run_ready() drains on the pool's context. When a job leaves its
 * worker, tp_pool_release_locked() gives the worker its next job, makes it
 * idle, or retires it. A queued job whose cancellable fires leaves here too,
 * and so do the queued jobs a closing pool discards.
 *
 * One GSource per pool wakes its context: to run async jobs that got a
 * worker from another thread, to emit coalesced notifications, and when the
 * scaling strategy asked to be consulted again. Its ready time is -1 while
 * there is nothing to do, so an idle pool never wakes up.
 */

#include "config.h"

#include "tp-pool-private.h"

/* The pool's source {{{ */

typedef struct {
  GSource  source;
  GWeakRef pool;
} TpPoolSource;

void
tp_pool_update_source_locked (TpPool *self)
{
  gint64 ready_time = self->flush_pending || self->ready.length > 0 ? 0 : self->next_check;

  if (ready_time != self->ready_time && self->source != NULL)
    {
      self->ready_time = ready_time;
      g_source_set_ready_time (self->source, ready_time);
    }
}

void
tp_pool_request_flush_locked (TpPool *self)
{
  if (self->flush_pending)
    return;
  self->flush_pending = TRUE;
  tp_pool_update_source_locked (self);
}

/* Emits notify for the properties that changed since the last flush */
static void
tp_pool_flush_notify (TpPool *self)
{
  guint changed[TP_POOL_N_NOTIFY];
  guint n_changed = 0;
  gboolean closed;

  tp_pool_lock (self);
  self->flush_pending = FALSE;
  closed = tp_pool_is_closing_locked (self);
  if (self->n_workers != self->notified_size)
    changed[n_changed++] = TP_POOL_NOTIFY_SIZE;
  if (self->running != self->notified_running)
    changed[n_changed++] = TP_POOL_NOTIFY_RUNNING;
  if (self->n_queued != self->notified_waiting)
    changed[n_changed++] = TP_POOL_NOTIFY_WAITING;
  if (self->paused != self->notified_paused)
    changed[n_changed++] = TP_POOL_NOTIFY_PAUSED;
  if (closed != self->notified_closed)
    changed[n_changed++] = TP_POOL_NOTIFY_CLOSED;
  self->notified_size = self->n_workers;
  self->notified_running = self->running;
  self->notified_waiting = self->n_queued;
  self->notified_paused = self->paused;
  self->notified_closed = closed;
  tp_pool_update_source_locked (self);
  tp_pool_unlock (self);

  if (n_changed > 0)
    tp_pool_notify_changed (self, changed, n_changed);
}

static gboolean
tp_pool_source_dispatch (GSource     *source,
                         GSourceFunc  callback,
                         gpointer     user_data)
{
  TpPool *self = g_weak_ref_get (&((TpPoolSource *) source)->pool);

  if (self == NULL)
    return G_SOURCE_REMOVE;

  tp_pool_lock (self);
  self->ready_time = -1;
  g_source_set_ready_time (source, -1);
  if (self->next_check >= 0 && self->next_check <= g_source_get_time (source))
    {
      self->next_check = -1;
      tp_pool_consult_locked (self);
    }
  tp_pool_unlock (self);

  tp_pool_run_ready (self);
  tp_pool_flush_notify (self);

  g_object_unref (self);
  return G_SOURCE_CONTINUE;
}

static void
tp_pool_source_finalize (GSource *source)
{
  g_weak_ref_clear (&((TpPoolSource *) source)->pool);
}

static GSourceFuncs tp_pool_source_funcs = {
  .dispatch = tp_pool_source_dispatch,
  .finalize = tp_pool_source_finalize,
};

/* Attached to the pool's context; the pool keeps the returned reference */
GSource *
tp_pool_source_new (TpPool *self)
{
  TpPoolSource *source;

  source = (TpPoolSource *) g_source_new (&tp_pool_source_funcs, sizeof (TpPoolSource));
  g_weak_ref_init (&source->pool, self);
  g_source_set_static_name ((GSource *) source, "[taskpool] pool");
  g_source_set_priority ((GSource *) source, G_PRIORITY_DEFAULT);
  g_source_set_can_recurse ((GSource *) source, TRUE);
  g_source_set_ready_time ((GSource *) source, -1);
  g_source_attach ((GSource *) source, self->context);
  return (GSource *) source;
}

/* }}} */

/* The queue and the backlog {{{ */

static void
tp_pool_admit_backlog_locked (TpPool *self)
{
  while (self->backlog.length > 0 && self->n_queued < self->queue_capacity)
    {
      TpJob *job = tp_job_list_pop_head (&self->backlog);

      job->state = TP_JOB_QUEUED;
      self->queue_vt->push (self->queue, job);
      self->n_queued++;
    }
}

/* Puts an accepted job in the queue, or in the backlog when the queue is
 * full. Returns FALSE if the job must fail with TP_POOL_ERROR_FULL. */
gboolean
tp_pool_enqueue_locked (TpPool        *self,
                        TpJob         *job,
                        TpSubmitFlags  flags)
{
  if (self->queue_capacity > 0 &&
      (self->n_queued >= self->queue_capacity || self->backlog.length > 0) &&
      self->idle.count == 0)
    {
      if (flags & TP_SUBMIT_NO_WAIT)
        return FALSE;
      job->state = TP_JOB_BACKLOG;
      tp_job_list_push_tail (&self->backlog, job);
      return TRUE;
    }

  job->state = TP_JOB_QUEUED;
  self->queue_vt->push (self->queue, job);
  if (self->n_queued++ == 0)
    self->waiting_since = job->timed ? job->extra->submit_time : tp_pool_idle_stamp (self);

  if (self->idle.count > 0)
    tp_pool_fill_locked (self, NULL);
  /* A job waits: the scaler may grow the pool, if it can still grow */
  if ((self->n_queued > 0 || self->backlog.length > 0) && self->target < self->limits.max_size)
    tp_pool_consult_locked (self);
  return TRUE;
}

/* }}} */

/* Workers {{{ */

/* Gives queued jobs to idle workers. A thread job may be kept for the
 * calling worker thread (@keep), which then runs it without a hand-off. */
void
tp_pool_fill_locked (TpPool  *self,
                     TpJob  **keep)
{
  gboolean was_ready = self->ready.length > 0;

  while (self->idle.count > 0 && self->n_queued > 0)
    {
      TpJob *job = self->queue_vt->pop (self->queue);

      g_assert (job != NULL);
      self->n_queued--;
      if (self->n_queued == 0)
        self->waiting_since = 0;
      tp_idle_ring_pop_newest (&self->idle);
      self->running++;
      tp_pool_admit_backlog_locked (self);

      if (!job->in_thread)
        {
          job->state = TP_JOB_READY;
          tp_job_list_push_tail (&self->ready, job);
          continue;
        }

      job->state = TP_JOB_RUNNING;
      tp_job_list_push_tail (&self->active, job);
      if (keep != NULL && *keep == NULL)
        *keep = job;
      else
        tp_pool_start_thread_job_locked (self, job);
    }

  /* Even on the pool's thread, which drains the list itself, the source is
   * woken (at most once per dispatch of it): a callback may run a nested main
   * loop before the drain gets back to the list. */
  if (!was_ready && self->ready.length > 0)
    tp_pool_update_source_locked (self);
}

/* A job leaves its worker: the worker takes the next job, goes idle, or
 * retires if the pool is larger than its target. */
void
tp_pool_release_locked (TpPool  *self,
                        TpJob   *job,
                        TpJob  **keep)
{
  g_assert (job->state == TP_JOB_RUNNING);

  tp_job_list_unlink (&self->active, job);
  job->state = TP_JOB_FINISHED;
  self->running--;
  self->completed++;

  if (self->n_workers > self->target)
    {
      self->n_workers--;
      return;
    }

  if (self->n_queued > 0)
    {
      /* The worker takes the next job at once: it is not idle, and its
       * stamp is never read */
      tp_idle_ring_push_newest (&self->idle, 0);
      tp_pool_fill_locked (self, keep);
      return;
    }
  tp_idle_ring_push_newest (&self->idle, tp_pool_idle_stamp (self));
  if (self->scale_vt->decide != NULL && self->n_workers > self->limits.min_size)
    tp_pool_consult_locked (self);
}

/* Runs the async jobs that own a worker. Only on the pool's thread. A drain
 * that calls a job which completes at once goes on with the next job itself;
 * a callback that runs a nested main loop gets the pool's source dispatched
 * (it can recurse) and drains at its deeper level. */
void
tp_pool_run_ready (TpPool *self)
{
  guint depth = (guint) g_main_depth () + 1;
  guint outer_depth;
  TpJob *outer_job;
  TpJob *job;

  tp_pool_lock (self);
  if (self->drain_depth >= depth)
    {
      tp_pool_unlock (self);
      return;
    }

  g_object_ref (self);
  outer_depth = self->drain_depth;
  outer_job = self->drain_job;
  self->drain_depth = depth;
  while ((job = tp_job_list_pop_head (&self->ready)) != NULL)
    {
      job->state = TP_JOB_RUNNING;
      tp_job_list_push_tail (&self->active, job);
      /* Jobs left behind must not wait for this drain if the job's callback
       * runs a nested main loop: arm the source (once per dispatch) */
      if (self->ready.length > 0)
        tp_pool_update_source_locked (self);
      tp_pool_unlock (self);

      /* Alive until tp_job_run_async() returns */
      self->drain_job = job;
      tp_job_run_async (job);
      self->drain_job = outer_job;

      tp_pool_lock (self);
    }
  self->drain_depth = outer_depth;
  tp_pool_unlock (self);
  g_object_unref (self);
}

/* }}} */

/* Cancel and discard {{{ */

/* A queued job's cancellable fired: it leaves the queue and completes with
 * G_IO_ERROR_CANCELLED. A running job sees its cancellable and decides. */
void
tp_pool_job_cancelled_cb (GCancellable *cancellable,
                          gpointer      user_data)
{
  TpJob *job = user_data;
  TpPool *self = job->pool;
  gboolean leaves;

  tp_pool_lock (self);
  switch (job->state)
    {
    case TP_JOB_NEW:
      /* Still in tp_pool_submit_full_async(), which fails it */
      job->cancel_early = TRUE;
      leaves = FALSE;
      break;
    case TP_JOB_QUEUED:
      self->queue_vt->remove (self->queue, job);
      self->n_queued--;
      if (self->n_queued == 0)
        self->waiting_since = 0;
      tp_pool_admit_backlog_locked (self);
      leaves = TRUE;
      break;
    case TP_JOB_BACKLOG:
      tp_job_list_unlink (&self->backlog, job);
      leaves = TRUE;
      break;
    default:
      leaves = FALSE;
      break;
    }
  if (leaves)
    job->state = TP_JOB_FINISHED;
  tp_pool_unlock (self);

  if (leaves)
    tp_job_fail (job, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The job was cancelled while queued");
}

/* Takes every job that has not started out of the pool */
void
tp_pool_discard_locked (TpPool    *self,
                        TpJobList *discarded)
{
  TpJob *job;

  while ((job = tp_job_list_pop_head (&self->backlog)) != NULL)
    tp_job_list_push_tail (discarded, job);
  while ((job = tp_job_list_pop_head (&self->ready)) != NULL)
    {
      tp_job_list_push_tail (discarded, job);
      self->running--;
      if (self->n_workers > self->target)
        self->n_workers--;
      else
        tp_idle_ring_push_newest (&self->idle, tp_pool_idle_stamp (self));
    }
  /* A pool never initialized has no queue, and nothing queued */
  while (self->queue != NULL && (job = self->queue_vt->pop (self->queue)) != NULL)
    tp_job_list_push_tail (discarded, job);
  self->n_queued = 0;
  self->waiting_since = 0;

  for (job = discarded->head; job != NULL; job = job->next)
    job->state = TP_JOB_FINISHED;
}

/* }}} */

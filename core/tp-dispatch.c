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

/* The earlier of two times, -1 standing for never */
static inline gint64
tp_pool_earliest (gint64 a,
                  gint64 b)
{
  if (a < 0)
    return b;
  if (b < 0)
    return a;
  return MIN (a, b);
}

void
tp_pool_update_source_locked (TpPool *self)
{
  gint64 ready_time;

  if (self->flush_pending || self->ready.length > 0 || self->gate_failed.length > 0)
    ready_time = 0;
  else
    ready_time = tp_pool_earliest (tp_pool_earliest (self->next_check,
                                                     tp_pool_next_deadline_locked (self)),
                                   tp_pool_next_gate_time_locked (self));

  if (ready_time != self->ready_time && self->source != NULL)
    {
      self->ready_time = ready_time;
      g_source_set_ready_time (self->source, ready_time);
    }
}

void
tp_pool_request_flush_locked (TpPool *self)
{
  /* Before the pool has its source (a property set at construction), the
   * first flush compares everything anyway */
  if (self->flush_pending || self->source == NULL)
    return;
  self->flush_pending = TRUE;
  tp_pool_update_source_locked (self);
}

/* The figures the pool notifies, as they are now */
void
tp_pool_read_figures_locked (TpPool  *self,
                             guint64  figures[TP_POOL_N_NOTIFY])
{
  figures[TP_POOL_NOTIFY_SIZE] = self->n_workers;
  figures[TP_POOL_NOTIFY_RUNNING] = self->running;
  figures[TP_POOL_NOTIFY_WAITING] = (guint64) self->n_queued + self->n_held;
  figures[TP_POOL_NOTIFY_PAUSED] = self->paused;
  figures[TP_POOL_NOTIFY_CLOSED] = tp_pool_is_closing_locked (self);
  figures[TP_POOL_NOTIFY_HELD] = self->held;
  figures[TP_POOL_NOTIFY_SUBMITTED] = self->counts[TP_POOL_COUNT_SUBMITTED];
  figures[TP_POOL_NOTIFY_SUCCEEDED] = self->counts[TP_POOL_COUNT_SUCCEEDED];
  figures[TP_POOL_NOTIFY_FAILED] = self->counts[TP_POOL_COUNT_FAILED];
  figures[TP_POOL_NOTIFY_CANCELLED] = self->counts[TP_POOL_COUNT_CANCELLED];
  figures[TP_POOL_NOTIFY_TIMED_OUT] = self->counts[TP_POOL_COUNT_TIMED_OUT];
}

/* Emits notify for the properties that changed since the last flush */
static void
tp_pool_flush_notify (TpPool *self)
{
  guint64 figures[TP_POOL_N_NOTIFY];
  guint changed[TP_POOL_N_NOTIFY];
  guint n_changed = 0;
  gboolean infos;

  tp_pool_lock (self);
  self->flush_pending = FALSE;
  infos = self->infos_added != NULL || self->infos_removed != NULL || self->infos_dirty != NULL;
  tp_pool_read_figures_locked (self, figures);
  for (guint i = 0; i < TP_POOL_N_NOTIFY; i++)
    {
      if (figures[i] != self->notified[i])
        changed[n_changed++] = i;
      self->notified[i] = figures[i];
    }
  tp_pool_update_source_locked (self);
  tp_pool_unlock (self);

  if (G_UNLIKELY (infos))
    tp_pool_flush_infos (self);
  if (n_changed > 0)
    tp_pool_notify_changed (self, changed, n_changed);
}

/* Fails the jobs that waited past their queue timeout, cancels those that
 * ran past their run timeout */
static void
tp_pool_finish_expired (TpJobList *timed_out,
                        GPtrArray *to_cancel)
{
  TpJob *job;

  while ((job = tp_job_list_pop_head (timed_out)) != NULL)
    {
      g_autofree char *message =
        g_strdup_printf ("The job was not started within its queue timeout of %" G_GINT64_FORMAT
                         " ms", job->extra->queue_timeout_us / G_TIME_SPAN_MILLISECOND);

      tp_job_fail (job, TP_POOL_ERROR, TP_POOL_ERROR_TIMED_OUT, message);
    }
  for (guint i = 0; i < to_cancel->len; i++)
    g_cancellable_cancel (to_cancel->pdata[i]);
}

static gboolean
tp_pool_source_dispatch (GSource     *source,
                         GSourceFunc  callback,
                         gpointer     user_data)
{
  TpPool *self = g_weak_ref_get (&((TpPoolSource *) source)->pool);
  TpJobList timed_out = { NULL, NULL, 0 };
  TpJobList refused = { NULL, NULL, 0 };
  g_autoptr(GPtrArray) to_cancel = NULL;
  gint64 now;

  if (self == NULL)
    return G_SOURCE_REMOVE;

  tp_pool_lock (self);
  self->dispatches++;
  self->ready_time = -1;
  g_source_set_ready_time (source, -1);
  now = g_source_get_time (source);
  if (self->next_check >= 0 && self->next_check <= now)
    {
      self->next_check = -1;
      tp_pool_consult_locked (self);
    }
  if (G_UNLIKELY (self->deadlines != NULL && self->deadlines->len > 0))
    {
      to_cancel = g_ptr_array_new_with_free_func (g_object_unref);
      tp_pool_expire_deadlines_locked (self, now, &timed_out, to_cancel);
      tp_pool_update_source_locked (self);
    }
  if (G_UNLIKELY (self->gates != NULL))
    {
      tp_pool_expire_gate_timers_locked (self, now);
      tp_pool_fill_locked (self, NULL);
      tp_pool_consult_if_waiting_locked (self);
      refused = self->gate_failed;
      self->gate_failed = (TpJobList) { NULL, NULL, 0 };
      tp_pool_update_source_locked (self);
    }
  tp_pool_unlock (self);

  if (to_cancel != NULL)
    tp_pool_finish_expired (&timed_out, to_cancel);
  if (refused.length > 0)
    tp_pool_fail_gate_refusals (&refused);
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
      tp_pool_queue_push (self, &self->queue, job);
      self->n_queued++;
    }
}

/* A job with a queue timeout waits at most that long, from now */
static void
tp_pool_arm_queue_deadline_locked (TpPool *self,
                                   TpJob  *job)
{
  if (job->extra->queue_timeout_us == 0)
    return;
  tp_pool_set_deadline_locked (self, job, g_get_monotonic_time () + job->extra->queue_timeout_us);
  tp_pool_update_source_locked (self);
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
      if (G_UNLIKELY (job->limited))
        tp_pool_arm_queue_deadline_locked (self, job);
      return TRUE;
    }

  if (G_UNLIKELY (job->limited))
    tp_pool_arm_queue_deadline_locked (self, job);

  job->state = TP_JOB_QUEUED;
  tp_pool_queue_push (self, &self->queue, job);
  if (self->n_queued++ == 0)
    self->waiting_since = job->timed ? job->extra->submit_time : tp_pool_idle_stamp (self);

  if (self->idle.count > 0)
    tp_pool_fill_locked (self, NULL);
  /* A job waits: the scaler may grow the pool, if it can still grow, and if
   * a worker could start it (a held pool starts nothing) */
  if ((self->n_queued > 0 || self->backlog.length > 0) && self->target < self->limits.max_size &&
      !self->held)
    tp_pool_consult_locked (self);
  return TRUE;
}

/* }}} */

/* Workers {{{ */

/* A job taken from the queue, or from a gate, goes to an idle worker */
static void
tp_pool_give_job_locked (TpPool  *self,
                         TpJob   *job,
                         TpJob  **keep)
{
  tp_idle_ring_pop_newest (&self->idle);
  self->running++;
  tp_pool_admit_backlog_locked (self);
  if (G_UNLIKELY (job->limited))
    {
      tp_pool_job_starts_locked (self, job);
      if (job->extra->info != NULL)
        tp_pool_info_set_state_locked (self, job, TP_JOB_STATE_RUNNING);
    }

  if (!job->in_thread)
    {
      job->state = TP_JOB_READY;
      tp_job_list_push_tail (&self->ready, job);
      return;
    }

  job->state = TP_JOB_RUNNING;
  tp_job_list_push_tail (&self->active, job);
  if (keep != NULL && *keep == NULL)
    *keep = job;
  else
    tp_pool_start_thread_job_locked (self, job);
}

/* Jobs taken from the queue at once, when as many workers are idle */
#define TP_FILL_BATCH 16

/* Gives queued jobs to idle workers. A thread job may be kept for the
 * calling worker thread (@keep), which then runs it without a hand-off. */
void
tp_pool_fill_locked (TpPool  *self,
                     TpJob  **keep)
{
  gboolean was_ready = self->ready.length > 0;

  if (self->held)
    return;

  while (self->idle.count > 0 && self->n_queued > 0)
    {
      TpJob *job;

      /* Without gates, the queue's next, inline; several at once when
       * several workers are idle (a scale up, an unhold), so that their
       * cache misses overlap. Not with a backlog, whose jobs join the queue
       * as each job leaves it and may be the next ones. */
      if (G_LIKELY (self->gates == NULL))
        {
          guint want = MIN (MIN (self->idle.count, self->n_queued), TP_FILL_BATCH);

          if (want > 1 && self->backlog.length == 0 && !self->queue_broken)
            {
              TpJob *batch[TP_FILL_BATCH];
              guint n = tp_pool_queue_pop_batch (self, &self->queue, batch, want);

              for (guint i = 0; i < n; i++)
                {
                  if (--self->n_queued == 0)
                    self->waiting_since = 0;
                  tp_pool_give_job_locked (self, batch[i], keep);
                }
              continue;
            }
          job = tp_pool_queue_pop (self, &self->queue, TP_JOB_QUEUED);
          if (--self->n_queued == 0)
            self->waiting_since = 0;
        }
      else if ((job = tp_pool_next_job_locked (self)) == NULL)
        break;
      tp_pool_give_job_locked (self, job, keep);
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
  if (G_UNLIKELY (job->limited))
    tp_pool_job_leaves_locked (self, job);
  if (G_UNLIKELY (job->gated))
    tp_pool_gates_job_ended_locked (self, job);

  if (self->n_workers > self->target)
    {
      self->n_workers--;
      return;
    }

  if (self->n_queued > 0 && !self->held)
    {
      guint idle = self->idle.count;

      /* The worker takes the next job at once: it is not idle, and its
       * stamp is never read */
      tp_idle_ring_push_newest (&self->idle, 0);
      tp_pool_fill_locked (self, keep);
      /* Fewer idle workers than before: the job's end let gates admit
       * more than one held job, onto workers that were idle too */
      if (G_LIKELY (self->idle.count <= idle))
        return;
      /* The gates let no queued job start: the worker, the newest idle one
       * since workers are taken newest first, is idle from now */
      tp_idle_ring_pop_newest (&self->idle);
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

/* A job with an extension leaves the pool, or at least its worker: its
 * deadline goes, and its info leaves the list of jobs */
void
tp_pool_job_leaves_locked (TpPool *self,
                           TpJob  *job)
{
  tp_pool_clear_deadline_locked (self, job);
  if (job->extra->info != NULL)
    tp_pool_info_removed_locked (self, job);
}

/* Takes a job that waits (queued, in the backlog, or held) out of the pool:
 * it will never start. Returns FALSE for a job that no longer waits. */
gboolean
tp_pool_withdraw_locked (TpPool *self,
                         TpJob  *job)
{
  switch (job->state)
    {
    case TP_JOB_QUEUED:
      tp_pool_queue_remove (self, &self->queue, job);
      self->n_queued--;
      if (self->n_queued == 0)
        self->waiting_since = 0;
      tp_pool_admit_backlog_locked (self);
      break;
    case TP_JOB_BACKLOG:
      tp_job_list_unlink (&self->backlog, job);
      break;
    case TP_JOB_HELD:
      tp_pool_withdraw_held_locked (self, job);
      break;
    default:
      return FALSE;
    }
  job->state = TP_JOB_FINISHED;
  if (G_UNLIKELY (job->limited))
    tp_pool_job_leaves_locked (self, job);
  if (G_UNLIKELY (self->gates != NULL))
    tp_pool_gates_job_withdrawn_locked (self, job);
  return TRUE;
}

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
  if (job->state == TP_JOB_NEW)
    {
      /* Still in tp_pool_submit_full_async(), which fails it */
      job->cancel_early = TRUE;
      leaves = FALSE;
    }
  else
    {
      leaves = tp_pool_withdraw_locked (self, job);
    }
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
      if (G_UNLIKELY (job->gated))
        tp_pool_gates_job_ended_locked (self, job);
      self->running--;
      if (self->n_workers > self->target)
        self->n_workers--;
      else
        tp_idle_ring_push_newest (&self->idle, tp_pool_idle_stamp (self));
    }
  /* A pool never initialized has no queue, and nothing queued */
  while ((job = tp_pool_queue_pop (self, &self->queue, TP_JOB_QUEUED)) != NULL)
    tp_job_list_push_tail (discarded, job);
  self->n_queued = 0;
  self->waiting_since = 0;
  if (G_UNLIKELY (self->gates != NULL))
    tp_pool_discard_held_locked (self, discarded);

  for (job = discarded->head; job != NULL; job = job->next)
    {
      job->state = TP_JOB_FINISHED;
      if (G_UNLIKELY (job->limited))
        tp_pool_job_leaves_locked (self, job);
      if (G_UNLIKELY (self->gates != NULL))
        tp_pool_gates_job_withdrawn_locked (self, job);
    }
}

/* }}} */

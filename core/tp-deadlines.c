/* tp-deadlines.c: queue and run timeouts
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A job with a queue timeout has a deadline from its submission until it
 * gets a worker; a job with a run timeout has one from then until it ends.
 * The pool keeps them in one binary min-heap (each job knows its index), and
 * its source wakes at the earliest: jobs past their queue deadline leave the
 * pool and fail with TP_POOL_ERROR_TIMED_OUT; jobs past their run deadline
 * have their cancellable cancelled, and decide. Jobs without a timeout never
 * enter the heap, and cost nothing here.
 */

#include "config.h"

#include "tp-pool-private.h"

#define TP_DEADLINE_NONE G_MAXUINT

static inline gint64
tp_deadline_of (GPtrArray *heap,
                guint      index)
{
  return ((TpJob *) heap->pdata[index])->extra->deadline;
}

static inline void
tp_deadline_place (GPtrArray *heap,
                   guint      index,
                   TpJob     *job)
{
  heap->pdata[index] = job;
  job->extra->deadline_index = index;
}

static void
tp_deadline_sift_up (GPtrArray *heap,
                     guint      index)
{
  TpJob *job = heap->pdata[index];

  while (index > 0)
    {
      guint parent = (index - 1) / 2;

      if (tp_deadline_of (heap, parent) <= job->extra->deadline)
        break;
      tp_deadline_place (heap, index, heap->pdata[parent]);
      index = parent;
    }
  tp_deadline_place (heap, index, job);
}

static void
tp_deadline_sift_down (GPtrArray *heap,
                       guint      index)
{
  TpJob *job = heap->pdata[index];

  for (;;)
    {
      guint child = 2 * index + 1;

      if (child >= heap->len)
        break;
      if (child + 1 < heap->len && tp_deadline_of (heap, child + 1) < tp_deadline_of (heap, child))
        child++;
      if (job->extra->deadline <= tp_deadline_of (heap, child))
        break;
      tp_deadline_place (heap, index, heap->pdata[child]);
      index = child;
    }
  tp_deadline_place (heap, index, job);
}

/* Gives @job a deadline, or moves it. The caller updates the source. */
void
tp_pool_set_deadline_locked (TpPool *self,
                             TpJob  *job,
                             gint64  deadline)
{
  TpJobExtra *extra = job->extra;

  if (self->deadlines == NULL)
    self->deadlines = g_ptr_array_new ();

  if (extra->deadline_index != TP_DEADLINE_NONE)
    tp_pool_clear_deadline_locked (self, job);

  extra->deadline = deadline;
  g_ptr_array_add (self->deadlines, job);
  tp_deadline_sift_up (self->deadlines, self->deadlines->len - 1);
}

void
tp_pool_clear_deadline_locked (TpPool *self,
                               TpJob  *job)
{
  GPtrArray *heap = self->deadlines;
  guint index = job->extra->deadline_index;
  TpJob *last;

  if (index == TP_DEADLINE_NONE)
    return;

  job->extra->deadline_index = TP_DEADLINE_NONE;
  last = g_ptr_array_steal_index_fast (heap, heap->len - 1);
  if (last == job)
    return;
  tp_deadline_place (heap, index, last);
  tp_deadline_sift_down (heap, index);
  tp_deadline_sift_up (heap, last->extra->deadline_index);
}

/* The earliest deadline, or -1 for none */
gint64
tp_pool_next_deadline_locked (TpPool *self)
{
  if (self->deadlines == NULL || self->deadlines->len == 0)
    return -1;
  return tp_deadline_of (self->deadlines, 0);
}

/* Takes the jobs whose deadline is @now or earlier out of the heap: jobs
 * that wait go to @timed_out (out of the pool's lists, to fail once the
 * lock is released), running jobs have their cancellable added to
 * @to_cancel. */
void
tp_pool_expire_deadlines_locked (TpPool    *self,
                                 gint64     now,
                                 TpJobList *timed_out,
                                 GPtrArray *to_cancel)
{
  gint64 deadline;

  while ((deadline = tp_pool_next_deadline_locked (self)) >= 0 && deadline <= now)
    {
      TpJob *job = self->deadlines->pdata[0];

      tp_pool_clear_deadline_locked (self, job);
      if (job->state == TP_JOB_READY || job->state == TP_JOB_RUNNING)
        {
          job->extra->run_timed_out = TRUE;
          g_ptr_array_add (to_cancel, g_object_ref (job->extra->run_cancellable));
        }
      else if (tp_pool_withdraw_locked (self, job))
        {
          tp_job_list_push_tail (timed_out, job);
        }
    }
}

/* A job that gets a worker: its queue deadline ends, its run deadline
 * begins */
void
tp_pool_job_starts_locked (TpPool *self,
                           TpJob  *job)
{
  tp_pool_clear_deadline_locked (self, job);
  if (job->extra->run_timeout_us > 0)
    tp_pool_set_deadline_locked (self, job, g_get_monotonic_time () + job->extra->run_timeout_us);
}

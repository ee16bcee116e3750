/* tp-waiters.c: the tasks of scale, close and wait-idle, and settling them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * tp_pool_scale_async(), tp_pool_close_async() and tp_pool_wait_idle_async()
 * each leave a GTask in one of the pool's waiter lists. Whatever change of
 * state satisfies a waiter (a job ends, a worker retires, the pool closes),
 * tp_pool_unlock() calls tp_pool_settle_locked(), which takes the waiters
 * that are done out of their lists; they complete once the lock is released.
 */

#include "config.h"

#include "tp-pool-private.h"

/* A waiter whose cancellable fires stops waiting at once. Its "cancelled"
 * handler is disconnected in the task's callback: GTask calls back
 * synchronously only while the cancellable is not cancelled, so that never
 * runs inside the cancellable's own emission. (A GCancellableSource would
 * avoid the handler, but GLib 2.74 leaks such a source when the cancelling
 * thread holds its last reference.) */
typedef struct {
  GAsyncReadyCallback callback;
  gpointer            user_data;
  GCancellable       *cancellable;
  gulong              cancel_id;   /* protected by the pool's mutex */
  gboolean            completed;   /* likewise */
} TpWaiter;

static void
tp_waiter_free (gpointer data)
{
  TpWaiter *waiter = data;

  g_clear_object (&waiter->cancellable);
  g_free (waiter);
}

static void
tp_pool_waiter_done_cb (GObject      *source_object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  TpPool *self = TP_POOL (source_object);
  TpWaiter *waiter = g_task_get_task_data (G_TASK (result));
  gulong cancel_id;

  tp_pool_lock (self);
  cancel_id = waiter->cancel_id;
  waiter->cancel_id = 0;
  waiter->completed = TRUE;
  tp_pool_unlock (self);

  if (cancel_id != 0)
    g_cancellable_disconnect (waiter->cancellable, cancel_id);
  if (waiter->callback != NULL)
    waiter->callback (source_object, result, waiter->user_data);
}

static gboolean
tp_pool_remove_waiter_locked (GPtrArray *waiters,
                              GTask     *task)
{
  return waiters != NULL && g_ptr_array_remove (waiters, task);
}

static void
tp_pool_waiter_cancelled_cb (GCancellable *cancellable,
                             gpointer      data)
{
  GTask *task = data;
  TpPool *self = g_task_get_source_object (task);
  gboolean found;

  tp_pool_lock (self);
  found = tp_pool_remove_waiter_locked (self->close_tasks, task) ||
          tp_pool_remove_waiter_locked (self->idle_tasks, task) ||
          tp_pool_remove_waiter_locked (self->scale_tasks, task);
  tp_pool_unlock (self);

  if (found)
    {
      g_task_return_error_if_cancelled (task);
      g_object_unref (task);
    }
}

GTask *
tp_pool_new_waiter (TpPool              *self,
                    gpointer             source_tag,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  TpWaiter *waiter = g_new0 (TpWaiter, 1);
  GTask *task = g_task_new (self, cancellable, tp_pool_waiter_done_cb, NULL);

  waiter->callback = callback;
  waiter->user_data = user_data;
  waiter->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  g_task_set_task_data (task, waiter, tp_waiter_free);
  g_task_set_source_tag (task, source_tag);
  return task;
}

void
tp_pool_add_waiter_locked (TpPool     *self,
                           GPtrArray **waiters,
                           GTask      *task)
{
  if (*waiters == NULL)
    *waiters = g_ptr_array_new ();
  g_ptr_array_add (*waiters, g_object_ref (task));
}

/* Watches the cancellable of a waiter just put in one of the pool's lists.
 * Usually its callback cannot run before the caller returns to the main loop
 * (the task was made in this iteration); but if the caller's context is run
 * by another thread, the task may already be complete: the handler is then
 * taken back at once. Consumes the caller's reference. */
void
tp_pool_watch_waiter (TpPool *self,
                      GTask  *task)
{
  TpWaiter *waiter = g_task_get_task_data (task);
  gboolean completed;
  gulong cancel_id;

  if (waiter->cancellable != NULL)
    {
      /* Runs the handler at once if already cancelled, and then returns 0 */
      cancel_id = g_cancellable_connect (waiter->cancellable,
                                         G_CALLBACK (tp_pool_waiter_cancelled_cb), task, NULL);
      tp_pool_lock (self);
      completed = waiter->completed;
      if (!completed)
        waiter->cancel_id = cancel_id;
      tp_pool_unlock (self);

      if (completed && cancel_id != 0)
        g_cancellable_disconnect (waiter->cancellable, cancel_id);
    }
  g_object_unref (task);
}

static void
tp_pool_take_waiters (GPtrArray **into,
                      GPtrArray **waiters)
{
  if (*waiters == NULL)
    return;
  if (*into == NULL)
    *into = g_steal_pointer (waiters);
  else
    g_ptr_array_extend_and_steal (*into, g_steal_pointer (waiters));
}

/* Takes out of their lists the waiters the pool's state satisfies: scales
 * that reached their size (or can never: the pool closes), waits for idle
 * once idle, closes once closed. */
void
tp_pool_settle_locked (TpPool     *self,
                       TpPoolDone *done)
{
  gboolean closing = tp_pool_is_closing_locked (self);

  if (self->scale_tasks != NULL && (self->n_workers == self->target || closing))
    tp_pool_take_waiters (closing ? &done->closed_tasks : &done->tasks, &self->scale_tasks);

  if (!tp_pool_is_idle_locked (self))
    return;

  if (self->state == TP_POOL_CLOSING)
    {
      self->state = TP_POOL_CLOSED;
      self->n_workers = 0;
      self->next_check = -1;
      tp_idle_ring_clear (&self->idle);
    }

  tp_pool_take_waiters (&done->tasks, &self->idle_tasks);
  if (self->state == TP_POOL_CLOSED)
    tp_pool_take_waiters (&done->tasks, &self->close_tasks);
}

static gboolean
tp_pool_return_waiter_cb (gpointer data)
{
  g_task_return_boolean (data, TRUE);
  return G_SOURCE_REMOVE;
}

static gboolean
tp_pool_return_closed_waiter_cb (gpointer data)
{
  g_task_return_new_error (data, TP_POOL_ERROR, TP_POOL_ERROR_CLOSED,
                           "The pool is closed: it cannot reach the size asked for");
  return G_SOURCE_REMOVE;
}

/* A waiter completes in an idle of its own context, one step below the
 * default priority: after the callbacks of the jobs it waited for, which
 * reach that context at the default priority (at once, or in an idle made
 * before this one). So a close or a wait for idle calls back after every
 * job of its context has. */
static void
tp_pool_return_waiters (GPtrArray *tasks,
                        gboolean   closed)
{
  if (tasks == NULL)
    return;

  for (guint i = 0; i < tasks->len; i++)
    {
      GTask *task = tasks->pdata[i];
      GSource *source = g_idle_source_new ();

      g_source_set_priority (source, G_PRIORITY_DEFAULT + 1);
      g_source_set_static_name (source, "[taskpool] waiter");
      g_source_set_callback (source,
                             closed ? tp_pool_return_closed_waiter_cb : tp_pool_return_waiter_cb,
                             task, g_object_unref);
      g_source_attach (source, g_task_get_context (task));
      g_source_unref (source);
    }
  g_ptr_array_unref (tasks);
}

/* Outside the lock: their callbacks may call into the pool */
void
tp_pool_complete_waiters (TpPoolDone *done)
{
  tp_pool_return_waiters (done->tasks, FALSE);
  tp_pool_return_waiters (done->closed_tasks, TRUE);
}

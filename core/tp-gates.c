/* tp-gates.c: the conditions a job must meet to start, beyond a free worker
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Before a queued job gets a worker, the pool asks each of its gates, in
 * order, whether it may start (tp_pool_next_job_locked()). When all admit,
 * each is told it starts; when it ends, whichever way, each is told once.
 *
 * A gate that refuses every job now (TP_GATE_HOLD) closes: the job goes back
 * to the queue at its place, and no job starts until the gate's retry time,
 * a wake, or the end of a job it started. A gate that refuses the job's key
 * (TP_GATE_HOLD_KEY) parks the job in a channel of that gate and key, a
 * queue of the pool's own strategy, and the pool goes on with the jobs
 * behind it: one key's jobs never hold back another's. A channel is
 * re-offered at its retry time, on a wake, or when a job of its key that
 * the gate started ends: its first job goes back to the queue at its place,
 * and is asked again when the queue's order reaches it; once admitted, the
 * next one follows. Held jobs are waiting jobs: they can be cancelled, time
 * out, and are discarded by a close.
 *
 * Channels and closed gates with a retry time are kept in a heap by that
 * time, which arms the pool's source. Everything here runs with the pool's
 * lock held, but a gate's wake, which comes through its host's source.
 */

#include "config.h"

#include "tp-gate-private.h"
#include "tp-pool-private.h"
#include "tp-registry-private.h"

#define TP_TIMER_NONE G_MAXUINT
#define TP_GATE_MIN_RETRY_US 1000

typedef struct _TpPoolGate TpPoolGate;

/* The jobs one gate holds for one key (or, key NULL, for jobs without one);
 * the whole gate's closure is a channel too, without a queue */
typedef struct {
  TpPoolGate *gate;
  char       *key;          /* an interned GRefString, or NULL */
  TpQueue     queue;        /* the held jobs, in the queue's order; none for a closure */
  guint       refs;         /* jobs in queue, and re-offered jobs not yet asked again */
  gint64      retry_at;     /* -1 for none */
  guint       timer_index;  /* in the pool's gate timers, or TP_TIMER_NONE */
} TpGateChannel;

struct _TpPoolGate
{
  TpPool               *pool;
  const TpGateStrategy *vt;
  gpointer              gate;
  TpGateHost           *host;
  char                 *name;
  gboolean              closed;
  TpGateChannel         closure;   /* when closed with a retry time */
  TpGateChannel        *no_key;    /* jobs without a key the gate held */
  GHashTable           *channels;  /* key → TpGateChannel */
};

/* Timers {{{ */

static inline gint64
tp_timer_at (GPtrArray *heap,
             guint      index)
{
  return ((TpGateChannel *) heap->pdata[index])->retry_at;
}

static inline void
tp_timer_place (GPtrArray     *heap,
                guint          index,
                TpGateChannel *channel)
{
  heap->pdata[index] = channel;
  channel->timer_index = index;
}

static void
tp_timer_sift (GPtrArray *heap,
               guint      index)
{
  TpGateChannel *channel = heap->pdata[index];

  while (index > 0 && tp_timer_at (heap, (index - 1) / 2) > channel->retry_at)
    {
      tp_timer_place (heap, index, heap->pdata[(index - 1) / 2]);
      index = (index - 1) / 2;
    }
  for (;;)
    {
      guint child = 2 * index + 1;

      if (child >= heap->len)
        break;
      if (child + 1 < heap->len && tp_timer_at (heap, child + 1) < tp_timer_at (heap, child))
        child++;
      if (channel->retry_at <= tp_timer_at (heap, child))
        break;
      tp_timer_place (heap, index, heap->pdata[child]);
      index = child;
    }
  tp_timer_place (heap, index, channel);
}

static void
tp_timer_clear (TpPool        *self,
                TpGateChannel *channel)
{
  GPtrArray *heap = self->gate_timers;
  guint index = channel->timer_index;
  TpGateChannel *last;

  channel->retry_at = -1;
  if (index == TP_TIMER_NONE)
    return;
  channel->timer_index = TP_TIMER_NONE;
  last = g_ptr_array_steal_index_fast (heap, heap->len - 1);
  if (last != channel)
    {
      tp_timer_place (heap, index, last);
      tp_timer_sift (heap, index);
    }
}

/* The earliest of @channel's retry time and @retry_at */
static void
tp_timer_set (TpPool        *self,
              TpGateChannel *channel,
              gint64         retry_at)
{
  if (retry_at < 0 || (channel->retry_at >= 0 && channel->retry_at <= retry_at))
    return;
  if (self->gate_timers == NULL)
    self->gate_timers = g_ptr_array_new ();
  channel->retry_at = retry_at;
  if (channel->timer_index == TP_TIMER_NONE)
    {
      g_ptr_array_add (self->gate_timers, channel);
      channel->timer_index = self->gate_timers->len - 1;
    }
  tp_timer_sift (self->gate_timers, channel->timer_index);
}

gint64
tp_pool_next_gate_time_locked (TpPool *self)
{
  if (self->gate_timers == NULL || self->gate_timers->len == 0)
    return -1;
  return tp_timer_at (self->gate_timers, 0);
}

/* }}} */

/* Channels {{{ */

static TpGateChannel *
tp_gate_channel_new (TpPoolGate *gate,
                     const char *key,
                     GError    **error)
{
  TpPool *self = gate->pool;
  TpGateChannel *channel;
  gpointer queue = NULL;

  /* A pool whose strategy broke keeps its own lists only */
  if (!self->queue_broken)
    {
      queue = tp_queue_strategy_create (self->queue_vt, self->config, self->group, error);
      if (queue == NULL)
        return NULL;
    }

  channel = g_new0 (TpGateChannel, 1);
  channel->gate = gate;
  channel->key = key != NULL ? g_ref_string_acquire ((char *) key) : NULL;
  tp_queue_init (&channel->queue, queue);
  channel->retry_at = -1;
  channel->timer_index = TP_TIMER_NONE;
  return channel;
}

static void
tp_gate_channel_free (TpGateChannel *channel)
{
  TpPool *self = channel->gate->pool;

  g_assert (channel->queue.jobs.length == 0);
  tp_timer_clear (self, channel);
  tp_pool_queue_clear (self, &channel->queue);
  g_clear_pointer (&channel->key, tp_key_release);
  g_free (channel);
}

/* A channel goes when no job is held in it or re-offered from it */
static void
tp_gate_channel_unref (TpGateChannel *channel)
{
  TpPoolGate *gate = channel->gate;

  g_assert (channel->refs > 0);
  if (--channel->refs > 0)
    return;
  if (channel == gate->no_key)
    gate->no_key = NULL;
  else
    g_hash_table_remove (gate->channels, channel->key);
  tp_gate_channel_free (channel);
}

/* tp_job_get_key() without its checks, for every job's start and end */
static inline const char *
tp_gate_job_key (const TpJob *job)
{
  return job->extra != NULL ? job->extra->key : NULL;
}

/* Keys are interned (tp_job_get_key()): channels are found by address, and
 * a gate that holds no job of any key is not searched at all, which spares
 * each job's end a lookup per gate */
static TpGateChannel *
tp_gate_channel_lookup (TpPoolGate *gate,
                        const char *key)
{
  if (key == NULL)
    return gate->no_key;
  if (g_hash_table_size (gate->channels) == 0)
    return NULL;
  return g_hash_table_lookup (gate->channels, key);
}

/* The gate's channels, with the one for jobs without a key, as a list that
 * survives channels going */
static GPtrArray *
tp_gate_list_channels (TpPoolGate *gate)
{
  GPtrArray *channels = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer channel;

  g_hash_table_iter_init (&iter, gate->channels);
  while (g_hash_table_iter_next (&iter, NULL, &channel))
    g_ptr_array_add (channels, channel);
  if (gate->no_key != NULL)
    g_ptr_array_add (channels, gate->no_key);
  return channels;
}

static void tp_gate_channel_reoffer (TpGateChannel *channel);

/* Puts @job, which was queued or re-offered, in @channel, at its place. A
 * job re-offered by another channel (another gate's) passes that channel's
 * turn on to its next job. */
static void
tp_gate_channel_hold (TpGateChannel *channel,
                      TpJob         *job)
{
  TpPool *self = channel->gate->pool;
  TpJobExtra *extra = tp_job_ensure_extra (job);
  TpGateChannel *from = extra->channel;

  channel->refs++;
  if (from != NULL && from != channel)
    tp_gate_channel_reoffer (from);
  if (from != NULL)
    tp_gate_channel_unref (from);
  extra->channel = channel;
  job->state = TP_JOB_HELD;
  tp_pool_queue_requeue (self, &channel->queue, job);
  self->n_held++;
  if (extra->info != NULL)
    tp_pool_info_set_state_locked (self, job, TP_JOB_STATE_HELD);
}

/* The first job @channel holds goes back to the queue, at its place, to be
 * asked again when the queue's order reaches it */
static void
tp_gate_channel_reoffer (TpGateChannel *channel)
{
  TpPool *self = channel->gate->pool;
  TpJob *job;

  tp_timer_clear (self, channel);
  job = tp_pool_queue_pop (self, &channel->queue, TP_JOB_HELD);
  if (job == NULL)
    return;
  self->n_held--;
  /* Still counted in channel->refs: it follows the next job when admitted */
  job->state = TP_JOB_QUEUED;
  if (job->extra->info != NULL)
    tp_pool_info_set_state_locked (self, job, self->held ? TP_JOB_STATE_HELD
                                                         : TP_JOB_STATE_QUEUED);
  tp_pool_queue_requeue (self, &self->queue, job);
  if (self->n_queued++ == 0)
    self->waiting_since = tp_pool_idle_stamp (self);
}

/* A job leaves the channel it was held in or re-offered from, for good */
static void
tp_gate_job_leaves_channel (TpJob *job)
{
  TpGateChannel *channel = job->extra->channel;

  job->extra->channel = NULL;
  tp_gate_channel_unref (channel);
}

/* A re-offered job leaves without starting (cancelled, timed out, failed by
 * a gate): the next job of its channel is offered in its place, or nothing
 * would ever offer it while no job of its key runs */
static void
tp_gate_job_passes_turn (TpJob *job)
{
  tp_gate_channel_reoffer (job->extra->channel);
  tp_gate_job_leaves_channel (job);
}

/* Takes a held job out of its channel: cancelled, timed out */
gboolean
tp_pool_withdraw_held_locked (TpPool *self,
                              TpJob  *job)
{
  TpGateChannel *channel = job->extra->channel;

  tp_pool_queue_remove (self, &channel->queue, job);
  self->n_held--;
  tp_gate_job_leaves_channel (job);
  return TRUE;
}

/* A queued job that was re-offered by a channel leaves the pool */
void
tp_pool_gates_job_withdrawn_locked (TpPool *self,
                                    TpJob  *job)
{
  if (job->extra != NULL && job->extra->channel != NULL)
    tp_gate_job_passes_turn (job);
}

static void
tp_gate_discard_channel (TpGateChannel *channel,
                         TpJobList     *discarded)
{
  TpPool *self = channel->gate->pool;
  TpJob *job;

  /* The channel may go with its last job: take what is needed first */
  while ((job = tp_pool_queue_pop (self, &channel->queue, TP_JOB_HELD)) != NULL)
    {
      gboolean last = channel->refs == 1;

      self->n_held--;
      tp_job_list_push_tail (discarded, job);
      tp_gate_job_leaves_channel (job);
      if (last)
        return;
    }
}

/* Every job the gates hold, for a close that discards */
void
tp_pool_discard_held_locked (TpPool    *self,
                             TpJobList *discarded)
{
  for (guint i = 0; self->gates != NULL && i < self->gates->len; i++)
    {
      TpPoolGate *gate = self->gates->pdata[i];
      g_autoptr(GPtrArray) channels = tp_gate_list_channels (gate);

      for (guint c = 0; c < channels->len; c++)
        tp_gate_discard_channel (channels->pdata[c], discarded);
    }
}

/* }}} */

/* Asking the gates {{{ */

static void
tp_gate_open (TpPoolGate *gate)
{
  TpPool *self = gate->pool;

  tp_timer_clear (self, &gate->closure);
  if (!gate->closed)
    return;
  gate->closed = FALSE;
  self->n_closed_gates--;
}

static void
tp_gate_close (TpPoolGate *gate,
               gint64      retry_at)
{
  TpPool *self = gate->pool;

  if (!gate->closed)
    {
      gate->closed = TRUE;
      self->n_closed_gates++;
    }
  tp_timer_set (self, &gate->closure, retry_at);
}

/* A gate that refuses with a retry time: in the past, it would have the pool
 * ask it in a loop; it waits a millisecond at least. -1 is "when woken or
 * when a job ends"; other negative times are taken as -1. */
static gint64
tp_gate_sane_retry (gint64 retry_at,
                    gint64 now)
{
  if (retry_at < 0)
    return -1;
  return MAX (retry_at, now + TP_GATE_MIN_RETRY_US);
}

/* A gate's answer that breaks the interface is a plugin bug: the job fails */
static GError *
tp_gate_broken (TpPoolGate  *gate,
                const char  *what)
{
  g_autofree char *who = tp_registry_describe_strategy (gate->vt);

  g_critical ("%s: %s %s", tp_pool_where (gate->pool), who != NULL ? who : gate->name, what);
  return g_error_new (TP_POOL_ERROR, TP_POOL_ERROR_PLUGIN, "The gate “%s” %s", gate->name, what);
}

/* Puts @job aside to fail with @error once the lock is released */
static void
tp_gate_fail_job (TpPool *self,
                  TpJob  *job,
                  GError *error)
{
  TpJobExtra *extra = tp_job_ensure_extra (job);

  if (extra->channel != NULL)
    tp_gate_job_passes_turn (job);
  if (job->limited)
    tp_pool_job_leaves_locked (self, job);
  extra->gate_error = error;
  job->state = TP_JOB_FINISHED;
  tp_job_list_push_tail (&self->gate_failed, job);
  tp_pool_update_source_locked (self);
}

/* Asks each gate in order; on a refusal, acts on it. Returns TRUE if @job,
 * popped from the queue, may start now (the gates were told it starts). */
static gboolean
tp_pool_ask_gates_locked (TpPool *self,
                          TpJob  *job,
                          gint64  now)
{
  for (guint i = 0; i < self->gates->len; i++)
    {
      TpPoolGate *gate = self->gates->pdata[i];
      g_autoptr(GError) error = NULL;
      gint64 retry_at = -1;
      TpGateChannel *channel;
      TpGateVerdict verdict;
      const char *key;

      verdict = gate->vt->admit (gate->gate, job, now, &retry_at, &error);
      switch (verdict)
        {
        case TP_GATE_ADMIT:
          if (error != NULL)
            {
              tp_gate_fail_job (self, job, tp_gate_broken (gate, "admitted a job and set an "
                                                                 "error"));
              return FALSE;
            }
          continue;

        case TP_GATE_HOLD:
          tp_gate_close (gate, tp_gate_sane_retry (retry_at, now));
          job->state = TP_JOB_QUEUED;
          tp_pool_queue_requeue (self, &self->queue, job);
          self->n_queued++;
          return FALSE;

        case TP_GATE_HOLD_KEY:
          key = tp_gate_job_key (job);
          channel = tp_gate_channel_lookup (gate, key);
          if (channel == NULL)
            {
              channel = tp_gate_channel_new (gate, key, &error);
              if (channel == NULL)
                {
                  tp_gate_fail_job (self, job, g_steal_pointer (&error));
                  return FALSE;
                }
              if (key != NULL)
                g_hash_table_insert (gate->channels, channel->key, channel);
              else
                gate->no_key = channel;
            }
          tp_gate_channel_hold (channel, job);
          tp_timer_set (self, channel, tp_gate_sane_retry (retry_at, now));
          return FALSE;

        case TP_GATE_FAIL:
          if (error == NULL)
            error = tp_gate_broken (gate, "failed a job without setting an error");
          tp_gate_fail_job (self, job, g_steal_pointer (&error));
          return FALSE;

        default:
          tp_gate_fail_job (self, job, tp_gate_broken (gate, "gave an unknown verdict"));
          return FALSE;
        }
    }

  for (guint i = 0; i < self->gates->len; i++)
    {
      TpPoolGate *gate = self->gates->pdata[i];

      gate->vt->started (gate->gate, job, now);
    }
  job->gated = TRUE;
  return TRUE;
}

/* The next job that may start now, out of the queue, or NULL. Without
 * gates, the queue's next. */
TpJob *
tp_pool_next_job_locked (TpPool *self)
{
  gint64 now = 0;

  while (self->n_queued > 0 && self->n_closed_gates == 0)
    {
      TpJob *job = tp_pool_queue_pop (self, &self->queue, TP_JOB_QUEUED);
      TpGateChannel *channel;

      self->n_queued--;
      if (self->n_queued == 0)
        self->waiting_since = 0;
      if (self->gates == NULL)
        return job;

      if (now == 0)
        now = g_get_monotonic_time ();
      if (!tp_pool_ask_gates_locked (self, job, now))
        continue;

      /* A re-offered job that starts: the next of its channel follows */
      channel = job->extra != NULL ? job->extra->channel : NULL;
      if (channel != NULL)
        {
          tp_gate_channel_reoffer (channel);
          tp_gate_job_leaves_channel (job);
        }
      return job;
    }
  return NULL;
}

/* A job the gates admitted ends, whichever way: each is told once, and what
 * held jobs for it may let one go */
void
tp_pool_gates_job_ended_locked (TpPool *self,
                                TpJob  *job)
{
  const char *key = tp_gate_job_key (job);

  job->gated = FALSE;
  for (guint i = 0; i < self->gates->len; i++)
    {
      TpPoolGate *gate = self->gates->pdata[i];
      TpGateChannel *channel;

      if (gate->vt->ended != NULL)
        gate->vt->ended (gate->gate, job);
      tp_gate_open (gate);
      channel = tp_gate_channel_lookup (gate, key);
      if (channel != NULL)
        tp_gate_channel_reoffer (channel);
    }
}

/* Retry times that passed */
void
tp_pool_expire_gate_timers_locked (TpPool *self,
                                   gint64  now)
{
  gint64 at;

  while ((at = tp_pool_next_gate_time_locked (self)) >= 0 && at <= now)
    {
      TpGateChannel *channel = self->gate_timers->pdata[0];

      if (channel == &channel->gate->closure)
        tp_gate_open (channel->gate);
      else
        tp_gate_channel_reoffer (channel);
    }
}

/* Fails the jobs a gate refused for good; outside the lock */
void
tp_pool_fail_gate_refusals (TpJobList *failed)
{
  TpJob *job;

  while ((job = tp_job_list_pop_head (failed)) != NULL)
    {
      GError *error = g_steal_pointer (&job->extra->gate_error);

      tp_job_fail (job, error->domain, error->code, error->message);
      g_error_free (error);
    }
}

/* Which gate of which pool woke: the pool may be going on another thread */
typedef struct {
  GWeakRef pool;
  guint    index;
} TpGateWaker;

static void
tp_gate_waker_free (gpointer data)
{
  TpGateWaker *waker = data;

  g_weak_ref_clear (&waker->pool);
  g_free (waker);
}

/* A gate woke the pool: on its context, without the lock */
static void
tp_pool_gate_woken (gpointer data)
{
  TpGateWaker *waker = data;
  TpPool *self = g_weak_ref_get (&waker->pool);
  g_autoptr(GPtrArray) channels = NULL;
  TpPoolGate *gate;

  if (self == NULL)
    return;

  tp_pool_lock (self);
  gate = self->gates->pdata[waker->index];
  tp_gate_open (gate);
  channels = tp_gate_list_channels (gate);
  for (guint i = 0; i < channels->len; i++)
    tp_gate_channel_reoffer (channels->pdata[i]);
  tp_pool_fill_locked (self, NULL);
  tp_pool_consult_if_waiting_locked (self);
  tp_pool_unlock (self);

  tp_pool_run_ready (self);
  g_object_unref (self);
}

/* }}} */

/* Making and freeing {{{ */

static void
tp_pool_gate_free (gpointer data)
{
  TpPoolGate *gate = data;

  g_assert (gate->no_key == NULL && g_hash_table_size (gate->channels) == 0);
  if (gate->vt->destroy != NULL)
    gate->vt->destroy (gate->gate);
  tp_gate_host_free (gate->host);
  g_hash_table_unref (gate->channels);
  g_free (gate->name);
  g_free (gate);
}

/* Makes the gates found for gate_names, in order. The pool's context is
 * known by now: the gates attach what drives them there. */
gboolean
tp_pool_make_gates (TpPool  *self,
                    GError **error)
{
  g_autoptr(GPtrArray) gates = NULL;

  if (self->gate_names == NULL || self->gate_names[0] == NULL)
    return TRUE;

  gates = g_ptr_array_new_with_free_func (tp_pool_gate_free);
  for (guint i = 0; self->gate_names[i] != NULL; i++)
    {
      TpPoolGate *gate = g_new0 (TpPoolGate, 1);
      TpGateWaker *waker;

      gate->pool = self;
      gate->vt = self->gate_vts[i];
      gate->name = g_strdup (self->gate_names[i]);
      gate->channels = g_hash_table_new (g_direct_hash, g_direct_equal);
      gate->closure.gate = gate;
      gate->closure.retry_at = -1;
      gate->closure.timer_index = TP_TIMER_NONE;
      waker = g_new0 (TpGateWaker, 1);
      g_weak_ref_init (&waker->pool, self);
      waker->index = i;
      gate->host = tp_gate_host_new_full (self->context, tp_pool_where (self), tp_pool_gate_woken,
                                          waker, tp_gate_waker_free);
      if (!tp_gate_strategy_create (gate->vt, self->config, self->group, gate->host, &gate->gate,
                                    error))
        {
          tp_gate_host_free (gate->host);
          g_hash_table_unref (gate->channels);
          g_free (gate->name);
          g_free (gate);
          return FALSE;
        }
      g_ptr_array_add (gates, gate);
    }
  self->gates = g_steal_pointer (&gates);
  return TRUE;
}

void
tp_pool_free_gates (TpPool *self)
{
  g_clear_pointer (&self->gates, g_ptr_array_unref);
  g_clear_pointer (&self->gate_timers, g_ptr_array_unref);
}

/* }}} */

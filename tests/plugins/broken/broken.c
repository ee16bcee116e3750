/* broken.c: strategies that break their contract, which a pool must survive
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Each is a FIFO that goes wrong after a few good answers:
 *   popnull:   pop() returns NULL while jobs are queued
 *   popdup:    pop() returns the job it returned last, once, without taking
 *              any job out
 *   popstale:  pop() takes the next job out, but returns the one it returned
 *              last instead, once: its length stays right
 *   removenop: remove() leaves the job queued
 *   liar:      length() says one job more than it has
 *   farcheck:  a scaler that asks to be consulted again at G_MAXINT64 µs
 *   negcheck:  a scaler that asks for a next check of -7 µs
 *   pastretry: a gate that refuses every job with a retry time in the past */

#include <taskpool/tp-plugin.h>

typedef struct {
  GQueue  jobs;
  guint   pops;
  TpJob  *last;
  int     mode;
} Broken;

enum { POP_NULL, POP_DUP, POP_STALE, REMOVE_NOP, LIAR };

/* Good answers before the bad one */
#define BROKEN_AFTER 3

static Broken *
broken_new (int mode)
{
  Broken *self = g_new0 (Broken, 1);

  self->mode = mode;
  return self;
}

#define BROKEN_CREATE(name, mode)                                              \
  static gpointer                                                              \
  name##_create (GKeyFile *config, const char *group, GError **error)          \
  {                                                                            \
    return broken_new (mode);                                                  \
  }

BROKEN_CREATE (popnull, POP_NULL)
BROKEN_CREATE (popdup, POP_DUP)
BROKEN_CREATE (popstale, POP_STALE)
BROKEN_CREATE (removenop, REMOVE_NOP)
BROKEN_CREATE (liar, LIAR)

static void
broken_destroy (gpointer queue)
{
  Broken *self = queue;

  g_queue_clear (&self->jobs);
  g_free (self);
}

static void
broken_push (gpointer  queue,
             TpJob    *job)
{
  g_queue_push_tail (&((Broken *) queue)->jobs, job);
}

static TpJob *
broken_pop (gpointer queue)
{
  Broken *self = queue;
  gboolean bad = ++self->pops > BROKEN_AFTER;

  if (bad && self->mode == POP_NULL && self->jobs.length > 0)
    return NULL;
  if (bad && self->mode == POP_DUP && self->last != NULL)
    {
      TpJob *again = self->last;

      self->last = NULL;
      return again;
    }
  if (bad && self->mode == POP_STALE && self->last != NULL && self->jobs.length > 0)
    {
      TpJob *again = self->last;

      self->last = NULL;
      g_queue_pop_head (&self->jobs);
      return again;
    }
  self->last = g_queue_pop_head (&self->jobs);
  return self->last;
}

static void
broken_remove (gpointer  queue,
               TpJob    *job)
{
  Broken *self = queue;

  if (self->mode != REMOVE_NOP)
    g_queue_remove (&self->jobs, job);
}

static guint
broken_length (gpointer queue)
{
  Broken *self = queue;

  return self->jobs.length + (self->mode == LIAR && self->pops > BROKEN_AFTER ? 1 : 0);
}

#define BROKEN_QUEUE(id)                                                       \
  static const TpQueueStrategy id##_queue = {                                  \
    .struct_size = sizeof (TpQueueStrategy),                                   \
    .name = #id,                                                               \
    .description = "A broken FIFO",                                            \
    .create = id##_create,                                                     \
    .destroy = broken_destroy,                                                 \
    .push = broken_push,                                                       \
    .pop = broken_pop,                                                         \
    .remove = broken_remove,                                                   \
    .length = broken_length,                                                   \
    .flags = TP_QUEUE_IGNORES_SUBMIT_TIME,                                     \
  };

BROKEN_QUEUE (popnull)
BROKEN_QUEUE (popdup)
BROKEN_QUEUE (popstale)
BROKEN_QUEUE (removenop)
BROKEN_QUEUE (liar)

static const TpQueueStrategy * const broken_queues[] = {
  &popnull_queue, &popdup_queue, &popstale_queue, &removenop_queue, &liar_queue, NULL
};

/* Scalers */

static gboolean
check_init (GKeyFile       *config,
            const char     *group,
            TpScaleLimits  *limits,
            gsize           limits_size,
            gpointer       *scaler,
            GError        **error)
{
  if (!limits->min_size_set)
    limits->min_size = 1;
  if (!limits->max_size_set)
    limits->max_size = 4;
  if (!limits->size_set)
    limits->size = limits->min_size;
  *scaler = NULL;
  return TRUE;
}

static guint
farcheck_decide (gpointer            scaler,
                 const TpScaleStats *stats,
                 gint64             *next_check_us)
{
  *next_check_us = G_MAXINT64;
  return stats->target;
}

static guint
negcheck_decide (gpointer            scaler,
                 const TpScaleStats *stats,
                 gint64             *next_check_us)
{
  *next_check_us = -7;
  return stats->target;
}

static const char * const check_keys[] = { "size", "min-size", "max-size", NULL };

static const TpScaleStrategy farcheck_scaler = {
  .struct_size = sizeof (TpScaleStrategy),
  .name = "farcheck",
  .description = "Asks to be consulted again in 292 000 years",
  .keys = check_keys,
  .init = check_init,
  .decide = farcheck_decide,
};

static const TpScaleStrategy negcheck_scaler = {
  .struct_size = sizeof (TpScaleStrategy),
  .name = "negcheck",
  .description = "Asks to be consulted again 7 µs ago",
  .keys = check_keys,
  .init = check_init,
  .decide = negcheck_decide,
};

static const TpScaleStrategy * const broken_scalers[] = {
  &farcheck_scaler, &negcheck_scaler, NULL
};

/* Gates */

typedef struct {
  guint asked;
} PastRetry;

static gboolean
pastretry_create (GKeyFile    *config,
                  const char  *group,
                  TpGateHost  *host,
                  gpointer    *gate,
                  GError     **error)
{
  *gate = g_new0 (PastRetry, 1);
  return TRUE;
}

static void
pastretry_destroy (gpointer gate)
{
  g_free (gate);
}

/* Refuses the first job forty times, each time with a retry in the past */
static TpGateVerdict
pastretry_admit (gpointer      gate,
                 const TpJob  *job,
                 gint64        now,
                 gint64       *retry_at,
                 GError      **error)
{
  PastRetry *self = gate;

  if (self->asked++ >= 40)
    return TP_GATE_ADMIT;
  *retry_at = now - 1000000;
  return TP_GATE_HOLD;
}

static void
pastretry_started (gpointer      gate,
                   const TpJob  *job,
                   gint64        now)
{
}

static const TpGateStrategy pastretry_gate = {
  .struct_size = sizeof (TpGateStrategy),
  .name = "pastretry",
  .description = "Refuses with retry times in the past",
  .create = pastretry_create,
  .destroy = pastretry_destroy,
  .admit = pastretry_admit,
  .started = pastretry_started,
};

static const TpGateStrategy * const broken_gates[] = { &pastretry_gate, NULL };

TP_PLUGIN_DEFINE_WITH_GATES ("broken", "1.0", "Strategies that break their contract",
                             broken_queues, broken_scalers, broken_gates)

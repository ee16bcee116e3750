/* good.c: a working plugin with queue strategies “fifo2”, “fifo2old” and “fifo2untimed”, and scaling strategy “fixed2”
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Broken for nothing: it must load and work next to the broken modules. */

#include <taskpool/tp-plugin.h>

#define FIXED2_DEFAULT_SIZE 3

/* fifo2: a GQueue; each job keeps its link, so that remove is O(1) */

static gpointer
fifo2_create (GKeyFile    *config,
              const char  *group,
              GError     **error)
{
  return g_queue_new ();
}

static void
fifo2_destroy (gpointer queue)
{
  g_queue_free (queue);
}

static void
fifo2_push (gpointer  queue,
            TpJob    *job)
{
  GList *link = g_list_alloc ();

  /* Without TP_QUEUE_IGNORES_SUBMIT_TIME, every job has its submission time */
  g_assert_cmpint (tp_job_get_submit_time (job), >, 0);
  g_assert_cmpint (tp_job_get_submit_time (job), <=, g_get_monotonic_time ());

  link->data = job;
  g_queue_push_tail_link (queue, link);
  tp_job_set_queue_data (job, link);
}

static TpJob *
fifo2_pop (gpointer queue)
{
  TpJob *job = g_queue_pop_head (queue);

  if (job != NULL)
    tp_job_set_queue_data (job, NULL);
  return job;
}

static void
fifo2_remove (gpointer  queue,
              TpJob    *job)
{
  g_queue_delete_link (queue, tp_job_get_queue_data (job));
  tp_job_set_queue_data (job, NULL);
}

static guint
fifo2_length (gpointer queue)
{
  return g_queue_get_length (queue);
}

static const TpQueueStrategy fifo2_strategy = {
  .struct_size = sizeof (TpQueueStrategy),
  .name = "fifo2",
  .description = "First in, first out, on a GQueue",
  .keys = NULL,
  .create = fifo2_create,
  .destroy = fifo2_destroy,
  .push = fifo2_push,
  .pop = fifo2_pop,
  .remove = fifo2_remove,
  .length = fifo2_length,
};

/* fifo2old: fifo2 as built against the first SDK, whose vtable ended before
 * its flags. What lies past struct_size is not the strategy's: the flag set
 * there must not be seen, and the pool must time the jobs. */
static const TpQueueStrategy fifo2old_strategy = {
  .struct_size = TP_QUEUE_STRATEGY_SIZE_FIRST,
  .name = "fifo2old",
  .description = "fifo2, with the first SDK's vtable",
  .keys = NULL,
  .create = fifo2_create,
  .destroy = fifo2_destroy,
  .push = fifo2_push,
  .pop = fifo2_pop,
  .remove = fifo2_remove,
  .length = fifo2_length,
  .flags = TP_QUEUE_IGNORES_SUBMIT_TIME,
};

/* fifo2untimed: fifo2 that says it ignores submission times, and reads one
 * anyway for a job of weight FIFO2_PROBE_WEIGHT: the pool did not read the
 * clock, and says so with a critical warning */
#define FIFO2_PROBE_WEIGHT 13

static void
fifo2untimed_push (gpointer  queue,
                   TpJob    *job)
{
  GList *link = g_list_alloc ();

  if (tp_job_get_weight (job) == FIFO2_PROBE_WEIGHT)
    g_assert_cmpint (tp_job_get_submit_time (job), ==, 0);
  link->data = job;
  g_queue_push_tail_link (queue, link);
  tp_job_set_queue_data (job, link);
}

static const TpQueueStrategy fifo2untimed_strategy = {
  .struct_size = sizeof (TpQueueStrategy),
  .name = "fifo2untimed",
  .description = "fifo2, without submission times",
  .keys = NULL,
  .create = fifo2_create,
  .destroy = fifo2_destroy,
  .push = fifo2untimed_push,
  .pop = fifo2_pop,
  .remove = fifo2_remove,
  .length = fifo2_length,
  .flags = TP_QUEUE_IGNORES_SUBMIT_TIME,
};

/* fixed2: the size stays what it was set to, like “fixed” */

static const char * const fixed2_keys[] = { "size", "min-size", "max-size", NULL };

static gpointer
fixed2_create (GKeyFile       *config,
               const char     *group,
               TpScaleLimits  *limits,
               GError        **error)
{
  if (!limits->min_size_set)
    limits->min_size = 0;
  if (!limits->max_size_set)
    limits->max_size = TP_POOL_MAX_SIZE;
  if (!limits->size_set)
    limits->size = CLAMP (FIXED2_DEFAULT_SIZE, limits->min_size, limits->max_size);

  /* Nothing to keep: any non-NULL pointer says success */
  return (gpointer) fixed2_keys;
}

static void
fixed2_destroy (gpointer scaler)
{
}

static const TpScaleStrategy fixed2_strategy = {
  .struct_size = sizeof (TpScaleStrategy),
  .name = "fixed2",
  .description = "A fixed number of workers, changed only by tp_pool_scale()",
  .keys = fixed2_keys,
  .create = fixed2_create,
  .destroy = fixed2_destroy,
  .decide = NULL,
};

static const TpQueueStrategy * const good_queues[] = {
  &fifo2_strategy, &fifo2old_strategy, &fifo2untimed_strategy, NULL
};
static const TpScaleStrategy * const good_scalers[] = { &fixed2_strategy, NULL };

TP_PLUGIN_DEFINE ("good", "1.0", "A working queue and scaler", good_queues, good_scalers)

/* queue-fair.c: the fair queue strategy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Round robin across keys, each key in submission order: a key with ten
 * thousand jobs queued takes one turn, then a key with one job takes the
 * next. The jobs without a key form one group of their own, which takes its
 * turns like a key.
 *
 * Each key with queued jobs has a group: a list of its jobs, in sequence
 * order, and a place in the round, a list of groups. A pop takes the first
 * job of the first group and moves the group to the end of the round; a
 * group that empties leaves the round and is freed. A push appends to its
 * group, which joins the round at its end if it was empty. Push, pop and
 * remove are O(1): a job's queue data is its list node, and a key's group is
 * found in a hash table (the last group found is compared first, which a
 * run of jobs of one key hits without hashing).
 *
 * A job a gate held comes back through `requeue`. It goes before the jobs of
 * its key that are newer than it: since a key's jobs pop in sequence order,
 * the older jobs still queued were given back too, and the search from the
 * front passes only those. Its group goes to the front of the round when it
 * had left it, or when the job is the one popped last: a gate that refuses
 * every job for a while makes the pool give back the job it just popped,
 * and that key must not lose its turn to the others each time.
 */

#include <string.h>

#include <taskpool/tp-plugin.h>

typedef struct _Group Group;
typedef struct _Node  Node;

struct _Node
{
  TpJob *job;
  Group *group;
  Node  *prev;
  Node  *next;
};

struct _Group
{
  char  *key;        /* NULL for the jobs without a key */
  Node  *head;
  Node  *tail;
  Group *prev;       /* in the round */
  Group *next;
};

typedef struct {
  GHashTable *groups;     /* key → Group, the groups of keyed jobs */
  Group      *keyless;    /* or NULL */
  Group      *first;      /* the round: whose turn it is, first */
  Group      *last;
  guint       length;

  Group      *cached;     /* the keyed group found last, or NULL */
  TpJob      *popped;     /* the job popped last, compared, never read */

  Node       *spare;      /* freed nodes, linked by next, for the next pushes */
  guint       n_spare;
} FairQueue;

#define FAIR_MAX_SPARE 256

static gpointer
fair_create (GKeyFile    *config,
             const char  *group,
             GError     **error)
{
  FairQueue *queue = g_new0 (FairQueue, 1);

  queue->groups = g_hash_table_new (g_str_hash, g_str_equal);
  return queue;
}

static void
fair_destroy (gpointer data)
{
  FairQueue *queue = data;

  /* The queue is empty: so are the groups (freed as they emptied) */
  g_hash_table_unref (queue->groups);
  while (queue->spare != NULL)
    {
      Node *node = queue->spare;

      queue->spare = node->next;
      g_free (node);
    }
  g_free (queue);
}

/* Nodes {{{ */

static Node *
node_new (FairQueue *queue)
{
  Node *node = queue->spare;

  if (node == NULL)
    return g_new (Node, 1);
  queue->spare = node->next;
  queue->n_spare--;
  return node;
}

static void
node_free (FairQueue *queue,
           Node      *node)
{
  if (queue->n_spare == FAIR_MAX_SPARE)
    {
      g_free (node);
      return;
    }
  node->next = queue->spare;
  queue->spare = node;
  queue->n_spare++;
}

/* }}} */

/* The round {{{ */

static void
round_unlink (FairQueue *queue,
              Group     *group)
{
  if (group->prev != NULL)
    group->prev->next = group->next;
  else
    queue->first = group->next;
  if (group->next != NULL)
    group->next->prev = group->prev;
  else
    queue->last = group->prev;
  group->prev = group->next = NULL;
}

static void
round_append (FairQueue *queue,
              Group     *group)
{
  group->prev = queue->last;
  group->next = NULL;
  if (queue->last != NULL)
    queue->last->next = group;
  else
    queue->first = group;
  queue->last = group;
}

static void
round_prepend (FairQueue *queue,
               Group     *group)
{
  group->prev = NULL;
  group->next = queue->first;
  if (queue->first != NULL)
    queue->first->prev = group;
  else
    queue->last = group;
  queue->first = group;
}

/* }}} */

/* Groups {{{ */

static Group *
group_lookup (FairQueue  *queue,
              const char *key)
{
  Group *group;

  if (key == NULL)
    return queue->keyless;
  if (queue->cached != NULL && strcmp (queue->cached->key, key) == 0)
    return queue->cached;

  group = g_hash_table_lookup (queue->groups, key);
  if (group != NULL)
    queue->cached = group;
  return group;
}

static Group *
group_new (FairQueue  *queue,
           const char *key)
{
  Group *group = g_new0 (Group, 1);

  group->key = g_strdup (key);
  if (key != NULL)
    g_hash_table_insert (queue->groups, group->key, group);
  else
    queue->keyless = group;
  return group;
}

/* Frees an empty group, which has left the round */
static void
group_free (FairQueue *queue,
            Group     *group)
{
  if (queue->cached == group)
    queue->cached = NULL;
  if (group->key != NULL)
    g_hash_table_remove (queue->groups, group->key);
  else
    queue->keyless = NULL;
  g_free (group->key);
  g_free (group);
}

static void
group_unlink (Group *group,
              Node  *node)
{
  if (node->prev != NULL)
    node->prev->next = node->next;
  else
    group->head = node->next;
  if (node->next != NULL)
    node->next->prev = node->prev;
  else
    group->tail = node->prev;
}

/* Puts @node before @next in @group, or last if @next is NULL */
static void
group_insert_before (Group *group,
                     Node  *node,
                     Node  *next)
{
  node->group = group;
  node->next = next;
  node->prev = next != NULL ? next->prev : group->tail;
  if (node->prev != NULL)
    node->prev->next = node;
  else
    group->head = node;
  if (next != NULL)
    next->prev = node;
  else
    group->tail = node;
}

/* Takes @node out of its group, and the group out of the round if it empties */
static void
fair_unlink (FairQueue *queue,
             Node      *node)
{
  Group *group = node->group;

  group_unlink (group, node);
  queue->length--;
  if (group->head == NULL)
    {
      round_unlink (queue, group);
      group_free (queue, group);
    }
}

/* }}} */

static Node *
fair_node_new (FairQueue *queue,
               TpJob     *job)
{
  Node *node = node_new (queue);

  node->job = job;
  tp_job_set_queue_data (job, node);
  queue->length++;
  return node;
}

static void
fair_push (gpointer  data,
           TpJob    *job)
{
  FairQueue *queue = data;
  const char *key = tp_job_get_key (job);
  Group *group = group_lookup (queue, key);

  if (group == NULL)
    {
      group = group_new (queue, key);
      round_append (queue, group);
    }
  group_insert_before (group, fair_node_new (queue, job), NULL);
}

static void
fair_requeue (gpointer  data,
              TpJob    *job)
{
  FairQueue *queue = data;
  const char *key = tp_job_get_key (job);
  Group *group = group_lookup (queue, key);
  guint64 sequence = tp_job_get_sequence (job);
  Node *next;

  if (group == NULL)
    {
      group = group_new (queue, key);
      round_prepend (queue, group);
    }
  else if (job == queue->popped && group != queue->first)
    {
      round_unlink (queue, group);
      round_prepend (queue, group);
    }
  queue->popped = NULL;

  /* Only jobs given back can be older than @job (see above). Jobs held one
   * after another come in order: each goes to the end, in O(1) */
  if (group->tail == NULL || tp_job_get_sequence (group->tail->job) < sequence)
    next = NULL;
  else
    {
      for (next = group->head; next != NULL; next = next->next)
        {
          if (tp_job_get_sequence (next->job) > sequence)
            break;
        }
    }
  group_insert_before (group, fair_node_new (queue, job), next);
}

static TpJob *
fair_pop (gpointer data)
{
  FairQueue *queue = data;
  Group *group = queue->first;
  Node *node;
  TpJob *job;

  if (group == NULL)
    return NULL;

  node = group->head;
  job = node->job;
  group_unlink (group, node);
  node_free (queue, node);
  queue->length--;
  queue->popped = job;

  if (group->head == NULL)
    {
      round_unlink (queue, group);
      group_free (queue, group);
    }
  else if (group->next != NULL)
    {
      /* Its turn is over: to the end of the round */
      round_unlink (queue, group);
      round_append (queue, group);
    }
  return job;
}

static void
fair_remove (gpointer  data,
             TpJob    *job)
{
  FairQueue *queue = data;
  Node *node = tp_job_get_queue_data (job);

  g_return_if_fail (node != NULL);
  g_return_if_fail (node->job == job);

  fair_unlink (queue, node);
  node_free (queue, node);
  tp_job_set_queue_data (job, NULL);
}

static guint
fair_length (gpointer data)
{
  return ((FairQueue *) data)->length;
}

static const TpQueueStrategy fair_strategy = {
  .struct_size = sizeof (TpQueueStrategy),
  .name = "fair",
  .description = "Round robin across job keys, each key in submission order",
  .keys = NULL,
  .create = fair_create,
  .destroy = fair_destroy,
  .push = fair_push,
  .pop = fair_pop,
  .remove = fair_remove,
  .length = fair_length,
  .flags = TP_QUEUE_IGNORES_SUBMIT_TIME,
  .requeue = fair_requeue,
};

static const TpQueueStrategy * const fair_queues[] = { &fair_strategy, NULL };

TP_PLUGIN_DEFINE ("queue-fair", "1.0", "Fair queue strategy (round robin across keys)",
                  fair_queues, NULL)

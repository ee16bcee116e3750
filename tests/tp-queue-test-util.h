/* tp-queue-test-util.h: a queue strategy driven through its vtable, for the queue tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "tp-test-util.h"
#include "tp-job-private.h"

G_BEGIN_DECLS

/* The name of the strategy under test: set it in main() before g_test_run() */
extern const char *tp_queue_test_strategy;

/* The strategy's vtable and a queue made by it, with jobs owned by the test */
typedef struct {
  const TpQueueStrategy *vt;
  gpointer               queue;
  TpJob                 *jobs;
  guint                  n_jobs;
} QueueFixture;

void queue_fixture_set_up    (QueueFixture  *fixture,
                              gconstpointer  data);
void queue_fixture_tear_down (QueueFixture  *fixture,
                              gconstpointer  data);
/* Makes @n_jobs jobs whose sequence is their index, all of weight 4 */
void queue_fixture_make_jobs (QueueFixture  *fixture,
                              guint          n_jobs);
/* Pushes jobs[@index] and checks the length grew */
void push                    (QueueFixture  *fixture,
                              guint          index);
/* Removes jobs[@index] and checks the length shrank */
void remove_job              (QueueFixture  *fixture,
                              guint          index);
/* Pops one job and checks it is jobs[@index] */
void assert_pop              (QueueFixture  *fixture,
                              guint          index);
void assert_empty            (QueueFixture  *fixture);
/* Gives jobs[@index] back to the queue as a gate does (`requeue`, or `push`
 * for a strategy without it) and checks the length grew */
void requeue                 (QueueFixture  *fixture,
                              guint          index);

/* Random pushes (in sequence order), pops, removals and requeues of popped
 * jobs (as gates give them back), @n_ops of them from @seed, checked at every
 * step against a reference sorted by @compare: the queue must always pop the
 * smallest job under it. Weights of new jobs come from @pick_weight; each new
 * job's sequence is the last one's plus 1 to @max_step. */
void queue_test_random_requeue (QueueFixture     *fixture,
                                GCompareDataFunc  compare,
                                int             (*pick_weight) (GRand *rand),
                                guint32           seed,
                                guint             n_ops,
                                guint64           max_step);

/* Orders of the queues under test: which of two jobs pops first */
int  queue_order_fifo     (gconstpointer  a,
                           gconstpointer  b,
                           gpointer       user_data);
int  queue_order_lifo     (gconstpointer  a,
                           gconstpointer  b,
                           gpointer       user_data);
/* By weight, then by sequence */
int  queue_order_priority (gconstpointer  a,
                           gconstpointer  b,
                           gpointer       user_data);

/* Random pushes, pops and removals checked against a model of the queue: a
 * GSequence kept in the queue's order. Pass one as the data of a
 * QueueFixture test run by queue_test_random_model(). */
typedef struct {
  const char        *summary;
  guint32            seed;
  guint              n_ops;
  guint              pop_below;               /* of 100: a roll from the push bias up to
                                               * this pops, a roll above removes */
  GCompareDataFunc   order;
  int              (*pick_weight) (GRand *);  /* nullable: every job keeps weight 4 */
} QueueModel;

void queue_test_random_model (QueueFixture  *fixture,
                              gconstpointer  data);

/* A pool of one worker (min = max = 1 for autoscale kinds), started */
TpPool    *one_worker_pool (const char *kind);
/* Submits a job that holds the only worker and waits until it started */
TpTestJob *hold_the_worker (TpPool     *pool,
                            TpTestLog  *log);
/* Runs what is due now without blocking; fails if a source re-arms forever */
void       drain_pending   (void);

G_END_DECLS

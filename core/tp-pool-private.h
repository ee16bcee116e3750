/* tp-pool-private.h: internals shared with the tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <taskpool/taskpool.h>

G_BEGIN_DECLS

/* A ring of idle-since timestamps: the newest idle worker is reused first, so
 * the oldest idle one is the one that retires. */
typedef struct {
  gint64 *stamps;
  guint   head;      /* index of the oldest */
  guint   count;
  guint   capacity;  /* a power of two, or 0 */
} TpIdleRing;

void    tp_idle_ring_push_newest (TpIdleRing *ring,
                                  gint64      stamp);
gint64  tp_idle_ring_pop_newest  (TpIdleRing *ring);
gint64  tp_idle_ring_drop_oldest (TpIdleRing *ring);
gint64  tp_idle_ring_oldest      (const TpIdleRing *ring);
void    tp_idle_ring_clear       (TpIdleRing *ring);

guint64 tp_pool_get_submitted    (TpPool *self);
guint64 tp_pool_get_completed    (TpPool *self);
/* When the pool's source will next wake its context: -1 for never */
gint64  tp_pool_get_ready_time   (TpPool *self);

G_END_DECLS

/* tp-idle-ring.h: when each idle worker went idle
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A ring of idle-since timestamps, one per idle worker: the newest idle
 * worker is reused first, so the oldest idle one is the one that retires.
 * Protected by the pool's lock. */
typedef struct {
  gint64 *stamps;
  guint   head;      /* index of the oldest */
  guint   count;
  guint   capacity;  /* a power of two, or 0 */
} TpIdleRing;

void    tp_idle_ring_grow        (TpIdleRing       *ring);
gint64  tp_idle_ring_drop_oldest (TpIdleRing       *ring);
gint64  tp_idle_ring_oldest      (const TpIdleRing *ring);
void    tp_idle_ring_clear       (TpIdleRing       *ring);

/* Inline: a job's start and end each make one of these */
static inline void
tp_idle_ring_push_newest (TpIdleRing *ring,
                          gint64      stamp)
{
  if (G_UNLIKELY (ring->count == ring->capacity))
    tp_idle_ring_grow (ring);
  ring->stamps[(ring->head + ring->count) & (ring->capacity - 1)] = stamp;
  ring->count++;
}

static inline gint64
tp_idle_ring_pop_newest (TpIdleRing *ring)
{
  g_assert (ring->count > 0);
  ring->count--;
  return ring->stamps[(ring->head + ring->count) & (ring->capacity - 1)];
}

G_END_DECLS

/* tp-idle-ring.c: when each idle worker went idle
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tp-idle-ring.h"

/* Doubles the ring, oldest first at index 0 */
void
tp_idle_ring_grow (TpIdleRing *ring)
{
  guint capacity = MAX (8, ring->capacity * 2);
  gint64 *stamps = g_new (gint64, capacity);

  for (guint i = 0; i < ring->count; i++)
    stamps[i] = ring->stamps[(ring->head + i) & (ring->capacity - 1)];
  g_free (ring->stamps);
  ring->stamps = stamps;
  ring->capacity = capacity;
  ring->head = 0;
}

gint64
tp_idle_ring_drop_oldest (TpIdleRing *ring)
{
  gint64 stamp;

  g_assert (ring->count > 0);
  stamp = ring->stamps[ring->head];
  ring->head = (ring->head + 1) & (ring->capacity - 1);
  ring->count--;
  return stamp;
}

gint64
tp_idle_ring_oldest (const TpIdleRing *ring)
{
  return ring->count > 0 ? ring->stamps[ring->head] : 0;
}

void
tp_idle_ring_clear (TpIdleRing *ring)
{
  g_clear_pointer (&ring->stamps, g_free);
  ring->head = ring->count = ring->capacity = 0;
}

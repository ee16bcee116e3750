/* job-segments.h: where the FIFO, LIFO and priority queues keep their jobs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A sequence of entries, pushed at its newest end and taken from either
 * end, kept in segments of JOB_SEGMENT_SLOTS slots linked both ways. A slot
 * does not move while its job is in it, so a queue keeps the slot's address
 * as the job's queue data, and `remove` makes the slot a hole, which the
 * ends skip.
 *
 * An entry is a job pointer, NULL for a hole; a queue that wants more
 * defines JOB_SEGMENT_ENTRY (its type) and JOB_SEGMENT_IS_HOLE() before it
 * includes this header, once.
 *
 * The segments are what an array grown by doubling is not: small, and
 * reused. A segment is a request of at most 496 bytes, below glibc's large
 * requests (1 KiB and up), so taking one never makes malloc merge the small
 * blocks freed since its last large request, which in a fragmented heap are
 * scattered (doc/performance.md). A segment the sequence leaves is kept
 * aside and taken again before any new one, so that a queue allocates only
 * when it holds more jobs than ever before, as its ring did, and then never
 * copies what it holds. They are freed with the queue.
 */

#pragma once

#include <taskpool/tp-plugin.h>

#ifndef JOB_SEGMENT_ENTRY
# define JOB_SEGMENT_ENTRY          TpJob *
# define JOB_SEGMENT_IS_HOLE(entry) ((entry) == NULL)
#endif

typedef JOB_SEGMENT_ENTRY JobSegmentEntry;

/* Two links and the slots: at most 496 bytes, a 512-byte malloc chunk
 * (60 job pointers) */
#define JOB_SEGMENT_SLOTS ((guint) (480 / sizeof (JobSegmentEntry)))

typedef struct _JobSegment JobSegment;

struct _JobSegment {
  JobSegment      *older;
  JobSegment      *newer;     /* or, set aside, the next spare */
  JobSegmentEntry  slots[480 / sizeof (JobSegmentEntry)];
};

G_STATIC_ASSERT (sizeof (JobSegment) <= 496);

/* Slots [first, end) from the oldest segment to the newest: first indexes
 * the oldest, end the newest. Empty: no segment, or one with first == end. */
typedef struct {
  JobSegment *oldest;
  JobSegment *newest;
  guint       first;
  guint       end;
  JobSegment *spare;     /* segments set aside, through their newer link */
} JobSegments;

static inline gboolean
job_segments_is_empty (const JobSegments *segments)
{
  return segments->oldest == NULL ||
         (segments->oldest == segments->newest && segments->first == segments->end);
}

/* Appends a slot at the newest end, for the caller to fill */
static inline JobSegmentEntry *
job_segments_push (JobSegments *segments)
{
  if (G_UNLIKELY (segments->newest == NULL || segments->end == JOB_SEGMENT_SLOTS))
    {
      JobSegment *segment = segments->spare;

      if (segment != NULL)
        segments->spare = segment->newer;
      else
        segment = g_new (JobSegment, 1);
      segment->older = segments->newest;
      segment->newer = NULL;
      if (segments->newest != NULL)
        segments->newest->newer = segment;
      else
        {
          segments->oldest = segment;
          segments->first = 0;
        }
      segments->newest = segment;
      segments->end = 0;
    }
  return &segments->newest->slots[segments->end++];
}

/* The oldest slot, or NULL if empty; it may hold a hole */
static inline JobSegmentEntry *
job_segments_oldest (JobSegments *segments)
{
  if (job_segments_is_empty (segments))
    return NULL;
  return &segments->oldest->slots[segments->first];
}

/* The newest slot, or NULL if empty; it may hold a hole */
static inline JobSegmentEntry *
job_segments_newest (JobSegments *segments)
{
  if (job_segments_is_empty (segments))
    return NULL;
  return &segments->newest->slots[segments->end - 1];
}

/* The oldest slot of a sequence that is not empty */
static inline JobSegmentEntry *
job_segments_first (JobSegments *segments)
{
  return &segments->oldest->slots[segments->first];
}

/* The newest slot of a sequence that is not empty */
static inline JobSegmentEntry *
job_segments_last (JobSegments *segments)
{
  return &segments->newest->slots[segments->end - 1];
}

static inline void
job_segments_set_aside (JobSegments *segments,
                        JobSegment  *segment)
{
  segment->newer = segments->spare;
  segments->spare = segment;
}

/* Drops the oldest slot (the sequence is not empty) */
static inline void
job_segments_drop_oldest (JobSegments *segments)
{
  segments->first++;
  if (segments->oldest == segments->newest)
    {
      /* The last segment stays, empty, for the next push */
      if (segments->first == segments->end)
        segments->first = segments->end = 0;
    }
  else if (segments->first == JOB_SEGMENT_SLOTS)
    {
      JobSegment *segment = segments->oldest;

      segments->oldest = segment->newer;
      segments->oldest->older = NULL;
      segments->first = 0;
      job_segments_set_aside (segments, segment);
    }
}

/* Drops the newest slot (the sequence is not empty) */
static inline void
job_segments_drop_newest (JobSegments *segments)
{
  segments->end--;
  if (segments->oldest == segments->newest)
    {
      if (segments->first == segments->end)
        segments->first = segments->end = 0;
    }
  else if (segments->end == 0)
    {
      JobSegment *segment = segments->newest;

      segments->newest = segment->older;
      segments->newest->newer = NULL;
      segments->end = JOB_SEGMENT_SLOTS;
      job_segments_set_aside (segments, segment);
    }
}

/* Drops the holes at both ends, so that a sequence of holes is empty */
static inline void
job_segments_trim (JobSegments *segments)
{
  JobSegmentEntry *slot;

  while ((slot = job_segments_oldest (segments)) != NULL && JOB_SEGMENT_IS_HOLE (*slot))
    job_segments_drop_oldest (segments);
  while ((slot = job_segments_newest (segments)) != NULL && JOB_SEGMENT_IS_HOLE (*slot))
    job_segments_drop_newest (segments);
}

/* Drops every slot; the segments are set aside but one */
static inline void
job_segments_drop_all (JobSegments *segments)
{
  while (segments->oldest != segments->newest)
    {
      JobSegment *segment = segments->oldest;

      segments->oldest = segment->newer;
      segments->oldest->older = NULL;
      job_segments_set_aside (segments, segment);
    }
  segments->first = segments->end = 0;
}

static inline void
job_segments_clear (JobSegments *segments)
{
  JobSegment *segment = segments->oldest;

  while (segment != NULL)
    {
      JobSegment *newer = segment->newer;

      g_free (segment);
      segment = newer;
    }
  while (segments->spare != NULL)
    {
      JobSegment *next = segments->spare->newer;

      g_free (segments->spare);
      segments->spare = next;
    }
  *segments = (JobSegments) { NULL, };
}

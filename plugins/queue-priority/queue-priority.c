/* queue-priority.c: the priority queue strategy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A 4-ary min-heap ordered by (weight, sequence): the smallest weight runs
 * first and equal weights run in submission order.
 *
 * The heap is laid out for the caches. An entry is 16 bytes: the job, and
 * its order packed in one 64-bit key, the weight (its sign bit flipped, so
 * that unsigned order is signed order) above the sequence's distance from
 * the heap's epoch. The four children of an entry fill one 64-byte cache
 * line, the array being offset so that each group of siblings starts one:
 * a level of a pop reads one line, and a heap of a million jobs is ten
 * levels deep instead of twenty. Measured with a simulated 1 MB cache, a pop
 * at a million queued jobs misses it 3.3 times, against 7.3 for the binary
 * heap of 24-byte entries this replaced.
 *
 * Those misses come one after the other: a pop's entry sinks level by
 * level, and each level's line is known only once the level above is read.
 * A pop of a heap that fits in the caches (up to TOP_MIN_ENTRIES) does just
 * that, prefetching two levels ahead on its path. A larger heap keeps its
 * TOP_BATCH to TOP_CAPACITY smallest entries apart, in a sorted array, the
 * top, from which pops take in O(1). When the top is empty, a batch of the
 * array's smallest entries moves there: they are a subtree at the root, in
 * levels that stay in the caches, and the array's last entries fill their
 * places and sink, all at once, one level per round, so that the misses of
 * a whole batch are on their way together. The batch is every entry up to
 * a threshold, the root's key plus the span of keys that held about
 * REFILL_AIM entries the time before: a walk down from the root that stops
 * at larger entries, then a sort of what it took. Finding the batch with a
 * best-first search instead (still the way when a few thresholds took too
 * few or too many) was half the time of a pop at a million jobs, in
 * bookkeeping for each entry taken. Each entry still sinks O(log n) levels:
 * a pop stays O(log n), amortized over a batch, and a push O(log n) (a push
 * smaller than the top's largest goes into the top, whose largest then goes
 * to the array if it is full).
 *
 * The key holds 32 bits of sequence: every job in the heap has a sequence
 * in [epoch, epoch + 2³²). A pool submits four billion jobs before a push
 * falls outside; the heap then moves its epoch up to its oldest job's
 * sequence, O(n) once per four billion pushes. A job older than that window
 * (one that waited through two billion submissions, or one given back by a
 * gate after the epoch moved past it) waits in a sorted sequence of its own,
 * the ancient jobs, which a pop compares too. The order is exact whatever
 * the sequences.
 *
 * A job does not keep its heap index: with a million jobs queued, that was a
 * write to a job out of the caches at every level a pop moved an entry.
 * Removing a cancelled job marks its sequence removed instead, O(1); its
 * entry is dropped when it reaches the root, or when removed entries are
 * half the heap (the heap is then rebuilt, O(n), amortized over as many
 * removals).
 *
 * Most jobs of most pools have one weight, the default. In a heap, a run of
 * equal weights is the worst case of a pop: the newest entry, moved to the
 * root, sinks through every level. So a run of one weight pushed in
 * submission order goes to a lane instead: a FIFO of entries in reused
 * segments (job-segments.h), pushed and popped in O(1), which asks malloc for
 * nothing once it has held as many jobs, and never copies them. A push joins
 * the lane if its weight is the lane's and its sequence follows the lane's
 * last one; otherwise it goes to the heap. The lane takes
 * the weight of the first push after it emptied. A pop takes the smallest of
 * the lane's head, the heap's root (and the oldest ancient job), by
 * (weight, sequence), so the order is exactly a heap's alone. A removed lane
 * job leaves a hole that pops skip.
 *
 * Since push places any job by its order, a job a gate gave back needs no
 * `requeue` of its own: the pool pushes it again.
 *
 * A job's queue data says where it is: NULL in the heap, its lane entry's
 * address | 1 in the lane (LANE_TAG), or its GSequenceIter | 2 among the
 * ancient jobs (ANCIENT_TAG).
 */

#include <string.h>

#include <taskpool/tp-plugin.h>

typedef struct {
  guint64  key;       /* heap_key (weight, sequence - epoch) */
  union {
    TpJob   *job;
    guint64  padding; /* 16 bytes on 32-bit systems too */
  };
} HeapEntry;

G_STATIC_ASSERT (sizeof (HeapEntry) == 16);

typedef struct {
  guint64 sequence;
  TpJob  *job;       /* NULL: a hole left by a removed job */
} LaneEntry;

#define JOB_SEGMENT_ENTRY          LaneEntry
#define JOB_SEGMENT_IS_HOLE(entry) ((entry).job == NULL)
#include "../common/job-segments.h"

#define TOP_BATCH       64
#define TOP_CAPACITY    (2 * TOP_BATCH)
/* Two megabytes of entries: below, the heap's levels mostly stay in the
 * caches and a pop takes its root; above, pops take from the top */
#define TOP_MIN_ENTRIES (1u << 17)

typedef struct {
  /* For a large heap, its smallest entries, sorted largest first:
   * top[top_length - 1] is its next job. Every entry of the top is smaller
   * than every entry of the array; when the top is empty, the array's root
   * is the next job. Allocated when the heap first grows large. */
  HeapEntry  *top;
  guint       top_length;

  HeapEntry  *entries;   /* the rest, a heap; entries[1] starts a cache line */
  gpointer    block;     /* what entries was carved from */
  guint       length;    /* entries, removed ones included */
  guint       capacity;
  guint64     epoch;     /* every entry's sequence is in [epoch, epoch + 2³²) */
  guint64     refill_span; /* keys above the root a refill tries, or 0 */
  GHashTable *removed;   /* the sequences of removed entries still in the heap */

  GSequence  *ancient;   /* jobs older than the epoch, by (weight, sequence) */
  guint       ancient_length;

  /* The lane: entries in submission order, lane_live of them jobs, the
   * others holes */
  JobSegments lane;
  gsize       lane_live;
  gint64      lane_weight;
} PriorityQueue;

#define LANE_TAG    ((gsize) 1)
#define ANCIENT_TAG ((gsize) 2)

#define HEAP_ARITY     4
#define CACHE_LINE     64
/* Entries before entries[1] in its cache line: the root's slot and padding */
#define HEAP_OFFSET    (CACHE_LINE / sizeof (HeapEntry) - 1)

#if defined(__GNUC__) || defined(__clang__)
# define heap_prefetch(address) __builtin_prefetch ((address), 0, 3)
#else
# define heap_prefetch(address) ((void) (address))
#endif

static const char * const priority_keys[] = { "default-weight", NULL };

static gpointer
priority_create (GKeyFile    *config,
                 const char  *group,
                 GError     **error)
{
  PriorityQueue *queue = g_new0 (PriorityQueue, 1);

  queue->removed = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  queue->ancient = g_sequence_new (NULL);
  return queue;
}

static void
priority_destroy (gpointer data)
{
  PriorityQueue *queue = data;

  g_aligned_free (queue->block);
  g_free (queue->top);
  job_segments_clear (&queue->lane);
  g_hash_table_unref (queue->removed);
  g_sequence_free (queue->ancient);
  g_free (queue);
}

/* Whether (wa, sa) runs before (wb, sb) */
static inline gboolean
order_less (gint64  wa,
            guint64 sa,
            gint64  wb,
            guint64 sb)
{
  return wa < wb || (wa == wb && sa < sb);
}

/* Heap {{{ */

static inline guint64
heap_key (int     weight,
          guint64 distance)
{
  return ((guint64) ((guint32) weight ^ 0x80000000u) << 32) | distance;
}

static inline gint64
heap_key_weight (guint64 key)
{
  return (gint64) (key >> 32) - G_GINT64_CONSTANT (0x80000000);
}

static inline guint64
heap_key_sequence (PriorityQueue *queue,
                   guint64        key)
{
  return queue->epoch + (key & G_MAXUINT32);
}

static void
heap_grow (PriorityQueue *queue)
{
  guint capacity = MAX (64, queue->capacity * 2);
  gpointer block = g_aligned_alloc (capacity + HEAP_OFFSET, sizeof (HeapEntry), CACHE_LINE);
  HeapEntry *entries = (HeapEntry *) block + HEAP_OFFSET;

  if (queue->length > 0)
    memcpy (entries, queue->entries, queue->length * sizeof (HeapEntry));
  g_aligned_free (queue->block);
  queue->block = block;
  queue->entries = entries;
  queue->capacity = capacity;
}

static void
heap_sift_up (PriorityQueue *queue,
              gsize          index)
{
  HeapEntry *entries = queue->entries;
  HeapEntry entry = entries[index];

  while (index > 0)
    {
      gsize parent = (index - 1) / HEAP_ARITY;

      if (entries[parent].key < entry.key)
        break;
      entries[index] = entries[parent];
      index = parent;
    }
  entries[index] = entry;
}

static void
heap_append (PriorityQueue   *queue,
             const HeapEntry *entry)
{
  if (queue->length == queue->capacity)
    heap_grow (queue);
  queue->entries[queue->length++] = *entry;
}

/* The offset of the smallest of four siblings, without a branch */
static inline gsize
heap_smallest_of_four (const HeapEntry *siblings)
{
  gsize a = siblings[1].key < siblings[0].key;
  gsize b = 2 + (siblings[3].key < siblings[2].key);

  return siblings[b].key < siblings[a].key ? b : a;
}

static inline gsize
heap_smallest_child (const HeapEntry *entries,
                     gsize            first,
                     gsize            length)
{
  gsize child = first;

  if (G_LIKELY (first + HEAP_ARITY <= length))
    return first + heap_smallest_of_four (&entries[first]);
  for (gsize other = first + 1; other < length; other++)
    {
      if (entries[other].key < entries[child].key)
        child = other;
    }
  return child;
}

static void
heap_sift_down (PriorityQueue *queue,
                gsize          index)
{
  HeapEntry *entries = queue->entries;
  gsize length = queue->length;
  HeapEntry entry = entries[index];

  for (;;)
    {
      gsize first = HEAP_ARITY * index + 1;
      gsize below;
      gsize child;

      if (first >= length)
        break;
      child = heap_smallest_child (entries, first, length);
      if (entry.key < entries[child].key)
        break;

      /* Two levels down the path: the children of the child's children,
       * four cache lines in a row. The next level's line was fetched so one
       * level ago; deep in a large heap every level is a miss, and this keeps
       * two of them on their way at once. */
      below = HEAP_ARITY * (HEAP_ARITY * child + 1) + 1;
      for (gsize line = 0; line < HEAP_ARITY && below + line * HEAP_ARITY < length; line++)
        heap_prefetch (&entries[below + line * HEAP_ARITY]);

      entries[index] = entries[child];
      index = child;
    }
  entries[index] = entry;
}

/* Floyd's heap construction */
static void
heap_rebuild (PriorityQueue *queue)
{
  for (gsize i = queue->length / HEAP_ARITY + 1; i-- > 0;)
    {
      if (i < queue->length)
        heap_sift_down (queue, i);
    }
}

static inline gboolean
heap_entry_removed (PriorityQueue   *queue,
                    const HeapEntry *entry)
{
  gint64 sequence;

  if (g_hash_table_size (queue->removed) == 0)
    return FALSE;
  sequence = (gint64) heap_key_sequence (queue, entry->key);
  return g_hash_table_contains (queue->removed, &sequence);
}

/* Moves the top back into the heap's array, removed entries dropped; the
 * array is to be rebuilt */
static void
heap_flatten (PriorityQueue *queue)
{
  guint kept = 0;

  for (guint i = 0; i < queue->top_length; i++)
    heap_append (queue, &queue->top[i]);
  queue->top_length = 0;

  for (guint i = 0; i < queue->length; i++)
    {
      if (!heap_entry_removed (queue, &queue->entries[i]))
        queue->entries[kept++] = queue->entries[i];
    }
  queue->length = kept;
  g_hash_table_remove_all (queue->removed);
}

/* The deepest a 4-ary heap of up to 2³² entries goes */
#define HEAP_MAX_DEPTH 16

/* A candidate for the top: the smallest entry of a group of siblings that
 * the search has not taken yet; @taken has a bit for each member it took */
typedef struct {
  guint64 key;
  gsize   index;
  guint   depth;
  guint   taken;
} Candidate;

static void
candidate_push (Candidate       *candidates,
                guint           *n_candidates,
                const Candidate *candidate)
{
  guint i = (*n_candidates)++;

  while (i > 0 && candidate->key < candidates[(i - 1) / 2].key)
    {
      candidates[i] = candidates[(i - 1) / 2];
      i = (i - 1) / 2;
    }
  candidates[i] = *candidate;
}

static Candidate
candidate_pop (Candidate *candidates,
               guint     *n_candidates)
{
  Candidate first = candidates[0];
  Candidate last = candidates[--(*n_candidates)];
  guint i = 0;

  for (;;)
    {
      guint child = 2 * i + 1;

      if (child >= *n_candidates)
        break;
      if (child + 1 < *n_candidates && candidates[child + 1].key < candidates[child].key)
        child++;
      if (last.key < candidates[child].key)
        break;
      candidates[i] = candidates[child];
      i = child;
    }
  candidates[i] = last;
  return first;
}

/* Pushes the smallest member of the group of siblings at @first that is not
 * in @taken, if any. Without a branch on the keys: the search would
 * mispredict most of them. */
static void
candidate_push_group (Candidate       *candidates,
                      guint           *n_candidates,
                      const HeapEntry *entries,
                      gsize            length,
                      gsize            first,
                      guint            depth,
                      guint            taken)
{
  guint present = first >= length ? 0 : (1u << MIN (length - first, HEAP_ARITY)) - 1;
  guint open = present & ~taken;
  guint64 keys[HEAP_ARITY];
  gsize a, b, best;

  if (open == 0)
    return;
  for (guint member = 0; member < HEAP_ARITY; member++)
    keys[member] = (open & (1u << member)) ? entries[first + member].key : G_MAXUINT64;
  /* Ties only between absent members, or with a real G_MAXUINT64: the
   * earlier member wins, and absent members come after present ones */
  a = keys[1] < keys[0] || !(open & 1u);
  b = 2 + (keys[3] < keys[2] || !(open & 4u));
  best = (keys[b] < keys[a] || !(open & (1u << a))) ? b : a;

  candidate_push (candidates, n_candidates,
                  &(Candidate) {
                    .key = keys[best], .index = first + best, .depth = depth, .taken = taken,
                  });
}

typedef struct {
  gsize     index;
  HeapEntry entry;
} Sift;

/* The bits that hold @value, 0 for 0. g_bit_storage() takes a gulong,
 * which is 32 bits on 32-bit systems and on 64-bit Windows. */
static inline guint
bit_length64 (guint64 value)
{
  if (value == 0)
    return 0;
  if (value >> 32)
    return 32 + g_bit_storage ((gulong) (value >> 32));
  return g_bit_storage ((gulong) value);
}

/* The depth of the entry at @index: level d holds indexes from
 * (4^d - 1) / 3 on */
static inline guint
heap_depth_of (gsize index)
{
  return (bit_length64 (3 * (guint64) index + 1) - 1) / 2;
}

/* Sifts down the entries at the holes, which are where the top's entries
 * were: a subtree at the root. @holes lists them by depth, those at depth d
 * from @starts[d] to @starts[d + 1]. A hole's children must be settled
 * before it sinks, so the deepest holes start first and each depth one
 * round later: a sift compares the level that the sifts one round ahead of
 * it left final, and all of them move one level per round. Deep in a large
 * heap each level is a cache miss, and a round's misses are on their way
 * together. */
static void
heap_sift_down_wave (PriorityQueue *queue,
                     const guint32 *holes,
                     const guint   *starts)
{
  HeapEntry *entries = queue->entries;
  gsize length = queue->length;
  Sift sifts[TOP_CAPACITY];
  guint active = 0;

  for (guint depth = HEAP_MAX_DEPTH + 1; depth > 0 || active > 0;)
    {
      if (depth > 0)
        {
          depth--;
          for (guint i = starts[depth]; i < starts[depth + 1]; i++)
            {
              sifts[active].index = holes[i];
              sifts[active].entry = entries[holes[i]];
              active++;
            }
        }

      for (guint i = 0; i < active;)
        {
          Sift *sift = &sifts[i];
          gsize first = HEAP_ARITY * sift->index + 1;
          gsize child;

          if (first < length)
            {
              child = heap_smallest_child (entries, first, length);
              if (!(sift->entry.key < entries[child].key))
                {
                  gsize next = HEAP_ARITY * child + 1;

                  entries[sift->index] = entries[child];
                  sift->index = child;
                  if (next < length)
                    heap_prefetch (&entries[next]);
                  i++;
                  continue;
                }
            }
          entries[sift->index] = sift->entry;
          sifts[i] = sifts[--active];
        }
    }
}

/* The TOP_BATCH smallest entries of the array, into @found, smallest
 * first. They are a subtree at the array's root, found by a best-first
 * search that reads only the levels above them and keeps one candidate per
 * group of siblings. */
static guint
heap_search_smallest (PriorityQueue *queue,
                      guint32       *found)
{
  HeapEntry *entries = queue->entries;
  guint length = queue->length;
  guint k = MIN (TOP_BATCH, length);
  Candidate candidates[TOP_BATCH + 1];
  guint n_candidates = 0;

  candidate_push (candidates, &n_candidates,
                  &(Candidate) { .key = entries[0].key, .index = 0, .depth = 0, .taken = 1 });
  for (guint taken = 0; taken < k; taken++)
    {
      Candidate candidate = candidate_pop (candidates, &n_candidates);
      gsize index = candidate.index;

      found[taken] = (guint32) index;
      if (index > 0)
        {
          gsize first = (index - 1) / HEAP_ARITY * HEAP_ARITY + 1;

          candidate_push_group (candidates, &n_candidates, entries, length, first,
                                candidate.depth, candidate.taken | (1u << (index - first)));
        }
      candidate_push_group (candidates, &n_candidates, entries, length,
                            HEAP_ARITY * index + 1, candidate.depth + 1, 0);
    }
  return k;
}

/* Every entry of the array whose key is @threshold or less, into @found
 * (in no order), or TOP_CAPACITY + 1 if there are more than TOP_CAPACITY.
 * They are a subtree at the root: a depth-first walk that goes below an
 * entry only if the entry is taken reads nothing else. */
static guint
heap_collect_below (PriorityQueue *queue,
                    guint64        threshold,
                    guint32       *found)
{
  const HeapEntry *entries = queue->entries;
  gsize length = queue->length;
  guint32 groups[TOP_CAPACITY];   /* each taken entry adds one at most */
  guint n_groups = 0;
  guint n = 0;

  if (entries[0].key > threshold)
    return 0;
  found[n++] = 0;
  if (length > 1)
    groups[n_groups++] = 1;
  while (n_groups > 0)
    {
      gsize first = groups[--n_groups];
      gsize end = MIN (first + HEAP_ARITY, length);

      for (gsize index = first; index < end; index++)
        {
          if (entries[index].key > threshold)
            continue;
          if (n == TOP_CAPACITY)
            return TOP_CAPACITY + 1;
          found[n++] = (guint32) index;
          if (HEAP_ARITY * index + 1 < length)
            groups[n_groups++] = (guint32) (HEAP_ARITY * index + 1);
        }
    }
  return n;
}

/* The top's next batch, into @found: TOP_BATCH to TOP_CAPACITY of the
 * array's smallest entries. Keys are spread alike from one batch to the
 * next, so the span of keys above the root that held REFILL_AIM entries
 * last time is tried first: every entry under it is collected, a subtree
 * walked once, without the search's bookkeeping for each entry. A span
 * that took too few or too many entries is scaled, a few times at most;
 * then the search finds TOP_BATCH exactly. */
#define REFILL_AIM   96
#define REFILL_TRIES 3

/* The span that would hold REFILL_AIM entries if @span held @n */
static inline guint64
refill_span_for (guint64 span,
                 guint   n)
{
  guint64 each = MAX (span / MAX (n, 1), 1);

  return each > G_MAXUINT64 / REFILL_AIM ? G_MAXUINT64 : each * REFILL_AIM;
}

static guint
heap_find_smallest (PriorityQueue *queue,
                    guint32       *found)
{
  guint64 root = queue->entries[0].key;
  guint64 span = queue->refill_span;
  guint n;

  for (guint tries = 0; span > 0 && tries < REFILL_TRIES; tries++)
    {
      n = heap_collect_below (queue, root + MIN (span, G_MAXUINT64 - root), found);
      if (n >= TOP_BATCH && n <= TOP_CAPACITY)
        {
          queue->refill_span = refill_span_for (span, n);
          return n;
        }
      /* Too many: fewer than TOP_CAPACITY + 1 below half of it, as a guess */
      span = n > TOP_CAPACITY ? span / 2 : refill_span_for (span, n);
    }

  n = heap_search_smallest (queue, found);
  queue->refill_span = refill_span_for (queue->entries[found[n - 1]].key - root, n);
  return n;
}

/* Sorts @n entries, largest first, @scratch holding as many. The keys of a
 * batch are spread over a span: a counting pass places each by the top
 * eight bits of its distance below the largest, and an insertion pass puts
 * in order the few that share a bucket. O(n) for keys spread evenly, as a
 * batch's mostly are; O(n²) at worst, for keys crowded in one bucket, and
 * n is TOP_CAPACITY at most. */
#define SORT_BUCKETS 256

static void
heap_entries_sort (HeapEntry *entries,
                   HeapEntry *scratch,
                   guint      n)
{
  guint starts[SORT_BUCKETS + 1] = { 0, };
  guint64 low = G_MAXUINT64;
  guint64 high = 0;
  guint bits;
  guint shift;

  for (guint i = 0; i < n; i++)
    {
      low = MIN (low, entries[i].key);
      high = MAX (high, entries[i].key);
    }
  bits = n > 0 ? bit_length64 (high - low) : 0;
  shift = bits > 8 ? bits - 8 : 0;   /* (high - key) >> shift < SORT_BUCKETS */

  for (guint i = 0; i < n; i++)
    starts[((high - entries[i].key) >> shift) + 1]++;
  for (guint bucket = 0; bucket < SORT_BUCKETS; bucket++)
    starts[bucket + 1] += starts[bucket];
  for (guint i = 0; i < n; i++)
    scratch[starts[(high - entries[i].key) >> shift]++] = entries[i];

  for (guint i = 0; i < n; i++)
    {
      HeapEntry entry = scratch[i];
      guint j = i;

      while (j > 0 && entries[j - 1].key < entry.key)
        {
          entries[j] = entries[j - 1];
          j--;
        }
      entries[j] = entry;
    }
}

/* Moves a batch of the array's smallest entries to the top (see
 * heap_find_smallest()); the array's last entries fill their places and
 * sink from there. So a pop reads the deep levels of a large heap once per
 * batch, many misses on their way together, instead of one after the other
 * at every pop. */
/* The @n_found places in @found that are below @new_length, into @holes
 * by depth: those at depth d from @starts[d] to @starts[d + 1] */
static void
heap_holes_by_depth (const guint32 *found,
                     guint          n_found,
                     guint          new_length,
                     guint32       *holes,
                     guint         *starts)
{
  guint next[HEAP_MAX_DEPTH + 1];

  memset (starts, 0, (HEAP_MAX_DEPTH + 2) * sizeof (guint));
  for (guint i = 0; i < n_found; i++)
    {
      if (found[i] < new_length)
        starts[heap_depth_of (found[i]) + 1]++;
    }
  for (guint depth = 0; depth <= HEAP_MAX_DEPTH; depth++)
    starts[depth + 1] += starts[depth];
  memcpy (next, starts, sizeof next);
  for (guint i = 0; i < n_found; i++)
    {
      if (found[i] < new_length)
        holes[next[heap_depth_of (found[i])]++] = found[i];
    }
}

static void
heap_refill (PriorityQueue *queue)
{
  HeapEntry *entries = queue->entries;
  guint length = queue->length;
  guint32 found[TOP_CAPACITY];
  HeapEntry scratch[TOP_CAPACITY];
  guint32 holes[TOP_CAPACITY];
  guint starts[HEAP_MAX_DEPTH + 2];
  guint k;
  guint new_length;
  guint filled = 0;

  g_assert (queue->top_length == 0);
  if (queue->top == NULL)
    queue->top = g_new (HeapEntry, TOP_CAPACITY);
  k = heap_find_smallest (queue, found);
  new_length = length - k;

  for (guint i = 0; i < k; i++)
    {
      queue->top[i] = entries[found[i]];
      entries[found[i]].job = NULL;   /* a hole */
    }
  heap_entries_sort (queue->top, scratch, k);
  queue->top_length = k;
  heap_holes_by_depth (found, k, new_length, holes, starts);

  /* The last k places leave the array: their entries fill the holes
   * before them, the shallowest first */
  for (gsize tail = new_length; tail < length; tail++)
    {
      if (entries[tail].job == NULL)
        continue;
      g_assert (filled < starts[HEAP_MAX_DEPTH + 1]);
      entries[holes[filled++]] = entries[tail];
    }
  queue->length = new_length;

  heap_sift_down_wave (queue, holes, starts);
}

static void
heap_delete_root (PriorityQueue *queue)
{
  queue->length--;
  if (queue->length == 0)
    return;

  queue->entries[0] = queue->entries[queue->length];
  heap_sift_down (queue, 0);
}

/* Drops the removed entries where the next job is taken from, and refills
 * the top of a large heap, so that the heap's first entry is a job */
static void
heap_settle (PriorityQueue *queue)
{
  for (;;)
    {
      const HeapEntry *first;

      if (queue->top_length == 0 && queue->length >= TOP_MIN_ENTRIES)
        heap_refill (queue);

      if (queue->top_length > 0)
        first = &queue->top[queue->top_length - 1];
      else if (queue->length > 0)
        first = &queue->entries[0];
      else
        return;

      if (!heap_entry_removed (queue, first))
        return;

      {
        gint64 sequence = (gint64) heap_key_sequence (queue, first->key);

        g_hash_table_remove (queue->removed, &sequence);
        if (queue->top_length > 0)
          queue->top_length--;
        else
          heap_delete_root (queue);
      }
    }
}

static void
heap_compact (PriorityQueue *queue)
{
  heap_flatten (queue);
  heap_rebuild (queue);
  heap_settle (queue);
}

static void ancient_insert (PriorityQueue *queue,
                            TpJob         *job);

/* Moves the epoch so that @sequence fits: up to the oldest entry's sequence,
 * or, if even that is too old, half a window below @sequence, the older
 * entries going to the ancient jobs. O(n), once per 2³¹ sequences at most. */
static void
heap_rebase (PriorityQueue *queue,
             guint64        sequence)
{
  guint64 oldest = sequence;
  guint64 epoch;
  guint kept = 0;

  heap_flatten (queue);
  for (guint i = 0; i < queue->length; i++)
    oldest = MIN (oldest, heap_key_sequence (queue, queue->entries[i].key));
  epoch = sequence - oldest <= G_MAXUINT32 ? oldest : sequence - G_MAXUINT32 / 2;

  for (guint i = 0; i < queue->length; i++)
    {
      HeapEntry entry = queue->entries[i];
      guint64 entry_sequence = heap_key_sequence (queue, entry.key);

      if (entry_sequence < epoch)
        {
          ancient_insert (queue, entry.job);
          continue;
        }
      entry.key = heap_key ((int) heap_key_weight (entry.key), entry_sequence - epoch);
      queue->entries[kept++] = entry;
    }
  queue->length = kept;
  queue->epoch = epoch;
  heap_rebuild (queue);
  heap_settle (queue);
}

/* Inserts @entry in the top, whose largest goes to the array if it is full */
static void
heap_top_insert (PriorityQueue   *queue,
                 const HeapEntry *entry)
{
  guint low = 0;
  guint high;

  if (queue->top_length == TOP_CAPACITY)
    {
      heap_append (queue, &queue->top[0]);
      heap_sift_up (queue, queue->length - 1);
      memmove (&queue->top[0], &queue->top[1], (TOP_CAPACITY - 1) * sizeof (HeapEntry));
      queue->top_length--;
    }

  /* The first place whose key is smaller: the top is sorted largest first */
  high = queue->top_length;
  while (low < high)
    {
      guint middle = (low + high) / 2;

      if (queue->top[middle].key < entry->key)
        high = middle;
      else
        low = middle + 1;
    }
  memmove (&queue->top[low + 1], &queue->top[low],
           (queue->top_length - low) * sizeof (HeapEntry));
  queue->top[low] = *entry;
  queue->top_length++;
}

static void
heap_push (PriorityQueue *queue,
           TpJob         *job,
           int            weight,
           guint64        sequence)
{
  HeapEntry entry;

  if (G_UNLIKELY (sequence < queue->epoch))
    {
      ancient_insert (queue, job);
      return;
    }
  if (G_UNLIKELY (sequence - queue->epoch > G_MAXUINT32))
    heap_rebase (queue, sequence);

  entry.key = heap_key (weight, sequence - queue->epoch);
  entry.job = job;
  tp_job_set_queue_data (job, NULL);
  /* Every entry of the top is smaller than every entry of the array */
  if (queue->top_length > 0 && entry.key < queue->top[0].key)
    heap_top_insert (queue, &entry);
  else
    {
      heap_append (queue, &entry);
      heap_sift_up (queue, queue->length - 1);
    }
}

static inline gboolean
heap_is_empty (PriorityQueue *queue)
{
  return queue->top_length == 0 && queue->length == 0;
}

/* The key of the heap's next entry; the heap is not empty */
static inline guint64
heap_first_key (PriorityQueue *queue)
{
  if (queue->top_length > 0)
    return queue->top[queue->top_length - 1].key;
  return queue->entries[0].key;
}

static TpJob *
heap_pop (PriorityQueue *queue)
{
  TpJob *job;

  if (queue->top_length > 0)
    job = queue->top[--queue->top_length].job;
  else
    {
      job = queue->entries[0].job;
      heap_delete_root (queue);
    }
  /* The job is not asked of the processor here: the pool does, when it
   * reads it. Asked for here, between one pop and the next of a batch, a
   * job out of the caches slowed the heap's own walk more than it saved */
  heap_settle (queue);
  return job;
}

static void
heap_remove (PriorityQueue *queue,
             TpJob         *job)
{
  guint entries = queue->length + queue->top_length;
  gint64 *sequence;

  g_return_if_fail (entries > g_hash_table_size (queue->removed));
  sequence = g_new (gint64, 1);
  *sequence = (gint64) tp_job_get_sequence (job);
  /* Not in g_return_if_fail(), which G_DISABLE_CHECKS compiles out */
  if (!g_hash_table_add (queue->removed, sequence))
    {
      g_critical ("%s: job %" G_GINT64_FORMAT " removed twice", G_STRFUNC, *sequence);
      return;
    }

  heap_settle (queue);
  if (g_hash_table_size (queue->removed) > 32 &&
      g_hash_table_size (queue->removed) > entries / 2)
    heap_compact (queue);
}

/* }}} */

/* Ancient jobs {{{ */

static int
ancient_compare (gconstpointer a,
                 gconstpointer b,
                 gpointer      user_data)
{
  const TpJob *ja = a;
  const TpJob *jb = b;

  if (order_less (tp_job_get_weight (ja), tp_job_get_sequence (ja),
                  tp_job_get_weight (jb), tp_job_get_sequence (jb)))
    return -1;
  return ja == jb ? 0 : 1;
}

static void
ancient_insert (PriorityQueue *queue,
                TpJob         *job)
{
  GSequenceIter *iter = g_sequence_insert_sorted (queue->ancient, job, ancient_compare, NULL);

  g_assert ((GPOINTER_TO_SIZE (iter) & (LANE_TAG | ANCIENT_TAG)) == 0);
  tp_job_set_queue_data (job, GSIZE_TO_POINTER (GPOINTER_TO_SIZE (iter) | ANCIENT_TAG));
  queue->ancient_length++;
}

static TpJob *
ancient_first (PriorityQueue *queue)
{
  return g_sequence_get (g_sequence_get_begin_iter (queue->ancient));
}

static TpJob *
ancient_pop (PriorityQueue *queue)
{
  GSequenceIter *first = g_sequence_get_begin_iter (queue->ancient);
  TpJob *job = g_sequence_get (first);

  g_sequence_remove (first);
  queue->ancient_length--;
  return job;
}

static void
ancient_remove (PriorityQueue *queue,
                TpJob         *job,
                gsize          where)
{
  GSequenceIter *iter = GSIZE_TO_POINTER (where & ~ANCIENT_TAG);

  g_return_if_fail (queue->ancient_length > 0);
  g_return_if_fail (g_sequence_iter_get_sequence (iter) == queue->ancient);
  g_return_if_fail (g_sequence_get (iter) == job);

  g_sequence_remove (iter);
  queue->ancient_length--;
}

/* }}} */

/* Lane {{{ */

/* The oldest entry; a job whenever the lane has one (lane_trim() leaves no
 * hole at its ends) */
static inline LaneEntry *
lane_first (PriorityQueue *queue)
{
  return job_segments_first (&queue->lane);
}

/* Whether a job of @weight and @sequence may join the lane's tail */
static inline gboolean
lane_takes (PriorityQueue *queue,
            gint64         weight,
            guint64        sequence)
{
  if (queue->lane_live == 0)
    return TRUE;
  return weight == queue->lane_weight &&
         sequence > job_segments_last (&queue->lane)->sequence;
}

static void
lane_push (PriorityQueue *queue,
           TpJob         *job,
           gint64         weight,
           guint64        sequence)
{
  LaneEntry *entry;

  if (queue->lane_live == 0)
    {
      /* Holes of removed jobs go with the lane's old weight */
      job_segments_drop_all (&queue->lane);
      queue->lane_weight = weight;
    }

  entry = job_segments_push (&queue->lane);
  *entry = (LaneEntry) { .sequence = sequence, .job = job };
  queue->lane_live++;
  tp_job_set_queue_data (job, GSIZE_TO_POINTER (GPOINTER_TO_SIZE (entry) | LANE_TAG));
}

/* Drops the holes at both ends, so that the head and the tail are jobs */
static void
lane_trim (PriorityQueue *queue)
{
  if (queue->lane_live == 0)
    job_segments_drop_all (&queue->lane);
  else
    job_segments_trim (&queue->lane);
}

/* The lane's head is a job whenever the lane has one (lane_trim()) */
static TpJob *
lane_pop (PriorityQueue *queue)
{
  TpJob *job = lane_first (queue)->job;

  job_segments_drop_oldest (&queue->lane);
  queue->lane_live--;
  lane_trim (queue);
  return job;
}

static void
lane_remove (PriorityQueue *queue,
             TpJob         *job,
             gsize          where)
{
  LaneEntry *entry = GSIZE_TO_POINTER (where & ~LANE_TAG);

  /* A lane entry is in the segments, which are never freed before the
   * queue: only a job of another queue would point elsewhere */
  g_return_if_fail (entry->job == job);

  entry->job = NULL;
  queue->lane_live--;
  lane_trim (queue);
}

/* Whether the lane's head runs before the heap's root; both have a job */
static inline gboolean
lane_before_heap (PriorityQueue *queue)
{
  guint64 root = heap_first_key (queue);

  return order_less (queue->lane_weight, lane_first (queue)->sequence,
                     heap_key_weight (root), heap_key_sequence (queue, root));
}

/* }}} */

static guint
priority_length (gpointer data)
{
  PriorityQueue *queue = data;

  return queue->length + queue->top_length - g_hash_table_size (queue->removed) +
         (guint) queue->lane_live + queue->ancient_length;
}

static void
priority_push (gpointer  data,
               TpJob    *job)
{
  PriorityQueue *queue = data;
  int weight = tp_job_get_weight (job);
  guint64 sequence = tp_job_get_sequence (job);

  if (lane_takes (queue, weight, sequence))
    lane_push (queue, job, weight, sequence);
  else
    heap_push (queue, job, weight, sequence);
}

/* A pop while ancient jobs wait: the smallest of three */
static TpJob *
priority_pop_with_ancient (PriorityQueue *queue)
{
  TpJob *oldest = ancient_first (queue);
  gint64 weight = tp_job_get_weight (oldest);
  guint64 sequence = tp_job_get_sequence (oldest);

  if (queue->lane_live > 0 &&
      order_less (queue->lane_weight, lane_first (queue)->sequence,
                  weight, sequence))
    {
      if (heap_is_empty (queue) || lane_before_heap (queue))
        return lane_pop (queue);
      return heap_pop (queue);
    }
  if (!heap_is_empty (queue) &&
      order_less (heap_key_weight (heap_first_key (queue)),
                  heap_key_sequence (queue, heap_first_key (queue)), weight, sequence))
    return heap_pop (queue);
  return ancient_pop (queue);
}

static TpJob *
priority_pop (gpointer data)
{
  PriorityQueue *queue = data;

  if (G_UNLIKELY (queue->ancient_length > 0))
    return priority_pop_with_ancient (queue);
  if (queue->lane_live > 0 && (heap_is_empty (queue) || lane_before_heap (queue)))
    return lane_pop (queue);
  if (heap_is_empty (queue))
    return NULL;
  return heap_pop (queue);
}

static void
priority_remove (gpointer  data,
                 TpJob    *job)
{
  PriorityQueue *queue = data;
  gsize where = GPOINTER_TO_SIZE (tp_job_get_queue_data (job));

  if (where & LANE_TAG)
    lane_remove (queue, job, where);
  else if (where & ANCIENT_TAG)
    ancient_remove (queue, job, where);
  else
    heap_remove (queue, job);
}

static const TpQueueStrategy priority_strategy = {
  .struct_size = sizeof (TpQueueStrategy),
  .name = "priority",
  .description = "Smallest weight first; equal weights in submission order",
  .keys = priority_keys,
  .create = priority_create,
  .destroy = priority_destroy,
  .push = priority_push,
  .pop = priority_pop,
  .remove = priority_remove,
  .length = priority_length,
  .flags = TP_QUEUE_IGNORES_SUBMIT_TIME,
  /* push places a job given back by its order: the pool calls it */
  .requeue = NULL,
};

static const TpQueueStrategy * const priority_queues[] = { &priority_strategy, NULL };

TP_PLUGIN_DEFINE ("queue-priority", "1.0", "Priority queue strategy (4-ary heap and a FIFO lane)",
                  priority_queues, NULL)

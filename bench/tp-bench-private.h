/* tp-bench-private.h: what the units of tp-bench share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * tp-bench is one program in several units, each named for what it owns:
 *
 *   tp-bench.c          main(): the command line, then the workloads asked for
 *   tp-bench-measure.c  timing: samples, medians, interleaved trials
 *   tp-bench-report.c   the rows of results, printed as a table or as JSON
 *   tp-bench-common.c   what several workloads use: counting callbacks, pools,
 *                       no-op and timer jobs, chains of raw timers, the spy on
 *                       a pool's source
 *   tp-bench-w1.c       W1: async no-op jobs
 *   tp-bench-w2.c       W2: timer jobs
 *   tp-bench-w3.c       W3: blocking jobs
 *   tp-bench-w4.c       W4: no-op thread jobs
 *   tp-bench-queue.c    the priority queue at depth
 *   tp-bench-memory.c   the memory per queued job
 *   tp-bench-burst.c    the autoscale burst
 *   tp-bench-idle.c     the wake-ups of an idle pool
 *   tp-bench-limits.c   the gates: W1 through per-key, the rate gate's
 *                       accuracy, a key behind another's held jobs
 *   tp-bench-aged.c     W1 and W4 in an aged heap, beside a fresh process
 *
 * The bench reaches the pool through the public header and the core's
 * private ones (a pool's ready time, the job record, the strategy registry).
 */

#pragma once

#include <taskpool/taskpool.h>
#include <time.h>

G_BEGIN_DECLS

#define WARMUP_RUNS  1
#define N_KINDS      6

/* The six bundled kinds, fixed then autoscale */
extern const char * const all_kinds[N_KINDS];

/* Options and sizes: tp-bench.c {{{ */

typedef struct {
  guint  w1_jobs;         /* W1: async no-op jobs */
  guint  w1_at_once;
  guint  w2_jobs;         /* W2: timer jobs */
  guint  w2_at_once;
  guint  w2_ms;
  guint  w3_jobs;         /* W3: blocking jobs */
  guint  w3_at_once;
  guint  w3_ms;
  guint  w4_jobs;         /* W4: no-op thread jobs */
  guint  w4_threads;
  guint  queue_depths[3]; /* priority queue: jobs queued, ascending */
  guint  n_queue_depths;
  guint  queue_batch;     /* pushes and pops timed at each depth */
  guint  gtp_depths[2];   /* GThreadPool's sorted queue: O(n) per push, so capped */
  guint  gtp_batch;
  guint  memory_jobs;     /* jobs queued to measure the heap */
  guint  burst_jobs;      /* autoscale burst: 10 ms timer jobs */
  guint  burst_min;
  guint  burst_max;
  guint  burst_ms;
  double idle_seconds;    /* how long idle pools are watched */
  guint  rate_jobs;       /* rate: jobs always waiting */
  guint  rate_limit;      /* … rate-limit and rate-interval-ms */
  guint  rate_interval_ms;
  guint  hol_held;        /* head-of-line: key-A jobs held */
} Sizes;

typedef struct {
  gboolean  quick;
  gboolean  json;
  char     *memory_child;
  char     *aged_child;
  char    **kinds;
  int       runs;
  int       jobs;
  char     *queue_depths;
  char     *sorted_depths;
  char    **only;
} Options;

/* The command line, and the sizes it chose: set once, before any workload */
extern Options opts;
extern Sizes sizes;

void progress (const char *format,
               ...) G_GNUC_PRINTF (1, 2);

/* Whether the command line asks for @workload (every one without --only) */
gboolean wants (const char *workload);

/* }}} */

/* Measuring: tp-bench-measure.c {{{ */

static inline double
now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

double   median          (GArray *samples);
GArray  *samples_new     (void);
void     samples_add     (GArray *samples,
                          double  value);
GArray  *samples_inverse (GArray *seconds,
                          double  scale);
GArray  *samples_scaled  (GArray *seconds,
                          double  unit);
gint64   heap_in_use     (void);
char    *run_child       (const char  *section,
                          const char **args);

typedef double (*TrialFunc) (gpointer data);

/* One timed thing: its function returns the seconds one run took */
typedef struct {
  TrialFunc  func;
  gpointer   data;
  GArray    *seconds;
} Trial;

void     trials_run      (Trial *trials,
                          guint  n_trials);
void     trials_clear    (Trial *trials,
                          guint  n_trials);

/* }}} */

/* Results: tp-bench-report.c {{{ */

/* What a row's value and samples count: the table may scale them for
 * reading (µs, M/s), the JSON prints them as they are, with the unit's name */
typedef enum {
  UNIT_RATE,      /* jobs per second, "jobs/s" */
  UNIT_IDEAL,     /* wall time / ideal time, "wall/ideal" */
  UNIT_SECONDS,   /* seconds per operation, "s/op"; the table shows µs or ns */
  UNIT_MS,        /* milliseconds, "ms" */
  UNIT_BYTES,     /* bytes per job, "bytes/job" */
  UNIT_COUNT,     /* a count, "count" */
} Unit;

typedef enum {
  SECTION_W1,
  SECTION_W2,
  SECTION_W3,
  SECTION_W4,
  SECTION_QUEUE,
  SECTION_MEMORY,
  SECTION_BURST,
  SECTION_IDLE,
  SECTION_LIMITS,
  SECTION_AGED,
  N_SECTIONS
} Section;

typedef struct {
  Section   section;
  char     *workload;
  Unit      unit;
  double    value;
  GArray   *samples;           /* the runs, in unit */
  char     *baseline;          /* NULL: none */
  double    baseline_value;
  GArray   *baseline_samples;
  gboolean  has_ratio;
  double    ratio;
  char     *target;            /* NULL: none */
  int       met;               /* 1 met, 0 missed, -1 no target */
} Row;

void     rows_init       (void);
void     rows_clear      (void);
Row     *row_add         (Section     section,
                          Unit        unit,
                          const char *workload,
                          GArray     *samples,
                          const char *baseline,
                          GArray     *baseline_samples);
GArray  *samples_of      (double      value);
void     row_target      (Row        *row,
                          const char *target,
                          gboolean    met);
void     print_table     (void);
void     print_json      (void);

/* }}} */

/* Shared pieces: tp-bench-common.c {{{ */

/* The callbacks of one run */
typedef struct {
  guint done;
  guint failed;
} Count;

void     count_cb        (GObject      *source,
                          GAsyncResult *result,
                          gpointer      user_data);
void     wait_count      (const guint  *counter,
                          guint         target);
void     check_count     (const Count  *count,
                          guint         expected,
                          const char   *what);
void     post_count      (GMainContext *context,
                          guint        *counter);
void     add_timeout     (guint          ms,
                          GSourceFunc    func,
                          gpointer       data,
                          GDestroyNotify destroy);
TpPool  *bench_pool_new  (const char   *first_property,
                          ...) G_GNUC_NULL_TERMINATED;
TpPool  *pool_of_size    (const char   *kind,
                          guint         size);
void     noop_job        (GTask        *task,
                          gpointer      pool,
                          gpointer      job_data,
                          GCancellable *cancellable);
void     timer_job       (GTask        *task,
                          gpointer      pool,
                          gpointer      job_data,
                          GCancellable *cancellable);

/* Raw GLib: @at_once chains of callbacks, refilled from the callbacks */
typedef struct {
  guint jobs;
  guint started;
  guint done;
  guint ms;
} Chain;

double   chain_timers_run (guint jobs,
                           guint at_once,
                           guint ms);
const char *depth_name    (guint depth);


/* }}} */

/* The workloads: one unit each {{{ */

/* W1's trials, and W4's, for the aged heap's processes too */
typedef struct {
  const char *kind;
  guint       jobs;
  guint       at_once;
} W1;

double   w1_pool_run     (gpointer data);
double   w1_gtask_run    (gpointer data);
double   w4_pool_run     (gpointer data);
double   w4_gtp_run      (gpointer data);

void     bench_w1        (void);
void     bench_aged      (void);
void     aged_child      (const char *state);
void     bench_w2        (void);
void     bench_w3        (void);
void     bench_w4        (void);
void     bench_queue     (void);
void     bench_memory    (void);
double   memory_per_job  (const char *kind);
void     bench_burst     (void);
void     bench_idle      (void);
void     bench_limits    (void);

/* }}} */

G_END_DECLS

/* redis-bench.c: the redis gate across processes, beside Bottleneck's clustering
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Four processes share a limit of 16 through a redis-server that the bench
 * starts on a private socket. Two figures, as §8 of the specification asks:
 *
 * - jobs/s in all, for no-op async jobs of TpPool pools made from a keyfile
 *   (fixed-simple, size 16, gates = redis): beside the same pools without a
 *   gate (what the gate costs) and Bottleneck's clustering mode on the same
 *   server;
 * - the time from a release in one process to the start of a waiter in
 *   another (p50, p99). 15 of the 16 slots are held by long jobs spread over
 *   the processes, so that one slot goes round: every start follows exactly
 *   one end, and where they are in two processes the gap is one hand-over.
 *   Beside it, a raw pub/sub hop between two processes on the same server:
 *   the floor any hand-over through the server stands on.
 *
 * Runs alternate the workloads (--runs, medians). Times are CLOCK_MONOTONIC
 * in µs, which all processes of the machine read alike. A benchmark never
 * fails on speed: it exits 0 whatever the figures, and 77 (skipped) without
 * redis-server, or 1 where the variable CI is set.
 *
 * Bottleneck runs where node and the packages are found in the build folder:
 * `ninja -C _build bench-redis-node-deps` installs them there.
 */

#define G_LOG_DOMAIN "redis-bench"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib/gstdio.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/glib.h>

#include <taskpool/taskpool.h>

#include "tp-redis-test-util.h"

#define PROCESSES   4
#define LIMIT       16
#define WORKERS     16   /* jobs at once in one process */

static struct {
  int       runs;
  int       jobs;         /* no-op jobs per process, throughput */
  int       wake_jobs;    /* no-op jobs per process, wake */
  int       hops;
  gboolean  quick;
  gboolean  no_bottleneck;
  /* A worker's */
  char     *worker;
  char     *socket;
  char     *name;
  char     *out;
  int       pin;
} opt = { .runs = 3, .jobs = 10000, .wake_jobs = 1000, .hops = 2000 };

static gint64
now_us (void)
{
  return g_get_monotonic_time ();
}

/* Workers: one process of a phase {{{ */

/* A job's data: whether it holds its slot until the end of the phase */
#define JOB_STREAM  NULL
#define JOB_PINNED  GUINT_TO_POINTER (1)

typedef struct {
  TpPool       *pool;
  GString      *lines;
  GPtrArray    *pinned;      /* the tasks of the pinned jobs */
  guint         finished;
  gint64        first_start;
  gint64        last_end;
  gboolean      wake;
} Worker;

static Worker worker;

/* An async no-op job: it completes its task before it returns */
static void
worker_job (GTask        *task,
            gpointer      pool,
            gpointer      job_data,
            GCancellable *cancellable)
{
  gint64 now = now_us ();

  if (job_data == JOB_PINNED)
    {
      g_ptr_array_add (worker.pinned, g_object_ref (task));
      if (worker.pinned->len == (guint) opt.pin)
        g_string_append_printf (worker.lines, "P %" G_GINT64_FORMAT "\n", now);
      return;
    }
  if (worker.first_start == 0)
    worker.first_start = now;
  if (worker.wake)
    g_string_append_printf (worker.lines, "S %" G_GINT64_FORMAT "\nE %" G_GINT64_FORMAT "\n",
                            now, now_us ());
  worker.last_end = now_us ();
  g_task_return_pointer (task, NULL, NULL);
}

static void
worker_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  tp_pool_submit_finish (TP_POOL (source), result, &error);
  if (error != NULL)
    g_error ("A job failed: %s", error->message);
  worker.finished++;
}

static void
worker_wait (guint finished)
{
  while (worker.finished < finished)
    g_main_context_iteration (NULL, TRUE);
}

static void
worker_closed_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!tp_pool_close_finish (TP_POOL (source), result, &error))
    g_error ("The pool did not close: %s", error->message);
  *(gboolean *) user_data = TRUE;
}

static void
worker_wait_go (void)
{
  char line[16];

  printf ("ready\n");
  fflush (stdout);
  if (fgets (line, sizeof line, stdin) == NULL)
    exit (1);
}

/* A pool as an application makes it: from a keyfile group, with the redis
 * gate, or without any for "none" */
static int
worker_main (void)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *url = g_strconcat ("unix:", opt.socket, NULL);
  guint stream = (guint) (g_str_equal (opt.worker, "wake") ? opt.wake_jobs : opt.jobs);
  gboolean closed = FALSE;

  g_key_file_set_string (keyfile, "bench", "kind", "fixed-simple");
  g_key_file_set_integer (keyfile, "bench", "size", WORKERS);
  if (!g_str_equal (opt.worker, "none"))
    {
      g_key_file_set_string (keyfile, "bench", "gates", "redis");
      g_key_file_set_string (keyfile, "bench", "redis-url", url);
      g_key_file_set_string (keyfile, "bench", "redis-name", opt.name);
      g_key_file_set_integer (keyfile, "bench", "redis-limit", LIMIT);
    }
  worker.pool = tp_pool_new_from_keyfile (keyfile, "bench", &error);
  if (worker.pool == NULL || !tp_pool_start (worker.pool, &error))
    g_error ("%s", error->message);

  worker.lines = g_string_new (NULL);
  worker.pinned = g_ptr_array_new ();
  worker.wake = g_str_equal (opt.worker, "wake");
  worker_wait_go ();

  for (int i = 0; i < opt.pin; i++)
    tp_pool_submit_async (worker.pool, worker_job, JOB_PINNED, NULL, NULL, worker_done_cb, NULL);
  while (worker.pinned->len < (guint) opt.pin)
    g_main_context_iteration (NULL, TRUE);

  for (guint i = 0; i < stream; i++)
    tp_pool_submit_async (worker.pool, worker_job, JOB_STREAM, NULL, NULL, worker_done_cb, NULL);
  worker_wait (stream);
  if (worker.wake)
    g_string_append_printf (worker.lines, "D %" G_GINT64_FORMAT "\n", now_us ());
  else
    g_string_append_printf (worker.lines, "T %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %u\n",
                            worker.first_start, worker.last_end, stream);

  for (guint i = 0; i < worker.pinned->len; i++)
    g_task_return_pointer (g_ptr_array_index (worker.pinned, i), NULL, NULL);
  g_ptr_array_set_free_func (worker.pinned, g_object_unref);
  g_ptr_array_unref (worker.pinned);
  worker_wait (stream + (guint) opt.pin);

  g_file_set_contents (opt.out, worker.lines->str, -1, &error);
  g_assert_no_error (error);
  tp_pool_close_async (worker.pool, TP_CLOSE_DRAIN, NULL, worker_closed_cb, &closed);
  while (!closed)
    g_main_context_iteration (NULL, TRUE);
  g_object_unref (worker.pool);
  g_string_free (worker.lines, TRUE);
  return 0;
}

/* The other end of a pub/sub hop: what arrives on bench:ping goes back on bench:pong */
static void
echo_cb (redisAsyncContext *ac,
         void              *r,
         void              *privdata)
{
  redisReply *reply = r;
  redisAsyncContext *publisher = privdata;

  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3)
    return;
  if (g_str_equal (reply->element[0]->str, "subscribe"))
    {
      printf ("ready\n");
      fflush (stdout);
    }
  else if (g_str_equal (reply->element[0]->str, "message"))
    redisAsyncCommand (publisher, NULL, NULL, "PUBLISH bench:pong %s", reply->element[2]->str);
}

static int
echo_main (void)
{
  redisAsyncContext *subscriber = redisAsyncConnectUnix (opt.socket);
  redisAsyncContext *publisher = redisAsyncConnectUnix (opt.socket);
  GMainLoop *loop = g_main_loop_new (NULL, FALSE);

  g_source_attach (redis_source_new (subscriber), NULL);
  g_source_attach (redis_source_new (publisher), NULL);
  redisAsyncCommand (subscriber, echo_cb, publisher, "SUBSCRIBE bench:ping");
  g_main_loop_run (loop);  /* until killed */
  return 0;
}

/* }}} */

/* Phases: the parent's side {{{ */

typedef struct {
  GSubprocess      *process;
  GDataInputStream *out;
  char             *file;
} Child;

static gboolean have_bottleneck;
static char *node_dir;
static TpRedisServer *server;

static void
child_wait_ready (Child *child)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;

  line = g_data_input_stream_read_line_utf8 (child->out, NULL, NULL, &error);
  g_assert_no_error (error);
  if (g_strcmp0 (line, "ready") != 0)
    g_error ("A bench process did not start: %s", line != NULL ? line : "(no output)");
}

static Child *
child_spawn (const char * const *argv,
             const char         *file)
{
  g_autoptr(GError) error = NULL;
  Child *child = g_new0 (Child, 1);

  child->process = tp_redis_spawnv (argv, G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                    G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  child->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (child->process));
  child->file = g_strdup (file);
  return child;
}

static void
child_free (Child *child)
{
  g_object_unref (child->out);
  g_object_unref (child->process);
  g_unlink (child->file);
  g_free (child->file);
  g_free (child);
}

/* Runs one phase in PROCESSES processes; returns their output files' contents */
static GPtrArray *
phase_run (const char *kind,
           const char *mode,
           const char *name)
{
  GPtrArray *contents = g_ptr_array_new_with_free_func (g_free);
  static const int pins[PROCESSES] = { 4, 4, 4, 3 };   /* 15 of 16 */
  Child *children[PROCESSES];
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);

  for (int i = 0; i < PROCESSES; i++)
    {
      g_autofree char *file = g_strdup_printf ("%s/%s-%d.txt", server->dir, name, i);
      g_autofree char *jobs = g_strdup_printf ("%d", g_str_equal (mode, "wake") ? opt.wake_jobs
                                                                               : opt.jobs);
      g_autofree char *pin = g_strdup_printf ("%d", g_str_equal (mode, "wake") ? pins[i] : 0);
      g_autofree char *limit = g_strdup_printf ("%d", LIMIT);
      g_autofree char *script = g_build_filename (TP_BENCH_SRCDIR, "bottleneck-bench.js", NULL);

      if (g_str_equal (kind, "bottleneck"))
        {
          const char *argv[] = { "node", script, mode, server->socket, name, limit, jobs, pin,
                                 file, NULL };
          g_autofree char *modules = g_build_filename (node_dir, "node_modules", NULL);

          g_setenv ("NODE_PATH", modules, TRUE);
          children[i] = child_spawn (argv, file);
        }
      else
        {
          g_autofree char *jobs_arg = g_strconcat ("--jobs=", jobs, NULL);
          g_autofree char *wake_arg = g_strconcat ("--wake-jobs=", jobs, NULL);
          const char *argv[] = { self, "--worker", g_str_equal (mode, "wake") ? "wake" : kind,
                                 "--socket", server->socket, "--name", name, "--pin", pin,
                                 "--out", file, jobs_arg, wake_arg, NULL };

          children[i] = child_spawn (argv, file);
        }
    }

  for (int i = 0; i < PROCESSES; i++)
    child_wait_ready (children[i]);
  for (int i = 0; i < PROCESSES; i++)
    g_output_stream_write_all (g_subprocess_get_stdin_pipe (children[i]->process), "go\n", 3,
                               NULL, NULL, NULL);
  for (int i = 0; i < PROCESSES; i++)
    {
      g_autoptr(GError) error = NULL;
      char *text = NULL;

      g_subprocess_wait_check (children[i]->process, NULL, &error);
      g_assert_no_error (error);
      g_file_get_contents (children[i]->file, &text, NULL, &error);
      g_assert_no_error (error);
      g_ptr_array_add (contents, text);
      child_free (children[i]);
    }
  return contents;
}

/* Jobs per second in all: every job, from the first start to the last end */
static double
phase_throughput (const char *kind,
                  const char *name)
{
  g_autoptr(GPtrArray) contents = phase_run (kind, "throughput", name);
  gint64 first = G_MAXINT64, last = 0;
  guint64 jobs = 0;

  for (guint i = 0; i < contents->len; i++)
    {
      gint64 start, end;
      guint count;

      if (sscanf (g_ptr_array_index (contents, i), "T %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                  " %u", &start, &end, &count) != 3)
        g_error ("Bad output: %s", (char *) g_ptr_array_index (contents, i));
      first = MIN (first, start);
      last = MAX (last, end);
      jobs += count;
    }
  return jobs / ((last - first) / (double) G_USEC_PER_SEC);
}

typedef struct {
  gint64 time;
  char   what;
  int    process;
} Event;

static int
event_compare (gconstpointer a,
               gconstpointer b)
{
  const Event *x = a, *y = b;

  return x->time < y->time ? -1 : x->time > y->time ? 1 : 0;
}

static int
double_compare (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y ? 1 : 0;
}

static double
percentile (GArray *sorted,
            double  fraction)
{
  guint index;

  if (sorted->len == 0)
    return NAN;
  index = MIN ((guint) (fraction * sorted->len), sorted->len - 1);
  return g_array_index (sorted, double, index);
}

/* Hand-overs between processes, in µs, while 15 slots are pinned */
static void
phase_wake (const char *kind,
            const char *name,
            double     *p50,
            double     *p99,
            guint      *count)
{
  g_autoptr(GPtrArray) contents = phase_run (kind, "wake", name);
  g_autoptr(GArray) events = g_array_new (FALSE, FALSE, sizeof (Event));
  g_autoptr(GArray) gaps = g_array_new (FALSE, FALSE, sizeof (double));
  gint64 from = 0, until = G_MAXINT64;

  for (guint i = 0; i < contents->len; i++)
    {
      g_auto(GStrv) lines = g_strsplit (g_ptr_array_index (contents, i), "\n", -1);

      for (guint j = 0; lines[j] != NULL; j++)
        {
          Event event = { 0, lines[j][0], (int) i };

          if (lines[j][0] == '\0')
            continue;
          event.time = g_ascii_strtoll (lines[j] + 2, NULL, 10);
          if (event.what == 'P')
            from = MAX (from, event.time);
          else if (event.what == 'D')
            until = MIN (until, event.time);
          else
            g_array_append_val (events, event);
        }
    }
  g_array_sort (events, event_compare);

  for (guint i = 1; i < events->len; i++)
    {
      const Event *end = &g_array_index (events, Event, i - 1);
      const Event *start = &g_array_index (events, Event, i);
      double gap;

      if (end->time < from || start->time > until)
        continue;
      if (start->what != 'S' || end->what != 'E' || start->process == end->process)
        continue;
      gap = (double) (start->time - end->time);
      g_array_append_val (gaps, gap);
    }
  g_array_sort (gaps, double_compare);
  *p50 = percentile (gaps, 0.50);
  *p99 = percentile (gaps, 0.99);
  *count = gaps->len;
}

/* Half the round trip of a message through the server and an echo process */
static void
phase_hop (double *p50,
           double *p99)
{
  g_autoptr(GArray) hops = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  const char *argv[] = { self, "--worker", "echo", "--socket", server->socket, NULL };
  Child *echo = child_spawn (argv, "");
  redisContext *subscriber = redisConnectUnix (server->socket);
  redisContext *publisher = redisConnectUnix (server->socket);
  redisReply *reply;

  reply = redisCommand (subscriber, "SUBSCRIBE bench:pong");
  freeReplyObject (reply);
  child_wait_ready (echo);

  for (int i = 0; i < opt.hops; i++)
    {
      gint64 sent = now_us ();
      double hop;

      reply = redisCommand (publisher, "PUBLISH bench:ping %" G_GINT64_FORMAT, sent);
      freeReplyObject (reply);
      if (redisGetReply (subscriber, (void **) &reply) != REDIS_OK)
        g_error ("The echo process went away");
      freeReplyObject (reply);
      hop = (now_us () - sent) / 2.0;
      g_array_append_val (hops, hop);
    }
  g_array_sort (hops, double_compare);
  *p50 = percentile (hops, 0.50);
  *p99 = percentile (hops, 0.99);

  redisFree (subscriber);
  redisFree (publisher);
  g_subprocess_force_exit (echo->process);
  g_subprocess_wait (echo->process, NULL, NULL);
  child_free (echo);
}

static double
median (GArray *values)
{
  g_autoptr(GArray) sorted = g_array_copy (values);

  g_array_sort (sorted, double_compare);
  return percentile (sorted, 0.5);
}

static void
find_bottleneck (void)
{
  g_autofree char *node = g_find_program_in_path ("node");
  g_autofree char *package = NULL;

  node_dir = g_build_filename (TP_BENCH_BUILDDIR, "node", NULL);
  package = g_build_filename (node_dir, "node_modules", "bottleneck", "package.json", NULL);
  have_bottleneck = !opt.no_bottleneck && node != NULL &&
                    g_file_test (package, G_FILE_TEST_EXISTS);
  if (!have_bottleneck && !opt.no_bottleneck)
    printf ("Bottleneck: skipped (%s); `ninja bench-redis-node-deps` installs it in %s\n",
            node == NULL ? "node is not installed" : "not installed", node_dir);
}

/* }}} */

static const GOptionEntry entries[] = {
  { "runs", 0, 0, G_OPTION_ARG_INT, &opt.runs, "Rounds of every workload (default 3)", "N" },
  { "jobs", 0, 0, G_OPTION_ARG_INT, &opt.jobs, "No-op jobs per process (default 10000)", "N" },
  { "wake-jobs", 0, 0, G_OPTION_ARG_INT, &opt.wake_jobs,
    "Hand-overs per process (default 1000)", "N" },
  { "quick", 0, 0, G_OPTION_ARG_NONE, &opt.quick, "Tiny sizes: only check that it runs", NULL },
  { "no-bottleneck", 0, 0, G_OPTION_ARG_NONE, &opt.no_bottleneck, "Skip Bottleneck", NULL },
  { "worker", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &opt.worker, NULL, NULL },
  { "socket", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &opt.socket, NULL, NULL },
  { "name", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &opt.name, NULL, NULL },
  { "out", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &opt.out, NULL, NULL },
  { "pin", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &opt.pin, NULL, NULL },
  { NULL }
};

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = g_option_context_new ("- the redis gate across processes");
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) gate_rate = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) none_rate = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) bn_rate = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) gate_p50 = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) gate_p99 = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) bn_p50 = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) bn_p99 = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) hop_p50 = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) hop_p99 = g_array_new (FALSE, FALSE, sizeof (double));
  guint gate_samples = 0, bn_samples = 0;
  g_autofree char *redis_server = NULL;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    g_error ("%s", error->message);

  if (g_strcmp0 (opt.worker, "echo") == 0)
    return echo_main ();
  if (opt.worker != NULL)
    return worker_main ();

  redis_server = g_find_program_in_path ("redis-server");

  if (redis_server == NULL)
    {
      /* CI installs it (.ci/setup): there, its absence is a failure */
      printf ("redis-server is not installed: nothing to measure\n");
      return g_getenv ("CI") != NULL ? 1 : 77;
    }
  if (opt.quick)
    {
      opt.runs = 1;
      opt.jobs = 200;
      opt.wake_jobs = 50;
      opt.hops = 50;
      opt.no_bottleneck = TRUE;
    }
  find_bottleneck ();
  server = tp_redis_server_new ("bench");

  for (int run = 0; run < opt.runs; run++)
    {
      g_autofree char *gate = g_strdup_printf ("gate-%d", run);
      g_autofree char *none = g_strdup_printf ("none-%d", run);
      g_autofree char *bn = g_strdup_printf ("bottleneck-%d", run);
      g_autofree char *gate_wake = g_strdup_printf ("gate-wake-%d", run);
      g_autofree char *bn_wake = g_strdup_printf ("bottleneck-wake-%d", run);
      double rate, p50, p99;
      guint samples;

      rate = phase_throughput ("gate", gate);
      g_array_append_val (gate_rate, rate);
      rate = phase_throughput ("none", none);
      g_array_append_val (none_rate, rate);
      phase_wake ("gate", gate_wake, &p50, &p99, &samples);
      g_array_append_val (gate_p50, p50);
      g_array_append_val (gate_p99, p99);
      gate_samples += samples;
      phase_hop (&p50, &p99);
      g_array_append_val (hop_p50, p50);
      g_array_append_val (hop_p99, p99);
      if (have_bottleneck)
        {
          rate = phase_throughput ("bottleneck", bn);
          g_array_append_val (bn_rate, rate);
          phase_wake ("bottleneck", bn_wake, &p50, &p99, &samples);
          g_array_append_val (bn_p50, p50);
          g_array_append_val (bn_p99, p99);
          bn_samples += samples;
        }
    }

  printf ("%d processes sharing a limit of %d; medians of %d runs\n", PROCESSES, LIMIT, opt.runs);
  printf ("%-34s %12s\n", "no-op jobs", "jobs/s");
  printf ("%-34s %12.0f\n", "redis gate", median (gate_rate));
  printf ("%-34s %12.0f   (gate / none: %.3f)\n", "no gate, same processes",
          median (none_rate), median (gate_rate) / median (none_rate));
  if (have_bottleneck)
    printf ("%-34s %12.0f   (gate / Bottleneck: %.2f)\n", "Bottleneck clustering",
            median (bn_rate), median (gate_rate) / median (bn_rate));
  /* On a shared machine the hop, which nothing of the gate's slows, says how
   * loaded it was: the ratios to it travel better than the times */
  printf ("%-34s %12s %12s %10s   %s\n", "release → start elsewhere", "p50 (µs)", "p99 (µs)",
          "samples", "÷ hop: p50, p99");
  printf ("%-34s %12.0f %12.0f %10u   %.1f, %.1f\n", "redis gate", median (gate_p50),
          median (gate_p99), gate_samples, median (gate_p50) / median (hop_p50),
          median (gate_p99) / median (hop_p99));
  if (have_bottleneck)
    printf ("%-34s %12.0f %12.0f %10u   %.1f, %.1f\n", "Bottleneck clustering",
            median (bn_p50), median (bn_p99), bn_samples, median (bn_p50) / median (hop_p50),
            median (bn_p99) / median (hop_p99));
  printf ("%-34s %12.0f %12.0f %10d\n", "raw pub/sub hop (floor)", median (hop_p50),
          median (hop_p99), opt.runs * opt.hops);

  tp_redis_server_free (server);
  g_free (node_dir);
  return 0;
}

/* test-limits.c: the bundled limits, through real pools made from keyfiles
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The gate and queue test files drive each strategy through its vtable;
 * here the `per-key` and `rate` gates run inside pools of several kinds,
 * and the jobs observe the limits themselves: each counts itself, by key,
 * while it runs, and records when it started. Every submission has a
 * record that counts its runs, callbacks and job_data_destroy calls, so
 * that exactly once is checked on every path: a result, an error, a job
 * that drops its task, a cancel while held, a queue timeout, a close.
 */

#include "tp-test-util.h"
#include "tp-pool-private.h"

#define RANDOM_SEED   0x11a175u
#define N_KEYS        16
#define KEYLESS       N_KEYS                  /* the counters' slot for jobs without a key */
#define HOUR_MS       (3600 * 1000)

typedef enum {
  MODE_RETURN,   /* returns "ok" at once */
  MODE_FAIL,     /* returns G_IO_ERROR_FAILED */
  MODE_DROP,     /* drops its task: TP_POOL_ERROR_JOB_LOST */
  MODE_HOLD,     /* async: completes when limits_release() is called */
  MODE_SLEEP,    /* thread: sleeps sleep_us; async: a timeout of sleep_us / 1000 ms */
} Mode;

typedef enum {
  OUTCOME_NONE,
  OUTCOME_DONE,
  OUTCOME_FAILED,
  OUTCOME_LOST,
  OUTCOME_CANCELLED,
  OUTCOME_TIMED_OUT,
  OUTCOME_CLOSED,
  OUTCOME_NOT_ACCEPTING,
  OUTCOME_OTHER,
  N_OUTCOMES
} Outcome;

typedef struct _Limits Limits;

/* One submission: the job's data, and what happened to it */
typedef struct {
  Limits   *limits;
  guint     id;
  char     *name;
  int       key;         /* 0 … N_KEYS - 1, or KEYLESS */
  Mode      mode;
  guint     sleep_us;
  GTask    *held;        /* MODE_HOLD: the task, until released */
  gint64    started_at;  /* g_get_monotonic_time () as the job began, and ended */
  gint64    ended_at;
  guint64   dispatch;    /* the pool's dispatches when the job started */
  GThread  *submitter;
  int       ran;
  int       callbacks;
  int       destroyed;
  int       outcome;
} Record;

typedef struct {
  gint64  time;
  int     key;
  guint   id;
} Start;

struct _Limits
{
  GMutex        lock;
  TpPool       *pool;
  guint         per_key_limit;     /* checked at each start; 0 for none */
  guint         n_records;
  Record       *records;
  guint         n_submitted;
  guint         running[N_KEYS + 1];
  guint         peak[N_KEYS + 1];
  guint         violations;        /* starts that broke per_key_limit */
  guint         wrong_thread;      /* callbacks outside their submitter's thread */
  GArray       *starts;            /* Start, in the order the jobs started */
  guint         started;           /* atomic */
  guint         callbacks;         /* atomic */
  guint         destroyed;         /* atomic */
  guint         outcomes[N_OUTCOMES];
};

/* Helpers {{{ */

static void
drain_pending (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static char *
key_name (int key)
{
  return key == KEYLESS ? NULL : g_strdup_printf ("k%d", key);
}

static TpPool *
limits_pool_new (const char *group_data)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autofree char *data = g_strdup_printf ("[pool]\n%s", group_data);
  g_autoptr(GError) error = NULL;
  TpPool *pool;

  g_assert_true (g_key_file_load_from_data (keyfile, data, -1, G_KEY_FILE_NONE, &error));
  g_assert_no_error (error);
  pool = tp_pool_new_from_keyfile (keyfile, "pool", &error);
  g_assert_no_error (error);
  g_assert_nonnull (pool);
  g_assert_true (tp_pool_start (pool, &error));
  g_assert_no_error (error);
  return pool;
}

static void
limits_init (Limits *l,
             TpPool *pool,
             guint   per_key_limit,
             guint   n_records)
{
  memset (l, 0, sizeof *l);
  g_mutex_init (&l->lock);
  l->pool = pool;
  l->per_key_limit = per_key_limit;
  l->n_records = n_records;
  l->records = g_new0 (Record, n_records);
  l->starts = g_array_new (FALSE, FALSE, sizeof (Start));
}

static void
limits_clear (Limits *l)
{
  for (guint i = 0; i < l->n_records; i++)
    {
      g_assert_null (l->records[i].held);
      g_free (l->records[i].name);
    }
  g_free (l->records);
  g_array_unref (l->starts);
  g_mutex_clear (&l->lock);
}

static void
limits_enter (Record *record)
{
  Limits *l = record->limits;
  guint *running = &l->running[record->key];
  Start start = { g_get_monotonic_time (), record->key, record->id };

  g_mutex_lock (&l->lock);
  (*running)++;
  l->peak[record->key] = MAX (l->peak[record->key], *running);
  if (record->key != KEYLESS && l->per_key_limit > 0 && *running > l->per_key_limit)
    l->violations++;
  g_array_append_val (l->starts, start);
  record->started_at = start.time;
  record->ran++;
  g_mutex_unlock (&l->lock);
  g_atomic_int_inc (&l->started);
  g_main_context_wakeup (g_main_context_default ());
}

static void
limits_leave (Record *record)
{
  Limits *l = record->limits;

  g_mutex_lock (&l->lock);
  g_assert_cmpuint (l->running[record->key], >, 0);
  l->running[record->key]--;
  record->ended_at = g_get_monotonic_time ();
  g_mutex_unlock (&l->lock);
}

static void
limits_return (Record *record,
               GTask  *task)
{
  limits_leave (record);
  if (record->mode == MODE_FAIL)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed", record->name);
  else
    g_task_return_pointer (task, g_strdup (record->name), g_free);
}

static gboolean
limits_sleep_done_cb (gpointer data)
{
  GTask *task = data;

  limits_return (g_task_get_task_data (task), task);
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

static void
limits_job_func (GTask        *task,
                 gpointer      pool,
                 gpointer      job_data,
                 GCancellable *cancellable)
{
  Record *record = job_data;

  record->dispatch = tp_pool_get_dispatches (pool);
  limits_enter (record);
  switch (record->mode)
    {
    case MODE_RETURN:
    case MODE_FAIL:
      limits_return (record, task);
      break;
    case MODE_DROP:
      limits_leave (record);
      break;
    case MODE_HOLD:
      record->held = g_object_ref (task);
      break;
    case MODE_SLEEP:
      if (g_main_context_is_owner (tp_pool_get_main_context (pool)))
        {
          g_timeout_add (record->sleep_us / 1000, limits_sleep_done_cb, g_object_ref (task));
          break;
        }
      g_usleep (record->sleep_us);
      limits_return (record, task);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
limits_job_destroy (gpointer data)
{
  Record *record = data;
  Limits *l = record->limits;

  g_atomic_int_inc (&record->destroyed);
  g_atomic_int_inc (&l->destroyed);
  g_main_context_wakeup (g_main_context_default ());
}

static Outcome
outcome_of (const GError *error)
{
  if (error == NULL)
    return OUTCOME_DONE;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_FAILED))
    return OUTCOME_FAILED;
  if (g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_JOB_LOST))
    return OUTCOME_LOST;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return OUTCOME_CANCELLED;
  if (g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_TIMED_OUT))
    return OUTCOME_TIMED_OUT;
  if (g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_CLOSED))
    return OUTCOME_CLOSED;
  if (g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_NOT_ACCEPTING))
    return OUTCOME_NOT_ACCEPTING;
  return OUTCOME_OTHER;
}

static void
limits_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Record *record = user_data;
  Limits *l = record->limits;
  g_autoptr(GError) error = NULL;
  g_autofree char *value = tp_pool_submit_finish (TP_POOL (source), result, &error);
  Outcome outcome = outcome_of (error);

  if (outcome == OUTCOME_DONE)
    g_assert_cmpstr (value, ==, record->name);
  if (outcome == OUTCOME_OTHER)
    g_test_message ("%s: unexpected error: %s", record->name, error->message);
  g_mutex_lock (&l->lock);
  if (g_thread_self () != record->submitter)
    l->wrong_thread++;
  l->outcomes[outcome]++;
  if (record->callbacks == 0)
    record->outcome = outcome;
  g_mutex_unlock (&l->lock);
  g_atomic_int_inc (&record->callbacks);
  g_atomic_int_inc (&l->callbacks);
}

typedef struct {
  const char   *name;       /* NULL: the record's number */
  int           key;        /* KEYLESS for none */
  Mode          mode;
  gboolean      in_thread;
  int           weight;     /* < 0: the pool's default */
  const char   *label;
  guint         queue_timeout_ms;
  guint         sleep_us;
  GCancellable *cancellable;
} Job;

/* Submits @job from the calling thread; returns its record. Thread-safe. */
static Record *
limits_submit (Limits    *l,
               const Job *job)
{
  g_autoptr(TpJobOptions) options = tp_job_options_new ();
  g_autofree char *key = key_name (job->key);
  guint id = g_atomic_int_add (&l->n_submitted, 1);
  Record *record;

  g_assert_cmpuint (id, <, l->n_records);
  record = &l->records[id];
  record->limits = l;
  record->id = id;
  record->name = job->name != NULL ? g_strdup (job->name) : g_strdup_printf ("j%u", id);
  record->key = job->key;
  record->mode = job->mode;
  record->sleep_us = job->sleep_us;
  record->submitter = g_thread_self ();

  tp_job_options_set_key (options, key);
  tp_job_options_set_flags (options, job->in_thread ? TP_SUBMIT_IN_THREAD : TP_SUBMIT_DEFAULT);
  if (job->weight >= 0)
    tp_job_options_set_weight (options, job->weight);
  if (job->label != NULL)
    tp_job_options_set_label (options, job->label);
  tp_job_options_set_queue_timeout (options, job->queue_timeout_ms);
  tp_pool_submit_with_options_async (l->pool, options, limits_job_func, record,
                                     limits_job_destroy, job->cancellable, limits_done_cb,
                                     record);
  /* The main thread may wait for submissions from others */
  g_main_context_wakeup (g_main_context_default ());
  return record;
}

/* A MODE_HOLD job that started: completes it */
static void
limits_release (Record *record)
{
  GTask *task = g_steal_pointer (&record->held);

  g_assert_nonnull (task);
  limits_return (record, task);
  g_object_unref (task);
}

static void
limits_wait_started (Limits *l,
                     guint   n)
{
  tp_test_wait_count (&l->started, n);
}

/* Every submission called back once and destroyed once; a job ran at most
 * once, and exactly once when it has a result of its own */
static void
limits_assert_exactly_once (Limits *l)
{
  guint total = 0;

  tp_test_wait_count (&l->callbacks, l->n_submitted);
  tp_test_wait_count (&l->destroyed, l->n_submitted);
  drain_pending ();
  g_assert_cmpuint (l->callbacks, ==, l->n_submitted);
  g_assert_cmpuint (l->destroyed, ==, l->n_submitted);
  for (guint i = 0; i < l->n_submitted; i++)
    {
      Record *record = &l->records[i];

      if (record->callbacks != 1 || record->destroyed != 1 || record->ran > 1)
        g_error ("%s: %d callbacks, %d destroyed, ran %d times", record->name,
                 record->callbacks, record->destroyed, record->ran);
      switch (record->outcome)
        {
        case OUTCOME_DONE:
        case OUTCOME_FAILED:
        case OUTCOME_LOST:
          g_assert_cmpint (record->ran, ==, 1);
          break;
        case OUTCOME_TIMED_OUT:
        case OUTCOME_CLOSED:
        case OUTCOME_NOT_ACCEPTING:
          g_assert_cmpint (record->ran, ==, 0);
          break;
        default:
          break;
        }
    }
  for (guint o = 0; o < N_OUTCOMES; o++)
    total += l->outcomes[o];
  g_assert_cmpuint (total, ==, l->n_submitted);
  g_assert_cmpuint (l->outcomes[OUTCOME_OTHER], ==, 0);
  g_assert_cmpuint (l->violations, ==, 0);
  g_assert_cmpuint (l->wrong_thread, ==, 0);
}

/* The names of the jobs, in the order they started */
static char *
limits_order (Limits *l)
{
  GString *out = g_string_new (NULL);

  g_mutex_lock (&l->lock);
  for (guint i = 0; i < l->starts->len; i++)
    {
      const Start *start = &g_array_index (l->starts, Start, i);

      g_string_append_printf (out, "%s%s", i > 0 ? " " : "", l->records[start->id].name);
    }
  g_mutex_unlock (&l->lock);
  return g_string_free (out, FALSE);
}

static void
close_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (tp_pool_close_finish (TP_POOL (source), result, &error));
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

/* The state of the labelled job @label in the pool's list of jobs */
static TpJobState
job_state (TpPool     *pool,
           const char *label)
{
  g_autoptr(GListModel) jobs = tp_pool_get_jobs (pool);

  for (guint i = 0; i < g_list_model_get_n_items (jobs); i++)
    {
      g_autoptr(TpJobInfo) info = g_list_model_get_item (jobs, i);

      if (g_strcmp0 (tp_job_info_get_label (info), label) == 0)
        return tp_job_info_get_state (info);
    }
  g_error ("no job labelled %s in the pool's list", label);
}

static TpJobInfo *
job_info (TpPool     *pool,
          const char *label)
{
  g_autoptr(GListModel) jobs = tp_pool_get_jobs (pool);

  for (guint i = 0; i < g_list_model_get_n_items (jobs); i++)
    {
      g_autoptr(TpJobInfo) info = g_list_model_get_item (jobs, i);

      if (g_strcmp0 (tp_job_info_get_label (info), label) == 0)
        return g_steal_pointer (&info);
    }
  g_error ("no job labelled %s in the pool's list", label);
}

/* Checks that no window of @interval_us held more than @limit starts of the
 * jobs of @key (-1: all jobs), as the jobs recorded them; returns the most
 * found in one window.
 *
 * A job records its start a little after the pool started it, and on a busy
 * machine that lag varies by milliseconds: windows anchored at the recorded
 * starts would count lags, not the gate. So each window is anchored at a
 * time the job certainly had not started yet: the end of the job before it
 * in the same stream, where the stream runs one job at a time (a pool of
 * one, or per-key-limit = 1), or @origin, taken before the first
 * submission. The pool started job k at or after that anchor, and job
 * k + limit at least an interval after job k: no job past k + limit - 1
 * can have recorded a start inside the window. */
static guint
assert_rate_windows (Limits *l,
                     int     key,
                     guint   limit,
                     gint64  interval_us,
                     gint64  origin)
{
  g_autoptr(GArray) stream = g_array_new (FALSE, FALSE, sizeof (Record *));
  guint most = 0;

  for (guint i = 0; i < l->starts->len; i++)
    {
      Record *record = &l->records[g_array_index (l->starts, Start, i).id];

      if (key < 0 || record->key == key)
        g_array_append_val (stream, record);
    }
  for (guint k = 0; k < stream->len; k++)
    {
      gint64 anchor = k == 0 ? origin : g_array_index (stream, Record *, k - 1)->ended_at;
      guint count = 0;

      g_assert_cmpint (anchor, >, 0);
      /* Serial: the job before had ended before this one started */
      g_assert_cmpint (anchor, <=, g_array_index (stream, Record *, k)->started_at);
      for (guint j = k; j < stream->len; j++)
        if (g_array_index (stream, Record *, j)->started_at < anchor + interval_us)
          count++;
      if (count > limit)
        g_error ("%u starts of %s within %" G_GINT64_FORMAT " µs of %s's anchor", count,
                 key < 0 ? "all keys" : "one key", interval_us,
                 g_array_index (stream, Record *, k)->name);
      most = MAX (most, count);
    }
  return most;
}

/* The kind's group lines for a pool of @size workers */
static char *
kind_lines (const char *kind,
            guint       size)
{
  if (g_str_has_prefix (kind, "autoscale"))
    return g_strdup_printf ("kind=%s\nmin-size=%u\nmax-size=%u\n", kind, size, size);
  return g_strdup_printf ("kind=%s\nsize=%u\n", kind, size);
}

/* }}} */

/* per-key {{{ */

static const char * const all_kinds[] = {
  "fixed-simple", "fixed-lifo", "fixed-priority", "fixed-fair", "autoscale-fair",
  "autoscale-priority",
};

static void
test_per_key_bound (gconstpointer data)
{
  const char *kind = data;
  const guint n_jobs = 300;
  const guint n_keys = 5;
  const guint limit = 2;
  g_autofree char *lines = kind_lines (kind, 16);
  g_autofree char *group = g_strdup_printf ("%sgates=per-key\nper-key-limit=%u\n", lines, limit);
  g_autoptr(TpPool) pool = limits_pool_new (group);
  g_autoptr(GRand) rand = g_rand_new_with_seed (RANDOM_SEED);
  guint outstanding[N_KEYS + 1] = { 0 };
  Limits l;

  g_test_summary ("per-key-limit = 2 over five keys in a pool of 16: whenever the pool is "
                  "quiet, each key runs exactly min (2, its unfinished jobs) — never more "
                  "(each job counts itself), never fewer (no key waits behind another) — and "
                  "the others wait; jobs are submitted and completed in a random order");
  g_test_message ("seed %u", RANDOM_SEED);
  limits_init (&l, pool, limit, n_jobs);

  while (l.callbacks < n_jobs)
    {
      guint running = 0;
      guint unfinished = 0;
      g_autoptr(GPtrArray) held = g_ptr_array_new ();

      /* Submit a few, or many at first */
      for (guint i = 0; l.n_submitted < n_jobs && (l.n_submitted < 100 || i < 3); i++)
        {
          Job job = { .key = g_rand_int_range (rand, 0, n_keys), .mode = MODE_HOLD,
                      .weight = g_rand_int_range (rand, 0, 8) };

          outstanding[job.key]++;
          limits_submit (&l, &job);
        }
      drain_pending ();

      for (guint k = 0; k < n_keys; k++)
        {
          if (l.running[k] != MIN (limit, outstanding[k]))
            g_error ("key k%u: %u running of %u unfinished", k, l.running[k], outstanding[k]);
          running += l.running[k];
          unfinished += outstanding[k];
        }
      g_assert_cmpuint (tp_pool_get_running (pool), ==, running);
      g_assert_cmpuint (tp_pool_get_waiting (pool), ==, unfinished - running);

      for (guint i = 0; i < l.n_submitted; i++)
        if (l.records[i].held != NULL)
          g_ptr_array_add (held, &l.records[i]);
      g_assert_cmpuint (held->len, ==, running);
      if (held->len > 0)
        {
          Record *record = held->pdata[g_rand_int_range (rand, 0, held->len)];

          outstanding[record->key]--;
          limits_release (record);
        }
      drain_pending ();
    }

  limits_assert_exactly_once (&l);
  g_assert_cmpuint (l.outcomes[OUTCOME_DONE], ==, n_jobs);
  for (guint k = 0; k < n_keys; k++)
    g_assert_cmpuint (l.peak[k], ==, limit);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  limits_clear (&l);
}

static void
test_per_key_threads (gconstpointer data)
{
  const char *kind = data;
  const guint n_jobs = 400;
  g_autofree char *lines = kind_lines (kind, 8);
  g_autofree char *group = g_strdup_printf ("%sgates=per-key\nper-key-limit=2\n", lines);
  g_autoptr(TpPool) pool = limits_pool_new (group);
  g_autoptr(GRand) rand = g_rand_new_with_seed (RANDOM_SEED);
  Limits l;

  g_test_summary ("Thread and async jobs of three keys that sleep a little, in a pool of 8 "
                  "with per-key-limit = 2: no job ever sees more than two of its key "
                  "running, each key reaches two, and each job completes exactly once");
  limits_init (&l, pool, 2, n_jobs);

  for (guint i = 0; i < n_jobs; i++)
    {
      Job job = { .key = g_rand_int_range (rand, 0, 3), .mode = MODE_SLEEP,
                  .in_thread = g_rand_boolean (rand), .weight = -1,
                  .sleep_us = g_rand_int_range (rand, 0, 3) * 1000 };

      limits_submit (&l, &job);
    }
  limits_assert_exactly_once (&l);
  g_assert_cmpuint (l.outcomes[OUTCOME_DONE], ==, n_jobs);
  for (guint k = 0; k < 3; k++)
    g_assert_cmpuint (l.peak[k], ==, 2);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  limits_clear (&l);
}

static void
test_per_key_keyless (void)
{
  g_autoptr(TpPool) pool = limits_pool_new ("kind=fixed-fair\nsize=8\ngates=per-key\n"
                                            "per-key-limit=1\n");
  Record *a[2];
  Record *keyless[7];
  Limits l;

  g_test_summary ("Jobs without a key are not limited by per-key: seven run at once beside "
                  "the one job of key k0 that per-key-limit = 1 allows, and they do not "
                  "count against any key");
  limits_init (&l, pool, 1, 9);

  a[0] = limits_submit (&l, &(Job) { .key = 0, .mode = MODE_HOLD, .weight = -1 });
  a[1] = limits_submit (&l, &(Job) { .key = 0, .mode = MODE_HOLD, .weight = -1 });
  for (guint i = 0; i < G_N_ELEMENTS (keyless); i++)
    keyless[i] = limits_submit (&l, &(Job) { .key = KEYLESS, .mode = MODE_HOLD, .weight = -1 });
  limits_wait_started (&l, 8);
  drain_pending ();
  g_assert_cmpuint (l.running[KEYLESS], ==, 7);
  g_assert_cmpuint (l.running[0], ==, 1);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 8);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 1);

  /* A keyless job's end frees no slot of k0 */
  limits_release (keyless[0]);
  drain_pending ();
  g_assert_cmpuint (l.running[0], ==, 1);
  g_assert_null (a[1]->held);
  limits_release (a[0]);
  limits_wait_started (&l, 9);
  limits_release (a[1]);
  for (guint i = 1; i < G_N_ELEMENTS (keyless); i++)
    limits_release (keyless[i]);
  limits_assert_exactly_once (&l);
  g_assert_cmpuint (l.peak[KEYLESS], ==, 7);
  g_assert_cmpuint (l.peak[0], ==, 1);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  limits_clear (&l);
}

/* How a kind orders the head-of-line case: the running key-A job first, then
 * the key-A jobs, then key B's job */
typedef struct {
  const char *kind;
  gboolean    held;     /* submitted to a held pool, then unheld */
} HolCase;

static const HolCase hol_cases[] = {
  { "fixed-simple", TRUE },
  { "fixed-simple", FALSE },
  { "fixed-lifo", TRUE },
  { "fixed-priority", TRUE },
  { "fixed-priority", FALSE },
  { "fixed-fair", TRUE },
  { "autoscale-fair", FALSE },
  { "autoscale-priority", TRUE },
};

static void
test_per_key_head_of_line (gconstpointer data)
{
  const HolCase *hol = data;
  const guint n_held = 10000;
  gboolean lifo = g_str_has_suffix (hol->kind, "lifo");
  g_autofree char *lines = kind_lines (hol->kind, 4);
  g_autofree char *group = g_strdup_printf ("%sgates=per-key\nper-key-limit=1\nheld=%s\n", lines,
                                            hol->held ? "true" : "false");
  g_autoptr(TpPool) pool = limits_pool_new (group);
  g_autoptr(GPtrArray) a_jobs = g_ptr_array_new ();
  Record *first = NULL;
  Record *b = NULL;
  guint64 dispatches;
  guint previous = 0;
  Limits l;

  g_test_summary ("A key-B job queued behind 10 000 jobs of key A that per-key-limit = 1 "
                  "holds starts in the same dispatch as the pool could start it, while the "
                  "running key-A job has not finished; then the key-A jobs run one at a "
                  "time in the queue's order, each exactly once");
  limits_init (&l, pool, 1, n_held + 2);

  /* In the queue's order: the first key-A job, the others, then key B's. A
   * LIFO queue takes the newest first: submit in reverse. A priority queue
   * orders by weight: key B's job is last by weight too. */
  if (lifo)
    b = limits_submit (&l, &(Job) { "b", 1, MODE_HOLD, FALSE, 9, "b" });
  else
    first = limits_submit (&l, &(Job) { "a-first", 0, MODE_HOLD, FALSE, 0, "a-first" });
  if (!hol->held)
    limits_wait_started (&l, 1);
  for (guint i = 0; i < n_held; i++)
    {
      g_autofree char *name = g_strdup_printf ("a%u", i);

      g_ptr_array_add (a_jobs, limits_submit (&l, &(Job) { name, 0, MODE_RETURN, FALSE, 1,
                                                           i < 3 ? name : NULL }));
    }
  if (lifo)
    first = limits_submit (&l, &(Job) { "a-first", 0, MODE_HOLD, FALSE, 0, "a-first" });

  /* The pool is quiet: the next dispatch is the one that can start key B's job */
  drain_pending ();
  if (!hol->held)
    {
      /* The key-A jobs were held as they came */
      g_assert_cmpuint (l.started, ==, 1);
      g_assert_cmpuint (tp_pool_get_waiting (pool), ==, n_held);
      dispatches = tp_pool_get_dispatches (pool);
      b = limits_submit (&l, &(Job) { "b", 1, MODE_HOLD, FALSE, 9, "b" });
    }
  else
    {
      if (!lifo)
        b = limits_submit (&l, &(Job) { "b", 1, MODE_HOLD, FALSE, 9, "b" });
      drain_pending ();
      g_assert_cmpuint (l.started, ==, 0);
      g_assert_cmpuint (tp_pool_get_waiting (pool), ==, n_held + 2);
      dispatches = tp_pool_get_dispatches (pool);
      tp_pool_unhold (pool);
      g_assert_cmpuint (tp_pool_get_running (pool), ==, 2);
      g_assert_cmpuint (tp_pool_get_waiting (pool), ==, n_held);
    }
  limits_wait_started (&l, 2);
  g_assert_nonnull (first->held);
  g_assert_nonnull (b->held);
  if (hol->held)
    g_assert_cmpuint (first->dispatch, ==, dispatches + 1);
  g_assert_cmpuint (b->dispatch, ==, dispatches + 1);
  drain_pending ();
  g_assert_cmpuint (l.started, ==, 2);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 2);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, n_held);
  g_assert_cmpint (job_state (pool, "a-first"), ==, TP_JOB_STATE_RUNNING);
  g_assert_cmpint (job_state (pool, "a0"), ==, TP_JOB_STATE_HELD);
  g_assert_cmpint (job_state (pool, "a2"), ==, TP_JOB_STATE_HELD);
  g_assert_cmpint (job_state (pool, "b"), ==, TP_JOB_STATE_RUNNING);

  limits_release (b);
  limits_release (first);
  limits_assert_exactly_once (&l);
  g_assert_cmpuint (l.outcomes[OUTCOME_DONE], ==, n_held + 2);
  g_assert_cmpuint (l.peak[0], ==, 1);

  /* The key-A jobs ran in the queue's order: submission order, or the reverse */
  for (guint i = 2; i < l.starts->len; i++)
    {
      guint id = g_array_index (l.starts, Start, i).id;
      guint index = 0;

      g_assert_cmpint (l.records[id].key, ==, 0);
      g_assert_true (g_ptr_array_find (a_jobs, &l.records[id], &index));
      if (i > 2)
        {
          if (lifo)
            g_assert_cmpuint (index, <, previous);
          else
            g_assert_cmpuint (index, >, previous);
        }
      previous = index;
    }
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  limits_clear (&l);
}

typedef struct {
  const char *kind;
  const char *expected;
} OrderCase;

static const OrderCase order_cases[] = {
  { "fixed-simple", "a1 b1 c1 a2 d1" },
  { "fixed-fair", "a1 b1 c1 a2 d1" },
  { "fixed-priority", "a1 b1 c1 a2 d1" },
  { "fixed-lifo", "a1 b1 d1 c1 a2" },
};

static void
test_per_key_queue_order (gconstpointer data)
{
  const OrderCase *order_case = data;
  g_autofree char *lines = kind_lines (order_case->kind, 2);
  g_autofree char *group = g_strdup_printf ("%sgates=per-key\nper-key-limit=1\n", lines);
  g_autoptr(TpPool) pool = limits_pool_new (group);
  g_autofree char *order = NULL;
  Record *a1, *b1;
  Limits l;

  g_test_summary ("Among the jobs the gates admit, the queue's order decides: a job of key A "
                  "held while A's job ran goes back to its place, and starts before a job "
                  "of a free key submitted after it (before it, in a LIFO queue)");
  limits_init (&l, pool, 1, 5);

  a1 = limits_submit (&l, &(Job) { "a1", 0, MODE_HOLD, FALSE, 4 });
  b1 = limits_submit (&l, &(Job) { "b1", 1, MODE_HOLD, FALSE, 4 });
  limits_submit (&l, &(Job) { "a2", 0, MODE_RETURN, FALSE, 4 });
  limits_submit (&l, &(Job) { "c1", 2, MODE_HOLD, FALSE, 4 });
  limits_submit (&l, &(Job) { "d1", 3, MODE_HOLD, FALSE, 4 });
  limits_wait_started (&l, 2);
  drain_pending ();
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 3);

  /* b1's worker: a2 is refused (A runs), c1 starts; d1 in a LIFO queue */
  limits_release (b1);
  limits_wait_started (&l, 3);
  drain_pending ();
  /* a1's end offers a2 again: at its place, before d1 */
  limits_release (a1);
  limits_wait_started (&l, 4);
  drain_pending ();
  while (l.callbacks < l.n_submitted)
    {
      for (guint i = 0; i < l.n_submitted; i++)
        if (l.records[i].held != NULL)
          limits_release (&l.records[i]);
      drain_pending ();
    }
  limits_assert_exactly_once (&l);
  order = limits_order (&l);
  g_assert_cmpstr (order, ==, order_case->expected);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  limits_clear (&l);
}

static void
test_per_key_priority_order (void)
{
  g_autoptr(TpPool) pool = limits_pool_new ("kind=fixed-priority\nsize=2\nheld=true\n"
                                            "gates=per-key\nper-key-limit=1\n");
  g_autofree char *order = NULL;
  Record *a1, *c3, *b4;
  Limits l;

  g_test_summary ("In a priority pool with per-key, the smallest weight of the jobs the gate "
                  "admits starts first: a held job offered again competes by its weight");
  limits_init (&l, pool, 1, 6);

  limits_submit (&l, &(Job) { "b5", 1, MODE_RETURN, FALSE, 5 });
  a1 = limits_submit (&l, &(Job) { "a1", 0, MODE_HOLD, FALSE, 1 });
  b4 = limits_submit (&l, &(Job) { "b4", 1, MODE_HOLD, FALSE, 4 });
  c3 = limits_submit (&l, &(Job) { "c3", 2, MODE_HOLD, FALSE, 3 });
  limits_submit (&l, &(Job) { "a2", 0, MODE_RETURN, FALSE, 2 });
  limits_submit (&l, &(Job) { "d6", 3, MODE_RETURN, FALSE, 6 });
  tp_pool_unhold (pool);
  /* a1 starts, a2 is held, c3 starts */
  limits_wait_started (&l, 2);
  drain_pending ();
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 4);
  limits_release (c3);
  /* b4, then a1's end: a2 (2) before b5 (5) and d6 (6); then b5 is held (b4 runs): d6 */
  limits_wait_started (&l, 3);
  drain_pending ();
  limits_release (a1);
  limits_wait_started (&l, 4);
  drain_pending ();
  limits_release (b4);
  limits_assert_exactly_once (&l);
  order = limits_order (&l);
  g_assert_cmpstr (order, ==, "a1 c3 b4 a2 d6 b5");
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  limits_clear (&l);
}

/* }}} */

/* Held jobs are waiting jobs {{{ */

/* A pool of four with per-key-limit = 1, where a labelled key-A job runs
 * until released */
static TpPool *
held_pool_new (Limits  *l,
               guint    n_records,
               Record **running)
{
  TpPool *pool = limits_pool_new ("kind=fixed-simple\nsize=4\ngates=per-key\n"
                                  "per-key-limit=1\n");

  limits_init (l, pool, 1, n_records);
  *running = limits_submit (l, &(Job) { "running", 0, MODE_HOLD, FALSE, -1, "running" });
  limits_wait_started (l, 1);
  return pool;
}

static void
test_held_waiting (void)
{
  Record *running;
  Limits l;
  g_autoptr(TpPool) pool = held_pool_new (&l, 8, &running);

  g_test_summary ("Jobs per-key holds count in waiting, show the state held in the pool's "
                  "list of jobs, go back to queued when offered again and to running when "
                  "they start");

  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *name = g_strdup_printf ("h%u", i);

      limits_submit (&l, &(Job) { name, 0, MODE_RETURN, FALSE, -1, name });
    }
  limits_submit (&l, &(Job) { "other", 1, MODE_HOLD, FALSE, -1, "other" });
  limits_wait_started (&l, 2);
  drain_pending ();
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 5);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 2);
  g_assert_cmpint (job_state (pool, "running"), ==, TP_JOB_STATE_RUNNING);
  g_assert_cmpint (job_state (pool, "other"), ==, TP_JOB_STATE_RUNNING);
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *name = g_strdup_printf ("h%u", i);

      g_assert_cmpint (job_state (pool, name), ==, TP_JOB_STATE_HELD);
    }
  {
    guint waiting = 0;

    g_object_get (pool, "waiting", &waiting, NULL);
    g_assert_cmpuint (waiting, ==, 5);
  }

  limits_release (running);
  limits_release (&l.records[6]);
  limits_assert_exactly_once (&l);
  g_assert_cmpuint (l.outcomes[OUTCOME_DONE], ==, 7);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 0);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  limits_clear (&l);
}

static void
test_held_cancel (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(TpJobInfo) info = NULL;
  g_autofree char *order = NULL;
  Record *running;
  Record *cancelled;
  Record *by_info;
  Limits l;
  g_autoptr(TpPool) pool = held_pool_new (&l, 5, &running);

  g_test_summary ("A job per-key holds can be cancelled, through its cancellable or its "
                  "info: its callback runs once with CANCELLED, its data is destroyed once, "
                  "it never runs, and the jobs held with it keep their order");

  limits_submit (&l, &(Job) { "h0", 0, MODE_RETURN, FALSE, -1 });
  cancelled = limits_submit (&l, &(Job) { "h1", 0, MODE_RETURN, FALSE, -1,
                                          .cancellable = cancellable });
  by_info = limits_submit (&l, &(Job) { "h2", 0, MODE_RETURN, FALSE, -1, "h2" });
  limits_submit (&l, &(Job) { "h3", 0, MODE_RETURN, FALSE, -1 });
  drain_pending ();
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 4);
  g_assert_cmpint (job_state (pool, "h2"), ==, TP_JOB_STATE_HELD);

  g_cancellable_cancel (cancellable);
  tp_test_wait_count (&l.callbacks, 1);
  g_assert_cmpint (cancelled->outcome, ==, OUTCOME_CANCELLED);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 3);

  info = job_info (pool, "h2");
  tp_job_info_cancel (info);
  tp_test_wait_count (&l.callbacks, 2);
  g_assert_cmpint (by_info->outcome, ==, OUTCOME_CANCELLED);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 2);
  drain_pending ();
  g_assert_cmpuint (l.started, ==, 1);

  limits_release (running);
  limits_assert_exactly_once (&l);
  g_assert_cmpuint (l.outcomes[OUTCOME_CANCELLED], ==, 2);
  g_assert_cmpuint (l.outcomes[OUTCOME_DONE], ==, 3);
  g_assert_cmpint (cancelled->ran, ==, 0);
  g_assert_cmpint (by_info->ran, ==, 0);
  order = limits_order (&l);
  g_assert_cmpstr (order, ==, "running h0 h3");
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  limits_clear (&l);
}

static void
test_held_queue_timeout (void)
{
  g_autofree char *order = NULL;
  Record *running;
  Record *late;
  Limits l;
  g_autoptr(TpPool) pool = held_pool_new (&l, 4, &running);

  g_test_summary ("A job per-key holds times out at its queue timeout with TIMED_OUT, once, "
                  "without running; the jobs held with it without a timeout wait on");

  limits_submit (&l, &(Job) { "h0", 0, MODE_RETURN, FALSE, -1 });
  late = limits_submit (&l, &(Job) { "late", 0, MODE_RETURN, FALSE, -1, "late",
                                     .queue_timeout_ms = 1 });
  limits_submit (&l, &(Job) { "h2", 0, MODE_RETURN, FALSE, -1 });
  tp_test_wait_count (&l.callbacks, 1);
  g_assert_cmpint (late->outcome, ==, OUTCOME_TIMED_OUT);
  drain_pending ();
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 2);
  g_assert_cmpuint (l.started, ==, 1);

  limits_release (running);
  limits_assert_exactly_once (&l);
  g_assert_cmpuint (l.outcomes[OUTCOME_TIMED_OUT], ==, 1);
  g_assert_cmpuint (l.outcomes[OUTCOME_DONE], ==, 3);
  order = limits_order (&l);
  g_assert_cmpstr (order, ==, "running h0 h2");
  g_assert_cmpuint (tp_pool_get_n_timed_out (pool), ==, 1);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  limits_clear (&l);
}

static void
test_held_close_discard (void)
{
  gboolean closed = FALSE;
  Record *running;
  Limits l;
  g_autoptr(TpPool) pool = held_pool_new (&l, 12, &running);

  g_test_summary ("Closing with TP_CLOSE_DISCARD_QUEUED fails each job per-key holds with "
                  "CLOSED, once, and each queued one; the running job completes, and the "
                  "close completes after it");

  for (guint i = 0; i < 8; i++)
    limits_submit (&l, &(Job) { NULL, i % 2, i == 1 ? MODE_HOLD : MODE_RETURN, i % 3 == 0, -1 });
  limits_wait_started (&l, 2);
  tp_pool_hold (pool);
  limits_submit (&l, &(Job) { "queued", 2, MODE_RETURN, FALSE, -1 });
  drain_pending ();
  /* 4 of key 0 and 3 of key 1 held, one queued */
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 8);

  tp_pool_close_async (pool, TP_CLOSE_DISCARD_QUEUED, NULL, close_done_cb, &closed);
  tp_test_wait_count (&l.callbacks, 8);
  g_assert_cmpuint (l.outcomes[OUTCOME_CLOSED], ==, 8);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 0);
  drain_pending ();
  g_assert_false (closed);

  limits_release (running);
  limits_release (&l.records[2]);
  tp_test_wait_flag (&closed);
  limits_assert_exactly_once (&l);
  g_assert_cmpuint (l.outcomes[OUTCOME_DONE], ==, 2);
  g_assert_cmpuint (l.started, ==, 2);
  limits_clear (&l);
}

static void
test_held_close_drain (void)
{
  gboolean closed = FALSE;
  g_autofree char *order = NULL;
  Record *running;
  Limits l;
  g_autoptr(TpPool) pool = held_pool_new (&l, 6, &running);

  g_test_summary ("A draining close runs every job per-key holds, one at a time for their "
                  "key, in order, and completes after the last");

  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *name = g_strdup_printf ("h%u", i);

      limits_submit (&l, &(Job) { name, 0, i % 2 ? MODE_SLEEP : MODE_RETURN, i == 3, -1,
                                  .sleep_us = 1000 });
    }
  drain_pending ();
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 5);

  tp_pool_close_async (pool, TP_CLOSE_DRAIN, NULL, close_done_cb, &closed);
  drain_pending ();
  g_assert_false (closed);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 5);
  limits_release (running);
  tp_test_wait_flag (&closed);
  g_assert_cmpuint (l.callbacks, ==, 6);
  limits_assert_exactly_once (&l);
  g_assert_cmpuint (l.outcomes[OUTCOME_DONE], ==, 6);
  g_assert_cmpuint (l.peak[0], ==, 1);
  order = limits_order (&l);
  g_assert_cmpstr (order, ==, "running h0 h1 h2 h3 h4");
  limits_clear (&l);
}

typedef struct {
  Limits   *limits;
  gboolean  idle;
  guint     started_then;
} IdleWatch;

static void
wait_idle_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  IdleWatch *watch = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (tp_pool_wait_idle_finish (TP_POOL (source), result, &error));
  g_assert_no_error (error);
  watch->started_then = g_atomic_int_get (&watch->limits->started);
  watch->idle = TRUE;
}

static void
test_held_wait_idle (void)
{
  Record *running;
  Limits l;
  g_autoptr(TpPool) pool = held_pool_new (&l, 4, &running);
  IdleWatch watch = { &l, FALSE, 0 };

  g_test_summary ("wait_idle waits for the jobs per-key holds: it completes only once they "
                  "have run, not when the running job ends and none runs for a moment");

  for (guint i = 0; i < 3; i++)
    limits_submit (&l, &(Job) { NULL, 0, MODE_HOLD, FALSE, -1 });
  drain_pending ();
  tp_pool_wait_idle_async (pool, NULL, wait_idle_cb, &watch);
  drain_pending ();
  g_assert_false (watch.idle);

  for (guint i = 0; i < 4; i++)
    {
      limits_wait_started (&l, i + 1);
      drain_pending ();
      g_assert_false (watch.idle);
      limits_release (&l.records[i]);
    }
  tp_test_wait_flag (&watch.idle);
  g_assert_cmpuint (watch.started_then, ==, 4);
  limits_assert_exactly_once (&l);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  limits_clear (&l);
}

/* A job offered again, then withdrawn before it starts: the jobs held behind
 * it are offered in its place. Here the pool is held when a1 ends, so that
 * a2, offered again, waits in the queue, and is then cancelled. */
static void
test_held_reoffered_cancelled (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Record *a1;
  Record *a2;
  Record *a3;
  Limits l;
  g_autoptr(TpPool) pool = held_pool_new (&l, 3, &a1);

  g_test_summary ("A job per-key held, offered again when its key's job ended and cancelled "
                  "before it started, passes its turn on: the job held behind it starts, "
                  "rather than waiting for another job of its key that may never come");

  a2 = limits_submit (&l, &(Job) { "a2", 0, MODE_RETURN, FALSE, -1,
                                   .cancellable = cancellable });
  a3 = limits_submit (&l, &(Job) { "a3", 0, MODE_RETURN, FALSE, -1 });
  drain_pending ();
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 2);

  tp_pool_hold (pool);
  limits_release (a1);
  tp_test_wait_count (&l.callbacks, 1);
  drain_pending ();
  g_cancellable_cancel (cancellable);
  tp_test_wait_count (&l.callbacks, 2);
  g_assert_cmpint (a2->outcome, ==, OUTCOME_CANCELLED);
  tp_pool_unhold (pool);
  drain_pending ();

  /* Offered in a2's place although nothing of key k0 runs */
  g_assert_cmpint (a3->ran, ==, 1);
  tp_test_wait_count (&l.callbacks, 3);
  limits_assert_exactly_once (&l);
  g_assert_cmpint (a3->outcome, ==, OUTCOME_DONE);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  limits_clear (&l);
}

/* A job one gate offered again that another gate holds: the first gate's
 * next job must be offered too. gates = per-key;rate (per key, 2 an hour):
 * a2 starts when a1 ends, a3 is offered again when a2 ends and held by rate,
 * then cancelled, with nothing of its key running. */
static void
test_held_moved_cancelled (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *group = g_strdup_printf ("kind=fixed-simple\nsize=4\ngates=per-key;rate\n"
                                            "per-key-limit=1\nrate-limit=2\nrate-per-key=true\n"
                                            "rate-interval-ms=%u\n", HOUR_MS);
  g_autoptr(TpPool) pool = limits_pool_new (group);
  Record *a1, *a2, *a3, *a4;
  gboolean closed = FALSE;
  Limits l;

  g_test_summary ("A job per-key offered again and the rate gate then held, cancelled while "
                  "rate holds it, leaves the job per-key held behind it on its way: the "
                  "pool still has a time to offer it again");
  limits_init (&l, pool, 1, 4);

  a1 = limits_submit (&l, &(Job) { "a1", 0, MODE_HOLD, FALSE, -1 });
  a2 = limits_submit (&l, &(Job) { "a2", 0, MODE_HOLD, FALSE, -1 });
  a3 = limits_submit (&l, &(Job) { "a3", 0, MODE_RETURN, FALSE, -1, "a3",
                                   .cancellable = cancellable });
  a4 = limits_submit (&l, &(Job) { "a4", 0, MODE_RETURN, FALSE, -1, "a4" });
  limits_wait_started (&l, 1);
  limits_release (a1);
  limits_wait_started (&l, 2);
  limits_release (a2);
  tp_test_wait_count (&l.callbacks, 2);
  drain_pending ();
  /* a3 waits for the rate, a4 for a3 or the rate: nothing of key k0 runs */
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 2);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 0);
  g_cancellable_cancel (cancellable);
  tp_test_wait_count (&l.callbacks, 3);
  g_assert_cmpint (a3->outcome, ==, OUTCOME_CANCELLED);
  drain_pending ();
  g_assert_cmpint (a4->ran, ==, 0);
  /* a3's turn passed to a4, which the rate gate holds with its time */
  g_assert_cmpint (tp_pool_get_ready_time (pool), >=, 0);

  tp_pool_close_async (pool, TP_CLOSE_DISCARD_QUEUED, NULL, close_done_cb, &closed);
  tp_test_wait_flag (&closed);
  limits_assert_exactly_once (&l);
  g_assert_cmpint (a4->outcome, ==, OUTCOME_CLOSED);
  limits_clear (&l);
}

/* }}} */

/* rate {{{ */

static const char * const rate_kinds[] = {
  "fixed-simple", "fixed-fair", "fixed-priority", "autoscale-simple",
};

static void
test_rate_window (gconstpointer data)
{
  const char *kind = data;
  const guint n_jobs = 60;
  const guint limit = 10;
  const guint interval_ms = 40;
  g_autofree char *lines = kind_lines (kind, 1);
  g_autofree char *group = g_strdup_printf ("%sgates=rate\nrate-limit=%u\nrate-interval-ms=%u\n",
                                            lines, limit, interval_ms);
  g_autoptr(TpPool) pool = limits_pool_new (group);
  g_autoptr(GRand) rand = g_rand_new_with_seed (RANDOM_SEED);
  gint64 origin;
  guint most;
  Limits l;

  g_test_summary ("rate-limit = 10 per 40 ms, 60 async and thread jobs of three keys, one at "
                  "a time: no 40 ms window holds more than 10 of the starts the jobs "
                  "recorded, and a window does hold 10");
  limits_init (&l, pool, 0, n_jobs);

  origin = g_get_monotonic_time ();
  for (guint i = 0; i < n_jobs; i++)
    limits_submit (&l, &(Job) { NULL, g_rand_int_range (rand, 0, 3),
                                i % 7 == 3 ? MODE_FAIL : MODE_RETURN, i % 2 == 1, -1 });
  limits_assert_exactly_once (&l);
  g_assert_cmpuint (l.outcomes[OUTCOME_FAILED], ==, 9);
  most = assert_rate_windows (&l, -1, limit, interval_ms * 1000, origin);
  g_test_message ("at most %u starts in a window", most);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  limits_clear (&l);
}

static void
test_rate_per_key_window (void)
{
  const guint n_per_key = 15;
  const guint limit = 5;
  const guint interval_ms = 30;
  g_autofree char *group = g_strdup_printf ("kind=fixed-fair\nsize=1\ngates=rate\n"
                                            "rate-per-key=true\nrate-limit=%u\n"
                                            "rate-interval-ms=%u\n", limit, interval_ms);
  g_autoptr(TpPool) pool = limits_pool_new (group);
  const int keys[] = { 0, 1, 2, KEYLESS };
  gint64 origin;
  Limits l;

  g_test_summary ("rate-per-key = true, 5 per 30 ms, in a pool of one: each key, and the jobs "
                  "without a key together, never start more than 5 in any 30 ms window");
  limits_init (&l, pool, 0, n_per_key * G_N_ELEMENTS (keys));

  tp_pool_hold (pool);
  for (guint i = 0; i < n_per_key; i++)
    for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
      limits_submit (&l, &(Job) { NULL, keys[k], MODE_RETURN, i % 2, -1 });
  origin = g_get_monotonic_time ();
  tp_pool_unhold (pool);
  limits_assert_exactly_once (&l);
  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    assert_rate_windows (&l, keys[k], limit, interval_ms * 1000, origin);
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  limits_clear (&l);
}

static void
test_rate_per_key_head_of_line (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *group = g_strdup_printf ("kind=fixed-simple\nsize=8\ngates=rate\n"
                                            "rate-per-key=true\nrate-limit=2\n"
                                            "rate-interval-ms=%u\n", HOUR_MS);
  g_autoptr(TpPool) pool = limits_pool_new (group);
  gboolean closed = FALSE;
  Record *b;
  Limits l;

  g_test_summary ("With rate-per-key, a key whose window is full is held alone: key B's job "
                  "submitted behind it starts at once; the held jobs are waiting, show "
                  "held, can be cancelled, time out, and are discarded by a close");
  limits_init (&l, pool, 0, 8);

  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *name = g_strdup_printf ("a%u", i);

      limits_submit (&l, &(Job) { name, 0, MODE_RETURN, FALSE, -1, name,
                                  .queue_timeout_ms = i == 4 ? 1 : 0,
                                  .cancellable = i == 3 ? cancellable : NULL });
    }
  b = limits_submit (&l, &(Job) { "b", 1, MODE_RETURN, FALSE, -1, "b" });
  limits_wait_started (&l, 3);
  g_assert_cmpint (b->ran, ==, 1);
  /* a0, a1, b, and a4's queue timeout */
  tp_test_wait_count (&l.callbacks, 4);
  g_assert_cmpint (l.records[4].outcome, ==, OUTCOME_TIMED_OUT);
  g_assert_cmpint (b->outcome, ==, OUTCOME_DONE);
  drain_pending ();
  g_assert_cmpuint (l.started, ==, 3);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 3);
  g_assert_cmpint (job_state (pool, "a2"), ==, TP_JOB_STATE_HELD);
  g_assert_cmpint (job_state (pool, "a5"), ==, TP_JOB_STATE_HELD);

  g_cancellable_cancel (cancellable);
  tp_test_wait_count (&l.callbacks, 5);
  g_assert_cmpint (l.records[3].outcome, ==, OUTCOME_CANCELLED);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 2);

  /* A keyless job has a window of its own */
  limits_submit (&l, &(Job) { "none", KEYLESS, MODE_RETURN, TRUE, -1 });
  tp_test_wait_count (&l.callbacks, 6);
  g_assert_cmpint (l.records[7].outcome, ==, OUTCOME_DONE);

  tp_pool_close_async (pool, TP_CLOSE_DISCARD_QUEUED, NULL, close_done_cb, &closed);
  tp_test_wait_flag (&closed);
  limits_assert_exactly_once (&l);
  g_assert_cmpuint (l.outcomes[OUTCOME_CLOSED], ==, 2);
  g_assert_cmpuint (l.outcomes[OUTCOME_DONE], ==, 4);
  limits_clear (&l);
}

static void
test_rate_pool_wide_waiting (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *group = g_strdup_printf ("kind=fixed-fair\nsize=8\ngates=rate\n"
                                            "rate-limit=2\nrate-interval-ms=%u\n", HOUR_MS);
  g_autoptr(TpPool) pool = limits_pool_new (group);
  gboolean closed = FALSE;
  Limits l;

  g_test_summary ("The pool-wide rate gate keeps jobs of every key waiting in the queue "
                  "(state queued: they wait for the pool, not for their key); they count "
                  "in waiting, can be cancelled, time out, and are discarded by a close");
  limits_init (&l, pool, 0, 6);

  limits_submit (&l, &(Job) { "a0", 0, MODE_RETURN, FALSE, -1 });
  limits_submit (&l, &(Job) { "b0", 1, MODE_RETURN, FALSE, -1 });
  limits_submit (&l, &(Job) { "c0", 2, MODE_RETURN, FALSE, -1, "c0" });
  limits_submit (&l, &(Job) { "d0", 3, MODE_RETURN, FALSE, -1, .cancellable = cancellable });
  limits_submit (&l, &(Job) { "e0", 4, MODE_RETURN, FALSE, -1, .queue_timeout_ms = 1 });
  limits_submit (&l, &(Job) { "none", KEYLESS, MODE_RETURN, FALSE, -1 });
  tp_test_wait_count (&l.callbacks, 3);
  g_assert_cmpuint (l.started, ==, 2);
  g_assert_cmpint (l.records[4].outcome, ==, OUTCOME_TIMED_OUT);
  drain_pending ();
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 3);
  g_assert_cmpint (job_state (pool, "c0"), ==, TP_JOB_STATE_QUEUED);
  g_cancellable_cancel (cancellable);
  tp_test_wait_count (&l.callbacks, 4);
  g_assert_cmpint (l.records[3].outcome, ==, OUTCOME_CANCELLED);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 2);

  tp_pool_close_async (pool, TP_CLOSE_DISCARD_QUEUED, NULL, close_done_cb, &closed);
  tp_test_wait_flag (&closed);
  limits_assert_exactly_once (&l);
  g_assert_cmpuint (l.outcomes[OUTCOME_CLOSED], ==, 2);
  g_assert_cmpuint (l.outcomes[OUTCOME_DONE], ==, 2);
  limits_clear (&l);
}

static void
size_seen_cb (TpPool     *pool,
              GParamSpec *pspec,
              guint      *largest)
{
  *largest = MAX (*largest, tp_pool_get_size (pool));
}

static void
test_rate_pool_wide_autoscale (void)
{
  g_autofree char *group = g_strdup_printf ("kind=autoscale-simple\nmin-size=1\nmax-size=8\n"
                                            "idle-timeout-ms=0\nscale-interval-ms=1\n"
                                            "gates=rate\nrate-limit=2\nrate-interval-ms=%u\n",
                                            HOUR_MS);
  g_autoptr(TpPool) pool = limits_pool_new (group);
  TpTestLog log;
  guint largest = tp_pool_get_size (pool);

  g_test_summary ("An autoscale pool whose rate gate holds every job does not grow for jobs "
                  "no worker could start, and its idle workers retire while the jobs wait");
  tp_test_log_init (&log);
  g_signal_connect (pool, "notify::size", G_CALLBACK (size_seen_cb), &largest);

  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *name = g_strdup_printf ("j%u", i);

      tp_test_submit (pool, &log, name, TP_TEST_JOB_RETURN, 0, 0, NULL);
    }
  size_seen_cb (pool, NULL, &largest);
  /* Two jobs start; the pool may grow once more before the gate refuses the
   * third, and never for the three behind it */
  g_assert_cmpuint (largest, <=, 3);
  tp_test_wait_count (&log.callbacks, 2);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 4);

  /* Nothing runs, nothing can start: the pool shrinks to min-size */
  while (tp_pool_get_size (pool) > 1)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 0);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 4);
  g_assert_cmpuint (largest, <=, 3);

  tp_test_pool_close (pool, TP_CLOSE_DISCARD_QUEUED);
  g_assert_cmpuint (log.callbacks, ==, 6);
  g_assert_cmpuint (log.closed, ==, 4);
  tp_test_log_clear (&log);
}

static void
test_rate_and_per_key (gconstpointer data)
{
  const char *gates = data;
  const guint n_jobs = 80;
  const guint interval_ms = 30;
  g_autofree char *group = g_strdup_printf ("kind=fixed-fair\nsize=8\ngates=%s\n"
                                            "per-key-limit=1\nrate-limit=4\n"
                                            "rate-per-key=true\nrate-interval-ms=%u\n",
                                            gates, interval_ms);
  g_autoptr(TpPool) pool = limits_pool_new (group);
  g_autoptr(GRand) rand = g_rand_new_with_seed (RANDOM_SEED);
  gint64 origin;
  Limits l;

  g_test_summary ("Both gates in either order: per-key-limit = 1 and at most 4 starts per "
                  "key in any 30 ms window, over four keys of async and thread jobs that "
                  "sleep a little; both hold at every start, and every job runs once");
  limits_init (&l, pool, 1, n_jobs);

  origin = g_get_monotonic_time ();
  for (guint i = 0; i < n_jobs; i++)
    limits_submit (&l, &(Job) { NULL, g_rand_int_range (rand, 0, 4), MODE_SLEEP,
                                g_rand_boolean (rand), -1,
                                .sleep_us = g_rand_int_range (rand, 0, 3) * 1000 });
  limits_assert_exactly_once (&l);
  g_assert_cmpuint (l.outcomes[OUTCOME_DONE], ==, n_jobs);
  for (int k = 0; k < 4; k++)
    {
      g_assert_cmpuint (l.peak[k], ==, 1);
      /* per-key-limit = 1 runs each key's jobs one at a time */
      assert_rate_windows (&l, k, 4, interval_ms * 1000, origin);
    }
  tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  limits_clear (&l);
}

/* }}} */

/* Several producer threads {{{ */

#define N_PRODUCERS      4
#define JOBS_PER_PRODUCER 600

typedef struct {
  Limits   *limits;
  guint     index;
  guint     submitted;
  GThread  *thread;
} Producer;

static guint producers_done;

static gpointer
producer_thread (gpointer data)
{
  Producer *producer = data;
  Limits *l = producer->limits;
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (RANDOM_SEED + producer->index);
  g_autoptr(GPtrArray) mine = g_ptr_array_new ();
  g_autoptr(GPtrArray) cancellables = g_ptr_array_new_with_free_func (g_object_unref);

  g_main_context_push_thread_default (context);
  for (guint i = 0; i < JOBS_PER_PRODUCER; i++)
    {
      static const Mode modes[] = { MODE_RETURN, MODE_RETURN, MODE_SLEEP, MODE_FAIL, MODE_DROP };
      int key = g_rand_int_range (rand, 0, 9);
      guint chance = g_rand_int_range (rand, 0, 100);
      GCancellable *cancellable = chance < 15 ? g_cancellable_new () : NULL;
      Job job = {
        .key = key == 8 ? KEYLESS : key,
        .mode = modes[g_rand_int_range (rand, 0, G_N_ELEMENTS (modes))],
        .in_thread = g_rand_boolean (rand),
        .weight = g_rand_int_range (rand, 0, 8),
        .label = chance >= 90 ? "labelled" : NULL,
        .queue_timeout_ms = chance >= 15 && chance < 25 ? g_rand_int_range (rand, 1, 4) : 0,
        .sleep_us = g_rand_int_range (rand, 0, 500),
        .cancellable = cancellable,
      };

      if (job.mode == MODE_SLEEP && !job.in_thread)
        job.sleep_us = 1000;
      g_ptr_array_add (mine, limits_submit (l, &job));
      if (cancellable != NULL)
        g_ptr_array_add (cancellables, cancellable);
      /* Cancel an earlier one: queued, held, running or done */
      if (cancellables->len > 0 && g_rand_int_range (rand, 0, 4) == 0)
        g_cancellable_cancel (cancellables->pdata[g_rand_int_range (rand, 0, cancellables->len)]);
      if (i % 50 == 0)
        g_main_context_iteration (context, FALSE);
    }
  producer->submitted = mine->len;

  /* The callbacks come in this thread's context */
  for (;;)
    {
      guint called = 0;

      for (guint i = 0; i < mine->len; i++)
        called += g_atomic_int_get (&((Record *) mine->pdata[i])->callbacks) > 0;
      if (called == mine->len)
        break;
      g_main_context_iteration (context, TRUE);
    }
  g_main_context_pop_thread_default (context);
  g_atomic_int_inc (&producers_done);
  g_main_context_wakeup (g_main_context_default ());
  return NULL;
}

static void
test_threads (gconstpointer data)
{
  TpCloseFlags close_flags = GPOINTER_TO_UINT (data);
  g_autoptr(TpPool) pool = limits_pool_new ("kind=autoscale-fair\nmin-size=2\nmax-size=6\n"
                                            "gates=rate;per-key\nper-key-limit=2\n"
                                            "rate-limit=50\nrate-interval-ms=5\n"
                                            "rate-per-key=true\n");
  Producer producers[N_PRODUCERS];
  gboolean closed = FALSE;
  Limits l;

  g_test_summary ("Four producer threads submit async and thread jobs of eight keys and "
                  "none through rate and per-key — results, errors, dropped tasks, cancels "
                  "while queued, held or running, queue timeouts, holds of the whole pool — "
                  "and the pool is closed while they do: every job is called back once, "
                  "in its thread, and destroyed once, and per-key-limit holds throughout");
  limits_init (&l, pool, 2, N_PRODUCERS * JOBS_PER_PRODUCER);
  g_atomic_int_set (&producers_done, 0);

  for (guint i = 0; i < N_PRODUCERS; i++)
    {
      producers[i] = (Producer) { &l, i, 0, NULL };
      producers[i].thread = g_thread_new ("producer", producer_thread, &producers[i]);
    }

  /* Hold and unhold the whole pool a few times while they submit */
  for (guint i = 0; i < 6; i++)
    {
      tp_test_wait_count (&l.n_submitted, (i + 1) * N_PRODUCERS * JOBS_PER_PRODUCER / 8);
      if (i % 2 == 0)
        tp_pool_hold (pool);
      else
        tp_pool_unhold (pool);
    }
  tp_pool_close_async (pool, close_flags, NULL, close_done_cb, &closed);
  tp_test_wait_count (&producers_done, N_PRODUCERS);
  tp_test_wait_flag (&closed);
  for (guint i = 0; i < N_PRODUCERS; i++)
    g_thread_join (producers[i].thread);

  limits_assert_exactly_once (&l);
  g_test_message ("done %u, failed %u, lost %u, cancelled %u, timed out %u, closed %u, "
                  "not accepting %u", l.outcomes[OUTCOME_DONE], l.outcomes[OUTCOME_FAILED],
                  l.outcomes[OUTCOME_LOST], l.outcomes[OUTCOME_CANCELLED],
                  l.outcomes[OUTCOME_TIMED_OUT], l.outcomes[OUTCOME_CLOSED],
                  l.outcomes[OUTCOME_NOT_ACCEPTING]);
  g_assert_cmpuint (l.outcomes[OUTCOME_DONE], >, 0);
  for (guint k = 0; k < 8; k++)
    g_assert_cmpuint (l.peak[k], <=, 2);
  g_assert_cmpuint (tp_pool_get_n_submitted (pool), ==, l.n_submitted);
  g_assert_cmpuint (tp_pool_get_n_succeeded (pool) + tp_pool_get_n_failed (pool) +
                    tp_pool_get_n_cancelled (pool) + tp_pool_get_n_timed_out (pool), ==,
                    l.n_submitted);
  /* A job that returned a value, cancelled before its callback ran, is
   * delivered as cancelled (GTask's check-cancellable) but counted a success */
  g_assert_cmpuint (tp_pool_get_n_succeeded (pool), >=, l.outcomes[OUTCOME_DONE]);
  g_assert_cmpuint (tp_pool_get_running (pool), ==, 0);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 0);
  limits_clear (&l);
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (all_kinds); i++)
    {
      g_autofree char *bound = g_strdup_printf ("/limits/per-key/bound/%s", all_kinds[i]);
      g_autofree char *threads = g_strdup_printf ("/limits/per-key/threads/%s", all_kinds[i]);

      g_test_add_data_func (bound, all_kinds[i], test_per_key_bound);
      g_test_add_data_func (threads, all_kinds[i], test_per_key_threads);
    }
  g_test_add_func ("/limits/per-key/keyless", test_per_key_keyless);
  for (guint i = 0; i < G_N_ELEMENTS (hol_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/limits/per-key/head-of-line/%s%s",
                                               hol_cases[i].kind,
                                               hol_cases[i].held ? "/unheld" : "/running");

      g_test_add_data_func (path, &hol_cases[i], test_per_key_head_of_line);
    }
  for (guint i = 0; i < G_N_ELEMENTS (order_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/limits/per-key/queue-order/%s",
                                               order_cases[i].kind);

      g_test_add_data_func (path, &order_cases[i], test_per_key_queue_order);
    }
  g_test_add_func ("/limits/per-key/queue-order/priority-weights", test_per_key_priority_order);

  g_test_add_func ("/limits/held/waiting", test_held_waiting);
  g_test_add_func ("/limits/held/cancel", test_held_cancel);
  g_test_add_func ("/limits/held/queue-timeout", test_held_queue_timeout);
  g_test_add_func ("/limits/held/close-discard", test_held_close_discard);
  g_test_add_func ("/limits/held/close-drain", test_held_close_drain);
  g_test_add_func ("/limits/held/wait-idle", test_held_wait_idle);
  g_test_add_func ("/limits/held/reoffered-cancelled", test_held_reoffered_cancelled);
  g_test_add_func ("/limits/held/moved-cancelled", test_held_moved_cancelled);

  for (guint i = 0; i < G_N_ELEMENTS (rate_kinds); i++)
    {
      g_autofree char *path = g_strdup_printf ("/limits/rate/window/%s", rate_kinds[i]);

      g_test_add_data_func (path, rate_kinds[i], test_rate_window);
    }
  g_test_add_func ("/limits/rate/per-key/window", test_rate_per_key_window);
  g_test_add_func ("/limits/rate/per-key/head-of-line", test_rate_per_key_head_of_line);
  g_test_add_func ("/limits/rate/pool-wide/waiting", test_rate_pool_wide_waiting);
  g_test_add_func ("/limits/rate/pool-wide/autoscale", test_rate_pool_wide_autoscale);
  g_test_add_data_func ("/limits/rate-per-key/rate-first", "rate;per-key", test_rate_and_per_key);
  g_test_add_data_func ("/limits/rate-per-key/per-key-first", "per-key;rate",
                        test_rate_and_per_key);

  g_test_add_data_func ("/limits/threads/drain", GUINT_TO_POINTER (TP_CLOSE_DRAIN),
                        test_threads);
  g_test_add_data_func ("/limits/threads/discard", GUINT_TO_POINTER (TP_CLOSE_DISCARD_QUEUED),
                        test_threads);
  g_test_add_data_func ("/limits/threads/cancel-running",
                        GUINT_TO_POINTER (TP_CLOSE_CANCEL_RUNNING), test_threads);

  return g_test_run ();
}

/* redis-holder.c: one process sharing a redis limit, for the redis tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Makes a TpPool from a keyfile group (kind fixed-simple, size --workers,
 * gates = redis and the redis-* keys from the options), submits --jobs jobs
 * to it and reports on its output, one line each: `start <id> <running>`,
 * `end <id> <running>`, `fail <id> <domain> <code> <message>`, and at the
 * end, once the pool is closed and freed, `finished <ran> <failed>
 * <destroyed>`. A job whose callback or job_data_destroy ran other than once
 * is reported as `once <id> <callbacks> <destroys>`, and makes the exit
 * status 1.
 *
 * The jobs themselves count on a witness server (--witness, a socket) how
 * many run at once across all processes: in <prefix>:running, the most ever
 * in <prefix>:max, and they list their starts (name and the server's time,
 * µs) in <prefix>:starts and their ends in <prefix>:done.
 */

#include <stdio.h>

#include <hiredis/hiredis.h>
#include <taskpool/taskpool.h>

static const char witness_start_script[] =
  "local n = redis.call ('INCR', KEYS[1])\n"
  "if n > tonumber (redis.call ('GET', KEYS[2]) or '0') then redis.call ('SET', KEYS[2], n) end\n"
  "local t = redis.call ('TIME')\n"
  "redis.call ('RPUSH', KEYS[3], ARGV[1] .. ' ' .. t[1] .. string.format ('%06d', t[2]))\n"
  "return n\n";

static const char witness_end_script[] =
  "redis.call ('DECR', KEYS[1])\n"
  "redis.call ('RPUSH', KEYS[2], ARGV[1])\n"
  "return 0\n";

static struct {
  char     *url;
  char     *name;
  char     *unavailable;
  char     *witness;
  char     *prefix;
  char     *tag;
  int       limit;
  int       lease_ms;
  int       jobs;
  int       workers;
  int       job_ms;
  gboolean  threads;
  gboolean  forever;
} opt = { .prefix = (char *) "witness", .tag = (char *) "job", .limit = 5, .lease_ms = 2000,
          .jobs = 10, .workers = 8, .job_ms = 5 };

/* The witness connection, shared by the main context and the pool's threads */
static GMutex witness_lock;
static redisContext *witness;

static GMutex say_lock;
static int in_body;
static guint ran, failed;
static int destroyed;
static guint *callbacks;      /* per job */
static int *destroys;         /* per job, from any thread */
static GPtrArray *forever;    /* the tasks of jobs that never end */

static void G_GNUC_PRINTF (1, 2)
say (const char *format,
     ...)
{
  va_list args;

  g_mutex_lock (&say_lock);
  va_start (args, format);
  vprintf (format, args);
  va_end (args);
  putchar ('\n');
  fflush (stdout);
  g_mutex_unlock (&say_lock);
}

static void
witness_eval (const char *script,
              guint       id,
              const char *key1,
              const char *key2,
              const char *key3)
{
  g_autofree char *k1 = g_strconcat (opt.prefix, key1, NULL);
  g_autofree char *k2 = g_strconcat (opt.prefix, key2, NULL);
  g_autofree char *k3 = key3 != NULL ? g_strconcat (opt.prefix, key3, NULL) : NULL;
  g_autofree char *name = g_strdup_printf ("%s-%u", opt.tag, id);
  redisReply *reply;

  g_mutex_lock (&witness_lock);
  if (witness == NULL)
    {
      witness = redisConnectUnix (opt.witness);
      if (witness == NULL || witness->err != 0)
        g_error ("Cannot reach the witness server %s", opt.witness);
    }
  if (k3 != NULL)
    reply = redisCommand (witness, "EVAL %s 3 %s %s %s %s", script, k1, k2, k3, name);
  else
    reply = redisCommand (witness, "EVAL %s 2 %s %s %s", script, k1, k2, name);
  if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
    g_error ("The witness server failed: %s", reply != NULL ? reply->str : witness->errstr);
  freeReplyObject (reply);
  g_mutex_unlock (&witness_lock);
}

/* A job's data: its number */
typedef struct {
  guint id;
} HolderJob;

static void
holder_job_free (gpointer data)
{
  HolderJob *job = data;

  g_atomic_int_inc (&destroys[job->id]);
  g_atomic_int_inc (&destroyed);
  g_free (job);
  g_main_context_wakeup (NULL);
}

static void
job_end (GTask     *task,
         HolderJob *job)
{
  int running;

  witness_eval (witness_end_script, job->id, ":running", ":done", NULL);
  running = g_atomic_int_add (&in_body, -1) - 1;
  say ("end %u %d", job->id, running);
  g_task_return_pointer (task, GUINT_TO_POINTER (job->id + 1), NULL);
}

static gboolean
job_end_cb (gpointer data)
{
  GTask *task = data;

  job_end (task, g_task_get_task_data (task));
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

static void
job_func (GTask        *task,
          gpointer      pool,
          gpointer      job_data,
          GCancellable *cancellable)
{
  HolderJob *job = job_data;
  int running;

  witness_eval (witness_start_script, job->id, ":running", ":max", ":starts");
  running = g_atomic_int_add (&in_body, 1) + 1;
  say ("start %u %d", job->id, running);

  if (opt.forever)
    {
      /* Until the process is killed; thread jobs are not used with it */
      g_ptr_array_add (forever, g_object_ref (task));
      return;
    }
  if (opt.threads)
    {
      g_usleep ((gulong) opt.job_ms * 1000);
      job_end (task, job);
    }
  else if (opt.job_ms == 0)
    job_end (task, job);
  else
    g_timeout_add (opt.job_ms, job_end_cb, g_object_ref (task));
}

static void
job_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  guint id = GPOINTER_TO_UINT (user_data);
  g_autoptr(GError) error = NULL;
  gpointer value = tp_pool_submit_finish (TP_POOL (source), result, &error);

  callbacks[id]++;
  if (value == NULL)
    {
      failed++;
      say ("fail %u %s %d %s", id, g_quark_to_string (error->domain), error->code,
           error->message);
    }
  else
    {
      if (GPOINTER_TO_UINT (value) != id + 1)
        g_error ("Job %u returned the result of job %u", id, GPOINTER_TO_UINT (value) - 1);
      ran++;
    }
}

static void
pool_finalized (gpointer data)
{
  g_atomic_int_set ((int *) data, TRUE);
  g_main_context_wakeup (NULL);
}

static void
close_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!tp_pool_close_finish (TP_POOL (source), result, &error))
    g_error ("The pool did not close: %s", error->message);
  *(gboolean *) user_data = TRUE;
}

static const GOptionEntry entries[] = {
  { "url", 0, 0, G_OPTION_ARG_STRING, &opt.url, "redis-url", "URL" },
  { "name", 0, 0, G_OPTION_ARG_STRING, &opt.name, "redis-name", "NAME" },
  { "limit", 0, 0, G_OPTION_ARG_INT, &opt.limit, "redis-limit", "N" },
  { "lease-ms", 0, 0, G_OPTION_ARG_INT, &opt.lease_ms, "redis-lease-ms", "MS" },
  { "unavailable", 0, 0, G_OPTION_ARG_STRING, &opt.unavailable, "redis-unavailable", "MODE" },
  { "witness", 0, 0, G_OPTION_ARG_FILENAME, &opt.witness, "The witness server's socket", "PATH" },
  { "prefix", 0, 0, G_OPTION_ARG_STRING, &opt.prefix, "The witness keys' prefix", "TEXT" },
  { "tag", 0, 0, G_OPTION_ARG_STRING, &opt.tag, "The jobs' names' prefix", "TEXT" },
  { "jobs", 0, 0, G_OPTION_ARG_INT, &opt.jobs, "Jobs to run", "N" },
  { "workers", 0, 0, G_OPTION_ARG_INT, &opt.workers, "The pool's size", "N" },
  { "job-ms", 0, 0, G_OPTION_ARG_INT, &opt.job_ms, "How long a job runs", "MS" },
  { "threads", 0, 0, G_OPTION_ARG_NONE, &opt.threads, "Thread jobs", NULL },
  { "forever", 0, 0, G_OPTION_ARG_NONE, &opt.forever, "Jobs never end", NULL },
  { NULL }
};

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = g_option_context_new ("- share a redis limit");
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  TpPool *pool;
  gboolean closed = FALSE;
  int finalized = FALSE;
  guint jobs;
  int status = 0;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      opt.url == NULL || opt.name == NULL || opt.witness == NULL || opt.jobs < 0)
    g_error ("Usage: %s", error != NULL ? error->message : "--url, --name and --witness are "
             "needed");
  jobs = (guint) opt.jobs;

  /* The pool, as an application configures it */
  g_key_file_set_string (keyfile, "holder", "kind", "fixed-simple");
  g_key_file_set_integer (keyfile, "holder", "size", opt.workers);
  g_key_file_set_string (keyfile, "holder", "gates", "redis");
  g_key_file_set_string (keyfile, "holder", "redis-url", opt.url);
  g_key_file_set_string (keyfile, "holder", "redis-name", opt.name);
  g_key_file_set_integer (keyfile, "holder", "redis-limit", opt.limit);
  g_key_file_set_integer (keyfile, "holder", "redis-lease-ms", opt.lease_ms);
  if (opt.unavailable != NULL)
    g_key_file_set_string (keyfile, "holder", "redis-unavailable", opt.unavailable);

  pool = tp_pool_new_from_keyfile (keyfile, "holder", &error);
  if (pool == NULL || !tp_pool_start (pool, &error))
    g_error ("%s", error->message);

  callbacks = g_new0 (guint, MAX (jobs, 1));
  destroys = g_new0 (int, MAX (jobs, 1));
  forever = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < jobs; i++)
    {
      HolderJob *job = g_new0 (HolderJob, 1);

      job->id = i;
      tp_pool_submit_full_async (pool, opt.threads ? TP_SUBMIT_IN_THREAD : TP_SUBMIT_DEFAULT, 0,
                                 job_func, job, holder_job_free, NULL, job_done_cb,
                                 GUINT_TO_POINTER (i));
    }
  while (ran + failed < jobs)
    g_main_context_iteration (NULL, TRUE);

  tp_pool_close_async (pool, TP_CLOSE_DRAIN, NULL, close_cb, &closed);
  while (!closed)
    g_main_context_iteration (NULL, TRUE);
  /* The gate says goodbye to the server as the pool is finalized, which the
   * last reference may do on a thread of the pool's; from there the goodbye
   * may be left to this context */
  g_object_set_qdata_full (G_OBJECT (pool), g_quark_from_static_string ("holder-finalized"),
                           &finalized, pool_finalized);
  g_object_unref (pool);
  while (!g_atomic_int_get (&finalized) || (guint) g_atomic_int_get (&destroyed) < jobs)
    g_main_context_iteration (NULL, TRUE);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  for (guint i = 0; i < jobs; i++)
    {
      if (callbacks[i] != 1 || g_atomic_int_get (&destroys[i]) != 1)
        {
          say ("once %u %u %d", i, callbacks[i], g_atomic_int_get (&destroys[i]));
          status = 1;
        }
    }
  say ("finished %u %u %d", ran, failed, g_atomic_int_get (&destroyed));

  g_ptr_array_unref (forever);
  g_free (callbacks);
  g_free (destroys);
  g_clear_pointer (&witness, redisFree);
  return status;
}

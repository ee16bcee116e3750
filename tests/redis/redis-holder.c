/* redis-holder.c: one process sharing a redis limit, for the redis tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Runs --jobs jobs, --workers at once, through the redis gate, and reports
 * on its output, one line each: `start <id> <running>`, `end <id> <running>`,
 * `fail <id> <domain> <code> <message>`, and at the end `finished <ran>
 * <failed>`. The jobs themselves count on a witness server (--witness, a
 * socket) how many run at once across all processes: in <prefix>:running,
 * the most ever in <prefix>:max, and they list their starts (id and the
 * server's time, µs) in <prefix>:starts and their ends in <prefix>:done.
 */

#include <stdio.h>

#include <hiredis/hiredis.h>

#include "tp-gate-driver.h"

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
  char     *module;
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

static GMutex say_lock;
static int in_body;
static guint ran, failed;
static GMainLoop *loop;
static redisContext *main_witness;
static GPrivate thread_witness = G_PRIVATE_INIT ((GDestroyNotify) redisFree);

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

static redisContext *
witness_connect (void)
{
  redisContext *context = redisConnectUnix (opt.witness);

  if (context == NULL || context->err != 0)
    g_error ("Cannot reach the witness server %s", opt.witness);
  return context;
}

static redisContext *
witness_for (TpDriverJob *job)
{
  redisContext *context;

  if (!opt.threads)
    {
      if (main_witness == NULL)
        main_witness = witness_connect ();
      return main_witness;
    }
  context = g_private_get (&thread_witness);
  if (context == NULL)
    {
      context = witness_connect ();
      g_private_set (&thread_witness, context);
    }
  return context;
}

static void
witness_eval (redisContext *context,
              const char   *script,
              guint         id,
              const char   *key1,
              const char   *key2,
              const char   *key3)
{
  g_autofree char *k1 = g_strconcat (opt.prefix, key1, NULL);
  g_autofree char *k2 = g_strconcat (opt.prefix, key2, NULL);
  g_autofree char *k3 = key3 != NULL ? g_strconcat (opt.prefix, key3, NULL) : NULL;
  g_autofree char *name = g_strdup_printf ("%s-%u", opt.tag, id);
  redisReply *reply;

  if (k3 != NULL)
    reply = redisCommand (context, "EVAL %s 3 %s %s %s %s", script, k1, k2, k3, name);
  else
    reply = redisCommand (context, "EVAL %s 2 %s %s %s", script, k1, k2, name);
  if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
    g_error ("The witness server failed: %s", reply != NULL ? reply->str : context->errstr);
  freeReplyObject (reply);
}

static void
job_end (TpDriverJob *job)
{
  guint id = tp_driver_job_get_id (job);
  int running;

  witness_eval (witness_for (job), witness_end_script, id, ":running", ":done", NULL);
  running = g_atomic_int_add (&in_body, -1) - 1;
  say ("end %u %d", id, running);
  tp_driver_job_done (job);
}

static gboolean
job_end_cb (gpointer data)
{
  job_end (data);
  return G_SOURCE_REMOVE;
}

static void
job_run (TpDriverJob *job,
         gpointer     data)
{
  guint id = tp_driver_job_get_id (job);
  int running;

  witness_eval (witness_for (job), witness_start_script, id, ":running", ":max", ":starts");
  running = g_atomic_int_add (&in_body, 1) + 1;
  say ("start %u %d", id, running);

  if (opt.forever)
    return;
  if (opt.threads)
    {
      g_usleep ((gulong) opt.job_ms * 1000);
      job_end (job);
    }
  else if (opt.job_ms == 0)
    job_end (job);
  else
    g_timeout_add (opt.job_ms, job_end_cb, job);
}

static void
job_finish (TpDriverJob  *job,
            const GError *error,
            gpointer      data)
{
  if (error != NULL)
    {
      failed++;
      say ("fail %u %s %d %s", tp_driver_job_get_id (job), g_quark_to_string (error->domain),
           error->code, error->message);
    }
  else
    ran++;
  if (ran + failed == (guint) opt.jobs)
    g_main_loop_quit (loop);
}

static const GOptionEntry entries[] = {
  { "module", 0, 0, G_OPTION_ARG_FILENAME, &opt.module, "The gate-redis module", "PATH" },
  { "url", 0, 0, G_OPTION_ARG_STRING, &opt.url, "redis-url", "URL" },
  { "name", 0, 0, G_OPTION_ARG_STRING, &opt.name, "redis-name", "NAME" },
  { "limit", 0, 0, G_OPTION_ARG_INT, &opt.limit, "redis-limit", "N" },
  { "lease-ms", 0, 0, G_OPTION_ARG_INT, &opt.lease_ms, "redis-lease-ms", "MS" },
  { "unavailable", 0, 0, G_OPTION_ARG_STRING, &opt.unavailable, "redis-unavailable", "MODE" },
  { "witness", 0, 0, G_OPTION_ARG_FILENAME, &opt.witness, "The witness server's socket", "PATH" },
  { "prefix", 0, 0, G_OPTION_ARG_STRING, &opt.prefix, "The witness keys' prefix", "TEXT" },
  { "tag", 0, 0, G_OPTION_ARG_STRING, &opt.tag, "The jobs' names' prefix", "TEXT" },
  { "jobs", 0, 0, G_OPTION_ARG_INT, &opt.jobs, "Jobs to run", "N" },
  { "workers", 0, 0, G_OPTION_ARG_INT, &opt.workers, "Jobs at once in this process", "N" },
  { "job-ms", 0, 0, G_OPTION_ARG_INT, &opt.job_ms, "How long a job runs", "MS" },
  { "threads", 0, 0, G_OPTION_ARG_NONE, &opt.threads, "Run the jobs on threads", NULL },
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
  const TpGateStrategy *strategy;
  TpGateDriver *driver;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      opt.module == NULL || opt.url == NULL || opt.name == NULL || opt.witness == NULL)
    g_error ("Usage: %s", error != NULL ? error->message : "--module, --url, --name and "
             "--witness are needed");

  g_key_file_set_string (keyfile, "holder", "redis-url", opt.url);
  g_key_file_set_string (keyfile, "holder", "redis-name", opt.name);
  g_key_file_set_integer (keyfile, "holder", "redis-limit", opt.limit);
  g_key_file_set_integer (keyfile, "holder", "redis-lease-ms", opt.lease_ms);
  if (opt.unavailable != NULL)
    g_key_file_set_string (keyfile, "holder", "redis-unavailable", opt.unavailable);

  strategy = tp_gate_driver_load_strategy (opt.module, "redis", &error);
  if (strategy == NULL)
    g_error ("%s", error->message);

  loop = g_main_loop_new (NULL, FALSE);
  driver = tp_gate_driver_new (strategy, keyfile, "holder", (guint) opt.workers,
                               job_run, job_finish, NULL, &error);
  if (driver == NULL)
    g_error ("%s", error->message);

  for (int i = 0; i < opt.jobs; i++)
    tp_gate_driver_submit (driver, (guint) i, opt.threads);
  if (opt.jobs > 0)
    g_main_loop_run (loop);

  tp_gate_driver_free (driver);
  g_main_loop_unref (loop);
  g_clear_pointer (&main_witness, redisFree);
  say ("finished %u %u", ran, failed);
  return 0;
}

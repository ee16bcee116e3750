/* test-redis.c: the redis gate against a real redis-server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test starts its own server on a Unix socket in a temporary folder.
 * Holders in other processes (redis-holder) share one limit; their jobs
 * count on a witness server how many of them run at once, so the limit is
 * checked where it is shared, not by the gate that keeps it. The gate is
 * driven as a pool drives gates (tp-gate-driver.c).
 */

#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "gate-redis-private.h"
#include "tp-gate-driver.h"
#include "tp-gate-private.h"
#include "tp-redis-test-util.h"

/* Holders: processes sharing a limit {{{ */

typedef struct {
  GSubprocess      *process;
  GDataInputStream *out;
  guint             starts;
  guint             ends;
  guint             fails;
  guint             running;
  guint             peak;
  guint             ran;
  guint             failed;
  gboolean          finished;
  gboolean          eof;
  gboolean          exited;
  GPtrArray        *failures;  /* the gate's messages */
} Holder;

static void holder_read (Holder *holder);

static void
holder_parse (Holder     *holder,
              const char *line)
{
  guint id, running, ran, failed;

  if (sscanf (line, "start %u %u", &id, &running) == 2)
    {
      holder->starts++;
      holder->running = running;
      holder->peak = MAX (holder->peak, running);
    }
  else if (sscanf (line, "end %u %u", &id, &running) == 2)
    {
      holder->ends++;
      holder->running = running;
    }
  else if (g_str_has_prefix (line, "fail "))
    {
      holder->fails++;
      g_ptr_array_add (holder->failures, g_strdup (line));
    }
  else if (sscanf (line, "finished %u %u", &ran, &failed) == 2)
    {
      holder->finished = TRUE;
      holder->ran = ran;
      holder->failed = failed;
    }
  else
    g_test_message ("holder: %s", line);
}

static void
holder_line_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      data)
{
  Holder *holder = data;
  g_autofree char *line = NULL;

  line = g_data_input_stream_read_line_finish_utf8 (holder->out, result, NULL, NULL);
  if (line == NULL)
    {
      holder->eof = TRUE;
      return;
    }
  holder_parse (holder, line);
  holder_read (holder);
}

static void
holder_read (Holder *holder)
{
  g_data_input_stream_read_line_async (holder->out, G_PRIORITY_DEFAULT, NULL,
                                       holder_line_cb, holder);
}

static void
holder_exited_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      data)
{
  Holder *holder = data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  holder->exited = TRUE;
}

/* Runs redis-holder with the module and @url, then @first_arg… */
static Holder *
holder_spawn (const char *url,
              const char *witness,
              const char *first_arg,
              ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  Holder *holder = g_new0 (Holder, 1);
  const char *arg;
  va_list args;

  g_ptr_array_add (argv, (gpointer) TP_REDIS_HOLDER);
  g_ptr_array_add (argv, (gpointer) "--module=" TP_GATE_REDIS_MODULE);
  g_ptr_array_add (argv, (gpointer) "--url");
  g_ptr_array_add (argv, (gpointer) url);
  g_ptr_array_add (argv, (gpointer) "--witness");
  g_ptr_array_add (argv, (gpointer) witness);
  va_start (args, first_arg);
  for (arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  holder->failures = g_ptr_array_new_with_free_func (g_free);
  holder->process = tp_redis_spawnv ((const char * const *) argv->pdata,
                                     G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  holder->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (holder->process));
  holder_read (holder);
  g_subprocess_wait_async (holder->process, NULL, holder_exited_cb, holder);
  return holder;
}

static void
holder_wait (Holder *holder)
{
  while (!holder->exited || !holder->eof)
    g_main_context_iteration (NULL, TRUE);
}

/* Waits for a normal exit after all of @jobs ran */
static void
holder_wait_success (Holder *holder,
                     guint   jobs)
{
  holder_wait (holder);
  g_assert_true (g_subprocess_get_if_exited (holder->process));
  g_assert_cmpint (g_subprocess_get_exit_status (holder->process), ==, 0);
  g_assert_true (holder->finished);
  g_assert_cmpuint (holder->fails, ==, 0);
  g_assert_cmpuint (holder->ran, ==, jobs);
  g_assert_cmpuint (holder->starts, ==, jobs);
  g_assert_cmpuint (holder->ends, ==, jobs);
}

static void
holder_free (Holder *holder)
{
  if (!holder->exited)
    g_subprocess_force_exit (holder->process);
  holder_wait (holder);
  g_object_unref (holder->out);
  g_object_unref (holder->process);
  g_ptr_array_unref (holder->failures);
  g_free (holder);
}

/* }}} */

/* Checks on the servers {{{ */

/* Every job named <tag>-<i> for i < jobs ended exactly once */
static void
assert_done_once (redisContext       *witness,
                  const char         *prefix,
                  const char * const *tags,
                  guint               jobs)
{
  g_auto(GStrv) done = tp_redis_strings (witness, "LRANGE %s:done 0 -1", prefix);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; done[i] != NULL; i++)
    {
      if (!g_hash_table_add (seen, done[i]))
        g_error ("Job %s ended twice", done[i]);
    }
  for (guint t = 0; tags[t] != NULL; t++)
    for (guint i = 0; i < jobs; i++)
      {
        g_autofree char *name = g_strdup_printf ("%s-%u", tags[t], i);

        if (!g_hash_table_contains (seen, name))
          g_error ("Job %s never ended", name);
      }
  g_assert_cmpuint (g_strv_length (done), ==, g_strv_length ((GStrv) tags) * jobs);
}

/* The limit's keys say that nobody holds or waits for anything */
static void
assert_limit_empty (redisContext *limit,
                    const char   *name)
{
  g_assert_cmpint (tp_redis_integer (limit, "GET taskpool:{%s}:used", name), ==, 0);
  g_assert_cmpint (tp_redis_integer (limit, "ZCARD taskpool:{%s}:leases", name), ==, 0);
  g_assert_cmpint (tp_redis_integer (limit, "LLEN taskpool:{%s}:queue", name), ==, 0);
}

/* Watches a key's list events through redis-cli: SUBSCRIBE blocks a
 * connection, and the test's own context must go on running */
typedef struct {
  GSubprocess      *process;
  GDataInputStream *out;
  guint             subscribed;
  guint             events;
  gboolean          eof;
} KeyWatch;

static void
key_watch_line_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      data)
{
  KeyWatch *watch = data;
  g_autofree char *line = NULL;

  line = g_data_input_stream_read_line_finish_utf8 (watch->out, result, NULL, NULL);
  if (line == NULL)
    {
      watch->eof = TRUE;
      return;
    }
  if (g_str_has_prefix (line, "\"subscribe\""))
    watch->subscribed++;
  else if (g_str_has_prefix (line, "\"message\""))
    watch->events++;
  g_data_input_stream_read_line_async (watch->out, G_PRIORITY_DEFAULT, NULL,
                                       key_watch_line_cb, watch);
}

static KeyWatch *
key_watch_new (TpRedisServer *server,
               const char    *key)
{
  g_autoptr(redisContext) client = tp_redis_connect (server);
  g_autofree char *channel = g_strconcat ("__keyspace@0__:", key, NULL);
  g_autoptr(GError) error = NULL;
  KeyWatch *watch = g_new0 (KeyWatch, 1);
  const char * const argv[] = {
    "redis-cli", "-s", server->socket, "--csv", "SUBSCRIBE", channel, NULL
  };
  redisReply *reply;

  reply = redisCommand (client, "CONFIG SET notify-keyspace-events Kl");
  g_assert_cmpint (reply->type, ==, REDIS_REPLY_STATUS);
  freeReplyObject (reply);

  watch->process = tp_redis_spawnv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  watch->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (watch->process));
  g_data_input_stream_read_line_async (watch->out, G_PRIORITY_DEFAULT, NULL,
                                       key_watch_line_cb, watch);
  while (watch->subscribed == 0)
    {
      g_assert_false (watch->eof);
      g_main_context_iteration (NULL, TRUE);
    }
  return watch;
}

static void
key_watch_free (KeyWatch *watch)
{
  g_subprocess_force_exit (watch->process);
  while (!watch->eof)
    g_main_context_iteration (NULL, TRUE);
  g_subprocess_wait (watch->process, NULL, NULL);
  g_object_unref (watch->out);
  g_object_unref (watch->process);
  g_free (watch);
}

/* }}} */

/* Keys {{{ */

static void
noop_wake (gpointer data)
{
}

static GKeyFile *
keyfile_new (const char *url,
             const char *name,
             guint       limit)
{
  GKeyFile *keyfile = g_key_file_new ();

  g_key_file_set_string (keyfile, "shared", "redis-url", url);
  g_key_file_set_string (keyfile, "shared", "redis-name", name);
  g_key_file_set_integer (keyfile, "shared", "redis-limit", (int) limit);
  return keyfile;
}

static const TpGateStrategy *
load_gate (void)
{
  g_autoptr(GError) error = NULL;
  const TpGateStrategy *strategy;

  strategy = tp_gate_driver_load_strategy (TP_GATE_REDIS_MODULE, "redis", &error);
  g_assert_no_error (error);
  g_assert_nonnull (strategy);
  g_assert_cmpuint (strategy->struct_size, >=, TP_GATE_STRATEGY_SIZE_FIRST);
  return strategy;
}

/* Creates a gate from @keyfile's group "shared" and destroys it */
static gboolean
try_create (GKeyFile  *keyfile,
            GError   **error)
{
  const TpGateStrategy *strategy = load_gate ();
  TpGateHost *host = tp_gate_host_new (g_main_context_default (), "shared", noop_wake, NULL);
  gpointer gate = NULL;
  gboolean created;

  created = strategy->create (keyfile, keyfile != NULL ? "shared" : NULL, host, &gate, error);
  if (created)
    strategy->destroy (gate);
  tp_gate_host_free (host);
  return created;
}

static void
test_config_bad_keys (void)
{
  const struct {
    const char *key;
    const char *value;
    const char *expect;  /* besides the key, the group and the value */
  } cases[] = {
    { "redis-limit", "0", "from 1 to 1000000" },
    { "redis-limit", "-3", "from 1 to 1000000" },
    { "redis-limit", "five", "from 1 to 1000000" },
    { "redis-limit", "1000001", "from 1 to 1000000" },
    { "redis-lease-ms", "99", "from 100 to" },
    { "redis-lease-ms", "10s", "from 100 to" },
    { "redis-unavailable", "maybe", "expected hold or fail" },
    { "redis-unavailable", "Hold", "expected hold or fail" },
    { "redis-name", "a b", "ASCII letters" },
    { "redis-name", "{x}", "ASCII letters" },
    { "redis-url", "http://example.org/", "unknown scheme" },
    { "redis-url", "redis:///0", "a host is needed" },
    { "redis-url", "redis://127.0.0.1:0/1", "from 1 to 65535" },
    { "redis-url", "redis://127.0.0.1:65536/1", "expected redis://" },
    { "redis-url", "redis://127.0.0.1/one", "the database “one”" },
    { "redis-url", "redis://127.0.0.1:6379/0?timeout=1", "no query" },
    { "redis-url", "redis://user@127.0.0.1", "needs a password" },
    { "redis-url", "rediss://127.0.0.1", "TLS" },
    { "redis-url", "unix:relative.sock", "absolute" },
    { "redis-url", "unix:/run/redis.sock?dbx=1", "unknown parameter “dbx”" },
    { "redis-url", "unix:/run/redis.sock?user=u", "a user needs a password" },
    { "redis-url", "unix:/run/redis.sock?db=-1", "the database “-1”" },
    { "redis-url", "not a url", "expected redis://" },
  };

  g_test_summary ("Every bad key is an error naming the group, the key, the value and what is "
                  "allowed; a missing name or limit too: the gate is never silently unlimited");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GKeyFile) keyfile = keyfile_new ("unix:/nonexistent/redis.sock", "bad", 5);
      g_autoptr(GError) error = NULL;

      g_key_file_set_value (keyfile, "shared", cases[i].key, cases[i].value);
      g_assert_false (try_create (keyfile, &error));
      g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
      g_test_message ("%s = %s: %s", cases[i].key, cases[i].value, error->message);
      g_assert_nonnull (strstr (error->message, "“shared”"));
      g_assert_nonnull (strstr (error->message, cases[i].key));
      g_assert_nonnull (strstr (error->message, cases[i].value));
      g_assert_nonnull (strstr (error->message, cases[i].expect));
    }

  for (guint i = 0; i < 2; i++)
    {
      const char *key = i == 0 ? "redis-name" : "redis-limit";
      g_autoptr(GKeyFile) keyfile = keyfile_new ("unix:/nonexistent/redis.sock", "bad", 5);
      g_autoptr(GError) error = NULL;

      g_key_file_remove_key (keyfile, "shared", key, NULL);
      g_assert_false (try_create (keyfile, &error));
      g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
      g_assert_nonnull (strstr (error->message, "Missing key"));
      g_assert_nonnull (strstr (error->message, key));
      g_assert_nonnull (strstr (error->message, "“shared”"));
    }

  {
    g_autoptr(GError) error = NULL;

    g_assert_false (try_create (NULL, &error));
    g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
    g_assert_nonnull (strstr (error->message, "redis-limit"));
  }
}

static void
test_config_password_hidden (void)
{
  const char *urls[] = {
    "redis://:s3cret@127.0.0.1/x",
    "unix:/run/redis.sock?password=s3cret&db=x",
  };

  g_test_summary ("A password in a bad redis-url never appears in the error");

  for (guint i = 0; i < G_N_ELEMENTS (urls); i++)
    {
      g_autoptr(GKeyFile) keyfile = keyfile_new (urls[i], "bad", 5);
      g_autoptr(GError) error = NULL;

      g_assert_false (try_create (keyfile, &error));
      g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
      g_test_message ("%s", error->message);
      g_assert_null (strstr (error->message, "s3cret"));
      g_assert_nonnull (strstr (error->message, "***"));
    }
}

static void
test_config_good_urls (void)
{
  const char *urls[] = {
    "unix:/run/redis/redis.sock",
    "unix:///run/redis/redis.sock?db=3",
    "unix:/run/redis/redis.sock?db=1&user=worker&password=p%26ss",
    "redis://127.0.0.1",
    "redis://localhost:6380/2",
    "redis://[::1]:6379/0",
    "redis://:pass@127.0.0.1/1",
    "redis://worker:pass@127.0.0.1:7000",
  };

  g_test_summary ("The documented redis-url forms are accepted; a gate connects only when a "
                  "job needs it, so making one opens nothing");

  for (guint i = 0; i < G_N_ELEMENTS (urls); i++)
    {
      g_autoptr(GKeyFile) keyfile = keyfile_new (urls[i], "good", 5);
      g_autoptr(GError) error = NULL;

      g_key_file_set_string (keyfile, "shared", "redis-unavailable", "fail");
      g_key_file_set_integer (keyfile, "shared", "redis-lease-ms", 100);
      g_assert_true (try_create (keyfile, &error));
      g_assert_no_error (error);
    }
}

/* }}} */

/* Processes sharing a limit {{{ */

static void
test_shared_processes (void)
{
  const char * const tags[] = { "p0", "p1", "p2", "p3", NULL };
  const guint jobs = 40;
  g_autoptr(TpRedisServer) server = NULL;
  g_autoptr(redisContext) client = NULL;
  Holder *holders[4];

  g_test_summary ("Four processes, each running up to 8 jobs at once, share a limit of 5: "
                  "the jobs, counting on the server, are never more than 5 and reach 5; every "
                  "job ends exactly once; nothing is left held on the server");
  if (!tp_redis_server_check ())
    return;

  server = tp_redis_server_new ("limit");
  for (guint i = 0; i < G_N_ELEMENTS (holders); i++)
    holders[i] = holder_spawn (server->url, server->socket, "--name", "shared", "--limit", "5",
                               "--workers", "8", "--jobs", "40", "--job-ms", "4",
                               "--prefix", "w", "--tag", tags[i], NULL);
  for (guint i = 0; i < G_N_ELEMENTS (holders); i++)
    {
      holder_wait_success (holders[i], jobs);
      holder_free (holders[i]);
    }

  client = tp_redis_connect (server);
  g_assert_cmpint (tp_redis_integer (client, "GET w:max"), ==, 5);
  g_assert_cmpint (tp_redis_integer (client, "GET w:running"), ==, 0);
  assert_done_once (client, "w", tags, jobs);
  assert_limit_empty (client, "shared");
}

static void
test_shared_thread_ends (void)
{
  const char * const tags[] = { "t0", "t1", NULL };
  const guint jobs = 30;
  g_autoptr(TpRedisServer) server = NULL;
  g_autoptr(redisContext) client = NULL;
  Holder *holders[2];

  g_test_summary ("Thread jobs end on worker threads, where the gate's ended() runs: two "
                  "processes of 6 threads share a limit of 3, never exceeded");
  if (!tp_redis_server_check ())
    return;

  server = tp_redis_server_new ("limit");
  for (guint i = 0; i < G_N_ELEMENTS (holders); i++)
    holders[i] = holder_spawn (server->url, server->socket, "--name", "threads",
                               "--limit", "3", "--workers", "6", "--jobs", "30",
                               "--job-ms", "3", "--threads", "--prefix", "w",
                               "--tag", tags[i], NULL);
  for (guint i = 0; i < G_N_ELEMENTS (holders); i++)
    {
      holder_wait_success (holders[i], jobs);
      holder_free (holders[i]);
    }

  client = tp_redis_connect (server);
  g_assert_cmpint (tp_redis_integer (client, "GET w:max"), ==, 3);
  g_assert_cmpint (tp_redis_integer (client, "GET w:running"), ==, 0);
  assert_done_once (client, "w", tags, jobs);
  assert_limit_empty (client, "threads");
}

/* The holder that holds @slots of @name */
static char *
find_holder (redisContext *client,
             const char   *name,
             guint         slots)
{
  g_auto(GStrv) fields = tp_redis_strings (client, "HGETALL taskpool:{%s}:held", name);

  for (guint i = 0; fields[i] != NULL && fields[i + 1] != NULL; i += 2)
    {
      if (g_ascii_strtoull (fields[i + 1], NULL, 10) == slots)
        return g_strdup (fields[i]);
    }
  g_error ("No holder of %u slots of %s", slots, name);
  return NULL;
}

/* The server's time of each start listed under @prefix, in µs */
static GArray *
start_times (redisContext *client,
             const char   *prefix)
{
  g_auto(GStrv) starts = tp_redis_strings (client, "LRANGE %s:starts 0 -1", prefix);
  GArray *times = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 0; starts[i] != NULL; i++)
    {
      const char *space = strchr (starts[i], ' ');
      gint64 time;

      g_assert_nonnull (space);
      time = g_ascii_strtoll (space + 1, NULL, 10);
      g_array_append_val (times, time);
    }
  return times;
}

static void
test_lease_sigkill (void)
{
  const guint lease_ms = 600;
  g_autoptr(TpRedisServer) server = NULL;
  g_autoptr(redisContext) client = NULL;
  g_autoptr(GArray) times = NULL;
  g_autofree char *dead = NULL;
  g_autofree char *lease = g_strdup_printf ("%u", lease_ms);
  KeyWatch *queue;
  Holder *killed, *waiter;
  gint64 expiry_us;

  g_test_summary ("A holder killed with SIGKILL while holding the whole limit: a waiting "
                  "process starts nothing before the dead holder's lease ends, and reaches "
                  "the full limit before one more lease has passed");
  if (!tp_redis_server_check ())
    return;

  server = tp_redis_server_new ("limit");
  client = tp_redis_connect (server);

  killed = holder_spawn (server->url, server->socket, "--name", "kill", "--limit", "5",
                         "--lease-ms", lease, "--workers", "5", "--jobs", "5", "--forever",
                         "--prefix", "wa", "--tag", "a", NULL);
  while (killed->running < 5)
    g_main_context_iteration (NULL, TRUE);

  /* The waiter is queued on the server before the holder dies */
  queue = key_watch_new (server, "taskpool:{kill}:queue");
  waiter = holder_spawn (server->url, server->socket, "--name", "kill", "--limit", "5",
                         "--lease-ms", lease, "--workers", "5", "--jobs", "5", "--job-ms", "400",
                         "--prefix", "wb", "--tag", "b", NULL);
  while (queue->events == 0)
    g_main_context_iteration (NULL, TRUE);
  key_watch_free (queue);
  g_assert_cmpuint (waiter->starts, ==, 0);

  dead = find_holder (client, "kill", 5);
  holder_free (killed);  /* SIGKILL */
  expiry_us = tp_redis_integer (client, "ZSCORE taskpool:{kill}:leases %s", dead) * 1000;
  g_assert_cmpint (expiry_us, >, 0);

  while (waiter->peak < 5)
    g_main_context_iteration (NULL, TRUE);
  holder_wait_success (waiter, 5);
  holder_free (waiter);

  /* On the server's clock: after the lease, and before one more */
  times = start_times (client, "wb");
  g_assert_cmpuint (times->len, ==, 5);
  for (guint i = 0; i < times->len; i++)
    {
      g_assert_cmpint (g_array_index (times, gint64, i), >=, expiry_us);
      g_assert_cmpint (g_array_index (times, gint64, i), <, expiry_us + lease_ms * 1000);
    }
  g_assert_cmpint (tp_redis_integer (client, "GET wb:max"), ==, 5);
  assert_limit_empty (client, "kill");
}

static void
test_server_restart (void)
{
  const char * const tags[] = { "r0", "r1", "r2", NULL };
  const guint jobs = 24;
  g_autoptr(TpRedisServer) server = NULL;
  g_autoptr(TpRedisServer) witness = NULL;
  g_autoptr(redisContext) client = NULL;
  Holder *holders[3];
  guint started = 0;

  g_test_summary ("The limit's server is killed and started again, empty, while jobs run: "
                  "their holders register them again, nothing new starts for a lease, no job "
                  "is lost or run twice, and the jobs, counting on another server, never "
                  "exceed the limit");
  if (!tp_redis_server_check ())
    return;

  server = tp_redis_server_new ("limit");
  witness = tp_redis_server_new ("witness");
  client = tp_redis_connect (witness);
  for (guint i = 0; i < G_N_ELEMENTS (holders); i++)
    holders[i] = holder_spawn (server->url, witness->socket, "--name", "restart",
                               "--limit", "4", "--lease-ms", "800", "--workers", "6",
                               "--jobs", "24", "--job-ms", "100", "--prefix", "w",
                               "--tag", tags[i], NULL);

  /* A job that just started runs 100 ms: it holds its slot across the restart */
  while (started < 25)
    {
      g_main_context_iteration (NULL, TRUE);
      started = holders[0]->starts + holders[1]->starts + holders[2]->starts;
    }
  g_assert_cmpint (tp_redis_integer (client, "GET w:running"), >, 0);
  tp_redis_server_kill (server);
  tp_redis_server_restart (server);
  g_assert_cmpuint (holders[0]->ends + holders[1]->ends + holders[2]->ends, <, 3 * jobs);

  for (guint i = 0; i < G_N_ELEMENTS (holders); i++)
    {
      holder_wait_success (holders[i], jobs);
      holder_free (holders[i]);
    }

  g_assert_cmpint (tp_redis_integer (client, "GET w:max"), <=, 4);
  g_assert_cmpint (tp_redis_integer (client, "GET w:running"), ==, 0);
  assert_done_once (client, "w", tags, jobs);
}

/* }}} */

/* One process: the gate driven here {{{ */

typedef struct {
  guint        ran;
  guint        failed;
  guint        finished;
  GPtrArray   *held;      /* jobs that wait for the test to end them */
  GPtrArray   *errors;
  gboolean     hold_jobs;
} Jobs;

static void
jobs_run (TpDriverJob *job,
          gpointer     data)
{
  Jobs *jobs = data;

  jobs->ran++;
  if (jobs->hold_jobs)
    g_ptr_array_add (jobs->held, job);
  else
    tp_driver_job_done (job);
}

static void
jobs_finish (TpDriverJob  *job,
             const GError *error,
             gpointer      data)
{
  Jobs *jobs = data;

  jobs->finished++;
  if (error != NULL)
    {
      jobs->failed++;
      g_ptr_array_add (jobs->errors, g_error_copy (error));
    }
}

static void
jobs_init (Jobs *jobs)
{
  memset (jobs, 0, sizeof *jobs);
  jobs->held = g_ptr_array_new ();
  jobs->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
}

static void
jobs_clear (Jobs *jobs)
{
  g_assert_cmpuint (jobs->held->len, ==, 0);
  g_ptr_array_unref (jobs->held);
  g_ptr_array_unref (jobs->errors);
}

static void
jobs_wait_finished (TpGateDriver *driver,
                    Jobs         *jobs,
                    guint         count)
{
  while (jobs->finished < count)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (tp_gate_driver_finished (driver), ==, count);
}

static void
test_unavailable_fail (void)
{
  g_autofree char *dir = g_dir_make_tmp ("taskpool-redis-XXXXXX", NULL);
  g_autofree char *url = g_strconcat ("unix:", dir, "/absent.sock", NULL);
  g_autoptr(GKeyFile) keyfile = keyfile_new (url, "down", 3);
  g_autoptr(GError) error = NULL;
  TpGateDriver *driver;
  Jobs jobs;

  g_test_summary ("With redis-unavailable = fail and no server, every job the gate holds "
                  "fails with TP_POOL_ERROR_UNAVAILABLE naming the server, and nothing hangs");

  jobs_init (&jobs);
  g_key_file_set_string (keyfile, "shared", "redis-unavailable", "fail");
  driver = tp_gate_driver_new (load_gate (), keyfile, "shared", 4, jobs_run, jobs_finish,
                               &jobs, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < 10; i++)
    tp_gate_driver_submit (driver, i, FALSE);
  jobs_wait_finished (driver, &jobs, 10);

  g_assert_cmpuint (jobs.ran, ==, 0);
  g_assert_cmpuint (jobs.failed, ==, 10);
  for (guint i = 0; i < jobs.errors->len; i++)
    {
      const GError *job_error = g_ptr_array_index (jobs.errors, i);

      g_assert_error (job_error, TP_POOL_ERROR, TP_POOL_ERROR_UNAVAILABLE);
      g_assert_nonnull (strstr (job_error->message, url));
      g_assert_nonnull (strstr (job_error->message, "“down”"));
      g_assert_nonnull (strstr (job_error->message, "“shared”"));
    }
  g_test_message ("%s", ((GError *) g_ptr_array_index (jobs.errors, 0))->message);

  tp_gate_driver_free (driver);
  jobs_clear (&jobs);
  g_rmdir (dir);
}

static void
test_unavailable_hold (void)
{
  g_autoptr(TpRedisServer) server = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GKeyFile) keyfile = NULL;
  g_autoptr(redisContext) client = NULL;
  TpGateDriver *driver;
  Jobs jobs;

  g_test_summary ("With redis-unavailable = hold, jobs wait while the server is away and all "
                  "run, once each, when it comes back");
  if (!tp_redis_server_check ())
    return;

  server = tp_redis_server_new ("limit");
  tp_redis_server_kill (server);

  jobs_init (&jobs);
  keyfile = keyfile_new (server->url, "late", 2);
  g_key_file_set_integer (keyfile, "shared", "redis-lease-ms", 300);
  driver = tp_gate_driver_new (load_gate (), keyfile, "shared", 4, jobs_run, jobs_finish,
                               &jobs, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 6; i++)
    tp_gate_driver_submit (driver, i, FALSE);

  while (tp_gate_driver_holds (driver) == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (jobs.ran, ==, 0);

  tp_redis_server_restart (server);
  jobs_wait_finished (driver, &jobs, 6);
  g_assert_cmpuint (jobs.ran, ==, 6);
  g_assert_cmpuint (jobs.failed, ==, 0);

  tp_gate_driver_free (driver);
  jobs_clear (&jobs);
  client = tp_redis_connect (server);
  assert_limit_empty (client, "late");
}

static void
test_excess_credits (void)
{
  g_autoptr(TpRedisServer) server = NULL;
  g_autoptr(redisContext) client = NULL;
  g_autoptr(GKeyFile) keyfile = NULL;
  g_autoptr(GError) error = NULL;
  TpGateDriver *full, *first, *second;
  TpDriverJob *gone;
  Jobs f, a, b;

  g_test_summary ("A slot granted to a gate whose job went away goes back to the server and "
                  "to the next waiter, here another pool");
  if (!tp_redis_server_check ())
    return;

  server = tp_redis_server_new ("limit");
  client = tp_redis_connect (server);
  keyfile = keyfile_new (server->url, "excess", 2);
  jobs_init (&f);
  jobs_init (&a);
  jobs_init (&b);
  f.hold_jobs = a.hold_jobs = b.hold_jobs = TRUE;
  full = tp_gate_driver_new (load_gate (), keyfile, "shared", 4, jobs_run, jobs_finish,
                             &f, &error);
  g_assert_no_error (error);
  first = tp_gate_driver_new (load_gate (), keyfile, "shared", 4, jobs_run, jobs_finish,
                              &a, &error);
  g_assert_no_error (error);
  second = tp_gate_driver_new (load_gate (), keyfile, "shared", 4, jobs_run, jobs_finish,
                               &b, &error);
  g_assert_no_error (error);

  /* One pool holds the whole limit; the first waits for a slot, then the second */
  tp_gate_driver_submit (full, 0, FALSE);
  tp_gate_driver_submit (full, 1, FALSE);
  while (f.ran < 2)
    g_main_context_iteration (NULL, TRUE);
  gone = tp_gate_driver_submit (first, 0, FALSE);
  while (tp_redis_integer (client, "LLEN taskpool:{excess}:queue") < 1)
    g_main_context_iteration (NULL, TRUE);
  tp_gate_driver_submit (second, 0, FALSE);
  while (tp_redis_integer (client, "LLEN taskpool:{excess}:queue") < 2)
    g_main_context_iteration (NULL, TRUE);

  /* The first pool's job goes; the slot freed next is granted to it all the same */
  g_assert_true (tp_gate_driver_cancel (first, gone));
  tp_driver_job_done (g_ptr_array_steal_index (f.held, 0));

  while (b.ran < 1)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (a.ran, ==, 0);

  tp_driver_job_done (g_ptr_array_steal_index (f.held, 0));
  tp_driver_job_done (g_ptr_array_steal_index (b.held, 0));
  jobs_wait_finished (full, &f, 2);
  jobs_wait_finished (first, &a, 1);
  jobs_wait_finished (second, &b, 1);
  g_assert_cmpuint (a.failed, ==, 1);

  tp_gate_driver_free (full);
  tp_gate_driver_free (first);
  tp_gate_driver_free (second);
  jobs_clear (&f);
  jobs_clear (&a);
  jobs_clear (&b);
  assert_limit_empty (client, "excess");
}

/* }}} */

/* The server's script, called directly {{{ */

typedef struct {
  char    *epoch;
  gint64   granted;
  gint64   held;
  gint64   wants;
  gint64   quiet_ms;
  gboolean forgot;
} ScriptReply;

/* One holder's call: @held -1 says goodbye */
static ScriptReply
script_call (redisContext *client,
             const char   *name,
             const char   *holder,
             guint         limit,
             int           held,
             guint64       seen,
             guint         wants,
             const char   *known)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  ScriptReply out = { 0 };
  redisReply *reply;

  g_ptr_array_add (argv, g_strdup ("EVAL"));
  g_ptr_array_add (argv, g_strdup (gate_redis_sync_script));
  g_ptr_array_add (argv, g_strdup_printf ("%d", GATE_REDIS_N_KEYS));
  for (guint i = 0; i < GATE_REDIS_N_KEYS; i++)
    g_ptr_array_add (argv, g_strdup_printf ("taskpool:{%s}:%s", name,
                                            gate_redis_key_suffixes[i]));
  g_ptr_array_add (argv, g_strdup (holder));
  g_ptr_array_add (argv, g_strdup_printf ("%u", limit));
  g_ptr_array_add (argv, g_strdup ("60000"));
  g_ptr_array_add (argv, g_strdup_printf ("%d", held));
  g_ptr_array_add (argv, g_strdup_printf ("%" G_GUINT64_FORMAT, seen));
  g_ptr_array_add (argv, g_strdup_printf ("%u", wants));
  g_ptr_array_add (argv, g_strdup (known));
  g_ptr_array_add (argv, g_strdup_printf ("epoch-of-%s", holder));
  g_ptr_array_add (argv, g_strdup_printf ("taskpool:{%s}:grant:", name));

  reply = redisCommandArgv (client, (int) argv->len, (const char **) argv->pdata, NULL);
  g_assert_nonnull (reply);
  if (reply->type == REDIS_REPLY_ERROR)
    g_error ("The script failed: %s", reply->str);
  g_assert_cmpint (reply->type, ==, REDIS_REPLY_ARRAY);
  g_assert_cmpuint (reply->elements, ==, 6);
  out.epoch = g_strdup (reply->element[0]->str);
  out.granted = reply->element[1]->integer;
  out.held = reply->element[2]->integer;
  out.wants = reply->element[3]->integer;
  out.quiet_ms = reply->element[4]->integer;
  out.forgot = reply->element[5]->integer != 0;
  freeReplyObject (reply);
  return out;
}

static void
script_reply_clear (ScriptReply *reply)
{
  g_clear_pointer (&reply->epoch, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ScriptReply, script_reply_clear)

static void
test_script_turns (void)
{
  g_autoptr(TpRedisServer) server = NULL;
  g_autoptr(redisContext) client = NULL;
  g_auto(ScriptReply) a = { 0 }, b = { 0 }, c = { 0 }, b2 = { 0 }, c2 = { 0 };

  g_test_summary ("Freed slots go to the waiters in turn, each up to its share of the limit: "
                  "a waiter that asked for all of it first does not get it all");
  if (!tp_redis_server_check ())
    return;
  server = tp_redis_server_new ("limit");
  client = tp_redis_connect (server);

  a = script_call (client, "turns", "a", 4, 4, 0, 0, "");
  g_assert_cmpint (a.held, ==, 4);
  b = script_call (client, "turns", "b", 4, 0, 0, 4, a.epoch);
  c = script_call (client, "turns", "c", 4, 0, 0, 4, a.epoch);
  g_assert_cmpint (b.granted, ==, 0);
  g_assert_cmpint (b.wants, ==, 4);
  g_assert_cmpint (c.wants, ==, 4);
  g_assert_cmpint (tp_redis_integer (client, "LLEN taskpool:{turns}:queue"), ==, 2);

  /* a leaves its 4 slots: two waiters, a share of 2 each */
  script_reply_clear (&a);
  a = script_call (client, "turns", "a", 4, 0, 0, 0, b.epoch);
  b2 = script_call (client, "turns", "b", 4, 0, 0, 4, b.epoch);
  c2 = script_call (client, "turns", "c", 4, 0, 0, 4, c.epoch);
  g_assert_cmpint (b2.granted, ==, 2);
  g_assert_cmpint (b2.held, ==, 2);
  g_assert_cmpint (b2.wants, ==, 2);
  g_assert_cmpint (c2.granted, ==, 2);
  g_assert_cmpint (c2.held, ==, 2);
  g_assert_cmpint (tp_redis_integer (client, "GET taskpool:{turns}:used"), ==, 4);
}

static void
test_script_repeat (void)
{
  g_autoptr(TpRedisServer) server = NULL;
  g_autoptr(redisContext) client = NULL;
  g_auto(ScriptReply) a = { 0 }, b = { 0 }, again = { 0 };

  g_test_summary ("A holder states what it holds and wants: the same call twice (a reply lost, "
                  "the call sent again) changes nothing; it never waits for more than the "
                  "limit leaves it");
  if (!tp_redis_server_check ())
    return;
  server = tp_redis_server_new ("limit");
  client = tp_redis_connect (server);

  a = script_call (client, "repeat", "a", 3, 2, 0, 0, "");
  b = script_call (client, "repeat", "b", 3, 0, 0, 5, a.epoch);
  g_assert_cmpint (b.granted, ==, 1);
  g_assert_cmpint (b.held, ==, 1);
  g_assert_cmpint (b.wants, ==, 2);  /* 5 asked, 1 granted, 3 is the limit */
  again = script_call (client, "repeat", "b", 3, 0, 0, 5, a.epoch);
  g_assert_cmpint (again.granted, ==, 1);
  g_assert_cmpint (again.held, ==, 1);
  g_assert_cmpint (again.wants, ==, 2);
  g_assert_cmpint (tp_redis_integer (client, "GET taskpool:{repeat}:used"), ==, 3);
  g_assert_cmpint (tp_redis_integer (client, "LLEN taskpool:{repeat}:queue"), ==, 1);
}

static void
test_script_forgotten (void)
{
  g_autoptr(TpRedisServer) server = NULL;
  g_autoptr(redisContext) client = NULL;
  g_auto(ScriptReply) a = { 0 }, b = { 0 };

  g_test_summary ("A holder that knew another epoch finds the server's memory lost: it "
                  "registers its slots again and the server grants nothing for one lease, "
                  "to anyone");
  if (!tp_redis_server_check ())
    return;
  server = tp_redis_server_new ("limit");
  client = tp_redis_connect (server);

  a = script_call (client, "forgotten", "a", 4, 2, 7, 0, "an-older-epoch");
  g_assert_true (a.forgot);
  g_assert_cmpint (a.held, ==, 2);
  g_assert_cmpint (a.granted, ==, 7);
  g_assert_cmpint (a.quiet_ms, >, 0);
  g_assert_cmpint (a.quiet_ms, <=, 60000);

  b = script_call (client, "forgotten", "b", 4, 0, 0, 1, "");
  g_assert_false (b.forgot);
  g_assert_cmpint (b.granted, ==, 0);
  g_assert_cmpint (b.wants, ==, 1);
  g_assert_cmpint (b.quiet_ms, >, 0);
  g_assert_cmpint (tp_redis_integer (client, "GET taskpool:{forgotten}:used"), ==, 2);
}

static void
test_script_goodbye (void)
{
  g_autoptr(TpRedisServer) server = NULL;
  g_autoptr(redisContext) client = NULL;
  g_auto(ScriptReply) a = { 0 }, b = { 0 }, bye = { 0 }, b2 = { 0 };

  g_test_summary ("A holder that leaves gives back all it holds and waits for, grants it had "
                  "not heard of included, and the next waiter gets them in the same call");
  if (!tp_redis_server_check ())
    return;
  server = tp_redis_server_new ("limit");
  client = tp_redis_connect (server);

  a = script_call (client, "bye", "a", 1, 0, 0, 1, "");
  g_assert_cmpint (a.granted, ==, 1);
  b = script_call (client, "bye", "b", 1, 0, 0, 1, a.epoch);
  g_assert_cmpint (b.granted, ==, 0);
  bye = script_call (client, "bye", "a", 1, -1, 0, 0, a.epoch);
  g_assert_cmpint (bye.held, ==, 0);
  g_assert_cmpint (bye.wants, ==, 0);
  b2 = script_call (client, "bye", "b", 1, 0, 0, 1, a.epoch);
  g_assert_cmpint (b2.granted, ==, 1);
  g_assert_cmpint (b2.held, ==, 1);
  g_assert_cmpint (tp_redis_integer (client, "GET taskpool:{bye}:used"), ==, 1);
  g_assert_cmpint (tp_redis_integer (client, "ZCARD taskpool:{bye}:leases"), ==, 1);
}

/* }}} */

/* Servers that want a password, and addresses that lead nowhere {{{ */

static void
test_auth_and_db (void)
{
  g_autoptr(TpRedisServer) server = NULL;
  g_autoptr(redisContext) client = NULL;
  g_autoptr(GKeyFile) good = NULL, bad = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *good_url = NULL, *bad_url = NULL;
  TpGateDriver *driver;
  const GError *job_error;
  Jobs jobs;

  g_test_summary ("A password and a database in redis-url: the gate authenticates on both its "
                  "connections and keeps its keys in that database; a wrong password fails "
                  "jobs with the server's own words");
  if (!tp_redis_server_check ())
    return;
  server = tp_redis_server_new_full ("limit", "--requirepass", "open sesame", NULL);
  client = tp_redis_connect (server);
  freeReplyObject (redisCommand (client, "AUTH %s", "open sesame"));
  freeReplyObject (redisCommand (client, "SELECT 3"));

  good_url = g_strconcat (server->url, "?db=3&password=open%20sesame", NULL);
  good = keyfile_new (good_url, "auth", 2);
  jobs_init (&jobs);
  jobs.hold_jobs = TRUE;
  driver = tp_gate_driver_new (load_gate (), good, "shared", 2, jobs_run, jobs_finish, &jobs,
                               &error);
  g_assert_no_error (error);
  tp_gate_driver_submit (driver, 0, FALSE);
  while (jobs.ran < 1)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (tp_redis_integer (client, "GET taskpool:{auth}:used"), ==, 1);
  tp_driver_job_done (g_ptr_array_steal_index (jobs.held, 0));
  jobs_wait_finished (driver, &jobs, 1);
  tp_gate_driver_free (driver);
  jobs_clear (&jobs);

  bad_url = g_strconcat (server->url, "?password=guess", NULL);
  bad = keyfile_new (bad_url, "auth", 2);
  g_key_file_set_string (bad, "shared", "redis-unavailable", "fail");
  jobs_init (&jobs);
  driver = tp_gate_driver_new (load_gate (), bad, "shared", 2, jobs_run, jobs_finish, &jobs,
                               &error);
  g_assert_no_error (error);
  tp_gate_driver_submit (driver, 0, FALSE);
  jobs_wait_finished (driver, &jobs, 1);
  g_assert_cmpuint (jobs.failed, ==, 1);
  job_error = g_ptr_array_index (jobs.errors, 0);
  g_test_message ("%s", job_error->message);
  g_assert_error (job_error, TP_POOL_ERROR, TP_POOL_ERROR_UNAVAILABLE);
  g_assert_nonnull (strstr (job_error->message, "password"));
  g_assert_null (strstr (job_error->message, "guess"));
  tp_gate_driver_free (driver);
  jobs_clear (&jobs);
}

static void
test_unavailable_nowhere (void)
{
  const char *urls[] = {
    "redis://127.0.0.1:1/0",             /* refused, after an asynchronous connect */
    "redis://no-such-host.invalid/0",    /* resolved by GIO, or past the deadline */
  };

  g_test_summary ("Addresses that lead nowhere over TCP, refused or not resolved: with "
                  "redis-unavailable = fail every job fails, naming the server");

  for (guint i = 0; i < G_N_ELEMENTS (urls); i++)
    {
      g_autoptr(GKeyFile) keyfile = keyfile_new (urls[i], "nowhere", 2);
      g_autoptr(GError) error = NULL;
      TpGateDriver *driver;
      Jobs jobs;

      g_key_file_set_string (keyfile, "shared", "redis-unavailable", "fail");
      g_key_file_set_integer (keyfile, "shared", "redis-lease-ms", 400);
      jobs_init (&jobs);
      driver = tp_gate_driver_new (load_gate (), keyfile, "shared", 2, jobs_run, jobs_finish,
                                   &jobs, &error);
      g_assert_no_error (error);
      for (guint j = 0; j < 3; j++)
        tp_gate_driver_submit (driver, j, FALSE);
      jobs_wait_finished (driver, &jobs, 3);
      g_assert_cmpuint (jobs.ran, ==, 0);
      g_assert_cmpuint (jobs.failed, ==, 3);
      for (guint j = 0; j < jobs.errors->len; j++)
        {
          const GError *job_error = g_ptr_array_index (jobs.errors, j);

          g_assert_error (job_error, TP_POOL_ERROR, TP_POOL_ERROR_UNAVAILABLE);
          g_assert_nonnull (strstr (job_error->message, urls[i]));
        }
      g_test_message ("%s", ((GError *) g_ptr_array_index (jobs.errors, 0))->message);
      tp_gate_driver_free (driver);
      jobs_clear (&jobs);
    }
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/gate/redis/config/bad-keys", test_config_bad_keys);
  g_test_add_func ("/gate/redis/config/password-hidden", test_config_password_hidden);
  g_test_add_func ("/gate/redis/config/good-urls", test_config_good_urls);
  g_test_add_func ("/gate/redis/shared/processes", test_shared_processes);
  g_test_add_func ("/gate/redis/shared/thread-ends", test_shared_thread_ends);
  g_test_add_func ("/gate/redis/lease/sigkill", test_lease_sigkill);
  g_test_add_func ("/gate/redis/server/restart", test_server_restart);
  g_test_add_func ("/gate/redis/unavailable/fail", test_unavailable_fail);
  g_test_add_func ("/gate/redis/unavailable/hold", test_unavailable_hold);
  g_test_add_func ("/gate/redis/excess", test_excess_credits);
  g_test_add_func ("/gate/redis/script/turns", test_script_turns);
  g_test_add_func ("/gate/redis/script/repeat", test_script_repeat);
  g_test_add_func ("/gate/redis/script/forgotten", test_script_forgotten);
  g_test_add_func ("/gate/redis/script/goodbye", test_script_goodbye);
  g_test_add_func ("/gate/redis/auth", test_auth_and_db);
  g_test_add_func ("/gate/redis/unavailable/nowhere", test_unavailable_nowhere);

  return g_test_run ();
}

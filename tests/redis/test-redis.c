/* test-redis.c: the redis gate against a real redis-server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test starts its own server on a Unix socket in a temporary folder.
 * Every pool here is a TpPool made from a keyfile (`gates = redis` and the
 * redis-* keys), in this process or in holder processes (redis-holder) and
 * taskpool-run processes that share one limit; their jobs count on a
 * witness server how many of them run at once, so the limit is checked
 * where it is shared, not by the gate that keeps it. Only the server's
 * script is also called directly, to pin down how it shares out slots.
 */

#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "gate-redis-private.h"
#include "tp-redis-test-util.h"
#include "tp-test-util.h"

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
  guint             destroyed;
  guint             not_once;  /* jobs whose callback or data destroy ran other than once */
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
  guint id, running, ran, failed, destroyed;

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
  else if (sscanf (line, "finished %u %u %u", &ran, &failed, &destroyed) == 3)
    {
      holder->finished = TRUE;
      holder->ran = ran;
      holder->failed = failed;
      holder->destroyed = destroyed;
    }
  else if (g_str_has_prefix (line, "once "))
    {
      holder->not_once++;
      g_test_message ("holder: %s", line);
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

/* Runs redis-holder with @url and @witness, then @first_arg… */
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

/* Waits for a normal exit after all of @jobs ran, each once, and had their
 * data destroyed once */
static void
holder_wait_success (Holder *holder,
                     guint   jobs)
{
  holder_wait (holder);
  g_assert_true (g_subprocess_get_if_exited (holder->process));
  g_assert_cmpint (g_subprocess_get_exit_status (holder->process), ==, 0);
  g_assert_true (holder->finished);
  g_assert_cmpuint (holder->not_once, ==, 0);
  g_assert_cmpuint (holder->fails, ==, 0);
  g_assert_cmpuint (holder->ran, ==, jobs);
  g_assert_cmpuint (holder->destroyed, ==, jobs);
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

/* Watches a key's events through redis-cli: SUBSCRIBE blocks a
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

  reply = redisCommand (client, "CONFIG SET notify-keyspace-events Kglz");
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

static gboolean
flag_set_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* The limit's keys say that nobody holds or waits for anything, once every
 * holder's goodbye is in. Those come through other connections, which the
 * server may serve after this one: the last lease's removal deletes its key,
 * which the test waits for, woken by the server's event. A goodbye that
 * never comes is a failure, not a hang: the test gives up after 30 s */
static void
assert_limit_empty (TpRedisServer *server,
                    redisContext  *limit,
                    const char    *name)
{
  g_autofree char *leases = g_strdup_printf ("taskpool:{%s}:leases", name);
  KeyWatch *watch = key_watch_new (server, leases);
  gboolean given_up = FALSE;
  guint guard = g_timeout_add_seconds (30, flag_set_cb, &given_up);

  while (!given_up && tp_redis_integer (limit, "EXISTS %s", leases) != 0)
    g_main_context_iteration (NULL, TRUE);
  if (!given_up)
    g_source_remove (guard);
  key_watch_free (watch);
  if (given_up)
    {
      g_auto(GStrv) held = tp_redis_strings (limit, "HGETALL taskpool:{%s}:held", name);
      g_autofree char *text = g_strjoinv (" ", held);

      g_error ("A holder of “%s” left without its goodbye: holders and slots: %s", name, text);
    }
  g_assert_cmpint (tp_redis_integer (limit, "GET taskpool:{%s}:used", name), ==, 0);
  g_assert_cmpint (tp_redis_integer (limit, "LLEN taskpool:{%s}:queue", name), ==, 0);
  g_assert_cmpint (tp_redis_integer (limit, "HLEN taskpool:{%s}:held", name), ==, 0);
}

/* }}} */

/* Pools made from keyfiles {{{ */

/* Group "shared": a fixed-simple pool of @size with the redis gate */
static GKeyFile *
keyfile_new_sized (const char *url,
                   const char *name,
                   guint       limit,
                   guint       size)
{
  GKeyFile *keyfile = g_key_file_new ();

  g_key_file_set_string (keyfile, "shared", "kind", "fixed-simple");
  g_key_file_set_integer (keyfile, "shared", "size", (int) size);
  g_key_file_set_string (keyfile, "shared", "gates", "redis");
  g_key_file_set_string (keyfile, "shared", "redis-url", url);
  g_key_file_set_string (keyfile, "shared", "redis-name", name);
  g_key_file_set_integer (keyfile, "shared", "redis-limit", (int) limit);
  return keyfile;
}

static GKeyFile *
keyfile_new (const char *url,
             const char *name,
             guint       limit)
{
  return keyfile_new_sized (url, name, limit, 4);
}

/* Makes and starts the pool of @keyfile's group "shared" */
static TpPool *
pool_new (GKeyFile *keyfile)
{
  g_autoptr(GError) error = NULL;
  TpPool *pool = tp_pool_new_from_keyfile (keyfile, "shared", &error);

  g_assert_no_error (error);
  g_assert_nonnull (pool);
  g_assert_cmpstr (tp_pool_get_gates (pool)[0], ==, "redis");
  g_assert_true (tp_pool_start (pool, &error));
  g_assert_no_error (error);
  return pool;
}

static void
pool_finalized (gpointer data)
{
  g_atomic_int_set ((int *) data, TRUE);
  g_main_context_wakeup (NULL);
}

/* Closes @pool (draining what is left) and waits until it is finalized:
 * its gate has said goodbye to the server by then. The last reference may go
 * on a thread of the pool's, after this one's: data set on the pool is freed
 * at the end of its finalization, after its gates' */
static void
pool_free (TpPool *pool)
{
  static GQuark quark;
  gboolean finalized = FALSE;

  if (quark == 0)
    quark = g_quark_from_static_string ("test-redis-finalized");
  if (!tp_pool_get_closed (pool))
    tp_test_pool_close (pool, TP_CLOSE_DRAIN);
  g_object_set_qdata_full (G_OBJECT (pool), quark, &finalized, pool_finalized);
  g_object_unref (pool);
  tp_test_wait_flag (&finalized);
  /* A gate freed on another thread leaves its goodbye to this context */
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Makes a pool from @keyfile's group "shared" and frees it */
static gboolean
try_pool (GKeyFile  *keyfile,
          GError   **error)
{
  TpPool *pool = tp_pool_new_from_keyfile (keyfile, "shared", error);

  if (pool == NULL)
    return FALSE;
  g_object_unref (pool);
  return TRUE;
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

  g_test_summary ("Every bad key in a pool's keyfile is an error naming the group, the key, "
                  "the value and what is allowed; a missing name or limit too: the gate is "
                  "never silently unlimited");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GKeyFile) keyfile = keyfile_new ("unix:/nonexistent/redis.sock", "bad", 5);
      g_autoptr(GError) error = NULL;

      g_key_file_set_value (keyfile, "shared", cases[i].key, cases[i].value);
      g_assert_false (try_pool (keyfile, &error));
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
      g_assert_false (try_pool (keyfile, &error));
      g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, "Missing key"));
      g_assert_nonnull (strstr (error->message, key));
      g_assert_nonnull (strstr (error->message, "“shared”"));
    }

  {
    g_autoptr(GKeyFile) keyfile = keyfile_new ("unix:/nonexistent/redis.sock", "bad", 5);
    g_autoptr(GError) error = NULL;

    g_key_file_set_string (keyfile, "shared", "redis-limits", "5");
    g_assert_false (try_pool (keyfile, &error));
    g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
    g_test_message ("%s", error->message);
    g_assert_nonnull (strstr (error->message, "redis-limits"));
    g_assert_nonnull (strstr (error->message, "redis-limit,"));
  }

  {
    const char * const gates[] = { "redis", NULL };
    g_autoptr(GError) error = NULL;
    TpPool *pool;

    /* A pool made without a keyfile has no limit to share */
    pool = g_initable_new (TP_TYPE_POOL, NULL, &error, "kind", "fixed-simple", "gates", gates,
                           NULL);
    g_assert_null (pool);
    g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG);
    g_test_message ("%s", error->message);
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

      g_assert_false (try_pool (keyfile, &error));
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
                  "job needs it, so a pool that runs no job opens nothing");

  for (guint i = 0; i < G_N_ELEMENTS (urls); i++)
    {
      g_autoptr(GKeyFile) keyfile = keyfile_new (urls[i], "good", 5);
      g_autoptr(GError) error = NULL;
      TpPool *pool;

      g_key_file_set_string (keyfile, "shared", "redis-unavailable", "fail");
      g_key_file_set_integer (keyfile, "shared", "redis-lease-ms", 100);
      pool = pool_new (keyfile);
      pool_free (pool);
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
  assert_limit_empty (server, client, "shared");
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
  assert_limit_empty (server, client, "threads");
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
  assert_limit_empty (server, client, "kill");
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

/* Pools in this process {{{ */

/* The gate's messages about its link to the server, counted per limit: the
 * tests see through them that the gate tried the server and found it away */
static GMutex link_lock;
static GHashTable *link_failures;   /* "Limit “name”: url: " → count */

static GLogWriterOutput
log_writer (GLogLevelFlags   log_level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  const char *domain = NULL, *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
        domain = fields[i].value;
      else if (g_str_equal (fields[i].key, "MESSAGE"))
        message = fields[i].value;
    }
  if (g_strcmp0 (domain, "TaskPool-redis") == 0 && message != NULL)
    {
      g_mutex_lock (&link_lock);
      if (link_failures != NULL)
        {
          GHashTableIter iter;
          gpointer prefix, count;

          g_hash_table_iter_init (&iter, link_failures);
          while (g_hash_table_iter_next (&iter, &prefix, &count))
            if (g_str_has_prefix (message, prefix))
              g_hash_table_iter_replace (&iter, GUINT_TO_POINTER (GPOINTER_TO_UINT (count) + 1));
        }
      g_mutex_unlock (&link_lock);
    }
  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

static char *
link_watch (const char *name,
            const char *url)
{
  char *prefix = g_strdup_printf ("Limit “%s”: %s: ", name, url);

  g_mutex_lock (&link_lock);
  if (link_failures == NULL)
    link_failures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_insert (link_failures, g_strdup (prefix), GUINT_TO_POINTER (0));
  g_mutex_unlock (&link_lock);
  return prefix;
}

static guint
link_failures_of (const char *prefix)
{
  guint count;

  g_mutex_lock (&link_lock);
  count = GPOINTER_TO_UINT (g_hash_table_lookup (link_failures, prefix));
  g_mutex_unlock (&link_lock);
  return count;
}

/* Iterates until the gate has queued @waiters on the server for @name */
static void
wait_server_queue (redisContext *client,
                   const char   *name,
                   long long     waiters)
{
  while (tp_redis_integer (client, "LLEN taskpool:{%s}:queue", name) < waiters)
    g_main_context_iteration (NULL, TRUE);
}

/* Iterates until the server counts @used slots of @name in use */
static void
wait_server_used (redisContext *client,
                  const char   *name,
                  long long     used)
{
  while (tp_redis_integer (client, "GET taskpool:{%s}:used", name) != used)
    g_main_context_iteration (NULL, TRUE);
}

static void
assert_unavailable (TpTestLog  *log,
                    const char *url,
                    const char *name)
{
  g_assert_cmpuint (log->errors->len, >, 0);
  for (guint i = 0; i < log->errors->len; i++)
    {
      const GError *error = g_ptr_array_index (log->errors, i);
      g_autofree char *limit = g_strdup_printf ("“%s”", name);

      g_assert_error (error, TP_POOL_ERROR, TP_POOL_ERROR_UNAVAILABLE);
      g_assert_nonnull (strstr (error->message, url));
      g_assert_nonnull (strstr (error->message, limit));
      g_assert_nonnull (strstr (error->message, "“shared”"));
    }
  g_test_message ("%s", ((GError *) g_ptr_array_index (log->errors, 0))->message);
}

static void
test_unavailable_fail (void)
{
  g_autofree char *dir = g_dir_make_tmp ("taskpool-redis-XXXXXX", NULL);
  g_autofree char *url = g_strconcat ("unix:", dir, "/absent.sock", NULL);
  g_autoptr(GKeyFile) keyfile = keyfile_new (url, "down", 3);
  TpTestLog log;
  TpPool *pool;

  g_test_summary ("With redis-unavailable = fail and no server, every job the gate holds, "
                  "async or thread job, fails with TP_POOL_ERROR_UNAVAILABLE naming the pool, "
                  "the server and the limit, never runs, has its data destroyed once, and "
                  "nothing hangs");

  tp_test_log_init (&log);
  g_key_file_set_string (keyfile, "shared", "redis-unavailable", "fail");
  pool = pool_new (keyfile);

  for (guint i = 0; i < 10; i++)
    {
      g_autofree char *name = g_strdup_printf ("j%u", i);

      tp_test_submit (pool, &log, name, TP_TEST_JOB_RETURN,
                      i % 3 == 0 ? TP_SUBMIT_IN_THREAD : TP_SUBMIT_DEFAULT, 0, NULL);
    }
  tp_test_wait_count (&log.callbacks, 10);
  tp_test_wait_count (&log.destroyed, 10);

  g_assert_cmpuint (log.started, ==, 0);
  g_assert_cmpuint (log.unavailable, ==, 10);
  g_assert_cmpuint (tp_pool_get_n_failed (pool), ==, 10);
  assert_unavailable (&log, url, "down");

  pool_free (pool);
  g_assert_cmpuint (log.callbacks, ==, 10);
  g_assert_cmpuint (log.destroyed, ==, 10);
  tp_test_log_clear (&log);
  g_rmdir (dir);
}

static void
test_unavailable_hold (void)
{
  g_autoptr(TpRedisServer) server = NULL;
  g_autoptr(GKeyFile) keyfile = NULL;
  g_autoptr(redisContext) client = NULL;
  g_autofree char *watch = NULL;
  TpTestLog log;
  TpPool *pool;

  g_test_summary ("With redis-unavailable = hold, jobs wait while the server is away, through "
                  "failed reconnections, and all run, once each, when it comes back");
  if (!tp_redis_server_check ())
    return;

  server = tp_redis_server_new ("limit");
  tp_redis_server_kill (server);
  watch = link_watch ("late", server->url);

  tp_test_log_init (&log);
  keyfile = keyfile_new (server->url, "late", 2);
  g_key_file_set_integer (keyfile, "shared", "redis-lease-ms", 300);
  pool = pool_new (keyfile);
  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *name = g_strdup_printf ("j%u", i);

      tp_test_submit (pool, &log, name, TP_TEST_JOB_RETURN,
                      i % 2 == 0 ? TP_SUBMIT_IN_THREAD : TP_SUBMIT_DEFAULT, 0, NULL);
    }

  /* The first connection and one retry after it failed */
  while (link_failures_of (watch) < 2)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (log.started, ==, 0);
  g_assert_cmpuint (log.callbacks, ==, 0);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 6);

  tp_redis_server_restart (server);
  tp_test_wait_count (&log.callbacks, 6);
  g_assert_cmpuint (log.done, ==, 6);
  g_assert_cmpuint (log.started, ==, 6);

  pool_free (pool);
  g_assert_cmpuint (log.destroyed, ==, 6);
  tp_test_log_clear (&log);
  client = tp_redis_connect (server);
  assert_limit_empty (server, client, "late");
}

static void
test_cancel_held (void)
{
  g_autoptr(TpRedisServer) server = NULL;
  g_autoptr(redisContext) client = NULL;
  g_autoptr(GKeyFile) keyfile = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(TpJobOptions) options = tp_job_options_new ();
  TpPool *full, *first, *second;
  TpTestJob *held[2];
  TpTestLog f, a, b;

  g_test_summary ("Jobs the redis gate holds can be cancelled and time out in their queue, "
                  "at once, exactly once; a slot granted to a pool whose job went away goes "
                  "back to the server and to the next waiter, here another pool");
  if (!tp_redis_server_check ())
    return;

  server = tp_redis_server_new ("limit");
  client = tp_redis_connect (server);
  keyfile = keyfile_new (server->url, "excess", 2);
  tp_test_log_init (&f);
  tp_test_log_init (&a);
  tp_test_log_init (&b);
  full = pool_new (keyfile);
  first = pool_new (keyfile);
  second = pool_new (keyfile);

  /* One pool holds the whole limit; the first waits for a slot, then the second */
  held[0] = tp_test_submit (full, &f, "f0", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 0, NULL);
  held[1] = tp_test_submit (full, &f, "f1", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 0, NULL);
  tp_test_wait_count (&f.started, 2);
  tp_test_submit (first, &a, "gone", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 0, cancellable);
  tp_job_options_set_queue_timeout (options, 50);
  tp_test_submit_with_options (first, &a, "late", TP_TEST_JOB_RETURN, options, NULL);
  wait_server_queue (client, "excess", 1);
  tp_test_submit (second, &b, "b0", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 0, NULL);
  wait_server_queue (client, "excess", 2);

  /* Held jobs leave the pool at once: a cancel, a queue timeout */
  g_cancellable_cancel (cancellable);
  tp_test_wait_count (&a.callbacks, 2);
  tp_test_wait_count (&a.destroyed, 2);
  g_assert_cmpuint (a.cancelled, ==, 1);
  g_assert_cmpuint (a.timed_out, ==, 1);
  g_assert_cmpuint (a.started, ==, 0);
  g_assert_cmpuint (tp_pool_get_waiting (first), ==, 0);

  /* The slot freed next is granted to the first pool all the same: it goes
   * on to the second */
  tp_test_release (held[0]);
  tp_test_wait_count (&b.callbacks, 1);
  g_assert_cmpuint (b.done, ==, 1);
  g_assert_cmpuint (a.started, ==, 0);

  tp_test_release (held[1]);
  pool_free (full);
  pool_free (first);
  pool_free (second);
  g_assert_cmpuint (f.done, ==, 2);
  g_assert_cmpuint (f.destroyed, ==, 2);
  g_assert_cmpuint (a.callbacks, ==, 2);
  g_assert_cmpuint (b.destroyed, ==, 1);
  tp_test_log_clear (&f);
  tp_test_log_clear (&a);
  tp_test_log_clear (&b);
  assert_limit_empty (server, client, "excess");
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

static void
test_close_discard (gconstpointer data)
{
  TpCloseFlags flags = GPOINTER_TO_UINT (data);
  gboolean cancel = (flags & TP_CLOSE_CANCEL_RUNNING) != 0;
  g_autoptr(TpRedisServer) server = NULL;
  g_autoptr(redisContext) client = NULL;
  g_autoptr(GKeyFile) keyfile = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  gboolean closed = FALSE;
  TpTestJob *running, *blocker;
  TpTestLog other, log;
  TpPool *holder, *pool;

  g_test_summary ("A close that discards: the jobs the redis gate holds complete with "
                  "TP_POOL_ERROR_CLOSED at once, async and thread jobs alike; the running "
                  "job finishes (or is cancelled), its slot goes back, and the close ends");
  if (!tp_redis_server_check ())
    return;

  server = tp_redis_server_new ("limit");
  client = tp_redis_connect (server);
  keyfile = keyfile_new (server->url, "discard", 2);
  tp_test_log_init (&other);
  tp_test_log_init (&log);
  holder = pool_new (keyfile);
  pool = pool_new (keyfile);

  /* Another pool takes one slot, this one the other, and waits for more */
  blocker = tp_test_submit (holder, &other, "blocker", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 0,
                            NULL);
  tp_test_wait_count (&other.started, 1);
  running = tp_test_submit (pool, &log, "running",
                            cancel ? TP_TEST_JOB_WAIT_CANCEL : TP_TEST_JOB_HOLD,
                            TP_SUBMIT_DEFAULT, 0, cancellable);
  tp_test_wait_count (&log.started, 1);
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *name = g_strdup_printf ("held%u", i);

      tp_test_submit (pool, &log, name, TP_TEST_JOB_RETURN,
                      i % 2 == 0 ? TP_SUBMIT_IN_THREAD : TP_SUBMIT_DEFAULT, 0, NULL);
    }
  wait_server_queue (client, "discard", 1);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 4);

  tp_pool_close_async (pool, flags, NULL, close_done_cb, &closed);
  tp_test_wait_count (&log.closed, 4);
  tp_test_wait_count (&log.destroyed, 4);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 0);
  if (!cancel)
    {
      g_assert_false (closed);
      g_assert_cmpuint (log.callbacks, ==, 4);
      tp_test_release (running);
    }
  tp_test_wait_flag (&closed);
  g_assert_cmpuint (log.callbacks, ==, 5);
  g_assert_cmpuint (log.started, ==, 1);
  g_assert_cmpuint (cancel ? log.cancelled : log.done, ==, 1);
  /* The slot went back at the job's end, before the pool goes */
  wait_server_used (client, "discard", 1);

  pool_free (pool);
  g_assert_cmpuint (log.destroyed, ==, 5);
  tp_test_release (blocker);
  pool_free (holder);
  g_assert_cmpuint (other.destroyed, ==, 1);
  tp_test_log_clear (&other);
  tp_test_log_clear (&log);
  assert_limit_empty (server, client, "discard");
}

static void
test_close_drain (void)
{
  g_autoptr(TpRedisServer) server = NULL;
  g_autoptr(redisContext) client = NULL;
  g_autoptr(GKeyFile) keyfile = NULL;
  g_autofree char *order = NULL;
  gboolean closed = FALSE;
  TpTestJob *blocker;
  TpTestLog other, log;
  TpPool *holder, *pool;

  g_test_summary ("A close that drains waits for the jobs the redis gate holds, while another "
                  "pool holds the limit, and runs them all, in order, once the slot comes");
  if (!tp_redis_server_check ())
    return;

  server = tp_redis_server_new ("limit");
  client = tp_redis_connect (server);
  keyfile = keyfile_new (server->url, "drain", 1);
  tp_test_log_init (&other);
  tp_test_log_init (&log);
  holder = pool_new (keyfile);
  pool = pool_new (keyfile);

  blocker = tp_test_submit (holder, &other, "blocker", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 0,
                            NULL);
  tp_test_wait_count (&other.started, 1);
  tp_test_submit (pool, &log, "a", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 0, NULL);
  tp_test_submit (pool, &log, "b", TP_TEST_JOB_RETURN, TP_SUBMIT_IN_THREAD, 0, NULL);
  tp_test_submit (pool, &log, "c", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 0, NULL);
  wait_server_queue (client, "drain", 1);

  tp_pool_close_async (pool, TP_CLOSE_DRAIN, NULL, close_done_cb, &closed);
  g_assert_false (closed);
  g_assert_cmpuint (log.started, ==, 0);
  g_assert_cmpuint (tp_pool_get_waiting (pool), ==, 3);

  tp_test_release (blocker);
  tp_test_wait_flag (&closed);
  g_assert_cmpuint (log.done, ==, 3);
  order = tp_test_log_order (&log);
  g_assert_cmpstr (order, ==, "a b c");

  pool_free (pool);
  pool_free (holder);
  g_assert_cmpuint (log.destroyed, ==, 3);
  g_assert_cmpuint (other.destroyed, ==, 1);
  tp_test_log_clear (&other);
  tp_test_log_clear (&log);
  assert_limit_empty (server, client, "drain");
}

static void
test_every_end (void)
{
  g_autoptr(TpRedisServer) server = NULL;
  g_autoptr(redisContext) client = NULL;
  g_autoptr(GKeyFile) keyfile = NULL;
  g_autoptr(TpJobOptions) slow = tp_job_options_new ();
  g_autoptr(TpJobOptions) late = tp_job_options_new ();
  TpTestJob *keep;
  TpTestLog log;
  TpPool *pool;

  g_test_summary ("Whichever way a job the redis gate admitted ends — a result, an error, in a "
                  "thread or not, a lost task, a run timeout — its slot goes back to the "
                  "server once, while the pool lives on");
  if (!tp_redis_server_check ())
    return;

  server = tp_redis_server_new ("limit");
  client = tp_redis_connect (server);
  keyfile = keyfile_new (server->url, "ends", 2);
  tp_test_log_init (&log);
  pool = pool_new (keyfile);

  tp_test_submit (pool, &log, "ok", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 0, NULL);
  tp_test_submit (pool, &log, "ok-thread", TP_TEST_JOB_RETURN, TP_SUBMIT_IN_THREAD, 0, NULL);
  tp_test_submit (pool, &log, "fail", TP_TEST_JOB_FAIL, TP_SUBMIT_DEFAULT, 0, NULL);
  tp_test_submit (pool, &log, "fail-thread", TP_TEST_JOB_FAIL, TP_SUBMIT_IN_THREAD, 0, NULL);
  tp_test_submit (pool, &log, "drop", TP_TEST_JOB_DROP, TP_SUBMIT_DEFAULT, 0, NULL);
  tp_test_wait_count (&log.callbacks, 5);
  g_assert_cmpuint (log.done, ==, 2);
  g_assert_cmpuint (log.failed, ==, 2);
  g_assert_cmpuint (log.lost, ==, 1);

  /* Both slots taken, one of them until its run timeout; a job held meanwhile
   * times out in the queue and never takes a slot */
  keep = tp_test_submit (pool, &log, "keep", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 0, NULL);
  tp_job_options_set_run_timeout (slow, 1000);
  tp_test_submit_with_options (pool, &log, "slow", TP_TEST_JOB_WAIT_CANCEL, slow, NULL);
  tp_test_wait_count (&log.started, 7);
  tp_job_options_set_queue_timeout (late, 50);
  tp_test_submit_with_options (pool, &log, "late", TP_TEST_JOB_RETURN, late, NULL);
  tp_test_wait_count (&log.timed_out, 1);
  tp_test_wait_count (&log.run_timed_out, 1);
  g_assert_cmpuint (log.started, ==, 7);

  tp_test_release (keep);
  tp_test_wait_count (&log.callbacks, 8);
  tp_test_wait_count (&log.destroyed, 8);
  wait_server_used (client, "ends", 0);

  pool_free (pool);
  tp_test_log_clear (&log);
  assert_limit_empty (server, client, "ends");
}

static void
test_threads_in_process (void)
{
  g_autoptr(TpRedisServer) server = NULL;
  g_autoptr(redisContext) client = NULL;
  g_autoptr(GKeyFile) keyfile = NULL;
  TpTestLog log;
  TpPool *pools[2];

  g_test_summary ("Thread jobs of two pools of 4 in one process share a limit of 3: their "
                  "ends come from worker threads, and never more than 3 run at once");
  if (!tp_redis_server_check ())
    return;

  server = tp_redis_server_new ("limit");
  client = tp_redis_connect (server);
  keyfile = keyfile_new (server->url, "threads-here", 3);
  tp_test_log_init (&log);
  for (guint p = 0; p < G_N_ELEMENTS (pools); p++)
    pools[p] = pool_new (keyfile);

  for (guint i = 0; i < 40; i++)
    {
      g_autofree char *name = g_strdup_printf ("t%u", i);
      tp_test_submit (pools[i % 2], &log, name, TP_TEST_JOB_SLEEP, TP_SUBMIT_IN_THREAD, 0, NULL);
    }
  tp_test_wait_count (&log.callbacks, 40);
  g_assert_cmpuint (log.done, ==, 40);
  g_assert_cmpuint (log.peak, <=, 3);
  g_assert_cmpuint (log.peak, >=, 2);

  for (guint p = 0; p < G_N_ELEMENTS (pools); p++)
    pool_free (pools[p]);
  g_assert_cmpuint (log.destroyed, ==, 40);
  tp_test_log_clear (&log);
  assert_limit_empty (server, client, "threads-here");
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
  g_autofree char *good_url = NULL, *bad_url = NULL;
  const GError *job_error;
  TpTestJob *job;
  TpTestLog log;
  TpPool *pool;

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
  tp_test_log_init (&log);
  pool = pool_new (good);
  job = tp_test_submit (pool, &log, "a", TP_TEST_JOB_HOLD, TP_SUBMIT_DEFAULT, 0, NULL);
  tp_test_wait_count (&log.started, 1);
  g_assert_cmpint (tp_redis_integer (client, "GET taskpool:{auth}:used"), ==, 1);
  tp_test_release (job);
  pool_free (pool);
  g_assert_cmpuint (log.done, ==, 1);
  tp_test_log_clear (&log);

  bad_url = g_strconcat (server->url, "?password=guess", NULL);
  bad = keyfile_new (bad_url, "auth", 2);
  g_key_file_set_string (bad, "shared", "redis-unavailable", "fail");
  tp_test_log_init (&log);
  pool = pool_new (bad);
  tp_test_submit (pool, &log, "b", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 0, NULL);
  tp_test_wait_count (&log.callbacks, 1);
  g_assert_cmpuint (log.unavailable, ==, 1);
  job_error = g_ptr_array_index (log.errors, 0);
  g_test_message ("%s", job_error->message);
  g_assert_nonnull (strstr (job_error->message, "password"));
  g_assert_null (strstr (job_error->message, "guess"));
  pool_free (pool);
  g_assert_cmpuint (log.destroyed, ==, 1);
  tp_test_log_clear (&log);
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
      TpTestLog log;
      TpPool *pool;

      g_key_file_set_string (keyfile, "shared", "redis-unavailable", "fail");
      g_key_file_set_integer (keyfile, "shared", "redis-lease-ms", 400);
      tp_test_log_init (&log);
      pool = pool_new (keyfile);
      for (guint j = 0; j < 3; j++)
        tp_test_submit (pool, &log, "j", TP_TEST_JOB_RETURN, TP_SUBMIT_DEFAULT, 0, NULL);
      tp_test_wait_count (&log.callbacks, 3);
      g_assert_cmpuint (log.started, ==, 0);
      g_assert_cmpuint (log.unavailable, ==, 3);
      assert_unavailable (&log, urls[i], "nowhere");
      pool_free (pool);
      g_assert_cmpuint (log.destroyed, ==, 3);
      tp_test_log_clear (&log);
    }
}

/* }}} */

/* Two shells, one limit: taskpool-run {{{ */

/* Each command counts itself running on the server, as the holders' jobs do,
 * through redis-cli */
static const char record_script[] =
  "#!/bin/sh\n"
  "# record.sh SOCKET NAME: a command that counts itself on the server while it runs\n"
  "set -e\n"
  "redis-cli -s \"$1\" EVAL \"local n = redis.call('INCR', KEYS[1]) "
  "if n > tonumber(redis.call('GET', KEYS[2]) or '0') then redis.call('SET', KEYS[2], n) end "
  "return n\" 2 cli:running cli:max >/dev/null\n"
  "sleep 0.05\n"
  "redis-cli -s \"$1\" EVAL \"redis.call('DECR', KEYS[1]) redis.call('RPUSH', KEYS[2], ARGV[1]) "
  "return 0\" 2 cli:running cli:done \"$2\" >/dev/null\n";

typedef struct {
  GSubprocess *process;
  gboolean     exited;
} Shell;

static void
shell_exited_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      data)
{
  Shell *shell = data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  shell->exited = TRUE;
}

static void
test_taskpool_run (void)
{
#ifdef TP_TASKPOOL_RUN
  const char * const tags[] = { "a", "b", NULL };
  const guint jobs = 15;
  g_autoptr(TpRedisServer) server = NULL;
  g_autoptr(redisContext) client = NULL;
  g_autoptr(GKeyFile) config = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *redis_cli = g_find_program_in_path ("redis-cli");
  g_autofree char *config_file = NULL, *record = NULL;
  Shell shells[2] = { { 0 } };

  g_test_summary ("Two taskpool-run processes, each from the same keyfile group with "
                  "gates = redis and a size of 6, share a limit of 3: the commands, counting "
                  "themselves on the server, never run more than 3 at once, and each runs once");
  if (!tp_redis_server_check ())
    return;
  if (redis_cli == NULL)
    {
      if (g_getenv ("CI") != NULL)
        g_test_fail_printf ("redis-cli is not installed: .ci/setup installs redis-tools");
      else
        g_test_skip ("redis-cli is not installed (Debian: redis-tools)");
      return;
    }

  server = tp_redis_server_new ("limit");
  client = tp_redis_connect (server);

  /* The keyfile of doc/shared-limits.md's two shells */
  config_file = g_build_filename (server->dir, "pools.ini", NULL);
  g_key_file_set_integer (config, "uploads", "size", 6);
  g_key_file_set_string (config, "uploads", "gates", "redis");
  g_key_file_set_string (config, "uploads", "redis-url", server->url);
  g_key_file_set_string (config, "uploads", "redis-name", "uploads");
  g_key_file_set_integer (config, "uploads", "redis-limit", 3);
  g_key_file_save_to_file (config, config_file, &error);
  g_assert_no_error (error);
  record = g_build_filename (server->dir, "record.sh", NULL);
  g_file_set_contents (record, record_script, -1, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (shells); i++)
    {
      g_autofree char *names_file = g_strdup_printf ("%s/names-%s.txt", server->dir, tags[i]);
      g_autoptr(GString) names = g_string_new (NULL);
      const char *argv[] = {
        TP_TASKPOOL_RUN, "--quiet", "--config", config_file, "--pool", "uploads", names_file,
        "--", "sh", record, server->socket, NULL
      };

      for (guint j = 0; j < jobs; j++)
        g_string_append_printf (names, "%s-%u\n", tags[i], j);
      g_file_set_contents (names_file, names->str, -1, &error);
      g_assert_no_error (error);
      shells[i].process = tp_redis_spawnv (argv, G_SUBPROCESS_FLAGS_NONE, &error);
      g_assert_no_error (error);
      g_subprocess_wait_async (shells[i].process, NULL, shell_exited_cb, &shells[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (shells); i++)
    {
      tp_test_wait_flag (&shells[i].exited);
      g_assert_true (g_subprocess_get_if_exited (shells[i].process));
      g_assert_cmpint (g_subprocess_get_exit_status (shells[i].process), ==, 0);
      g_object_unref (shells[i].process);
    }

  g_assert_cmpint (tp_redis_integer (client, "GET cli:max"), <=, 3);
  g_assert_cmpint (tp_redis_integer (client, "GET cli:max"), >=, 2);
  g_assert_cmpint (tp_redis_integer (client, "GET cli:running"), ==, 0);
  assert_done_once (client, "cli", tags, jobs);
  assert_limit_empty (server, client, "uploads");
  g_unlink (record);
  g_unlink (config_file);
  for (guint i = 0; i < G_N_ELEMENTS (shells); i++)
    {
      g_autofree char *names_file = g_strdup_printf ("%s/names-%s.txt", server->dir, tags[i]);

      g_unlink (names_file);
    }
#else
  g_test_skip ("taskpool-run was not built");
#endif
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  g_log_set_writer_func (log_writer, NULL, NULL);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/gate/redis/config/bad-keys", test_config_bad_keys);
  g_test_add_func ("/gate/redis/config/password-hidden", test_config_password_hidden);
  g_test_add_func ("/gate/redis/config/good-urls", test_config_good_urls);
  g_test_add_func ("/gate/redis/shared/processes", test_shared_processes);
  g_test_add_func ("/gate/redis/shared/thread-ends", test_shared_thread_ends);
  g_test_add_func ("/gate/redis/shared/threads-in-process", test_threads_in_process);
  g_test_add_func ("/gate/redis/shared/taskpool-run", test_taskpool_run);
  g_test_add_func ("/gate/redis/lease/sigkill", test_lease_sigkill);
  g_test_add_func ("/gate/redis/server/restart", test_server_restart);
  g_test_add_func ("/gate/redis/unavailable/fail", test_unavailable_fail);
  g_test_add_func ("/gate/redis/unavailable/hold", test_unavailable_hold);
  g_test_add_func ("/gate/redis/unavailable/nowhere", test_unavailable_nowhere);
  g_test_add_func ("/gate/redis/auth", test_auth_and_db);
  g_test_add_func ("/gate/redis/held/cancel", test_cancel_held);
  g_test_add_data_func ("/gate/redis/held/close-discard",
                        GUINT_TO_POINTER (TP_CLOSE_DISCARD_QUEUED), test_close_discard);
  g_test_add_data_func ("/gate/redis/held/close-cancel",
                        GUINT_TO_POINTER (TP_CLOSE_DISCARD_QUEUED | TP_CLOSE_CANCEL_RUNNING),
                        test_close_discard);
  g_test_add_func ("/gate/redis/held/close-drain", test_close_drain);
  g_test_add_func ("/gate/redis/every-end", test_every_end);
  g_test_add_func ("/gate/redis/script/turns", test_script_turns);
  g_test_add_func ("/gate/redis/script/repeat", test_script_repeat);
  g_test_add_func ("/gate/redis/script/forgotten", test_script_forgotten);
  g_test_add_func ("/gate/redis/script/goodbye", test_script_goodbye);

  return g_test_run ();
}

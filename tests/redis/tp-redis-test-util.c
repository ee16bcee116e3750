/* tp-redis-test-util.c: a private redis-server for each test
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Never the machine's own instance and never a TCP port: `--port 0` and a
 * socket in a folder of the test's own. The server says on its output when
 * it accepts connections; the test reads that line instead of trying to
 * connect in a loop.
 */

#include <signal.h>
#include <sys/prctl.h>
#include <string.h>

#include <glib/gstdio.h>

#include "tp-redis-test-util.h"

static void
tp_redis_child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

GSubprocess *
tp_redis_spawnv (const char * const  *argv,
                 GSubprocessFlags     flags,
                 GError             **error)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (flags);

  g_subprocess_launcher_set_child_setup (launcher, tp_redis_child_setup, NULL, NULL);
  return g_subprocess_launcher_spawnv (launcher, argv, error);
}

gboolean
tp_redis_server_check (void)
{
  g_autofree char *path = g_find_program_in_path ("redis-server");

  if (path != NULL)
    return TRUE;
  if (g_getenv ("CI") != NULL)
    g_test_fail_printf ("redis-server is not installed: .ci/setup installs it");
  else
    g_test_skip ("redis-server is not installed (Debian: redis-server)");
  return FALSE;
}

static void tp_redis_server_read_line (TpRedisServer *server, GDataInputStream *stream);

static void
tp_redis_server_line_cb (GObject      *source,
                         GAsyncResult *result,
                         gpointer      data)
{
  TpRedisServer *server = data;
  g_autofree char *line = NULL;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result,
                                                    NULL, NULL);
  if (line == NULL)
    {
      g_object_unref (source);
      return;
    }
  /* "Ready to accept connections", or without a TCP port "The server is
   * now ready to accept connections at <socket>" */
  if (strstr (line, "eady to accept connections") != NULL)
    server->ready = TRUE;
  tp_redis_server_read_line (server, G_DATA_INPUT_STREAM (source));
}

/* Reads the server's log to its end, so that it never blocks on a full pipe */
static void
tp_redis_server_read_line (TpRedisServer    *server,
                           GDataInputStream *stream)
{
  g_data_input_stream_read_line_async (stream, G_PRIORITY_DEFAULT, NULL,
                                       tp_redis_server_line_cb, server);
}

static void
tp_redis_server_exited_cb (GObject      *source,
                           GAsyncResult *result,
                           gpointer      data)
{
  gboolean *exited = data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *exited = TRUE;
}

static void
tp_redis_server_start (TpRedisServer *server)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) argv = NULL;
  GDataInputStream *stream;
  const char * const own[] = {
    "redis-server", "--port", "0", "--unixsocket", server->socket, "--unixsocketperm", "700",
    "--save", "", "--appendonly", "no", "--dir", server->dir, "--daemonize", "no",
    "--logfile", "", "--loglevel", "notice", NULL
  };

  g_strv_builder_addv (builder, (const char **) own);
  if (server->args != NULL)
    g_strv_builder_addv (builder, (const char **) server->args);
  argv = g_strv_builder_end (builder);
  server->ready = FALSE;
  server->exited = FALSE;
  server->process = tp_redis_spawnv ((const char * const *) argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                                     &error);
  g_assert_no_error (error);

  stream = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  tp_redis_server_read_line (server, stream);
  g_subprocess_wait_async (server->process, NULL, tp_redis_server_exited_cb, &server->exited);

  while (!server->ready && !server->exited)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (server->exited);
}

TpRedisServer *
tp_redis_server_new (const char *name)
{
  return tp_redis_server_new_full (name, NULL, NULL);
}

TpRedisServer *
tp_redis_server_new_full (const char *name,
                          const char *first_arg,
                          ...)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GStrvBuilder) args = g_strv_builder_new ();
  TpRedisServer *server = g_new0 (TpRedisServer, 1);
  g_autofree char *file = g_strconcat (name, ".sock", NULL);
  va_list ap;

  va_start (ap, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (ap, const char *))
    g_strv_builder_add (args, arg);
  va_end (ap);
  server->args = g_strv_builder_end (args);
  server->dir = g_dir_make_tmp ("taskpool-redis-XXXXXX", &error);
  g_assert_no_error (error);
  server->socket = g_build_filename (server->dir, file, NULL);
  server->url = g_strconcat ("unix:", server->socket, NULL);
  tp_redis_server_start (server);
  return server;
}

static void
tp_redis_server_wait_exit (TpRedisServer *server)
{
  while (!server->exited)
    g_main_context_iteration (NULL, TRUE);
  g_clear_object (&server->process);
}

void
tp_redis_server_kill (TpRedisServer *server)
{
  g_subprocess_force_exit (server->process);
  tp_redis_server_wait_exit (server);
}

void
tp_redis_server_restart (TpRedisServer *server)
{
  g_assert_null (server->process);
  tp_redis_server_start (server);
}

void
tp_redis_server_free (TpRedisServer *server)
{
  if (server->process != NULL)
    {
      g_subprocess_send_signal (server->process, SIGTERM);
      tp_redis_server_wait_exit (server);
    }
  g_unlink (server->socket);
  g_rmdir (server->dir);
  g_strfreev (server->args);
  g_free (server->url);
  g_free (server->socket);
  g_free (server->dir);
  g_free (server);
}

redisContext *
tp_redis_connect (TpRedisServer *server)
{
  redisContext *context = redisConnectUnix (server->socket);

  g_assert_nonnull (context);
  g_assert_cmpint (context->err, ==, 0);
  return context;
}

static redisReply *
tp_redis_command (redisContext *context,
                  const char   *format,
                  va_list       args)
{
  redisReply *reply = redisvCommand (context, format, args);

  g_assert_nonnull (reply);
  if (reply->type == REDIS_REPLY_ERROR)
    g_error ("Redis replied: %s", reply->str);
  return reply;
}

long long
tp_redis_integer (redisContext *context,
                  const char   *format,
                  ...)
{
  redisReply *reply;
  long long value = 0;
  va_list args;

  va_start (args, format);
  reply = tp_redis_command (context, format, args);
  va_end (args);

  if (reply->type == REDIS_REPLY_INTEGER)
    value = reply->integer;
  else if (reply->type == REDIS_REPLY_STRING)
    value = g_ascii_strtoll (reply->str, NULL, 10);
  else
    g_assert_cmpint (reply->type, ==, REDIS_REPLY_NIL);
  freeReplyObject (reply);
  return value;
}

GStrv
tp_redis_strings (redisContext *context,
                  const char   *format,
                  ...)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  redisReply *reply;
  va_list args;

  va_start (args, format);
  reply = tp_redis_command (context, format, args);
  va_end (args);

  g_assert_cmpint (reply->type, ==, REDIS_REPLY_ARRAY);
  for (size_t i = 0; i < reply->elements; i++)
    {
      g_assert_cmpint (reply->element[i]->type, ==, REDIS_REPLY_STRING);
      g_strv_builder_add (builder, reply->element[i]->str);
    }
  freeReplyObject (reply);
  return g_strv_builder_end (builder);
}

void
tp_redis_wait_flag (const gboolean *flag)
{
  while (!*flag)
    g_main_context_iteration (NULL, TRUE);
}

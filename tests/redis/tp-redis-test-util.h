/* tp-redis-test-util.h: a private redis-server for each test
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>
#include <hiredis/hiredis.h>

G_BEGIN_DECLS

/* A redis-server of the test's own, on a Unix socket in a temporary folder,
 * without persistence: started by the test, stopped at its end */
typedef struct {
  GSubprocess *process;
  GStrv        args;     /* given to redis-server after the test's own */
  char        *dir;
  char        *socket;
  char        *url;      /* unix:<socket> */
  gboolean     ready;
  gboolean     exited;
} TpRedisServer;

/* Starts a process that dies with this one (a failed test aborts: the
 * servers and holders it started must not outlive it) */
GSubprocess   *tp_redis_spawnv          (const char * const *argv,
                                         GSubprocessFlags    flags,
                                         GError            **error);

/* Whether redis-server can be run; if not, the test is skipped with a
 * message, or fails where the variable CI is set */
gboolean       tp_redis_server_check    (void);
TpRedisServer *tp_redis_server_new      (const char    *name);
/* With more arguments for redis-server, NULL-terminated */
TpRedisServer *tp_redis_server_new_full (const char    *name,
                                         const char    *first_arg,
                                         ...) G_GNUC_NULL_TERMINATED;
/* SIGKILL, as a crash: the server forgets everything */
void           tp_redis_server_kill     (TpRedisServer *server);
/* Starts it again on the same socket */
void           tp_redis_server_restart  (TpRedisServer *server);
void           tp_redis_server_free     (TpRedisServer *server);

redisContext  *tp_redis_connect         (TpRedisServer *server);
/* Runs a command that replies with an integer, a nil (0) or an integer as a string */
long long      tp_redis_integer         (redisContext  *context,
                                         const char    *format,
                                         ...);
/* Runs a command that replies with an array of strings */
GStrv          tp_redis_strings         (redisContext  *context,
                                         const char    *format,
                                         ...);

/* Iterates the thread-default context until *flag */
void           tp_redis_wait_flag       (const gboolean *flag);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TpRedisServer, tp_redis_server_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (redisContext, redisFree)

G_END_DECLS

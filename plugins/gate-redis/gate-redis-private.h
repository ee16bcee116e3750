/* gate-redis-private.h: the redis gate's parts
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <taskpool/tp-plugin.h>

G_BEGIN_DECLS

/* Where the server is: a host and port, or a Unix socket */
typedef struct {
  char  *display;   /* the URL without its password, for messages */
  char  *host;      /* NULL for a Unix socket */
  int    port;
  char  *path;      /* the Unix socket, or NULL */
  guint  db;
  char  *user;      /* an ACL user, or NULL */
  char  *password;  /* or NULL */
} GateRedisAddress;

/* A gate's keys, checked */
typedef struct {
  GateRedisAddress  address;
  char             *name;
  guint             limit;
  guint             lease_ms;
  gboolean          fail;   /* redis-unavailable = fail */
} GateRedisConfig;

#define GATE_REDIS_DEFAULT_URL       "redis://127.0.0.1:6379/0"
#define GATE_REDIS_DEFAULT_LEASE_MS  10000
#define GATE_REDIS_MIN_LEASE_MS      100
#define GATE_REDIS_MAX_LEASE_MS      (24 * 3600 * 1000)
#define GATE_REDIS_MAX_LIMIT         1000000
#define GATE_REDIS_MAX_NAME          128

gboolean gate_redis_config_load  (GateRedisConfig  *config,
                                  GKeyFile         *keyfile,
                                  const char       *group,
                                  GError          **error);
void     gate_redis_config_clear (GateRedisConfig  *config);

/* The server-side script: see gate-redis-script.c */
extern const char gate_redis_sync_script[];

enum {
  GATE_REDIS_KEY_EPOCH,
  GATE_REDIS_KEY_LEASES,
  GATE_REDIS_KEY_HELD,
  GATE_REDIS_KEY_GRANTED,
  GATE_REDIS_KEY_WANTS,
  GATE_REDIS_KEY_QUEUE,
  GATE_REDIS_KEY_USED,
  GATE_REDIS_KEY_QUIET,
  GATE_REDIS_KEY_TURN,
  GATE_REDIS_N_KEYS
};

/* The suffixes of the keys a limit keeps on the server, in the script's KEYS order */
extern const char * const gate_redis_key_suffixes[GATE_REDIS_N_KEYS];

G_END_DECLS

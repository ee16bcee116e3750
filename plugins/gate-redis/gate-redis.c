/* gate-redis.c: the redis gate, a concurrent limit shared through a Redis server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every pool whose gate names the same limit on the same server shares it:
 * at most redis-limit of their jobs run at once, in all processes and on all
 * machines together.
 *
 * The gate keeps *credits*: slots the server granted to it that no job uses
 * yet. admit() admits a job when a credit is free and holds otherwise,
 * noting that more are wanted; started() turns a credit into a slot in use;
 * ended() gives it back. None of them talks to the server: they run under
 * the pool's lock, from any thread, and only touch counters under the gate's
 * own lock and make its "kick" source ready. Everything else happens on the
 * pool's main context, where hiredis runs through its GLib adapter: the
 * gate tells the server what it holds and wants with one script call at a
 * time (gate-redis-script.c), and whatever changed while a call was on its
 * way goes in the next one, so that under load many starts and ends share a
 * round trip.
 *
 * The server keeps waiters in line and hands freed slots to them in turn,
 * each up to its share of the limit, in the same script that freed them,
 * publishing each grant on the holder's own channel: a waiter in another
 * process starts its job when the message arrives, without asking again and
 * without polling.
 * Holders renew a lease every third of redis-lease-ms while they hold or
 * wait for anything; a holder that stops renewing (killed, cut off) loses
 * what it held when the lease runs out, at the next call of any holder.
 *
 * Credits nobody takes (the job was cancelled, the pool is busy elsewhere)
 * go back to the server once the pool has had its chance: after a wake, at
 * idle priority.
 */

#include <string.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/glib.h>

#include "gate-redis-private.h"

/* How long an admitted job may take to be started before the gate counts
 * its credit as unused: the pool calls started() right after admit(), under
 * its lock, but its thread may be preempted between them */
#define ADMIT_WINDOW_US        G_USEC_PER_SEC
#define BACKOFF_FIRST_MS       50
#define BACKOFF_MAX_MS         2000
#define DEADLINE_MIN_MS        200
#define DEADLINE_MAX_MS        5000
#define GOODBYE_WAIT_MS        250

typedef struct _RedisGate RedisGate;

/* One connection: the commands', or the subscriber's */
typedef struct {
  RedisGate         *gate;
  redisAsyncContext *ac;      /* NULL once hiredis freed it */
  GSource           *source;  /* the adapter's, on the pool's context */
  gboolean           is_sub;
  gboolean           ready;
  gboolean           dead;    /* left behind: its callbacks do nothing */
} RedisConn;

typedef enum {
  PHASE_IDLE,        /* not connected, and nothing to say to the server */
  PHASE_CONNECTING,
  PHASE_READY,
  PHASE_DOWN,        /* the server could not be reached; retrying while needed */
} GatePhase;

struct _RedisGate
{
  gatomicrefcount   ref;

  /* Set in create(), then read-only */
  GateRedisConfig   config;
  char             *pool_name;
  char             *holder;
  char             *channel_prefix;
  char             *channel;
  char             *keys[GATE_REDIS_N_KEYS];
  char             *sha;
  char              n_keys_text[16];
  char              limit_text[16];
  char              lease_text[16];
  GMainContext     *context;
  GSource          *kick;         /* kicked from any thread */

  /* Guarded by lock: the pool's calls and the main context share them */
  GMutex            lock;
  TpGateHost       *host;         /* NULL once destroyed */
  GatePhase         phase;
  char             *down_message;
  guint             in_use;       /* started jobs that have not ended */
  guint             credits;      /* granted slots no job uses yet */
  guint             ended_since_sync;
  guint             server_wants; /* slots the server queues us for, as last heard */
  guint64           granted_seen; /* grants ever, as last heard */
  gboolean          dirty;        /* the server must hear from us */
  gboolean          hold_seen;    /* a job was held since the last call */
  gboolean          unwant;       /* stop waiting: nobody took the last credits */
  gboolean          fail_seen;    /* a job failed for want of the server */
  gboolean          held_since_wake;
  gint64            admit_pending_since;
  gint64            usable_until; /* the lease as this side knows it */
  gint64            quiet_until;  /* nothing new starts before (a restarted server) */

  /* Main context only */
  RedisConn        *cmd;
  RedisConn        *sub;
  GPtrArray        *dead_conns;
  GCancellable     *resolving;
  gboolean          in_flight;
  gboolean          on_server;    /* the server keeps a record of us */
  gint64            sent_at;
  guint             sent_held;
  guint             sent_wants;
  guint64           sent_seen;
  char             *epoch;
  guint             ramp;
  guint             backoff_ms;
  guint             deadline_ms;
  GSource          *deadline;
  GSource          *renew_timer;
  GSource          *retry_timer;
  GSource          *quiet_timer;
  GSource          *excess;
};

static const char * const redis_gate_keys[] = {
  "redis-url", "redis-name", "redis-limit", "redis-lease-ms", "redis-unavailable", NULL
};

static void redis_gate_step      (RedisGate  *self);
static void redis_gate_link_fail (RedisGate  *self,
                                  const char *message);

/* Sources {{{ */

static void
redis_gate_clear_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static GSource *
redis_gate_add_timeout (RedisGate   *self,
                        guint        interval_ms,
                        int          priority,
                        GSourceFunc  func)
{
  GSource *source = g_timeout_source_new (interval_ms);

  g_source_set_priority (source, priority);
  g_source_set_callback (source, func, self, NULL);
  g_source_set_static_name (source, "[taskpool] redis gate");
  g_source_attach (source, self->context);
  return source;
}

/* The kick: a flag rather than a ready time, because setting a ready time
 * writes to the context's wakeup fd even from the thread that runs the
 * context, and the pool's calls kick once per batch of jobs */
typedef struct {
  GSource    source;
  RedisGate *gate;
  int        pending;
} KickSource;

static gboolean
redis_gate_kick_prepare (GSource *source,
                         int     *timeout)
{
  *timeout = -1;
  return g_atomic_int_get (&((KickSource *) source)->pending);
}

static gboolean
redis_gate_kick_check (GSource *source)
{
  return g_atomic_int_get (&((KickSource *) source)->pending);
}

static gboolean
redis_gate_kick_dispatch (GSource     *source,
                          GSourceFunc  callback,
                          gpointer     user_data)
{
  g_atomic_int_set (&((KickSource *) source)->pending, FALSE);
  redis_gate_step (((KickSource *) source)->gate);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs redis_gate_kick_funcs = {
  .prepare = redis_gate_kick_prepare,
  .check = redis_gate_kick_check,
  .dispatch = redis_gate_kick_dispatch,
};

/* Any thread: makes the main context look at the gate soon. The thread
 * that runs the context prepares its sources again before it polls */
static inline void
redis_gate_kick (RedisGate *self)
{
  KickSource *kick = (KickSource *) self->kick;

  if (g_atomic_int_compare_and_exchange (&kick->pending, FALSE, TRUE) &&
      !g_main_context_is_owner (self->context))
    g_main_context_wakeup (self->context);
}

/* }}} */

/* Lifetime {{{ */

static RedisGate *
redis_gate_ref (RedisGate *self)
{
  g_atomic_ref_count_inc (&self->ref);
  return self;
}

static void
redis_gate_unref (RedisGate *self)
{
  if (!g_atomic_ref_count_dec (&self->ref))
    return;

  g_assert (self->cmd == NULL && self->sub == NULL);
  g_assert (self->dead_conns->len == 0);
  g_ptr_array_unref (self->dead_conns);
  g_clear_pointer (&self->kick, g_source_unref);
  g_main_context_unref (self->context);
  for (guint i = 0; i < GATE_REDIS_N_KEYS; i++)
    g_free (self->keys[i]);
  g_free (self->sha);
  g_free (self->channel);
  g_free (self->channel_prefix);
  g_free (self->holder);
  g_free (self->pool_name);
  g_free (self->down_message);
  g_free (self->epoch);
  gate_redis_config_clear (&self->config);
  g_mutex_clear (&self->lock);
  g_free (self);
}

/* }}} */

/* State shared with the pool's calls {{{ */

/* Whether the gate has business with the server */
static gboolean
redis_gate_needs_server_locked (RedisGate *self)
{
  return self->dirty || self->hold_seen || self->fail_seen ||
         self->in_use + self->credits > 0 || self->server_wants > 0 || self->on_server;
}

static void
redis_gate_wake_locked (RedisGate *self)
{
  self->held_since_wake = FALSE;
  if (self->host != NULL)
    tp_gate_host_wake (self->host);
}

static gboolean
redis_gate_excess_cb (gpointer data)
{
  RedisGate *self = data;
  gint64 now = g_get_monotonic_time ();
  gboolean released = FALSE;

  redis_gate_clear_source (&self->excess);

  g_mutex_lock (&self->lock);
  if (self->credits > 0 && self->admit_pending_since != 0 &&
      now - self->admit_pending_since < ADMIT_WINDOW_US)
    {
      /* A job was admitted and is about to start: look again later */
      self->excess = redis_gate_add_timeout (self, ADMIT_WINDOW_US / 1000, G_PRIORITY_LOW,
                                             redis_gate_excess_cb);
    }
  else if (self->credits > 0)
    {
      g_debug ("Limit “%s”: %u granted slots unused, given back", self->config.name,
               self->credits);
      self->credits = 0;
      self->unwant = TRUE;
      self->dirty = TRUE;
      released = TRUE;
    }
  g_mutex_unlock (&self->lock);

  if (released)
    {
      self->ramp = 1;
      redis_gate_step (self);
    }
  return G_SOURCE_REMOVE;
}

/* Main context: credits arrived; the pool had better use them */
static void
redis_gate_schedule_excess (RedisGate *self)
{
  if (self->excess != NULL)
    return;
  self->excess = g_idle_source_new ();
  g_source_set_priority (self->excess, G_PRIORITY_LOW);
  g_source_set_callback (self->excess, redis_gate_excess_cb, self, NULL);
  g_source_set_static_name (self->excess, "[taskpool] redis gate credits");
  g_source_attach (self->excess, self->context);
}

/* The server says we were granted @total slots ever: those we had not heard
 * of are credits. Returns whether there were any */
static gboolean
redis_gate_take_grants_locked (RedisGate *self,
                               guint64    total)
{
  guint64 fresh;

  if (total <= self->granted_seen)
    return FALSE;
  fresh = total - self->granted_seen;
  self->granted_seen = total;
  self->credits += (guint) fresh;
  self->server_wants -= MIN (self->server_wants, (guint) fresh);
  redis_gate_wake_locked (self);
  return TRUE;
}

/* Main context: a grant published on our channel */
static void
redis_gate_take_grants (RedisGate *self,
                        guint64    total)
{
  gboolean fresh;

  g_mutex_lock (&self->lock);
  fresh = redis_gate_take_grants_locked (self, total);
  g_mutex_unlock (&self->lock);

  if (fresh)
    redis_gate_schedule_excess (self);
}

/* }}} */

/* Connections {{{ */

/* hiredis frees a context on its own when the link fails, from inside the
 * adapter's dispatch, which then goes on to read from the context it just
 * freed if the poll also reported input. This cleanup runs as the context is
 * freed: it forgets the readiness and the context, and leaves the source to
 * the gate, which destroys it later */
static void
redis_gate_source_cleanup (gpointer data)
{
  RedisSource *source = data;
  RedisConn *conn = source->ac->data;

  redis_source_cleanup (data);
  source->poll_fd.revents = 0;
  source->ac = NULL;
  conn->ac = NULL;
}

/* The adapter's event hooks wake the context at every change, a write to
 * its wakeup fd each time, several per command. hiredis runs on the
 * context's own thread only, which looks at the events again before it
 * polls: these change them and nothing else */
static void
redis_gate_add_read (void *data)
{
  ((RedisSource *) data)->poll_fd.events |= G_IO_IN;
}

static void
redis_gate_del_read (void *data)
{
  ((RedisSource *) data)->poll_fd.events &= ~G_IO_IN;
}

static void
redis_gate_add_write (void *data)
{
  ((RedisSource *) data)->poll_fd.events |= G_IO_OUT;
}

static void
redis_gate_del_write (void *data)
{
  ((RedisSource *) data)->poll_fd.events &= ~G_IO_OUT;
}

static void
redis_gate_conn_kill (RedisGate  *self,
                      RedisConn **slot)
{
  RedisConn *conn = g_steal_pointer (slot);

  if (conn == NULL)
    return;
  conn->dead = TRUE;
  g_ptr_array_add (self->dead_conns, conn);
  /* Inside one of its callbacks, hiredis frees it when the callback returns */
  if (conn->ac != NULL)
    redisAsyncFree (conn->ac);
}

/* Destroys the sources of the connections hiredis has freed */
static void
redis_gate_reap (RedisGate *self)
{
  for (guint i = self->dead_conns->len; i > 0; i--)
    {
      RedisConn *conn = g_ptr_array_index (self->dead_conns, i - 1);

      if (conn->ac != NULL)
        continue;
      g_source_destroy (conn->source);
      g_source_unref (conn->source);
      g_free (conn);
      g_ptr_array_remove_index_fast (self->dead_conns, i - 1);
    }
}

/* The context's own error: hiredis copies it to ac->errstr only on some
 * paths (not before a failed connection's callback) */
static const char *
redis_gate_conn_error (const redisAsyncContext *ac,
                       const char              *fallback)
{
  return ac->c.err != 0 && ac->c.errstr[0] != '\0' ? ac->c.errstr : fallback;
}

static void redis_gate_link_check (RedisGate *self);

static void
redis_gate_connect_cb (const redisAsyncContext *ac,
                       int                      status)
{
  RedisConn *conn = ac->data;

  if (conn->dead || status == REDIS_OK)
    return;
  /* hiredis frees the context when this returns, and was not told it is in
   * a callback: the gate must not free it */
  conn->ac = NULL;
  redis_gate_link_fail (conn->gate, redis_gate_conn_error (ac, "could not connect"));
}

static void
redis_gate_disconnect_cb (const redisAsyncContext *ac,
                          int                      status)
{
  RedisConn *conn = ac->data;

  if (conn->dead)
    return;
  redis_gate_link_fail (conn->gate,
                        redis_gate_conn_error (ac, "the server closed the connection"));
}

/* AUTH, SELECT and PING: an error ends the link, PING's reply
 * makes the command connection ready */
static void
redis_gate_setup_cb (redisAsyncContext *ac,
                     void              *r,
                     void              *privdata)
{
  RedisConn *conn = ac->data;
  redisReply *reply = r;

  if (conn->dead)
    return;
  if (reply == NULL)
    {
      redis_gate_link_fail (conn->gate, redis_gate_conn_error (ac, "the connection was lost"));
      return;
    }
  if (reply->type == REDIS_REPLY_ERROR)
    {
      redis_gate_link_fail (conn->gate, reply->str);
      return;
    }
  if (privdata != NULL)
    {
      conn->ready = TRUE;
      redis_gate_link_check (conn->gate);
    }
}

static void
redis_gate_sub_cb (redisAsyncContext *ac,
                   void              *r,
                   void              *privdata)
{
  RedisConn *conn = ac->data;
  redisReply *reply = r;
  guint64 total;

  if (conn->dead)
    return;
  if (reply == NULL)
    {
      redis_gate_link_fail (conn->gate, redis_gate_conn_error (ac, "the connection was lost"));
      return;
    }
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
      reply->element[0]->type != REDIS_REPLY_STRING)
    {
      redis_gate_link_fail (conn->gate, reply->type == REDIS_REPLY_ERROR ? reply->str
                                        : "unexpected reply to SUBSCRIBE");
      return;
    }

  if (g_str_equal (reply->element[0]->str, "subscribe"))
    {
      conn->ready = TRUE;
      redis_gate_link_check (conn->gate);
    }
  else if (g_str_equal (reply->element[0]->str, "message") &&
           reply->element[2]->type == REDIS_REPLY_STRING &&
           g_ascii_string_to_unsigned (reply->element[2]->str, 10, 0, G_MAXUINT64, &total, NULL))
    {
      redis_gate_take_grants (conn->gate, total);
    }
}

static void
redis_gate_conn_auth (RedisConn *conn)
{
  const GateRedisAddress *address = &conn->gate->config.address;
  const char *argv[3] = { "AUTH" };
  int argc = 1;

  if (address->password == NULL)
    return;
  if (address->user != NULL)
    argv[argc++] = address->user;
  argv[argc++] = address->password;
  redisAsyncCommandArgv (conn->ac, redis_gate_setup_cb, NULL, argc, argv, NULL);
}

static RedisConn *
redis_gate_conn_open (RedisGate   *self,
                      const char  *ip,
                      gboolean     is_sub,
                      char       **message)
{
  const GateRedisAddress *address = &self->config.address;
  redisAsyncContext *ac;
  RedisConn *conn;

  if (address->path != NULL)
    ac = redisAsyncConnectUnix (address->path);
  else
    ac = redisAsyncConnect (ip, address->port);
  if (ac == NULL || ac->err != 0)
    {
      *message = g_strdup (ac != NULL ? ac->errstr : "out of memory");
      if (ac != NULL)
        redisAsyncFree (ac);
      return NULL;
    }

  conn = g_new0 (RedisConn, 1);
  conn->gate = self;
  conn->ac = ac;
  conn->is_sub = is_sub;
  ac->data = conn;
  conn->source = redis_source_new (ac);
  ac->ev.addRead = redis_gate_add_read;
  ac->ev.delRead = redis_gate_del_read;
  ac->ev.addWrite = redis_gate_add_write;
  ac->ev.delWrite = redis_gate_del_write;
  ac->ev.cleanup = redis_gate_source_cleanup;
  g_source_set_static_name (conn->source, "[taskpool] redis gate connection");
  g_source_attach (conn->source, self->context);
  redisAsyncSetConnectCallback (ac, redis_gate_connect_cb);
  redisAsyncSetDisconnectCallback (ac, redis_gate_disconnect_cb);

  /* Sent as soon as the connection is up, in this order */
  redis_gate_conn_auth (conn);
  if (is_sub)
    {
      const char *argv[] = { "SUBSCRIBE", self->channel };

      redisAsyncCommandArgv (ac, redis_gate_sub_cb, NULL, 2, argv, NULL);
    }
  else
    {
      if (address->db != 0)
        redisAsyncCommand (ac, redis_gate_setup_cb, NULL, "SELECT %u", address->db);
      redisAsyncCommand (ac, redis_gate_setup_cb, conn, "PING");
    }
  return conn;
}

/* }}} */

/* The link: both connections, the calls, the timers {{{ */

static gboolean
redis_gate_deadline_cb (gpointer data)
{
  RedisGate *self = data;
  g_autofree char *message = NULL;

  redis_gate_clear_source (&self->deadline);
  message = g_strdup_printf (self->in_flight ? "no reply within %u ms"
                                             : "not connected within %u ms",
                             self->deadline_ms);
  redis_gate_link_fail (self, message);
  return G_SOURCE_REMOVE;
}

static void
redis_gate_arm_deadline (RedisGate *self)
{
  redis_gate_clear_source (&self->deadline);
  self->deadline = redis_gate_add_timeout (self, self->deadline_ms, G_PRIORITY_DEFAULT,
                                           redis_gate_deadline_cb);
}

static void
redis_gate_open (RedisGate  *self,
                 const char *ip)
{
  g_autofree char *message = NULL;

  self->cmd = redis_gate_conn_open (self, ip, FALSE, &message);
  if (self->cmd != NULL)
    self->sub = redis_gate_conn_open (self, ip, TRUE, &message);
  if (self->sub == NULL)
    redis_gate_link_fail (self, message);
}

typedef struct {
  RedisGate    *gate;
  GCancellable *cancellable;
} Resolving;

static void
redis_gate_resolved_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      data)
{
  Resolving *resolving = data;
  RedisGate *self = resolving->gate;
  g_autoptr(GError) error = NULL;
  GList *addresses;

  addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (source), result, &error);
  /* A lookup the gate gave up (a deadline, the teardown) may still succeed */
  if (!g_cancellable_is_cancelled (resolving->cancellable))
    {
      g_clear_object (&self->resolving);
      if (addresses == NULL)
        redis_gate_link_fail (self, error->message);
      else
        {
          g_autofree char *ip = g_inet_address_to_string (addresses->data);

          redis_gate_open (self, ip);
        }
    }
  g_resolver_free_addresses (addresses);
  g_object_unref (resolving->cancellable);
  redis_gate_unref (self);
  g_free (resolving);
}

static void
redis_gate_connect (RedisGate *self)
{
  const GateRedisAddress *address = &self->config.address;
  g_autoptr(GResolver) resolver = NULL;
  Resolving *resolving;

  g_mutex_lock (&self->lock);
  self->phase = PHASE_CONNECTING;
  self->fail_seen = FALSE;
  g_mutex_unlock (&self->lock);

  g_debug ("Limit “%s”: connecting to %s", self->config.name, address->display);
  redis_gate_arm_deadline (self);

  if (address->path != NULL || g_hostname_is_ip_address (address->host))
    {
      redis_gate_open (self, address->host);
      return;
    }

  /* Host names are resolved by GIO, off the main loop */
  resolving = g_new0 (Resolving, 1);
  resolving->gate = redis_gate_ref (self);
  resolving->cancellable = g_cancellable_new ();
  self->resolving = g_object_ref (resolving->cancellable);
  resolver = g_resolver_get_default ();
  g_main_context_push_thread_default (self->context);
  g_resolver_lookup_by_name_async (resolver, address->host, resolving->cancellable,
                                   redis_gate_resolved_cb, resolving);
  g_main_context_pop_thread_default (self->context);
}

static gboolean
redis_gate_retry_cb (gpointer data)
{
  RedisGate *self = data;
  gboolean need;

  redis_gate_clear_source (&self->retry_timer);

  g_mutex_lock (&self->lock);
  need = redis_gate_needs_server_locked (self);
  if (!need)
    self->phase = PHASE_IDLE;
  g_mutex_unlock (&self->lock);

  if (need)
    redis_gate_connect (self);
  return G_SOURCE_REMOVE;
}

static void
redis_gate_schedule_retry (RedisGate *self)
{
  guint cap = CLAMP (self->config.lease_ms / 3, BACKOFF_FIRST_MS, BACKOFF_MAX_MS);
  guint delay;

  if (self->retry_timer != NULL)
    return;
  /* ± 25 %, so that holders cut off together do not all come back at once */
  delay = self->backoff_ms * 3 / 4 + g_random_int_range (0, self->backoff_ms / 2 + 1);
  self->backoff_ms = MIN (self->backoff_ms * 2, cap);
  self->retry_timer = redis_gate_add_timeout (self, MAX (delay, 1), G_PRIORITY_DEFAULT,
                                              redis_gate_retry_cb);
}

static void
redis_gate_stop_timers (RedisGate *self)
{
  redis_gate_clear_source (&self->deadline);
  redis_gate_clear_source (&self->renew_timer);
  redis_gate_clear_source (&self->quiet_timer);
}

static void
redis_gate_link_fail (RedisGate  *self,
                      const char *message)
{
  gboolean down;

  g_debug ("Limit “%s”: %s: %s", self->config.name, self->config.address.display, message);

  redis_gate_conn_kill (self, &self->cmd);
  redis_gate_conn_kill (self, &self->sub);
  if (self->resolving != NULL)
    g_cancellable_cancel (self->resolving);
  g_clear_object (&self->resolving);
  redis_gate_stop_timers (self);

  g_mutex_lock (&self->lock);
  /* A link a server closed while nothing was asked of it is not an outage */
  down = self->phase != PHASE_READY || self->in_flight || redis_gate_needs_server_locked (self);
  self->phase = down ? PHASE_DOWN : PHASE_IDLE;
  g_free (self->down_message);
  self->down_message = g_strdup_printf ("Pool “%s”: the Redis server %s of the shared limit "
                                        "“%s” is unavailable: %s", self->pool_name,
                                        self->config.address.display, self->config.name,
                                        message);
  self->usable_until = 0;
  if (down && self->config.fail)
    redis_gate_wake_locked (self);
  g_mutex_unlock (&self->lock);
  self->in_flight = FALSE;

  if (down)
    redis_gate_schedule_retry (self);
  redis_gate_kick (self);
}

static gboolean
redis_gate_renew_cb (gpointer data)
{
  RedisGate *self = data;

  g_mutex_lock (&self->lock);
  self->dirty = TRUE;
  g_mutex_unlock (&self->lock);
  redis_gate_step (self);
  return G_SOURCE_CONTINUE;
}

static gboolean
redis_gate_quiet_cb (gpointer data)
{
  RedisGate *self = data;

  redis_gate_clear_source (&self->quiet_timer);
  g_mutex_lock (&self->lock);
  self->dirty = TRUE;
  redis_gate_wake_locked (self);
  g_mutex_unlock (&self->lock);
  redis_gate_step (self);
  return G_SOURCE_REMOVE;
}

static void
redis_gate_link_check (RedisGate *self)
{
  if (self->cmd == NULL || !self->cmd->ready || self->sub == NULL || !self->sub->ready)
    return;

  g_debug ("Limit “%s”: connected to %s", self->config.name, self->config.address.display);
  redis_gate_clear_source (&self->deadline);
  g_mutex_lock (&self->lock);
  self->phase = PHASE_READY;
  self->dirty = TRUE;
  g_mutex_unlock (&self->lock);
  redis_gate_step (self);
}

/* How many slots to wait for. The pool asks for one job at a time and stops
 * at a hold, so the gate cannot know how many jobs wait: when a job was held
 * it asks for as many more slots as jobs ended since the last call (each
 * freed a worker that wants one), or for a number that doubles as long as
 * jobs are held, whichever is more; credits nobody takes reset it. The
 * server never queues a holder for more than the limit leaves it */
static guint
redis_gate_wants_locked (RedisGate *self,
                         guint      held)
{
  guint limit = self->config.limit;
  guint wants = self->unwant ? 0 : self->server_wants;

  if (self->hold_seen)
    {
      wants += MAX (self->ended_since_sync, self->ramp);
      self->ramp = MIN (self->ramp * 2, limit);
    }
  return MIN (wants, held < limit ? limit - held : 0);
}

static void redis_gate_sync_cb (redisAsyncContext *ac,
                                void              *r,
                                void              *privdata);

/* Sends the call whose values are in sent_*; @held_text "-1" for a goodbye */
static int
redis_gate_send (RedisGate         *self,
                 redisCallbackFn   *callback,
                 gboolean           eval,
                 const char        *held_text)
{
  char held[24], seen[24], wants[24];
  g_autofree char *epoch = g_uuid_string_random ();
  const char *argv[3 + GATE_REDIS_N_KEYS + 9];
  int argc = 0;

  g_snprintf (held, sizeof held, "%u", self->sent_held);
  g_snprintf (seen, sizeof seen, "%" G_GUINT64_FORMAT, self->sent_seen);
  g_snprintf (wants, sizeof wants, "%u", self->sent_wants);

  argv[argc++] = eval ? "EVAL" : "EVALSHA";
  argv[argc++] = eval ? gate_redis_sync_script : self->sha;
  argv[argc++] = self->n_keys_text;
  for (guint i = 0; i < GATE_REDIS_N_KEYS; i++)
    argv[argc++] = self->keys[i];
  argv[argc++] = self->holder;
  argv[argc++] = self->limit_text;
  argv[argc++] = self->lease_text;
  argv[argc++] = held_text != NULL ? held_text : held;
  argv[argc++] = seen;
  argv[argc++] = wants;
  argv[argc++] = self->epoch != NULL ? self->epoch : "";
  argv[argc++] = epoch;
  argv[argc++] = self->channel_prefix;
  g_assert (argc == G_N_ELEMENTS (argv));

  return redisAsyncCommandArgv (self->cmd->ac, callback, NULL, argc, argv, NULL);
}

static void
redis_gate_send_sync (RedisGate *self)
{
  g_mutex_lock (&self->lock);
  self->sent_held = self->in_use + self->credits;
  self->sent_wants = redis_gate_wants_locked (self, self->sent_held);
  self->sent_seen = self->granted_seen;
  self->dirty = FALSE;
  self->hold_seen = FALSE;
  self->unwant = FALSE;
  self->ended_since_sync = 0;
  g_mutex_unlock (&self->lock);

  if (redis_gate_send (self, redis_gate_sync_cb, FALSE, NULL) != REDIS_OK)
    {
      redis_gate_link_fail (self, "the connection is closing");
      return;
    }
  self->in_flight = TRUE;
  self->sent_at = g_get_monotonic_time ();
  redis_gate_arm_deadline (self);
}

typedef struct {
  const char *epoch;
  guint64     granted;
  guint64     held;
  guint64     wants;
  guint64     quiet_ms;
  gboolean    forgot;
} SyncReply;

static gboolean
redis_gate_parse_sync (const redisReply *reply,
                       SyncReply        *out)
{
  guint64 *numbers[] = { &out->granted, &out->held, &out->wants, &out->quiet_ms };

  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 6 ||
      reply->element[0]->type != REDIS_REPLY_STRING)
    return FALSE;
  out->epoch = reply->element[0]->str;
  for (guint i = 0; i < G_N_ELEMENTS (numbers); i++)
    {
      const redisReply *element = reply->element[i + 1];

      if (element->type != REDIS_REPLY_INTEGER || element->integer < 0)
        return FALSE;
      *numbers[i] = (guint64) element->integer;
    }
  if (reply->element[5]->type != REDIS_REPLY_INTEGER)
    return FALSE;
  out->forgot = reply->element[5]->integer != 0;
  return TRUE;
}

static void
redis_gate_apply_sync (RedisGate       *self,
                       const SyncReply *sync)
{
  gint64 now = g_get_monotonic_time ();
  gboolean more, fresh;

  if (sync->forgot)
    g_debug ("Limit “%s”: the server had forgotten it; %u slots registered again, nothing "
             "new starts for %" G_GUINT64_FORMAT " ms", self->config.name, self->sent_held,
             sync->quiet_ms);
  g_free (self->epoch);
  self->epoch = g_strdup (sync->epoch);
  self->backoff_ms = BACKOFF_FIRST_MS;
  self->on_server = sync->held > 0 || sync->wants > 0;

  g_mutex_lock (&self->lock);
  self->usable_until = self->sent_at + (gint64) self->config.lease_ms * 1000;
  self->quiet_until = sync->quiet_ms > 0 ? now + (gint64) sync->quiet_ms * 1000 : 0;
  fresh = redis_gate_take_grants_locked (self, sync->granted);
  /* The reply counts the grants up to the script; those published after it
   * may have arrived first */
  self->server_wants = (guint) sync->wants;
  if (self->granted_seen > sync->granted)
    self->server_wants -= MIN (self->server_wants, (guint) (self->granted_seen - sync->granted));
  more = self->dirty || self->hold_seen;
  if (self->credits > 0 && self->held_since_wake)
    redis_gate_wake_locked (self);
  g_mutex_unlock (&self->lock);

  if (fresh)
    redis_gate_schedule_excess (self);

  if (self->on_server && self->renew_timer == NULL)
    self->renew_timer = redis_gate_add_timeout (self, MAX (self->config.lease_ms / 3, 1),
                                                G_PRIORITY_DEFAULT, redis_gate_renew_cb);
  else if (!self->on_server)
    redis_gate_clear_source (&self->renew_timer);

  redis_gate_clear_source (&self->quiet_timer);
  if (sync->quiet_ms > 0)
    self->quiet_timer = redis_gate_add_timeout (self, (guint) sync->quiet_ms + 1,
                                                G_PRIORITY_DEFAULT, redis_gate_quiet_cb);

  if (more)
    redis_gate_step (self);
}

static void
redis_gate_sync_cb (redisAsyncContext *ac,
                    void              *r,
                    void              *privdata)
{
  RedisConn *conn = ac->data;
  RedisGate *self = conn->gate;
  redisReply *reply = r;
  SyncReply sync;

  if (conn->dead)
    return;
  redis_gate_clear_source (&self->deadline);

  if (reply == NULL)
    {
      redis_gate_link_fail (self, redis_gate_conn_error (ac, "the connection was lost"));
      return;
    }
  if (reply->type == REDIS_REPLY_ERROR && g_str_has_prefix (reply->str, "NOSCRIPT"))
    {
      /* A server that restarted lost its scripts: EVAL runs it and caches it again */
      if (redis_gate_send (self, redis_gate_sync_cb, TRUE, NULL) != REDIS_OK)
        redis_gate_link_fail (self, "the connection is closing");
      else
        redis_gate_arm_deadline (self);
      return;
    }
  if (reply->type == REDIS_REPLY_ERROR)
    {
      redis_gate_link_fail (self, reply->str);
      return;
    }
  if (!redis_gate_parse_sync (reply, &sync))
    {
      redis_gate_link_fail (self, "unexpected reply from the server’s script");
      return;
    }

  self->in_flight = FALSE;
  redis_gate_apply_sync (self, &sync);
}

/* Main context: whatever is to be done next */
static void
redis_gate_step (RedisGate *self)
{
  GatePhase phase;
  gboolean need, send;

  redis_gate_reap (self);

  g_mutex_lock (&self->lock);
  phase = self->phase;
  need = redis_gate_needs_server_locked (self);
  send = self->dirty || self->hold_seen;
  g_mutex_unlock (&self->lock);

  switch (phase)
    {
    case PHASE_IDLE:
      if (need)
        redis_gate_connect (self);
      break;
    case PHASE_DOWN:
      if (need)
        redis_gate_schedule_retry (self);
      break;
    case PHASE_CONNECTING:
      break;
    case PHASE_READY:
      if (send && !self->in_flight)
        redis_gate_send_sync (self);
      break;
    default:
      g_assert_not_reached ();
    }
}

/* }}} */

/* The strategy {{{ */

static gboolean
redis_gate_create (GKeyFile    *config,
                   const char  *group,
                   TpGateHost  *host,
                   gpointer    *gate,
                   GError     **error)
{
  RedisGate *self;
  KickSource *kick;

  self = g_new0 (RedisGate, 1);
  if (!gate_redis_config_load (&self->config, config, group, error))
    {
      g_free (self);
      return FALSE;
    }

  /* hiredis writes with write(): a server that goes away would kill the
   * process with SIGPIPE. GIO ignores the signal process-wide when its
   * socket class is first used, for the same reason; so does the gate */
  g_type_class_unref (g_type_class_ref (G_TYPE_SOCKET));

  g_atomic_ref_count_init (&self->ref);
  g_mutex_init (&self->lock);
  self->host = host;
  self->context = g_main_context_ref (tp_gate_host_get_main_context (host));
  self->pool_name = g_strdup (tp_gate_host_get_name (host));
  self->holder = g_uuid_string_random ();
  for (guint i = 0; i < GATE_REDIS_N_KEYS; i++)
    self->keys[i] = g_strdup_printf ("taskpool:{%s}:%s", self->config.name,
                                     gate_redis_key_suffixes[i]);
  self->channel_prefix = g_strdup_printf ("taskpool:{%s}:grant:", self->config.name);
  self->channel = g_strconcat (self->channel_prefix, self->holder, NULL);
  self->sha = g_compute_checksum_for_string (G_CHECKSUM_SHA1, gate_redis_sync_script, -1);
  g_snprintf (self->n_keys_text, sizeof self->n_keys_text, "%d", GATE_REDIS_N_KEYS);
  g_snprintf (self->limit_text, sizeof self->limit_text, "%u", self->config.limit);
  g_snprintf (self->lease_text, sizeof self->lease_text, "%u", self->config.lease_ms);
  self->dead_conns = g_ptr_array_new ();
  self->ramp = 1;
  self->backoff_ms = BACKOFF_FIRST_MS;
  self->deadline_ms = CLAMP (self->config.lease_ms / 2, DEADLINE_MIN_MS, DEADLINE_MAX_MS);
  self->down_message = g_strdup ("not connected yet");

  kick = (KickSource *) g_source_new (&redis_gate_kick_funcs, sizeof (KickSource));
  kick->gate = self;
  g_source_set_static_name ((GSource *) kick, "[taskpool] redis gate kick");
  g_source_attach ((GSource *) kick, self->context);
  self->kick = (GSource *) kick;

  *gate = self;
  return TRUE;
}

static TpGateVerdict
redis_gate_admit (gpointer      gate,
                  const TpJob  *job,
                  gint64        now,
                  gint64       *retry_at,
                  GError      **error)
{
  RedisGate *self = gate;
  TpGateVerdict verdict;

  g_mutex_lock (&self->lock);
  if (self->phase == PHASE_READY && self->credits > 0 && now < self->usable_until &&
      now >= self->quiet_until)
    {
      self->admit_pending_since = MAX (now, 1);
      verdict = TP_GATE_ADMIT;
    }
  else if (self->config.fail && self->phase == PHASE_DOWN)
    {
      g_set_error_literal (error, TP_POOL_ERROR, TP_POOL_ERROR_UNAVAILABLE, self->down_message);
      self->admit_pending_since = 0;
      if (!self->fail_seen)
        {
          self->fail_seen = TRUE;
          redis_gate_kick (self);
        }
      verdict = TP_GATE_FAIL;
    }
  else
    {
      if (now < self->quiet_until)
        *retry_at = self->quiet_until;
      self->admit_pending_since = 0;
      self->held_since_wake = TRUE;
      if (!self->hold_seen)
        {
          self->hold_seen = TRUE;
          redis_gate_kick (self);
        }
      verdict = TP_GATE_HOLD;
    }
  g_mutex_unlock (&self->lock);
  return verdict;
}

static void
redis_gate_started (gpointer      gate,
                    const TpJob  *job,
                    gint64        now)
{
  RedisGate *self = gate;

  g_mutex_lock (&self->lock);
  /* Only a thread stalled past ADMIT_WINDOW_US between admit() and
   * started() finds its credit given back: the job runs anyway, and the
   * next call registers the slot again */
  if (self->credits > 0)
    self->credits--;
  else if (!self->dirty)
    {
      self->dirty = TRUE;
      redis_gate_kick (self);
    }
  self->in_use++;
  self->admit_pending_since = 0;
  g_mutex_unlock (&self->lock);
}

static void
redis_gate_ended (gpointer      gate,
                  const TpJob  *job)
{
  RedisGate *self = gate;

  g_mutex_lock (&self->lock);
  g_warn_if_fail (self->in_use > 0);
  if (self->in_use > 0)
    self->in_use--;
  self->ended_since_sync++;
  if (!self->dirty)
    {
      self->dirty = TRUE;
      redis_gate_kick (self);
    }
  g_mutex_unlock (&self->lock);
}

/* Writes the goodbye and waits, at most GOODBYE_WAIT_MS, for its reply.
 * Closing at once would lose it whenever a call is in flight: the server
 * that writes that call's reply to a closed socket drops the connection,
 * and what it had not read yet, the goodbye, with it. A local server
 * answers within a millisecond; one that takes longer leaves the slots to
 * the lease */
static void
redis_gate_say_goodbye (RedisGate *self)
{
  redisContext *c = &self->cmd->ac->c;
  gint64 deadline = g_get_monotonic_time () + GOODBYE_WAIT_MS * 1000;
  guint replies = self->in_flight ? 2 : 1;
  int done = 0;

  if (redis_gate_send (self, NULL, TRUE, "-1") != REDIS_OK)
    return;
  while (replies > 0)
    {
      gint64 left = deadline - g_get_monotonic_time ();
      GPollFD poll_fd = { .fd = c->fd };
      void *reply = NULL;

      if (!done)
        {
          if (redisBufferWrite (c, &done) != REDIS_OK)
            return;
          if (done)
            continue;
          poll_fd.events = G_IO_OUT;
        }
      else
        {
          if (redisGetReplyFromReader (c, &reply) != REDIS_OK)
            return;
          if (reply != NULL)
            {
              freeReplyObject (reply);
              replies--;
              continue;
            }
          poll_fd.events = G_IO_IN;
        }
      if (left <= 0 || g_poll (&poll_fd, 1, (int) MAX (left / 1000, 1)) <= 0)
        return;
      if (poll_fd.revents & G_IO_IN && redisBufferRead (c) != REDIS_OK)
        return;
    }
}

/* Main context: gives back all the gate holds and waits for, and closes its
 * connections. The goodbye (whatever the gate believes: a grant may be on
 * its way) is sent if the link is up; if not, or if the server does not
 * answer in time, the lease runs out */
static void
redis_gate_teardown (RedisGate *self)
{
  if (self->phase == PHASE_READY && self->cmd != NULL && self->cmd->ac != NULL)
    redis_gate_say_goodbye (self);

  redis_gate_conn_kill (self, &self->cmd);
  redis_gate_conn_kill (self, &self->sub);
  redis_gate_reap (self);
  if (self->resolving != NULL)
    g_cancellable_cancel (self->resolving);
  g_clear_object (&self->resolving);
  redis_gate_stop_timers (self);
  redis_gate_clear_source (&self->retry_timer);
  redis_gate_clear_source (&self->excess);
  g_source_destroy (self->kick);
  redis_gate_unref (self);
}

static gboolean
redis_gate_teardown_cb (gpointer data)
{
  redis_gate_teardown (data);
  return G_SOURCE_REMOVE;
}

static void
redis_gate_destroy (gpointer gate)
{
  RedisGate *self = gate;
  GMainContext *context = self->context;

  g_mutex_lock (&self->lock);
  self->host = NULL;
  g_mutex_unlock (&self->lock);

  /* hiredis is used from the pool's context only: from another thread, the
   * teardown waits for that context */
  if (g_main_context_acquire (context))
    {
      g_main_context_ref (context);
      redis_gate_teardown (self);
      g_main_context_release (context);
      g_main_context_unref (context);
    }
  else
    {
      GSource *source = g_idle_source_new ();

      g_source_set_priority (source, G_PRIORITY_HIGH);
      g_source_set_callback (source, redis_gate_teardown_cb, self, NULL);
      g_source_set_static_name (source, "[taskpool] redis gate teardown");
      g_source_attach (source, self->context);
      g_source_unref (source);
    }
}

static const TpGateStrategy redis_gate_strategy = {
  .struct_size = sizeof (TpGateStrategy),
  .name = "redis",
  .description = "A limit on running jobs shared through a Redis server by every pool "
                 "with the same redis-name",
  .keys = redis_gate_keys,
  .create = redis_gate_create,
  .destroy = redis_gate_destroy,
  .admit = redis_gate_admit,
  .started = redis_gate_started,
  .ended = redis_gate_ended,
};

static const TpGateStrategy * const redis_gates[] = { &redis_gate_strategy, NULL };

TP_PLUGIN_DEFINE_WITH_GATES ("gate-redis", "1.3",
                             "A concurrent limit shared by processes through Redis",
                             NULL, NULL, redis_gates)

/* }}} */

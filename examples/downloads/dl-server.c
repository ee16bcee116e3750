/* dl-server.c: a local HTTP server of generated files, for self-tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "dl-server.h"

typedef struct {
  guint in_flight;
  guint peak;
} DlHost;

struct _DlServer
{
  SoupServer *server;
  guint       port;
  guint       interval_ms;
  GHashTable *hosts;          /* host name → DlHost */
  guint       in_flight;
  guint       peak;
  guint       n_requests;

  guint       barrier;        /* 0: none */
  gboolean    barrier_reached;
  GPtrArray  *waiting;        /* DlSlow, before the barrier */

  gboolean    stopped;
  GPtrArray  *stopped_slow;   /* DlSlow, at their stop */
  GPtrArray  *slow;           /* every DlSlow in flight */
};

/* A /slow response being sent */
typedef struct {
  DlServer          *server;
  SoupServerMessage *message;
  GBytes            *content;
  gsize              sent;
  gsize              chunk;
  gsize              stop;
  guint              timer_id;
} DlSlow;

GBytes *
dl_content (const char *name,
            gsize       size)
{
  guint8 *data = g_malloc (size);
  guint32 state = g_str_hash (name) | 1;

  /* xorshift: every byte value, no short period */
  for (gsize i = 0; i < size; i++)
    {
      state ^= state << 13;
      state ^= state >> 17;
      state ^= state << 5;
      data[i] = state >> 24;
    }
  return g_bytes_new_take (data, size);
}

/* Counting {{{ */

static const char *
dl_server_message_host (SoupServerMessage *message)
{
  return g_uri_get_host (soup_server_message_get_uri (message));
}

static void
dl_server_enter (DlServer          *self,
                 SoupServerMessage *message)
{
  const char *name = dl_server_message_host (message);
  DlHost *host = g_hash_table_lookup (self->hosts, name);

  if (host == NULL)
    {
      host = g_new0 (DlHost, 1);
      g_hash_table_insert (self->hosts, g_strdup (name), host);
    }
  host->in_flight++;
  host->peak = MAX (host->peak, host->in_flight);
  self->in_flight++;
  self->peak = MAX (self->peak, self->in_flight);
  self->n_requests++;
}

static void
dl_server_leave (DlServer          *self,
                 SoupServerMessage *message)
{
  DlHost *host = g_hash_table_lookup (self->hosts, dl_server_message_host (message));

  g_assert (host != NULL && host->in_flight > 0);
  host->in_flight--;
  self->in_flight--;
}

static void
dl_server_finished_cb (SoupServerMessage *message,
                       gpointer           user_data)
{
  dl_server_leave (user_data, message);
}

/* }}} */

/* /slow {{{ */

static void
dl_slow_free (gpointer data)
{
  DlSlow *slow = data;

  g_clear_handle_id (&slow->timer_id, g_source_remove);
  g_bytes_unref (slow->content);
  g_free (slow);
}

static gboolean dl_slow_send_cb (gpointer user_data);

static void
dl_slow_schedule (DlSlow *slow)
{
  slow->timer_id = g_timeout_add (slow->server->interval_ms, dl_slow_send_cb, slow);
}

static gboolean
dl_slow_send_cb (gpointer user_data)
{
  DlSlow *slow = user_data;
  SoupMessageBody *body = soup_server_message_get_response_body (slow->message);
  gsize size = g_bytes_get_size (slow->content);
  gsize length = MIN (slow->chunk, size - slow->sent);
  gboolean at_stop = slow->sent < slow->stop && slow->sent + length >= slow->stop;

  slow->timer_id = 0;
  if (at_stop)
    length = slow->stop - slow->sent;
  soup_message_body_append (body, SOUP_MEMORY_COPY,
                            (const guint8 *) g_bytes_get_data (slow->content, NULL) + slow->sent,
                            length);
  slow->sent += length;
  if (slow->sent == size)
    soup_message_body_complete (body);
  soup_server_message_unpause (slow->message);

  if (slow->sent < size && at_stop && slow->server->stopped)
    g_ptr_array_add (slow->server->stopped_slow, slow);
  else if (slow->sent < size)
    dl_slow_schedule (slow);
  return G_SOURCE_REMOVE;
}

static void
dl_slow_finished_cb (SoupServerMessage *message,
                     gpointer           user_data)
{
  DlSlow *slow = user_data;
  DlServer *self = slow->server;

  g_ptr_array_remove (self->waiting, slow);
  g_ptr_array_remove (self->stopped_slow, slow);
  g_ptr_array_remove (self->slow, slow);   /* frees it */
}

static void
dl_server_pass_barrier (DlServer *self)
{
  self->barrier_reached = TRUE;
  for (guint i = 0; i < self->waiting->len; i++)
    dl_slow_schedule (self->waiting->pdata[i]);
  g_ptr_array_set_size (self->waiting, 0);
}

static void
dl_server_handle_slow (DlServer          *self,
                       SoupServerMessage *message,
                       GBytes            *content,
                       guint              chunks,
                       guint              stop_percent)
{
  DlSlow *slow = g_new0 (DlSlow, 1);
  gsize size = g_bytes_get_size (content);

  slow->server = self;
  slow->message = message;
  slow->content = g_bytes_ref (content);
  slow->chunk = MAX (1, (size + chunks - 1) / MAX (chunks, 1));
  slow->stop = size * MIN (stop_percent, 100) / 100;
  g_ptr_array_add (self->slow, slow);
  g_signal_connect (message, "finished", G_CALLBACK (dl_slow_finished_cb), slow);
  soup_message_headers_set_content_length (soup_server_message_get_response_headers (message),
                                           size);
  soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
  soup_server_message_pause (message);

  if (self->barrier > 0 && !self->barrier_reached)
    {
      g_ptr_array_add (self->waiting, slow);
      if (self->waiting->len >= self->barrier)
        dl_server_pass_barrier (self);
    }
  else
    dl_slow_schedule (slow);
}

/* }}} */

/* /drop: a response cut in the middle of its body */
static void
dl_server_handle_drop (DlServer          *self,
                       SoupServerMessage *message,
                       GBytes            *content)
{
  g_autoptr(GIOStream) stream = NULL;
  g_autofree char *head = NULL;
  GOutputStream *out;
  gsize size = g_bytes_get_size (content);

  head = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Length: %" G_GSIZE_FORMAT "\r\n"
                          "Connection: close\r\n\r\n", size);
  dl_server_leave (self, message);
  stream = soup_server_message_steal_connection (message);
  out = g_io_stream_get_output_stream (stream);
  /* A few kilobytes on the loopback: the socket's buffer takes them at once */
  g_output_stream_write_all (out, head, strlen (head), NULL, NULL, NULL);
  g_output_stream_write_all (out, g_bytes_get_data (content, NULL), size / 2, NULL, NULL, NULL);
  g_io_stream_close (stream, NULL, NULL);
}

static guint
dl_query_uint (GHashTable *query,
               const char *name,
               guint       fallback)
{
  const char *value = query != NULL ? g_hash_table_lookup (query, name) : NULL;

  return value != NULL ? (guint) g_ascii_strtoull (value, NULL, 10) : fallback;
}

static void
dl_server_handle (SoupServer        *server,
                  SoupServerMessage *message,
                  const char        *path,
                  GHashTable        *query,
                  gpointer           user_data)
{
  DlServer *self = user_data;
  g_auto(GStrv) parts = g_strsplit (path, "/", 3);   /* "", route, name */
  g_autoptr(GBytes) content = NULL;

  dl_server_enter (self, message);
  if (g_strv_length (parts) != 3 || *parts[2] == '\0')
    {
      soup_server_message_set_status (message, SOUP_STATUS_NOT_FOUND, NULL);
      g_signal_connect (message, "finished", G_CALLBACK (dl_server_finished_cb), self);
      return;
    }
  content = dl_content (parts[2], dl_query_uint (query, "size", 1024));
  if (g_str_equal (parts[1], "drop"))
    {
      dl_server_handle_drop (self, message, content);
      return;
    }
  g_signal_connect (message, "finished", G_CALLBACK (dl_server_finished_cb), self);
  if (g_str_equal (parts[1], "file"))
    {
      soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (message, "application/octet-stream", SOUP_MEMORY_COPY,
                                        g_bytes_get_data (content, NULL),
                                        g_bytes_get_size (content));
    }
  else if (g_str_equal (parts[1], "slow"))
    dl_server_handle_slow (self, message, content, dl_query_uint (query, "chunks", 10),
                           dl_query_uint (query, "stop", 0));
  else if (g_str_equal (parts[1], "fail"))
    soup_server_message_set_status (message, SOUP_STATUS_INTERNAL_SERVER_ERROR, NULL);
  else
    soup_server_message_set_status (message, SOUP_STATUS_NOT_FOUND, NULL);
}

/* Life cycle {{{ */

DlServer *
dl_server_new (GError **error)
{
  g_autoptr(DlServer) self = g_new0 (DlServer, 1);
  g_autoptr(GSList) uris = NULL;

  self->interval_ms = 10;
  self->hosts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->waiting = g_ptr_array_new ();
  self->stopped_slow = g_ptr_array_new ();
  self->slow = g_ptr_array_new_with_free_func (dl_slow_free);
  self->server = soup_server_new ("server-header", "dl-server ", NULL);
  soup_server_add_handler (self->server, NULL, dl_server_handle, self, NULL);
  if (!soup_server_listen_local (self->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, error))
    return NULL;
  uris = soup_server_get_uris (self->server);
  self->port = g_uri_get_port (uris->data);
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);
  return g_steal_pointer (&self);
}

void
dl_server_free (DlServer *self)
{
  if (self->server != NULL)
    {
      soup_server_disconnect (self->server);
      g_clear_object (&self->server);
    }
  g_clear_pointer (&self->waiting, g_ptr_array_unref);
  g_clear_pointer (&self->stopped_slow, g_ptr_array_unref);
  g_clear_pointer (&self->slow, g_ptr_array_unref);
  g_clear_pointer (&self->hosts, g_hash_table_unref);
  g_free (self);
}

char *
dl_server_get_url (DlServer   *self,
                   const char *host,
                   const char *path)
{
  return g_strdup_printf ("http://%s:%u%s", host, self->port, path);
}

void
dl_server_set_interval (DlServer *self,
                        guint     interval_ms)
{
  self->interval_ms = interval_ms;
}

void
dl_server_set_barrier (DlServer *self,
                       guint     n_slow)
{
  self->barrier = n_slow;
  self->barrier_reached = FALSE;
}

gboolean
dl_server_barrier_reached (DlServer *self)
{
  return self->barrier_reached;
}

void
dl_server_stop (DlServer *self)
{
  self->stopped = TRUE;
}

void
dl_server_release (DlServer *self)
{
  self->stopped = FALSE;
  for (guint i = 0; i < self->stopped_slow->len; i++)
    dl_slow_schedule (self->stopped_slow->pdata[i]);
  g_ptr_array_set_size (self->stopped_slow, 0);
}

guint
dl_server_get_n_stopped (DlServer *self)
{
  return self->stopped_slow->len;
}

guint
dl_server_get_n_requests (DlServer *self)
{
  return self->n_requests;
}

guint
dl_server_get_peak (DlServer   *self,
                    const char *host)
{
  DlHost *entry = g_hash_table_lookup (self->hosts, host);

  return entry != NULL ? entry->peak : 0;
}

guint
dl_server_get_peak_total (DlServer *self)
{
  return self->peak;
}

/* }}} */

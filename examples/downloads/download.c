/* download.c: one download, as a job of a pool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A download is an async job: it runs on the pool's main context, where the
 * SoupSession lives, sends its request, streams the body into a partial
 * file beside the destination with GIO's async calls, reports its progress
 * with tp_task_set_progress(), and renames the partial file when the body is
 * complete. Whatever goes wrong, the partial file is deleted: a download
 * that fails leaves nothing behind. The job's cancellable is passed to every
 * call, so a cancel (a row's button, Ctrl-C, closing the pool) stops it at
 * once.
 */

#include "download.h"

#define DOWNLOAD_BUFFER_SIZE (64 * 1024)
#define DOWNLOAD_NAME_MAX 200     /* bytes, well under NAME_MAX with ".…part" around */
#define DOWNLOAD_EXTENSION_MAX 16

struct _Download
{
  gatomicrefcount   ref_count;

  SoupSession      *session;
  GUri             *uri;
  char             *url;
  char             *name;
  char             *key;
  GFile            *file;
  GFile            *part;          /* ".NAME.part" beside file */
  gboolean          overwrite;

  /* While the job runs */
  GTask            *task;
  GCancellable     *cancellable;
  SoupMessage      *message;
  GInputStream     *body;
  GOutputStream    *out;
  guint8           *buffer;
  GError           *error;         /* the first error, while the partial file is removed */
  guint64           received;
  gint64            total;
  gboolean          responded;
};

/* Names {{{ */

static void
download_name_make_safe (GString *name)
{
  for (gsize i = 0; i < name->len; i++)
    {
      guchar c = name->str[i];

      if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
        name->str[i] = '_';
    }
  /* Never a hidden file, "." or "..": the partial files are the hidden ones */
  if (name->str[0] == '.')
    name->str[0] = '_';
}

/* Keeps the extension of a name longer than DOWNLOAD_NAME_MAX, cutting the
 * rest at a character's boundary */
static void
download_name_shorten (GString *name)
{
  const char *dot = strrchr (name->str, '.');
  g_autofree char *extension = NULL;
  const char *cut;
  gsize keep;

  if (name->len <= DOWNLOAD_NAME_MAX)
    return;
  if (dot != NULL && strlen (dot) <= DOWNLOAD_EXTENSION_MAX)
    extension = g_strdup (dot);
  keep = DOWNLOAD_NAME_MAX - (extension != NULL ? strlen (extension) : 0);
  cut = g_utf8_find_prev_char (name->str, name->str + keep + 1);
  g_string_truncate (name, cut != NULL ? (gsize) (cut - name->str) : keep);
  if (extension != NULL)
    g_string_append (name, extension);
}

char *
download_file_name_for_uri (GUri *uri)
{
  const char *path = g_uri_get_path (uri);
  const char *slash = strrchr (path, '/');
  const char *segment = slash != NULL ? slash + 1 : path;
  g_autofree char *decoded = NULL;
  GString *name;

  if (*segment == '\0')
    return g_strdup ("index.html");

  /* An escaped slash or NUL, or bytes that are no UTF-8: keep it escaped */
  decoded = g_uri_unescape_string (segment, "/");
  if (decoded == NULL || !g_utf8_validate (decoded, -1, NULL))
    {
      g_free (decoded);
      decoded = g_strdup (segment);
    }
  if (*decoded == '\0')
    return g_strdup ("index.html");

  name = g_string_new (decoded);
  download_name_make_safe (name);
  download_name_shorten (name);
  return g_string_free (name, FALSE);
}

char *
download_key_for_uri (GUri *uri)
{
  g_autofree char *ascii = g_hostname_to_ascii (g_uri_get_host (uri));

  return g_ascii_strdown (ascii != NULL ? ascii : g_uri_get_host (uri), -1);
}

/* An IP address, or a name whose ASCII form has only letters, digits, dots,
 * hyphens and underscores */
static gboolean
download_host_is_valid (const char *host)
{
  g_autofree char *ascii = NULL;

  if (g_hostname_is_ip_address (host))
    return TRUE;
  ascii = g_hostname_to_ascii (host);
  if (ascii == NULL)
    return FALSE;
  for (const char *c = ascii; *c != '\0'; c++)
    if (!g_ascii_isalnum (*c) && *c != '.' && *c != '-' && *c != '_')
      return FALSE;
  return TRUE;
}

GUri *
download_parse_url (const char  *url,
                    GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GUri) uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, &local_error);
  const char *scheme;

  if (uri == NULL)
    {
      g_set_error (error, G_URI_ERROR, local_error->code, "“%s” is not a URL: %s", url,
                   local_error->message);
      return NULL;
    }
  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)
    {
      g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_SCHEME,
                   "“%s”: the scheme “%s” is not supported; use http or https", url, scheme);
      return NULL;
    }
  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_HOST, "“%s” has no host", url);
      return NULL;
    }
  if (!download_host_is_valid (g_uri_get_host (uri)))
    {
      g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_HOST, "“%s”: “%s” is not a host name",
                   url, g_uri_get_host (uri));
      return NULL;
    }
  return g_steal_pointer (&uri);
}

/* }}} */

/* Life cycle {{{ */

Download *
download_new (SoupSession *session,
              GUri        *uri,
              GFile       *folder,
              const char  *name,
              gboolean     overwrite)
{
  Download *self = g_new0 (Download, 1);
  g_autofree char *part_name = g_strdup_printf (".%s.part", name);

  g_atomic_ref_count_init (&self->ref_count);
  self->session = g_object_ref (session);
  self->uri = g_uri_ref (uri);
  self->url = g_uri_to_string (uri);
  self->name = g_strdup (name);
  self->key = download_key_for_uri (uri);
  self->file = g_file_get_child (folder, name);
  self->part = g_file_get_child (folder, part_name);
  self->overwrite = overwrite;
  self->total = -1;
  return self;
}

Download *
download_ref (Download *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
download_unref (Download *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_assert (self->task == NULL);
  g_object_unref (self->session);
  g_uri_unref (self->uri);
  g_free (self->url);
  g_free (self->name);
  g_free (self->key);
  g_object_unref (self->file);
  g_object_unref (self->part);
  g_free (self);
}

const char *
download_get_url (Download *self)
{
  return self->url;
}

const char *
download_get_name (Download *self)
{
  return self->name;
}

const char *
download_get_key (Download *self)
{
  return self->key;
}

GFile *
download_get_file (Download *self)
{
  return self->file;
}

guint64
download_get_received (Download *self)
{
  return self->received;
}

gint64
download_get_total (Download *self)
{
  return self->total;
}

gboolean
download_has_response (Download *self)
{
  return self->responded;
}

/* }}} */

/* The job {{{ */

static void download_read (Download *self);

/* Drops what the run held, then completes the job: the last thing it does */
static void
download_complete (Download *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->task);

  g_clear_object (&self->message);
  g_clear_object (&self->body);
  g_clear_object (&self->out);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->buffer, g_free);
  if (self->error != NULL)
    g_task_return_error (task, g_steal_pointer (&self->error));
  else
    g_task_return_pointer (task, g_object_ref (self->file), g_object_unref);
  download_unref (self);
}

static void
download_part_deleted_cb (GObject      *source,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  /* Nothing to delete when the file was never created */
  if (!g_file_delete_finish (G_FILE (source), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    g_warning ("Could not delete %s: %s", g_file_peek_path (G_FILE (source)), error->message);
  download_complete (user_data);
}

static void
download_delete_part (Download *self)
{
  /* Not cancellable: this is the clean-up after a cancel */
  g_file_delete_async (self->part, G_PRIORITY_DEFAULT, NULL, download_part_deleted_cb, self);
}

static void
download_out_closed_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_output_stream_close_finish (G_OUTPUT_STREAM (source), result, NULL);
  download_delete_part (user_data);
}

/* Fails the download with @error: closes and deletes the partial file first */
static void
download_fail (Download *self,
               GError   *error)
{
  g_assert (self->error == NULL);
  self->error = error;
  if (self->out != NULL)
    g_output_stream_close_async (self->out, G_PRIORITY_DEFAULT, NULL, download_out_closed_cb,
                                 self);
  else if (self->body != NULL || self->buffer != NULL)
    download_delete_part (self);
  else
    download_complete (self);
}

static void
download_moved_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Download *self = user_data;
  GError *error = NULL;

  if (!g_file_move_finish (G_FILE (source), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_EXISTS))
        g_prefix_error (&error, "%s appeared meanwhile, not overwritten: ", self->name);
      download_fail (self, error);
      return;
    }
  download_complete (self);
}

static void
download_saved_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Download *self = user_data;
  GError *error = NULL;

  if (!g_output_stream_close_finish (G_OUTPUT_STREAM (source), result, &error))
    {
      download_fail (self, error);
      return;
    }
  g_clear_object (&self->out);
  tp_task_set_progress (self->task, 1.0);
  g_file_move_async (self->part, self->file,
                     self->overwrite ? G_FILE_COPY_OVERWRITE : G_FILE_COPY_NONE,
                     G_PRIORITY_DEFAULT, self->cancellable, NULL, NULL, download_moved_cb, self);
}

/* The body ended: it must be as long as the server said */
static void
download_end_of_body (Download *self)
{
  if (self->total >= 0 && self->received != (guint64) self->total)
    {
      download_fail (self, g_error_new (G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                                        "The connection closed after %" G_GUINT64_FORMAT
                                        " of %" G_GINT64_FORMAT " bytes",
                                        self->received, self->total));
      return;
    }
  g_output_stream_close_async (self->out, G_PRIORITY_DEFAULT, self->cancellable,
                               download_saved_cb, self);
}

static void
download_written_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Download *self = user_data;
  GError *error = NULL;
  gsize written;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, &written, &error))
    {
      download_fail (self, error);
      return;
    }
  self->received += written;
  if (self->total > 0)
    tp_task_set_progress (self->task, (double) self->received / (double) self->total);
  download_read (self);
}

static void
download_read_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Download *self = user_data;
  GError *error = NULL;
  gssize n_read = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);

  if (n_read < 0)
    download_fail (self, error);
  else if (n_read == 0)
    download_end_of_body (self);
  else
    g_output_stream_write_all_async (self->out, self->buffer, n_read, G_PRIORITY_DEFAULT,
                                     self->cancellable, download_written_cb, self);
}

static void
download_read (Download *self)
{
  g_input_stream_read_async (self->body, self->buffer, DOWNLOAD_BUFFER_SIZE, G_PRIORITY_DEFAULT,
                             self->cancellable, download_read_cb, self);
}

static void
download_opened_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Download *self = user_data;
  GError *error = NULL;
  GFileOutputStream *out = g_file_replace_finish (G_FILE (source), result, &error);

  if (out == NULL)
    {
      download_fail (self, error);
      return;
    }
  self->out = G_OUTPUT_STREAM (out);
  download_read (self);
}

static GError *
download_check_status (Download *self)
{
  guint status = soup_message_get_status (self->message);

  if (SOUP_STATUS_IS_SUCCESSFUL (status))
    return NULL;
  return g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED, "HTTP %u %s", status,
                      soup_message_get_reason_phrase (self->message));
}

static void
download_sent_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Download *self = user_data;
  GError *error = NULL;
  SoupMessageHeaders *headers;

  self->body = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (self->body == NULL || (error = download_check_status (self)) != NULL)
    {
      g_clear_object (&self->body);
      download_fail (self, error);
      return;
    }
  self->responded = TRUE;
  headers = soup_message_get_response_headers (self->message);
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH)
    self->total = soup_message_headers_get_content_length (headers);
  self->buffer = g_malloc (DOWNLOAD_BUFFER_SIZE);
  /* The partial file is ours: one left by a run that was killed is replaced */
  g_file_replace_async (self->part, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION,
                        G_PRIORITY_DEFAULT, self->cancellable, download_opened_cb, self);
}

static void
download_job (GTask        *task,
              gpointer      pool,
              gpointer      job_data,
              GCancellable *cancellable)
{
  Download *self = download_ref (job_data);

  self->task = g_object_ref (task);
  self->cancellable = g_object_ref (cancellable);
  self->received = 0;
  self->total = -1;
  self->responded = FALSE;
  if (!self->overwrite && g_file_query_exists (self->file, NULL))
    {
      download_fail (self, g_error_new (G_IO_ERROR, G_IO_ERROR_EXISTS,
                                        "%s exists; not overwritten without --overwrite",
                                        g_file_peek_path (self->file)));
      return;
    }
  self->message = soup_message_new_from_uri (SOUP_METHOD_GET, self->uri);
  soup_session_send_async (self->session, self->message, G_PRIORITY_DEFAULT, cancellable,
                           download_sent_cb, self);
}

void
download_submit (Download            *self,
                 TpPool              *pool,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  g_autoptr(TpJobOptions) options = tp_job_options_new ();

  tp_job_options_set_label (options, self->name);
  tp_job_options_set_key (options, self->key);
  tp_pool_submit_with_options_async (pool, options, download_job, download_ref (self),
                                     (GDestroyNotify) download_unref, NULL, callback,
                                     user_data);
}

gboolean
download_finish (TpPool        *pool,
                 GAsyncResult  *result,
                 GError       **error)
{
  g_autoptr(GFile) file = tp_pool_submit_finish (pool, result, error);

  return file != NULL;
}

/* }}} */

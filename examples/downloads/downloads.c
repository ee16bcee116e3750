/* downloads.c: a command-line downloader on a pool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: downloads [-o DIR] [-j N] [-p N] [--overwrite] [URL…]
 *
 * Downloads the URLs given as arguments, or read one per line from standard
 * input, into a folder: at most N at once in all (the pool's size), at most
 * N at once from one host (the pool's `per-key` gate, keyed by the URL's
 * host), the hosts in turn (the `fair` queue). Exit status: 0 when every URL
 * was saved, 1 when some were not, 2 on a usage error (nothing downloaded),
 * 128 + the signal's number after Ctrl-C or SIGTERM.
 */

#include <glib-unix.h>
#include <locale.h>
#include <gio/gunixinputstream.h>
#include <signal.h>
#include <stdio.h>

#include "downloads.h"

typedef struct {
  /* Options */
  char        *output_dir;
  int          jobs;
  int          per_host;
  gboolean     overwrite;
  char       **urls;

  GFile       *folder;
  TpPool      *pool;
  SoupSession *session;
  GHashTable  *by_name;     /* file name → Download, for the display and for duplicates */
  Display      display;

  guint        n_pending;
  guint        n_saved;
  guint        n_failed;
  guint        n_cancelled;
  gboolean     closed;
  int          signal;      /* the first SIGINT or SIGTERM */
  GMainLoop   *loop;
} Downloads;

/* Options and input {{{ */

static gboolean
downloads_parse_options (Downloads  *self,
                         int        *argc,
                         char     ***argv,
                         GError    **error)
{
  GOptionEntry entries[] = {
    { "output-dir", 'o', 0, G_OPTION_ARG_FILENAME, &self->output_dir,
      "Save into DIR (made if missing; default: the current folder)", "DIR" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &self->jobs,
      "Download at most N at once, in all (default: 4)", "N" },
    { "per-host", 'p', 0, G_OPTION_ARG_INT, &self->per_host,
      "Download at most N at once from one host (default: 2)", "N" },
    { "overwrite", 'f', 0, G_OPTION_ARG_NONE, &self->overwrite,
      "Replace files that exist (default: such a URL fails)", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &self->urls, NULL, "[URL…]" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);

  g_option_context_set_summary (context,
    "Downloads each URL into a file named after it, a few at a time.\n"
    "Without URLs, reads them from standard input, one per line.");
  g_option_context_set_description (context,
    "Exit status: 0 when every URL was saved, 1 when some were not, 2 on a usage\n"
    "error (nothing was downloaded), 130 after Ctrl-C. A download that fails\n"
    "leaves no file behind.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  if (self->jobs < 1 || self->jobs > TP_POOL_MAX_SIZE ||
      self->per_host < 1 || self->per_host > TP_POOL_MAX_SIZE)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--jobs and --per-host must be from 1 to %d", TP_POOL_MAX_SIZE);
      return FALSE;
    }
  return TRUE;
}

/* The URLs of standard input: one per line; blank lines and # comments skipped */
static char **
downloads_read_urls (GError **error)
{
  g_autoptr(GInputStream) in = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  g_autoptr(GDataInputStream) data = g_data_input_stream_new (in);
  g_autoptr(GStrvBuilder) urls = g_strv_builder_new ();
  g_autoptr(GError) local_error = NULL;
  char *line;

  while ((line = g_data_input_stream_read_line_utf8 (data, NULL, NULL, &local_error)) != NULL)
    {
      g_strstrip (line);
      if (*line != '\0' && *line != '#')
        g_strv_builder_add (urls, line);
      g_free (line);
    }
  if (local_error != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "standard input: ");
      return NULL;
    }
  return g_strv_builder_end (urls);
}

/* Every URL must parse before anything is downloaded */
static GPtrArray *
downloads_parse_urls (char    **urls,
                      GError  **error)
{
  g_autoptr(GPtrArray) uris = g_ptr_array_new_with_free_func ((GDestroyNotify) g_uri_unref);

  for (guint i = 0; urls[i] != NULL; i++)
    {
      GUri *uri = download_parse_url (urls[i], error);

      if (uri == NULL)
        return NULL;
      g_ptr_array_add (uris, uri);
    }
  return g_steal_pointer (&uris);
}

/* }}} */

/* Downloads {{{ */

static void
downloads_maybe_quit (Downloads *self)
{
  if (self->closed && self->n_pending == 0)
    g_main_loop_quit (self->loop);
}

/* What a submission's callback is given */
typedef struct {
  Downloads *self;
  Download  *download;
} Submission;

static void
downloads_done_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autofree Submission *submission = user_data;
  Downloads *self = submission->self;
  g_autoptr(Download) download = submission->download;
  guint64 size = download_get_received (download);
  g_autoptr(GError) error = NULL;

  if (download_finish (TP_POOL (source), result, &error))
    {
      self->n_saved++;
      display_message (&self->display, "saved %s (%" G_GUINT64_FORMAT " %s)",
                       g_file_peek_path (download_get_file (download)), size,
                       size == 1 ? "byte" : "bytes");
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
           g_error_matches (error, TP_POOL_ERROR, TP_POOL_ERROR_CLOSED))
    {
      self->n_cancelled++;
      display_message (&self->display, "cancelled %s", download_get_url (download));
    }
  else
    {
      self->n_failed++;
      display_message (&self->display, "failed %s: %s", download_get_url (download),
                       error->message);
    }
  self->n_pending--;
  downloads_maybe_quit (self);
}

static void
downloads_add (Downloads *self,
               GUri      *uri)
{
  g_autofree char *name = download_file_name_for_uri (uri);
  Download *earlier = g_hash_table_lookup (self->by_name, name);
  g_autoptr(Download) download = NULL;
  Submission *submission;

  if (earlier != NULL)
    {
      g_autofree char *url = g_uri_to_string (uri);

      self->n_failed++;
      display_message (&self->display, "failed %s: it would be saved as %s, as %s is", url, name,
                       download_get_url (earlier));
      return;
    }
  download = download_new (self->session, uri, self->folder, name, self->overwrite);
  g_hash_table_insert (self->by_name, g_strdup (name), download_ref (download));
  submission = g_new (Submission, 1);
  submission->self = self;
  submission->download = download_ref (download);
  self->n_pending++;
  download_submit (download, self->pool, downloads_done_cb, submission);
}

static void
downloads_closed_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Downloads *self = user_data;

  tp_pool_close_finish (TP_POOL (source), result, NULL);
  self->closed = TRUE;
  downloads_maybe_quit (self);
}

/* The first Ctrl-C cancels every download; a second one exits at once */
static void
downloads_interrupt (Downloads *self,
                     int        signal_number)
{
  if (self->signal != 0)
    _exit (128 + self->signal);
  self->signal = signal_number;
  tp_pool_close_async (self->pool, TP_CLOSE_CANCEL_RUNNING, NULL, NULL, NULL);
}

static gboolean
downloads_sigint_cb (gpointer user_data)
{
  downloads_interrupt (user_data, SIGINT);
  return G_SOURCE_CONTINUE;
}

static gboolean
downloads_sigterm_cb (gpointer user_data)
{
  downloads_interrupt (user_data, SIGTERM);
  return G_SOURCE_CONTINUE;
}

/* A fair pool of `jobs` workers whose `per-key` gate limits each host */
static TpPool *
downloads_make_pool (Downloads  *self,
                     GError    **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(TpPool) pool = NULL;

  g_key_file_set_string (keyfile, "downloads", "kind", "fixed-fair");
  g_key_file_set_integer (keyfile, "downloads", "size", self->jobs);
  g_key_file_set_string (keyfile, "downloads", "gates", "per-key");
  g_key_file_set_integer (keyfile, "downloads", "per-key-limit", self->per_host);
  pool = tp_pool_new_from_keyfile (keyfile, "downloads", error);
  if (pool == NULL || !tp_pool_start (pool, error))
    return NULL;
  return g_steal_pointer (&pool);
}

/* The pool limits the downloads; the session's own limits (it counts idle
 * connections too) are set above the pool's so that a download the pool
 * started never waits inside the session, unseen */
static SoupSession *
downloads_make_session (Downloads *self)
{
  return soup_session_new_with_options ("max-conns", 2 * self->jobs,
                                        "max-conns-per-host", 2 * self->jobs,
                                        "user-agent", "taskpool-downloads/1.0 ",
                                        NULL);
}

static int
downloads_run (Downloads *self,
               GPtrArray *uris)
{
  g_autoptr(GError) error = NULL;
  guint sigint_id, sigterm_id;

  self->folder = g_file_new_for_commandline_arg (self->output_dir != NULL ? self->output_dir
                                                                          : ".");
  if (!g_file_make_directory_with_parents (self->folder, NULL, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_EXISTS))
    {
      g_printerr ("downloads: %s: %s\n", g_file_peek_path (self->folder), error->message);
      return DOWNLOADS_EXIT_FAILED;
    }
  g_clear_error (&error);
  self->pool = downloads_make_pool (self, &error);
  if (self->pool == NULL)
    {
      g_printerr ("downloads: %s\n", error->message);
      return DOWNLOADS_EXIT_FAILED;
    }
  self->session = downloads_make_session (self);
  self->by_name = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) download_unref);
  self->loop = g_main_loop_new (NULL, FALSE);
  display_init (&self->display, self->pool, self->by_name);
  sigint_id = g_unix_signal_add (SIGINT, downloads_sigint_cb, self);
  sigterm_id = g_unix_signal_add (SIGTERM, downloads_sigterm_cb, self);

  for (guint i = 0; i < uris->len; i++)
    downloads_add (self, uris->pdata[i]);
  tp_pool_close_async (self->pool, TP_CLOSE_DRAIN, NULL, downloads_closed_cb, self);
  g_main_loop_run (self->loop);

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  display_clear (&self->display);
  printf ("%u saved, %u failed, %u cancelled\n", self->n_saved, self->n_failed,
          self->n_cancelled);
  if (self->signal != 0)
    return 128 + self->signal;
  return self->n_failed + self->n_cancelled > 0 ? DOWNLOADS_EXIT_FAILED : DOWNLOADS_EXIT_OK;
}

static void
downloads_clear (Downloads *self)
{
  g_free (self->output_dir);
  g_strfreev (self->urls);
  g_clear_object (&self->folder);
  g_clear_object (&self->pool);
  g_clear_object (&self->session);
  g_clear_pointer (&self->by_name, g_hash_table_unref);
  g_clear_pointer (&self->loop, g_main_loop_unref);
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  Downloads self = { .jobs = 4, .per_host = 2 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) uris = NULL;
  g_auto(GStrv) stdin_urls = NULL;
  int status;

  setlocale (LC_ALL, "");
  if (!downloads_parse_options (&self, &argc, &argv, &error))
    {
      g_printerr ("downloads: %s\nTry “downloads --help”.\n", error->message);
      downloads_clear (&self);
      return DOWNLOADS_EXIT_USAGE;
    }
  if (self.urls == NULL)
    stdin_urls = downloads_read_urls (&error);
  if (error == NULL)
    uris = downloads_parse_urls (self.urls != NULL ? self.urls : stdin_urls, &error);
  if (uris == NULL)
    {
      g_printerr ("downloads: %s\n", error->message);
      downloads_clear (&self);
      return DOWNLOADS_EXIT_USAGE;
    }
  status = downloads_run (&self, uris);
  downloads_clear (&self);
  return status;
}

/* gtk-downloads.c: a GTK 4 window on a pool's list of jobs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: gtk-downloads [-o DIR] [-j N] [-p N] [URL…]
 *        gtk-downloads --self-test N [--screenshot FILE]
 *
 * Each download is a labelled job of a pool (the same job as the
 * command-line downloader's), and the window's list is the pool's own list
 * of jobs, tp_pool_get_jobs(), bound to a GtkListView: a row per job that
 * waits or runs, with its file name, host, state and a progress bar bound to
 * TpJobInfo:progress, and a button that cancels it. The header's toggle is
 * bound to the pool's `held` property; the line at the bottom shows the
 * pool's counters. Nothing here keeps a list of its own.
 */

#include <locale.h>

#include "gtk-downloads.h"

/* Rows {{{ */

/* A job waits in the queue for a free slot, or is held: by the pool's Hold,
 * or by the per-key gate, for its host */
static char *
row_state_text (GObject    *item,
                TpJobState  state,
                gboolean    pool_held,
                gpointer    user_data)
{
  switch (state)
    {
    case TP_JOB_STATE_QUEUED:
      return g_strdup (pool_held ? "Held" : "Queued");
    case TP_JOB_STATE_HELD:
      return g_strdup (pool_held ? "Held" : "Waiting for its host");
    case TP_JOB_STATE_RUNNING:
      return g_strdup ("Downloading");
    default:
      return g_strdup ("");
    }
}

/* An expression for a property of the row's TpJobInfo */
static GtkExpression *
row_info_property (const char *name)
{
  GtkExpression *item = gtk_property_expression_new (GTK_TYPE_LIST_ITEM, NULL, "item");

  return gtk_property_expression_new (TP_TYPE_JOB_INFO, item, name);
}

static void
row_cancel_clicked_cb (GtkButton   *button,
                       GtkListItem *list_item)
{
  TpJobInfo *info = gtk_list_item_get_item (list_item);

  if (info != NULL)
    tp_job_info_cancel (info);
}

static GtkWidget *
row_label_new (GtkListItem *list_item,
               const char  *property,
               const char  *css_class)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_add_css_class (label, css_class);
  gtk_expression_bind (row_info_property (property), label, "label", list_item);
  return label;
}

static GtkWidget *
row_state_label_new (GtkListItem *list_item,
                     TpPool      *pool)
{
  GtkExpression *params[] = {
    row_info_property ("state"),
    gtk_property_expression_new (TP_TYPE_POOL, gtk_object_expression_new (G_OBJECT (pool)),
                                 "held"),
  };
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 1.0);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_expression_bind (gtk_cclosure_expression_new (G_TYPE_STRING, NULL, G_N_ELEMENTS (params),
                                                    params, G_CALLBACK (row_state_text), NULL,
                                                    NULL),
                       label, "label", list_item);
  return label;
}

/* A row: name, host and state above a progress bar, and a cancel button.
 * Bound once, by expressions on the list item: they follow the item it
 * shows, as rows are recycled */
static void
row_setup_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *list_item,
              gpointer                  user_data)
{
  GtkDownloads *self = user_data;
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *line = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *name = row_label_new (list_item, "label", "heading");
  GtkWidget *bar = gtk_progress_bar_new ();
  GtkWidget *cancel = gtk_button_new_from_icon_name ("process-stop-symbolic");

  gtk_widget_set_hexpand (name, TRUE);
  gtk_box_append (GTK_BOX (line), name);
  gtk_box_append (GTK_BOX (line), row_label_new (list_item, "key", "dim-label"));
  gtk_box_append (GTK_BOX (line), row_state_label_new (list_item, self->pool));
  gtk_expression_bind (row_info_property ("progress"), bar, "fraction", list_item);
  gtk_box_append (GTK_BOX (text), line);
  gtk_box_append (GTK_BOX (text), bar);
  gtk_widget_set_hexpand (text, TRUE);
  gtk_widget_set_tooltip_text (cancel, "Cancel this download");
  gtk_widget_set_valign (cancel, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (cancel, "flat");
  g_signal_connect (cancel, "clicked", G_CALLBACK (row_cancel_clicked_cb), list_item);
  g_object_set_data (G_OBJECT (list_item), "cancel-button", cancel);
  gtk_box_append (GTK_BOX (row), text);
  gtk_box_append (GTK_BOX (row), cancel);
  g_object_set (row, "margin-top", 8, "margin-bottom", 8, "margin-start", 12, "margin-end", 6,
                NULL);
  gtk_list_item_set_child (list_item, row);
  gtk_list_item_set_activatable (list_item, FALSE);
  g_ptr_array_add (self->rows, list_item);
}

static void
row_teardown_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *list_item,
                 gpointer                  user_data)
{
  GtkDownloads *self = user_data;

  g_ptr_array_remove (self->rows, list_item);
}

GtkListItem *
gtk_downloads_find_row (GtkDownloads *self,
                        const char   *label)
{
  for (guint i = 0; i < self->rows->len; i++)
    {
      GtkListItem *list_item = self->rows->pdata[i];
      TpJobInfo *info = gtk_list_item_get_item (list_item);

      if (info != NULL && g_strcmp0 (tp_job_info_get_label (info), label) == 0)
        return list_item;
    }
  return NULL;
}

/* }}} */

/* The window {{{ */

static void
gtk_downloads_update_counters (GtkDownloads *self)
{
  g_autofree char *text =
    g_strdup_printf ("%" G_GUINT64_FORMAT " submitted · %" G_GUINT64_FORMAT " succeeded · "
                     "%" G_GUINT64_FORMAT " failed · %" G_GUINT64_FORMAT " cancelled · "
                     "%" G_GUINT64_FORMAT " timed out",
                     tp_pool_get_n_submitted (self->pool), tp_pool_get_n_succeeded (self->pool),
                     tp_pool_get_n_failed (self->pool), tp_pool_get_n_cancelled (self->pool),
                     tp_pool_get_n_timed_out (self->pool));

  gtk_label_set_text (self->counters, text);
}

static void
gtk_downloads_counter_notify_cb (GObject    *pool,
                                 GParamSpec *pspec,
                                 gpointer    user_data)
{
  gtk_downloads_update_counters (user_data);
}

static void
gtk_downloads_url_activate_cb (GtkEntry *entry,
                               gpointer  user_data)
{
  GtkDownloads *self = user_data;
  g_autoptr(GError) error = NULL;
  const char *url = gtk_editable_get_text (GTK_EDITABLE (entry));

  if (gtk_downloads_add (self, url, &error))
    {
      gtk_editable_set_text (GTK_EDITABLE (entry), "");
      gtk_widget_remove_css_class (GTK_WIDGET (entry), "error");
      gtk_widget_set_tooltip_text (GTK_WIDGET (entry), NULL);
    }
  else
    {
      gtk_widget_add_css_class (GTK_WIDGET (entry), "error");
      gtk_widget_set_tooltip_text (GTK_WIDGET (entry), error->message);
    }
}

static GtkWidget *
gtk_downloads_make_list (GtkDownloads *self)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  GtkNoSelection *selection = gtk_no_selection_new (g_object_ref (self->jobs_model));
  GtkWidget *list = gtk_list_view_new (GTK_SELECTION_MODEL (selection), factory);
  GtkWidget *scrolled = gtk_scrolled_window_new ();

  g_signal_connect (factory, "setup", G_CALLBACK (row_setup_cb), self);
  g_signal_connect (factory, "teardown", G_CALLBACK (row_teardown_cb), self);
  gtk_list_view_set_show_separators (GTK_LIST_VIEW (list), TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), list);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand (scrolled, TRUE);
  return scrolled;
}

static GtkWidget *
gtk_downloads_make_header (GtkDownloads *self)
{
  GtkWidget *header = gtk_header_bar_new ();
  GtkWidget *hold = gtk_toggle_button_new_with_label ("Hold");

  gtk_widget_set_tooltip_text (hold, "Start no new download until released");
  /* The pool's notify comes back on its context: the binding stops there */
  g_object_bind_property (self->pool, "held", hold, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  gtk_header_bar_pack_start (GTK_HEADER_BAR (header), hold);
  self->hold = GTK_TOGGLE_BUTTON (hold);
  return header;
}

static void
gtk_downloads_pool_closed_cb (GObject      *source,
                              GAsyncResult *result,
                              gpointer      user_data)
{
  GtkDownloads *self = user_data;

  tp_pool_close_finish (TP_POOL (source), result, NULL);
  g_application_release (G_APPLICATION (self->app));
}

/* Closing the window cancels what runs; the application lives on until
 * every download has removed its partial file */
static gboolean
gtk_downloads_close_request_cb (GtkWindow *window,
                                gpointer   user_data)
{
  GtkDownloads *self = user_data;

  if (self->n_pending > 0)
    {
      g_application_hold (G_APPLICATION (self->app));
      tp_pool_close_async (self->pool, TP_CLOSE_CANCEL_RUNNING, NULL,
                           gtk_downloads_pool_closed_cb, self);
    }
  return FALSE;
}

static void
gtk_downloads_window_destroy_cb (GtkWidget *window,
                                 gpointer   user_data)
{
  GtkDownloads *self = user_data;

  g_signal_handlers_disconnect_by_func (self->pool, gtk_downloads_counter_notify_cb, self);
  self->window = NULL;
  self->counters = NULL;
  self->hold = NULL;
}

static void
gtk_downloads_make_window (GtkDownloads *self)
{
  GtkWidget *window = gtk_application_window_new (self->app);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *entry = gtk_entry_new ();
  GtkWidget *counters = gtk_label_new (NULL);
  const char * const counter_names[] = {
    "submitted", "succeeded", "failed", "cancelled", "timed-out",
  };

  gtk_window_set_title (GTK_WINDOW (window), "Downloads");
  gtk_window_set_default_size (GTK_WINDOW (window), 640, 540);
  gtk_window_set_titlebar (GTK_WINDOW (window), gtk_downloads_make_header (self));
  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), "Add a URL and press Enter");
  g_object_set (entry, "margin-top", 8, "margin-bottom", 8, "margin-start", 12, "margin-end", 12,
                NULL);
  g_signal_connect (entry, "activate", G_CALLBACK (gtk_downloads_url_activate_cb), self);
  gtk_box_append (GTK_BOX (box), entry);
  gtk_box_append (GTK_BOX (box), gtk_downloads_make_list (self));
  gtk_widget_add_css_class (counters, "dim-label");
  g_object_set (counters, "margin-top", 6, "margin-bottom", 6, NULL);
  gtk_box_append (GTK_BOX (box), counters);
  gtk_window_set_child (GTK_WINDOW (window), box);

  self->window = GTK_WINDOW (window);
  self->counters = GTK_LABEL (counters);
  g_signal_connect (window, "destroy", G_CALLBACK (gtk_downloads_window_destroy_cb), self);
  g_signal_connect (window, "close-request", G_CALLBACK (gtk_downloads_close_request_cb), self);
  for (guint i = 0; i < G_N_ELEMENTS (counter_names); i++)
    {
      g_autofree char *signal = g_strconcat ("notify::", counter_names[i], NULL);

      g_signal_connect (self->pool, signal, G_CALLBACK (gtk_downloads_counter_notify_cb), self);
    }
  gtk_downloads_update_counters (self);
}

/* Renders the window as it is now into a PNG file */
gboolean
gtk_downloads_save_screenshot (GtkDownloads  *self,
                               const char    *path,
                               GError       **error)
{
  GtkWidget *widget = GTK_WIDGET (self->window);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;

  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (widget)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Could not save %s", path);
      return FALSE;
    }
  return TRUE;
}

/* }}} */

/* Downloads {{{ */

static void
gtk_downloads_done_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(Download) download = user_data;
  GtkDownloads *self = g_object_get_data (source, "gtk-downloads");
  g_autoptr(GError) error = NULL;

  if (download_finish (TP_POOL (source), result, &error))
    self->n_saved++;
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    self->n_cancelled++;
  else
    {
      self->n_failed++;
      g_printerr ("gtk-downloads: %s: %s\n", download_get_url (download), error->message);
    }
  self->n_pending--;
  if (self->self_test != NULL)
    self_test_download_done (self, download, error);
}

gboolean
gtk_downloads_add (GtkDownloads  *self,
                   const char    *url,
                   GError       **error)
{
  g_autoptr(GUri) uri = download_parse_url (url, error);
  g_autoptr(Download) download = NULL;
  g_autofree char *name = NULL;

  if (uri == NULL)
    return FALSE;
  name = download_file_name_for_uri (uri);
  download = download_new (self->session, uri, self->folder, name, FALSE);
  self->n_pending++;
  download_submit (download, self->pool, gtk_downloads_done_cb, download_ref (download));
  return TRUE;
}

static TpPool *
gtk_downloads_make_pool (GtkDownloads  *self,
                         gboolean       held,
                         GError       **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(TpPool) pool = NULL;

  g_key_file_set_string (keyfile, "downloads", "kind", "fixed-fair");
  g_key_file_set_integer (keyfile, "downloads", "size", self->jobs);
  g_key_file_set_string (keyfile, "downloads", "gates", "per-key");
  g_key_file_set_integer (keyfile, "downloads", "per-key-limit", self->per_host);
  g_key_file_set_boolean (keyfile, "downloads", "held", held);
  pool = tp_pool_new_from_keyfile (keyfile, "downloads", error);
  if (pool == NULL || !tp_pool_start (pool, error))
    return NULL;
  g_object_set_data (G_OBJECT (pool), "gtk-downloads", self);
  return g_steal_pointer (&pool);
}

void
gtk_downloads_quit (GtkDownloads *self,
                    int           status)
{
  self->status = status;
  if (self->window != NULL)
    gtk_window_destroy (self->window);
}

/* }}} */

/* The application {{{ */

static void
gtk_downloads_activate_cb (GApplication *app,
                           gpointer      user_data)
{
  GtkDownloads *self = user_data;

  if (self->window != NULL)
    {
      gtk_window_present (self->window);
      return;
    }
  gtk_downloads_make_window (self);
  gtk_window_present (self->window);
  if (self->self_test_files > 0)
    self_test_start (self);
}

static gboolean
gtk_downloads_start (GtkDownloads  *self,
                     GError       **error)
{
  if (self->jobs < 1 || self->jobs > TP_POOL_MAX_SIZE || self->per_host < 1 ||
      self->per_host > TP_POOL_MAX_SIZE)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--jobs and --per-host must be from 1 to %d", TP_POOL_MAX_SIZE);
      return FALSE;
    }
  if (self->screenshot != NULL && self->self_test_files == 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--screenshot needs --self-test");
      return FALSE;
    }
  if (self->self_test_files == 0)
    self->folder = g_file_new_for_commandline_arg (self->output_dir != NULL ? self->output_dir
                                                                            : ".");
  self->pool = gtk_downloads_make_pool (self, self->self_test_files > 0, error);
  if (self->pool == NULL)
    return FALSE;
  self->jobs_model = tp_pool_get_jobs (self->pool);
  self->session = soup_session_new_with_options ("max-conns", 2 * self->jobs,
                                                 "max-conns-per-host", 2 * self->jobs,
                                                 "user-agent", "taskpool-gtk-downloads/1.0 ",
                                                 NULL);
  return TRUE;
}

/* Options are read before GTK starts: a usage error needs no display */
static int
gtk_downloads_local_options_cb (GApplication *app,
                                GVariantDict *options,
                                gpointer      user_data)
{
  GtkDownloads *self = user_data;
  g_autoptr(GError) error = NULL;

  if (!gtk_downloads_start (self, &error))
    {
      g_printerr ("gtk-downloads: %s\n", error->message);
      return 2;
    }
  return -1;
}

static void
gtk_downloads_open_cb (GApplication  *app,
                       GFile        **files,
                       int            n_files,
                       const char    *hint,
                       gpointer       user_data)
{
  GtkDownloads *self = user_data;

  gtk_downloads_activate_cb (app, self);
  for (int i = 0; i < n_files; i++)
    {
      g_autofree char *url = g_file_get_uri (files[i]);
      g_autoptr(GError) error = NULL;

      if (!gtk_downloads_add (self, url, &error))
        g_printerr ("gtk-downloads: %s\n", error->message);
    }
}

static void
gtk_downloads_add_options (GtkDownloads *self)
{
  const GOptionEntry entries[] = {
    { "output-dir", 'o', 0, G_OPTION_ARG_FILENAME, &self->output_dir,
      "Save into DIR (default: the current folder)", "DIR" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &self->jobs,
      "Download at most N at once, in all (default: 5)", "N" },
    { "per-host", 'p', 0, G_OPTION_ARG_INT, &self->per_host,
      "Download at most N at once from one host (default: 2)", "N" },
    { "self-test", 0, 0, G_OPTION_ARG_INT, &self->self_test_files,
      "Download N files from a server of its own, check them, and exit", "N" },
    { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, &self->screenshot,
      "With --self-test: save a picture of the window while it downloads", "FILE" },
    G_OPTION_ENTRY_NULL
  };

  g_application_add_main_option_entries (G_APPLICATION (self->app), entries);
  g_application_set_option_context_parameter_string (G_APPLICATION (self->app), "[URL…]");
}

static void
gtk_downloads_clear (GtkDownloads *self)
{
  g_clear_pointer (&self->self_test, self_test_free);
  g_clear_object (&self->app);
  g_clear_object (&self->jobs_model);
  g_clear_object (&self->pool);
  g_clear_object (&self->session);
  g_clear_object (&self->folder);
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_free (self->output_dir);
  g_free (self->screenshot);
}

int
main (int   argc,
      char *argv[])
{
  GtkDownloads self = { .jobs = 5, .per_host = 2 };
  int status;

  setlocale (LC_ALL, "");
  self.rows = g_ptr_array_new ();
  self.app = gtk_application_new ("org.taskpool.GtkDownloads",
                                  G_APPLICATION_NON_UNIQUE | G_APPLICATION_HANDLES_OPEN);
  gtk_downloads_add_options (&self);
  g_signal_connect (self.app, "handle-local-options",
                    G_CALLBACK (gtk_downloads_local_options_cb), &self);
  g_signal_connect (self.app, "activate", G_CALLBACK (gtk_downloads_activate_cb), &self);
  g_signal_connect (self.app, "open", G_CALLBACK (gtk_downloads_open_cb), &self);
  status = g_application_run (G_APPLICATION (self.app), argc, argv);
  if (status == 0)
    status = self.status;
  gtk_downloads_clear (&self);
  return status;
}

/* }}} */

/* self-test.c: gtk-downloads --self-test N
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Starts a server of its own on 127.0.0.1, submits N files from it (from two
 * host names, so that the per-host limit holds some) and one more to cancel,
 * with the pool held, and then plays a user, frame after frame:
 *
 *   1. every job is a row, queued, while the Hold toggle is on; toggle it off;
 *   2. the running rows reach the point where the server pauses each file
 *      (a different one per file): the window is saved (--screenshot), then
 *      the extra row's cancel button is clicked and the server goes on;
 *   3. every download ends: the N files must hold the server's bytes, the
 *      cancelled one must have left nothing, the list must be empty and the
 *      pool's counters must say N succeeded and 1 cancelled.
 *
 * It prints "self-test: N of N rows completed, 1 cancelled from its row" and
 * exits 0, or prints what went wrong and exits 1. After a minute without an
 * end it gives up, with the step it was at.
 */

#include <glib/gstdio.h>

#include "dl-server.h"
#include "gtk-downloads.h"

#define SELF_TEST_CANCEL_NAME "cancel-me.iso"
#define SELF_TEST_GIVE_UP_S 60

typedef enum {
  SELF_TEST_HELD,
  SELF_TEST_RUNNING,
  SELF_TEST_SCREENSHOT,
  SELF_TEST_FINISHING,
} SelfTestStep;

struct _SelfTest
{
  DlServer     *server;
  char         *folder;
  GHashTable   *sizes;          /* file name → size */
  GHashTable   *stops;          /* file name → where the server pauses it, in % */
  GHashTable   *seen;           /* file names that were rows */
  GString      *problems;
  SelfTestStep  step;
  guint         n_completed;    /* rows whose file was saved, as the server sent it */
  gboolean      cancelled_ok;
  guint         tick_id;
  guint         give_up_id;
};

static void
self_test_problem (SelfTest   *test,
                   const char *format,
                   ...) G_GNUC_PRINTF (2, 3);

static void
self_test_problem (SelfTest   *test,
                   const char *format,
                   ...)
{
  va_list args;

  va_start (args, format);
  g_string_append_vprintf (test->problems, format, args);
  va_end (args);
  g_string_append_c (test->problems, '\n');
}

/* Files {{{ */

static gboolean
self_test_check_file (SelfTest   *test,
                      const char *name,
                      gsize       size)
{
  g_autofree char *path = g_build_filename (test->folder, name, NULL);
  g_autoptr(GBytes) expected = dl_content (name, size);
  g_autofree char *contents = NULL;
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, NULL))
    self_test_problem (test, "%s was not saved", name);
  else if (length != size || memcmp (contents, g_bytes_get_data (expected, NULL), size) != 0)
    self_test_problem (test, "%s has %" G_GSIZE_FORMAT " bytes, not the %" G_GSIZE_FORMAT
                       " the server sent", name, length, size);
  else
    return TRUE;
  return FALSE;
}

/* The folder holds the N files and nothing else: no partial file */
static void
self_test_check_folder (SelfTest *test)
{
  g_autoptr(GDir) dir = g_dir_open (test->folder, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (test->folder, name, NULL);

      if (!g_hash_table_contains (test->sizes, name) ||
          g_str_equal (name, SELF_TEST_CANCEL_NAME))
        self_test_problem (test, "%s was left in the folder", name);
      g_unlink (path);
    }
  g_rmdir (test->folder);
}

static void
self_test_add (GtkDownloads *self,
               const char   *host,
               const char   *name,
               gsize         size,
               guint         stop)
{
  SelfTest *test = self->self_test;
  g_autofree char *path = g_strdup_printf ("/slow/%s?size=%" G_GSIZE_FORMAT "&chunks=20&stop=%u",
                                           name, size, stop);
  g_autofree char *url = dl_server_get_url (test->server, host, path);
  g_autoptr(GError) error = NULL;

  g_hash_table_insert (test->sizes, g_strdup (name), GSIZE_TO_POINTER (size));
  g_hash_table_insert (test->stops, g_strdup (name), GUINT_TO_POINTER (stop));
  if (!gtk_downloads_add (self, url, &error))
    self_test_problem (test, "%s", error->message);
}

/* }}} */

/* Steps {{{ */

static guint
self_test_count_state (GtkDownloads *self,
                       TpJobState    state)
{
  guint n = 0;

  for (guint i = 0; i < g_list_model_get_n_items (self->jobs_model); i++)
    {
      g_autoptr(TpJobInfo) info = g_list_model_get_item (self->jobs_model, i);

      n += tp_job_info_get_state (info) == state;
    }
  return n;
}

/* Step 1: all rows are there, waiting behind the Hold toggle */
static gboolean
self_test_all_held (GtkDownloads *self)
{
  SelfTest *test = self->self_test;
  guint n = g_hash_table_size (test->sizes);

  return gtk_toggle_button_get_active (self->hold) &&
         g_list_model_get_n_items (self->jobs_model) == n &&
         self_test_count_state (self, TP_JOB_STATE_RUNNING) == 0 &&
         gtk_downloads_find_row (self, SELF_TEST_CANCEL_NAME) != NULL;
}

/* Step 2: each running row shows the progress where the server paused it */
static gboolean
self_test_all_paused (GtkDownloads *self)
{
  SelfTest *test = self->self_test;
  guint running = 0;

  for (guint i = 0; i < g_list_model_get_n_items (self->jobs_model); i++)
    {
      g_autoptr(TpJobInfo) info = g_list_model_get_item (self->jobs_model, i);
      guint stop = GPOINTER_TO_UINT (g_hash_table_lookup (test->stops,
                                                          tp_job_info_get_label (info)));

      if (tp_job_info_get_state (info) != TP_JOB_STATE_RUNNING)
        continue;
      if (tp_job_info_get_progress (info) < stop / 100.0 - 0.001)
        return FALSE;
      running++;
    }
  return running > 0 && running == dl_server_get_n_stopped (test->server) &&
         gtk_downloads_find_row (self, SELF_TEST_CANCEL_NAME) != NULL;
}

static void
self_test_click_cancel (GtkDownloads *self)
{
  GtkListItem *row = gtk_downloads_find_row (self, SELF_TEST_CANCEL_NAME);
  GtkWidget *button = g_object_get_data (G_OBJECT (row), "cancel-button");

  /* "clicked" itself: gtk_widget_activate() plays the button's press
   * animation first and clicks a quarter of a second later, by when the
   * server, released next, may have sent the whole file */
  g_signal_emit_by_name (button, "clicked");
}

static void
self_test_shoot (GtkDownloads *self)
{
  g_autoptr(GError) error = NULL;

  if (self->screenshot != NULL && !gtk_downloads_save_screenshot (self, self->screenshot,
                                                                  &error))
    self_test_problem (self->self_test, "%s", error->message);
}

static void self_test_finish (GtkDownloads *self);

static gboolean
self_test_tick_cb (GtkWidget     *widget,
                   GdkFrameClock *clock,
                   gpointer       user_data)
{
  GtkDownloads *self = user_data;
  SelfTest *test = self->self_test;

  switch (test->step)
    {
    case SELF_TEST_HELD:
      if (self_test_all_held (self))
        {
          gtk_toggle_button_set_active (self->hold, FALSE);
          test->step = SELF_TEST_RUNNING;
        }
      break;
    case SELF_TEST_RUNNING:
      /* One more frame lays out what the rows show now */
      if (self_test_all_paused (self))
        test->step = SELF_TEST_SCREENSHOT;
      break;
    case SELF_TEST_SCREENSHOT:
      self_test_shoot (self);
      self_test_click_cancel (self);
      dl_server_release (test->server);
      test->step = SELF_TEST_FINISHING;
      break;
    case SELF_TEST_FINISHING:
      if (self->n_pending == 0)
        {
          test->tick_id = 0;
          self_test_finish (self);
          return G_SOURCE_REMOVE;
        }
      break;
    default:
      g_assert_not_reached ();
    }
  return G_SOURCE_CONTINUE;
}

/* }}} */

/* The end {{{ */

static void
self_test_check_pool (GtkDownloads *self,
                      guint         n_files)
{
  SelfTest *test = self->self_test;

  if (g_list_model_get_n_items (self->jobs_model) != 0)
    self_test_problem (test, "%u rows are left in the list",
                       g_list_model_get_n_items (self->jobs_model));
  if (tp_pool_get_n_submitted (self->pool) != n_files + 1 ||
      tp_pool_get_n_succeeded (self->pool) != n_files ||
      tp_pool_get_n_cancelled (self->pool) != 1 || tp_pool_get_n_failed (self->pool) != 0 ||
      tp_pool_get_n_timed_out (self->pool) != 0)
    self_test_problem (test, "the counters say %s", gtk_label_get_text (self->counters));
  if (!test->cancelled_ok)
    self_test_problem (test, "%s was not cancelled from its row", SELF_TEST_CANCEL_NAME);
}

static void
self_test_finish (GtkDownloads *self)
{
  SelfTest *test = self->self_test;
  guint n_files = g_hash_table_size (test->sizes) - 1;

  self_test_check_pool (self, n_files);
  self_test_check_folder (test);
  if (test->problems->len > 0)
    {
      g_printerr ("gtk-downloads: self-test failed:\n%s", test->problems->str);
      gtk_downloads_quit (self, 1);
      return;
    }
  g_print ("self-test: %u of %u rows completed, 1 cancelled from its row\n", test->n_completed,
           n_files);
  gtk_downloads_quit (self, test->n_completed == n_files ? 0 : 1);
}

static gboolean
self_test_give_up_cb (gpointer user_data)
{
  GtkDownloads *self = user_data;
  const char * const steps[] = {
    "every row queued while held", "the running rows paused by the server", "the screenshot",
    "every download to end",
  };

  self->self_test->give_up_id = 0;
  g_printerr ("gtk-downloads: self-test failed: no end after %d s, waiting for %s\n%s",
              SELF_TEST_GIVE_UP_S, steps[self->self_test->step], self->self_test->problems->str);
  gtk_downloads_quit (self, 1);
  return G_SOURCE_REMOVE;
}

void
self_test_download_done (GtkDownloads *self,
                         Download     *download,
                         const GError *error)
{
  SelfTest *test = self->self_test;
  const char *name = download_get_name (download);
  gsize size = GPOINTER_TO_SIZE (g_hash_table_lookup (test->sizes, name));

  if (g_str_equal (name, SELF_TEST_CANCEL_NAME))
    test->cancelled_ok = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
                         test->step == SELF_TEST_FINISHING;
  else if (error != NULL)
    self_test_problem (test, "%s failed: %s", name, error->message);
  else if (!g_hash_table_contains (test->seen, name))
    self_test_problem (test, "%s never was a row", name);
  else if (self_test_check_file (test, name, size))
    test->n_completed++;
}

/* }}} */

static void
self_test_items_changed_cb (GListModel *model,
                            guint       position,
                            guint       removed,
                            guint       added,
                            gpointer    user_data)
{
  SelfTest *test = user_data;

  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(TpJobInfo) info = g_list_model_get_item (model, i);

      g_hash_table_add (test->seen, g_strdup (tp_job_info_get_label (info)));
    }
}

void
self_test_start (GtkDownloads *self)
{
  SelfTest *test = g_new0 (SelfTest, 1);
  g_autoptr(GError) error = NULL;
  guint n = self->self_test_files;

  self->self_test = test;
  test->problems = g_string_new (NULL);
  test->sizes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  test->stops = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  test->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  test->server = dl_server_new (&error);
  test->folder = g_dir_make_tmp ("gtk-downloads-XXXXXX", error == NULL ? &error : NULL);
  if (error != NULL)
    {
      g_printerr ("gtk-downloads: self-test failed: %s\n", error->message);
      gtk_downloads_quit (self, 1);
      return;
    }
  self->folder = g_file_new_for_path (test->folder);
  dl_server_stop (test->server);
  g_signal_connect (self->jobs_model, "items-changed", G_CALLBACK (self_test_items_changed_cb),
                    test);

  self_test_add (self, "localhost", SELF_TEST_CANCEL_NAME, 400000, 35);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("photo-%02u.jpg", i + 1);

      self_test_add (self, i < (2 * n + 2) / 3 ? "127.0.0.1" : "localhost", name,
                     150000 + 37000 * i, 20 + (i * 53) % 70);
    }
  test->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self->window), self_test_tick_cb,
                                                self, NULL);
  test->give_up_id = g_timeout_add_seconds (SELF_TEST_GIVE_UP_S, self_test_give_up_cb, self);
}

void
self_test_free (SelfTest *test)
{
  g_clear_handle_id (&test->give_up_id, g_source_remove);
  g_clear_pointer (&test->server, dl_server_free);
  g_free (test->folder);
  g_hash_table_unref (test->sizes);
  g_hash_table_unref (test->stops);
  g_hash_table_unref (test->seen);
  g_string_free (test->problems, TRUE);
  g_free (test);
}

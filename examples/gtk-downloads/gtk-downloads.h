/* gtk-downloads.h: a GTK 4 window on a pool's list of jobs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "download.h"

G_BEGIN_DECLS

typedef struct _SelfTest SelfTest;

typedef struct {
  GtkApplication  *app;
  int              status;        /* what main() returns */

  /* Options */
  char            *output_dir;
  int              jobs;
  int              per_host;
  int              self_test_files;
  char            *screenshot;

  TpPool          *pool;
  GListModel      *jobs_model;    /* tp_pool_get_jobs() */
  SoupSession     *session;
  GFile           *folder;

  GtkWindow       *window;
  GtkToggleButton *hold;
  GtkLabel        *counters;
  GPtrArray       *rows;          /* GtkListItem: the rows the list view made */

  guint            n_pending;
  guint            n_saved;
  guint            n_failed;
  guint            n_cancelled;

  SelfTest        *self_test;
} GtkDownloads;

/* Starts a download of @url; an error when it is no http URL */
gboolean gtk_downloads_add           (GtkDownloads     *self,
                                      const char       *url,
                                      GError          **error);
/* The row that shows the job labelled @label, or %NULL */
GtkListItem *gtk_downloads_find_row  (GtkDownloads     *self,
                                      const char       *label);
gboolean gtk_downloads_save_screenshot (GtkDownloads   *self,
                                        const char     *path,
                                        GError        **error);
void     gtk_downloads_quit          (GtkDownloads     *self,
                                      int               status);

/* The self-test: its own server, a temporary folder, N files */
void     self_test_start             (GtkDownloads     *self);
void     self_test_download_done     (GtkDownloads     *self,
                                      Download         *download,
                                      const GError     *error);
void     self_test_free              (SelfTest         *test);

G_END_DECLS

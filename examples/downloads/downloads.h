/* downloads.h: the command-line downloader's shared state
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "download.h"

G_BEGIN_DECLS

/* Exit status, as shells expect it */
enum {
  DOWNLOADS_EXIT_OK = 0,        /* every URL was saved */
  DOWNLOADS_EXIT_FAILED = 1,    /* some were not: failed, cancelled, or not startable */
  DOWNLOADS_EXIT_USAGE = 2,     /* a bad option or URL: nothing was downloaded */
};

typedef struct {
  gboolean     tty;
  guint        width;
  guint        lines;         /* lines of bars drawn below the messages */
  guint        redraw_id;
  GListModel  *jobs;          /* the pool's labelled jobs */
  GHashTable  *by_name;       /* label → Download */
} Display;

void display_init        (Display    *display,
                          TpPool     *pool,
                          GHashTable *by_name);
void display_clear       (Display    *display);
void display_message     (Display    *display,
                          const char *format,
                          ...) G_GNUC_PRINTF (2, 3);

G_END_DECLS

/* download.h: one download, as a job of a pool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by the command-line downloader and the GTK window.
 */

#pragma once

#include <libsoup/soup.h>
#include <taskpool/taskpool.h>

G_BEGIN_DECLS

typedef struct _Download Download;

/* The folder's name for what @uri points to, safe to create there */
char       *download_file_name_for_uri (GUri          *uri);
/* The limit key of @uri: its host, in lower case and ASCII */
char       *download_key_for_uri       (GUri          *uri);
/* An http or https URL with a host, or an error that says what is wrong */
GUri       *download_parse_url         (const char    *url,
                                        GError       **error);

Download   *download_new               (SoupSession   *session,
                                        GUri          *uri,
                                        GFile         *folder,
                                        const char    *name,
                                        gboolean       overwrite);
Download   *download_ref               (Download      *self);
void        download_unref             (Download      *self);

/* Submits the download to @pool, labelled with its file name and keyed by
 * its host; @callback runs once it is saved, failed or was cancelled */
void        download_submit            (Download      *self,
                                        TpPool        *pool,
                                        GAsyncReadyCallback callback,
                                        gpointer       user_data);
gboolean    download_finish            (TpPool        *pool,
                                        GAsyncResult  *result,
                                        GError       **error);

const char *download_get_url           (Download      *self);
const char *download_get_name          (Download      *self);
const char *download_get_key           (Download      *self);
GFile      *download_get_file          (Download      *self);
guint64     download_get_received      (Download      *self);
/* Whether the server answered with the headers of a file */
gboolean    download_has_response      (Download      *self);
/* The size the server announced, or -1 when it did not */
gint64      download_get_total         (Download      *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Download, download_unref)

G_END_DECLS

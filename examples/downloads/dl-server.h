/* dl-server.h: a local HTTP server of generated files, for self-tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Listens on 127.0.0.1 on a port the kernel chooses, in the thread-default
 * main context, and serves:
 *
 *   /file/NAME?size=N             N bytes of NAME's content (dl_content())
 *   /slow/NAME?size=N&chunks=K    the same in K chunks, one per interval
 *            [&stop=P]            …pausing at P % while the server is stopped
 *   /fail/NAME                    500 Internal Server Error
 *   /drop/NAME?size=N             announces N bytes, sends half, hangs up
 *
 * It counts the requests of each host name (the request's Host) in flight
 * at once, so that a test can check a limit per host.
 */

#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _DlServer DlServer;

GBytes   *dl_content                (const char  *name,
                                     gsize        size);

DlServer *dl_server_new             (GError     **error);
void      dl_server_free            (DlServer    *self);
char     *dl_server_get_url         (DlServer    *self,
                                     const char  *host,
                                     const char  *path);
/* The pause between two chunks of /slow, 10 ms unless set */
void      dl_server_set_interval    (DlServer    *self,
                                     guint        interval_ms);
/* /slow responses send nothing until @n_slow of them are in flight at once */
void      dl_server_set_barrier     (DlServer    *self,
                                     guint        n_slow);
gboolean  dl_server_barrier_reached (DlServer    *self);
/* While stopped, /slow responses pause at their stop=P; release goes on */
void      dl_server_stop            (DlServer    *self);
void      dl_server_release         (DlServer    *self);
guint     dl_server_get_n_stopped   (DlServer    *self);

guint     dl_server_get_n_requests  (DlServer    *self);
guint     dl_server_get_peak        (DlServer    *self,
                                     const char  *host);
guint     dl_server_get_peak_total  (DlServer    *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DlServer, dl_server_free)

G_END_DECLS

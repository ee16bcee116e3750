/* tp-stress-util.h: what the stress and torture tests share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A thread that cancels cancellables at given moments, so that cancels land
 * in the middle of whatever the pool does then */
typedef struct _StressCanceller StressCanceller;

StressCanceller *stress_canceller_new          (const char      *thread_name);
/* Cancels @cancellable @delay_us from now, on the canceller's thread */
void             stress_canceller_cancel_later (StressCanceller *self,
                                                GCancellable    *cancellable,
                                                guint            delay_us);
/* Cancels what is still pending at once, stops the thread and frees @self */
void             stress_canceller_free         (StressCanceller *self);

/* A thread that stops the test when nothing happens for a while, instead
 * of letting it hang: while a round is set, a stretch of @seconds without a
 * stress_bump() calls @report with the round (which prints its accounting)
 * and fails the test. One per process. */
typedef void (*StressWatchdogReport) (gpointer round);

void             stress_watchdog_start         (const char           *name,
                                                guint                 seconds,
                                                StressWatchdogReport  report);
void             stress_watchdog_stop          (void);
/* The round being run, or %NULL between rounds; from any thread */
void             stress_watchdog_set_round     (gpointer              round);
/* Something happened: the watchdog sees progress, and the main thread,
 * which may be waiting for a count, wakes up. From any thread. */
void             stress_bump                   (void);

/* Whether the long run is asked for: `--long`, which it takes out of argv
 * before GTest sees it, or TP_STRESS_LONG set and not empty */
gboolean         stress_long_run               (int             *argc,
                                                char           **argv);
/* The whole number in the environment variable @name, at least @minimum, or
 * @fallback when it is unset or empty; anything else stops the test with a
 * message that names it */
guint            stress_env_uint               (const char      *name,
                                                guint            fallback,
                                                guint            minimum);

/* Raises *@max to @value, from any thread */
void             stress_atomic_max             (int             *max,
                                                int              value);

G_END_DECLS

/* tp-job-options-private.h: the fields of TpJobOptions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <taskpool/taskpool.h>

G_BEGIN_DECLS

struct _TpJobOptions
{
  gatomicrefcount  ref_count;
  TpSubmitFlags    flags;
  int              weight;
  char            *key;               /* an interned GRefString */
  char            *label;
  guint            queue_timeout_ms;
  guint            run_timeout_ms;
  guint            weight_set : 1;
  guint            queue_timeout_set : 1;
  guint            run_timeout_set : 1;
};

char *tp_key_intern  (const char *key);
void  tp_key_release (gpointer    key);

G_END_DECLS

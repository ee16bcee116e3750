/* tp-pool-gi.c: companions of TpPool for language bindings
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * tp_pool_submit_finish() returns a bare pointer, which a binding cannot
 * interpret. A job written in Python or JavaScript completes its task with
 * g_task_return_value() instead, and its submitter reads the value here.
 */

#include "config.h"

#include <taskpool/taskpool.h>

/**
 * tp_pool_submit_value_finish:
 * @self: a pool
 * @result: the result given to the submission's callback
 * @error: return location for a #GError
 *
 * Gets what the job returned with g_task_return_value(): the finish function
 * for bindings, whose jobs complete their task with a #GValue
 * (`task.return_value(…)` in Python and JavaScript). A job that completed its
 * task with g_task_return_pointer() is read with
 * [method@TaskPool.Pool.submit_finish] instead.
 *
 * The value is returned rather than stored in an out argument so that a
 * binding raises the error without converting an unset value first.
 *
 * Returns: (transfer full) (nullable): the job's result, to free with
 *   `g_boxed_free (G_TYPE_VALUE, value)`, or %NULL with @error set: the job's
 *   error, %G_IO_ERROR_CANCELLED or a %TP_POOL_ERROR
 *
 * Since: 1.0
 */
GValue *
tp_pool_submit_value_finish (TpPool        *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_autofree GValue *value = g_new0 (GValue, 1);

  g_return_val_if_fail (TP_IS_POOL (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tp_pool_submit_full_async, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_task_propagate_value (G_TASK (result), value, error))
    return NULL;

  return g_steal_pointer (&value);
}

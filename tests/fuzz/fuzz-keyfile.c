/* fuzz-keyfile.c: libFuzzer target for the keyfile front end
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each input is loaded as a GKeyFile; each of its first groups configures a
 * pool. A pool that builds is started, given a few no-op jobs, closed with
 * TP_CLOSE_CANCEL_RUNNING and freed. Configuration errors are expected
 * outcomes; crashes, sanitizer reports, criticals and hangs are not.
 */

#include <stdint.h>

#include <taskpool/taskpool.h>

#define MAX_GROUPS       8
#define N_JOBS           2
#define MAX_ITERATIONS   1000

int LLVMFuzzerInitialize (int    *argc,
                          char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

typedef struct {
  guint    done;
  gboolean closed;
} FuzzState;

static void
fuzz_noop_job (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  g_task_return_boolean (task, TRUE);
}

static void
fuzz_job_done_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  FuzzState *state = user_data;
  g_autoptr(GError) error = NULL;

  tp_pool_submit_finish (TP_POOL (object), result, &error);
  state->done++;
}

static void
fuzz_close_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  FuzzState *state = user_data;
  g_autoptr(GError) error = NULL;

  tp_pool_close_finish (TP_POOL (object), result, &error);
  state->closed = TRUE;
}

/* Gives the jobs a bounded chance to run: a pool of size 0 never runs
 * them, and nothing here waits on a timer. */
static void
fuzz_iterate_jobs (FuzzState *state,
                   guint      n_submitted)
{
  for (guint i = 0; i < MAX_ITERATIONS && state->done < n_submitted; i++)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_thread_yield ();
    }
}

static void
fuzz_run_pool (TpPool *pool)
{
  FuzzState state = { 0, FALSE };
  g_autoptr(GError) error = NULL;

  if (!tp_pool_start (pool, &error))
    return;

  for (guint i = 0; i < N_JOBS; i++)
    {
      tp_pool_submit_async (pool, fuzz_noop_job, NULL, NULL, NULL, fuzz_job_done_cb, &state);
      tp_pool_submit_in_thread_async (pool, fuzz_noop_job, NULL, NULL, NULL,
                                      fuzz_job_done_cb, &state);
    }
  fuzz_iterate_jobs (&state, 2 * N_JOBS);

  /* Closing completes every job, queued or waiting for room, so this
   * terminates; a pool that does not is a hang for libFuzzer to report. */
  tp_pool_close_async (pool, TP_CLOSE_CANCEL_RUNNING, NULL, fuzz_close_cb, &state);
  while (!state.closed || state.done < 2 * N_JOBS)
    g_main_context_iteration (NULL, TRUE);
}

static void
fuzz_group (GKeyFile   *keyfile,
            const char *group)
{
  g_autoptr(TpPool) pool = NULL;
  g_autoptr(GError) error = NULL;

  /* plugin-path would load whatever modules the input names */
  g_key_file_remove_key (keyfile, group, "plugin-path", NULL);

  pool = tp_pool_new_from_keyfile (keyfile, group, &error);
  if (pool != NULL)
    fuzz_run_pool (pool);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  /* A critical means a precondition of the library failed: a bug to find */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_FATAL_MASK);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_auto(GStrv) groups = NULL;

  if (!g_key_file_load_from_data (keyfile, (const char *) data, size, G_KEY_FILE_NONE, NULL))
    return 0;

  groups = g_key_file_get_groups (keyfile, NULL);
  for (guint i = 0; groups[i] != NULL && i < MAX_GROUPS; i++)
    fuzz_group (keyfile, groups[i]);

  return 0;
}

/* taskpool-run.c: runs shell commands, one per line, through a task pool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each line of the input is a command for `/bin/sh -c`, submitted as an async
 * job: the job spawns the child and completes its GTask when the child exited
 * (and, with --keep-order, its output was read). This unit holds main() and
 * the run from start to summary; taskpool-run-private.h lists the others.
 */

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "taskpool-run-private.h"

static void
run_init (Run     *run,
          Options *opts,
          TpPool  *pool)
{
  run->opts = opts;
  run->pool = pool;
  run->loop = g_main_loop_new (NULL, FALSE);
  run->capacity = tp_pool_get_queue_capacity (pool);
  run->default_weight = tp_pool_get_default_weight (pool);
  g_queue_init (&run->running);
  if (opts->keep_order)
    run->outputs = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_bytes_unref);
  if (opts->json)
    {
      run->records = g_array_new (FALSE, FALSE, sizeof (JobRecord));
      g_array_set_clear_func (run->records, job_record_clear);
    }
  run->status_mode = !opts->quiet && isatty (STDERR_FILENO);
}

static void
run_clear (Run *run)
{
  g_clear_handle_id (&run->status_id, g_source_remove);
  g_clear_pointer (&run->outputs, g_hash_table_unref);
  g_clear_pointer (&run->records, g_array_unref);
  g_clear_object (&run->input);
  g_clear_object (&run->read_cancellable);
  g_clear_pointer (&run->loop, g_main_loop_unref);
}

static void
run_announce (Run *run)
{
  TpPool *pool = run->pool;
  const char * const *gates = tp_pool_get_gates (pool);
  g_autofree char *gate_list = gates != NULL ? g_strjoinv (";", (char **) gates) : NULL;

  if (run->opts->quiet)
    return;
  if (run->status_mode)
    {
      run->status_id = g_timeout_add (STATUS_INTERVAL_MS, run_status_cb, run);
      return;
    }
  run_message (run, "pool %s, size %u (min %u, max %u), queue capacity %u%s%s%s",
               tp_pool_get_kind (pool), tp_pool_get_target_size (pool),
               tp_pool_get_min_size (pool), tp_pool_get_max_size (pool), run->capacity,
               run->capacity == 0 ? " (no limit)" : "", gate_list != NULL ? ", gates " : "",
               gate_list != NULL ? gate_list : "");
}

static int
run_execute (Run *run)
{
  g_autoptr(GError) error = NULL;

  if (!tp_pool_start (run->pool, &error))
    {
      fprintf (stderr, PROGRAM ": cannot start the pool: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (run->capacity > 0)
    {
      g_signal_connect (run->pool, "notify::waiting", G_CALLBACK (run_pool_changed_cb), run);
      g_signal_connect (run->pool, "notify::running", G_CALLBACK (run_pool_changed_cb), run);
    }

  run->start_time = g_get_monotonic_time ();
  run->peak_size = tp_pool_get_size (run->pool);
  run_announce (run);
  run_maybe_read (run);
  g_main_loop_run (run->loop);

  g_clear_handle_id (&run->status_id, g_source_remove);
  run_clear_status (run);
  run_print_summary (run);
  if (run->records != NULL)
    run_print_json (run);
  return run_exit_status (run);
}

static int
usage_error (const char *message)
{
  fprintf (stderr, PROGRAM ": %s\nTry “" PROGRAM " --help” for more information.\n", message);
  return EXIT_USAGE;
}

int
main (int   argc,
      char *argv[])
{
  Options opts = { 0 };
  Run run = { 0 };
  g_auto(GStrv) args = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = NULL;
  int status;

  setlocale (LC_ALL, "");
  args = options_split_args (argc, argv, &opts.command);
  if (!options_parse (&opts, &args, &error))
    {
      status = usage_error (error->message);
      options_clear (&opts);
      return status;
    }
  if (opts.version)
    {
      options_print_version ();
      options_clear (&opts);
      return EXIT_SUCCESS;
    }

  /* Before anything can take long: a signal must never meet its default action */
  run_watch_signals (&run);

  pool = options_create_pool (&opts, &error);
  if (pool == NULL)
    {
      status = usage_error (error->message);
      options_clear (&opts);
      return status;
    }

  run_init (&run, &opts, pool);
  if (!run_open_input (&run, &error))
    status = usage_error (error->message);
  else
    status = run_execute (&run);

  run_clear (&run);
  options_clear (&opts);
  return status;
}

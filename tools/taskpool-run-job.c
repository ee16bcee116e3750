/* taskpool-run-job.c: one command, run as an async job
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The job spawns /bin/sh -c COMMAND and completes its GTask once the child
 * exited and, with --keep-order, its output was read.
 *
 * Children are spawned with posix_spawn() rather than GSubprocess: in GLib
 * 2.74 GSubprocess always fork()s, which copies the page tables of this
 * process (some 135 mappings with GIO and the plugins) for every job; that made
 * 2000 `true` jobs 1.5 × slower than `xargs -P`. posix_spawn() uses a vfork-like
 * clone and can also put the child in a process group of its own.
 */

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>
#include <glib-unix.h>

#include "taskpool-run-private.h"

extern char **environ;

void
job_result_free (JobResult *result)
{
  g_clear_pointer (&result->output, g_bytes_unref);
  g_free (result);
}

Job *
job_new (Run        *run,
         const char *command,
         const char *key)
{
  Job *job = g_new0 (Job, 1);

  job->run = run;
  job->link.data = job;
  job->index = run->submitted;
  job->line = run->line_no;
  job->command = g_strdup (command);
  job->key = g_strdup (key);
  return job;
}

void
job_free (Job *job)
{
  g_assert (job->task == NULL && job->output == NULL);
  g_clear_pointer (&job->result, job_result_free);
  g_free (job->command);
  g_free (job->key);
  g_free (job);
}

static void job_maybe_complete (Job *job);

/* The child gets /dev/null as stdin (the input may be ours), the pipe as
 * stdout and stderr with --keep-order, the default SIGPIPE action, no blocked
 * signal, and a process group of its own: a signal then reaches everything
 * the command started, and a Ctrl-C at the terminal reaches only
 * taskpool-run, which decides what the children get. */
static int
job_spawn (Job *job,
           int  output_fd)
{
  char *argv[] = { (char *) "/bin/sh", (char *) "-c", job->command, NULL };
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  sigset_t no_signals, default_signals;
  pid_t pid = 0;
  int err;

  posix_spawn_file_actions_init (&actions);
  posix_spawn_file_actions_addopen (&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (output_fd >= 0)
    {
      posix_spawn_file_actions_adddup2 (&actions, output_fd, STDOUT_FILENO);
      posix_spawn_file_actions_adddup2 (&actions, output_fd, STDERR_FILENO);
    }

  sigemptyset (&no_signals);
  sigemptyset (&default_signals);
  sigaddset (&default_signals, SIGPIPE);
  posix_spawnattr_init (&attr);
  posix_spawnattr_setsigmask (&attr, &no_signals);
  posix_spawnattr_setsigdefault (&attr, &default_signals);
  posix_spawnattr_setpgroup (&attr, 0);
  posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                   POSIX_SPAWN_SETSIGDEF);

  err = posix_spawn (&pid, argv[0], &actions, &attr, argv, environ);
  posix_spawnattr_destroy (&attr);
  posix_spawn_file_actions_destroy (&actions);
  job->pid = pid;
  return err;
}

void
job_signal (Job *job,
            int  signum)
{
  /* The group outlives a reaped leader while a background child of the
   * command still holds the output pipe */
  if (job->pid <= 0 || (job->exited && job->output_done))
    return;
  if (kill (-job->pid, signum) != 0 && !job->exited)
    kill (job->pid, signum);
}

static gboolean
job_kill_cb (gpointer user_data)
{
  Job *job = user_data;

  job->kill_id = 0;
  job_signal (job, SIGKILL);
  return G_SOURCE_REMOVE;
}

static void
job_terminate (Job *job)
{
  job_signal (job, SIGTERM);
  if (job->kill_id == 0)
    job->kill_id = g_timeout_add (KILL_GRACE_MS, job_kill_cb, job);
}

/* The pool cancels a running job's cancellable at its run timeout, and when
 * it closes with TP_CLOSE_CANCEL_RUNNING */
static void
job_cancelled_cb (GCancellable *cancellable,
                  gpointer      user_data)
{
  Job *job = user_data;

  job->terminated = TRUE;
  job_terminate (job);
}

static void
job_exited_cb (GPid     pid,
               int      wait_status,
               gpointer user_data)
{
  Job *job = user_data;

  g_spawn_close_pid (pid);
  job->exited = TRUE;
  job->wait_status = wait_status;
  job_maybe_complete (job);
}

static void
job_output_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Job *job = user_data;
  GOutputStream *stream = G_OUTPUT_STREAM (source);
  g_autoptr(GError) error = NULL;

  if (g_output_stream_splice_finish (stream, result, &error) < 0)
    run_message (job->run, "line %u: cannot read the output: %s", job->line, error->message);
  job->output = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (stream));
  job->output_done = TRUE;
  job_maybe_complete (job);
}

/* --keep-order: collects everything the command writes, until every
 * process that holds the pipe closed it */
static void
job_read_output (Job *job,
                 int  fd)
{
  g_autoptr(GInputStream) pipe = g_unix_input_stream_new (fd, TRUE);
  g_autoptr(GOutputStream) memory = g_memory_output_stream_new_resizable ();

  g_output_stream_splice_async (memory, pipe, G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE |
                                              G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
                                G_PRIORITY_DEFAULT, NULL, job_output_cb, job);
}

static void
run_job_started (Run *run,
                 Job *job)
{
  g_queue_push_tail_link (&run->running, &job->link);
  run->peak_running = MAX (run->peak_running, run->running.length);
  run->peak_size = MAX (run->peak_size, tp_pool_get_size (run->pool));
}

static void
job_watch (Job          *job,
           GCancellable *cancellable)
{
  g_child_watch_add (job->pid, job_exited_cb, job);
  if (cancellable != NULL)
    {
      job->cancellable = g_object_ref (cancellable);
      job->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (job_cancelled_cb), job,
                                              NULL);
    }
}

/* The async job: spawns the child and completes @task once it is over */
void
job_run_cb (GTask        *task,
            gpointer      pool,
            gpointer      job_data,
            GCancellable *cancellable)
{
  Job *job = job_data;
  GError *error = NULL;
  int pipe_fds[2] = { -1, -1 };
  int err;

  if (cancellable != NULL && g_cancellable_is_cancelled (cancellable))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled before it ran");
      return;
    }
  if (job->run->opts->keep_order && !g_unix_open_pipe (pipe_fds, FD_CLOEXEC, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  err = job_spawn (job, pipe_fds[1]);
  if (pipe_fds[1] >= 0)
    close (pipe_fds[1]);
  if (err != 0)
    {
      if (pipe_fds[0] >= 0)
        close (pipe_fds[0]);
      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (err),
                               "cannot run /bin/sh: %s", g_strerror (err));
      return;
    }

  job->task = g_object_ref (task);
  job->start_time = g_get_monotonic_time ();
  job->output_done = pipe_fds[0] < 0;
  run_job_started (job->run, job);
  job_watch (job, cancellable);
  if (pipe_fds[0] >= 0)
    job_read_output (job, pipe_fds[0]);
}

static JobResult *
job_collect_result (Job *job)
{
  JobResult *result = g_new0 (JobResult, 1);

  result->exited = WIFEXITED (job->wait_status);
  result->exit_code = result->exited ? WEXITSTATUS (job->wait_status) : -1;
  if (WIFSIGNALED (job->wait_status))
    result->signal = WTERMSIG (job->wait_status);
  result->terminated = job->terminated;
  result->elapsed_us = g_get_monotonic_time () - job->start_time;
  result->output = g_steal_pointer (&job->output);
  return result;
}

/* Once the child exited and its output was read: stop watching it and
 * complete the task. A job whose cancellable fired fails with
 * G_IO_ERROR_CANCELLED, which the pool delivers as G_IO_ERROR_TIMED_OUT when
 * its run timeout fired it; its result waits in the job for the submission
 * callback. That callback may run inside g_task_return_*() and free the job. */
static void
job_maybe_complete (Job *job)
{
  JobResult *result;
  GTask *task;

  if (!job->exited || !job->output_done)
    return;

  result = job_collect_result (job);
  g_clear_handle_id (&job->kill_id, g_source_remove);
  if (job->cancel_id != 0)
    g_cancellable_disconnect (job->cancellable, job->cancel_id);
  job->cancel_id = 0;
  g_clear_object (&job->cancellable);
  g_queue_unlink (&job->run->running, &job->link);

  task = g_steal_pointer (&job->task);
  if (job->terminated)
    {
      job->result = result;
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Terminated");
    }
  else
    {
      g_task_return_pointer (task, result, (GDestroyNotify) job_result_free);
    }
  g_object_unref (task);
}

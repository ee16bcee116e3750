/* taskpool-run.c: runs shell commands, one per line, through a task pool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each line of the input is a command for `/bin/sh -c`, submitted as an async
 * job: the job spawns the child and completes its GTask when the child exited
 * (and, with --keep-order, its output was read). Input is read one line at a
 * time, and with a queue capacity the next line is read only once the
 * previous job got into the queue, so a long input never sits in memory.
 *
 * Children are spawned with posix_spawn() rather than GSubprocess: in GLib
 * 2.74 GSubprocess always fork()s, which copies the page tables of this
 * process (some 135 mappings with GIO and the plugins) for every job; that made
 * 2000 `true` jobs 1.5 × slower than `xargs -P`. posix_spawn() uses a vfork-like
 * clone and can also put the child in a process group of its own.
 */

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <taskpool/taskpool.h>

#define PROGRAM              "taskpool-run"
#define EXIT_FAILED          1
#define EXIT_USAGE           2
#define CLI_GROUP            "command line"
#define STATUS_INTERVAL_MS   200
#define KILL_GRACE_MS        2000
#define MAX_TIMEOUT_S        2147483.0

extern char **environ;

/* Options {{{ */

typedef struct {
  char      *kind;
  char      *size;              /* sizes are validated text, ready for the keyfile */
  char      *min_size;
  char      *max_size;
  char      *queue_capacity;
  char      *config_file;
  char      *pool_group;
  char     **plugin_path;
  guint      timeout_ms;
  gboolean   weights;
  gboolean   keep_order;
  gboolean   halt_on_error;
  gboolean   json;
  gboolean   quiet;
  char     **files;
} Options;

static void
options_clear (Options *opts)
{
  g_free (opts->kind);
  g_free (opts->size);
  g_free (opts->min_size);
  g_free (opts->max_size);
  g_free (opts->queue_capacity);
  g_free (opts->config_file);
  g_free (opts->pool_group);
  g_strfreev (opts->plugin_path);
  g_strfreev (opts->files);
}

static gboolean
option_count (const char  *option_name,
              const char  *value,
              guint        min_value,
              guint        max_value,
              char       **out,
              GError     **error)
{
  guint64 number;

  if (value[0] == '+' || value[0] == '-' ||
      !g_ascii_string_to_unsigned (value, 10, min_value, max_value, &number, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "%s: “%s” is not a whole number from %u to %u",
                   option_name, value, min_value, max_value);
      return FALSE;
    }

  g_free (*out);
  *out = g_strdup_printf ("%" G_GUINT64_FORMAT, number);
  return TRUE;
}

static gboolean
option_size_cb (const char  *option_name,
                const char  *value,
                gpointer     data,
                GError     **error)
{
  Options *opts = data;

  return option_count (option_name, value, 0, TP_POOL_MAX_SIZE, &opts->size, error);
}

static gboolean
option_min_size_cb (const char  *option_name,
                    const char  *value,
                    gpointer     data,
                    GError     **error)
{
  Options *opts = data;

  return option_count (option_name, value, 0, TP_POOL_MAX_SIZE, &opts->min_size, error);
}

static gboolean
option_max_size_cb (const char  *option_name,
                    const char  *value,
                    gpointer     data,
                    GError     **error)
{
  Options *opts = data;

  return option_count (option_name, value, 1, TP_POOL_MAX_SIZE, &opts->max_size, error);
}

static gboolean
option_queue_capacity_cb (const char  *option_name,
                          const char  *value,
                          gpointer     data,
                          GError     **error)
{
  Options *opts = data;

  return option_count (option_name, value, 0, G_MAXINT, &opts->queue_capacity, error);
}

static gboolean
option_timeout_cb (const char  *option_name,
                   const char  *value,
                   gpointer     data,
                   GError     **error)
{
  Options *opts = data;
  char *end = NULL;
  double seconds = g_ascii_strtod (value, &end);

  if (end == value || *end != '\0' || !(seconds > 0 && seconds <= MAX_TIMEOUT_S))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "%s: “%s” is not a number of seconds greater than 0 and at most %.0f",
                   option_name, value, MAX_TIMEOUT_S);
      return FALSE;
    }

  opts->timeout_ms = MAX (1, (guint) (seconds * 1000 + 0.5));
  return TRUE;
}

static const char options_description[] =
  "Each line of FILE (or of standard input when FILE is missing or “-”) is a command for\n"
  "/bin/sh -c. Blank lines and lines starting with “#” are skipped. Commands read /dev/null\n"
  "as standard input and, unless --keep-order is given, write straight to the terminal.\n"
  "\n"
  "Pool kinds are SCALER-QUEUE: fixed-simple (the default), fixed-lifo, fixed-priority,\n"
  "autoscale-simple, autoscale-lifo, autoscale-priority, or any kind plugins provide.\n"
  "--weights defaults the kind to fixed-priority, which runs the smallest weight first.\n"
  "With --config FILE --pool GROUP the pool is configured by that keyfile group; the size,\n"
  "kind and capacity options, when given, replace the group's values.\n"
  "\n"
  "Signals: SIGUSR1 adds a worker, SIGUSR2 retires one (a running job is never cut short).\n"
  "SIGINT (Ctrl-C) terminates the running commands, does not start the queued ones and\n"
  "prints the summary; a second SIGINT kills what is left and exits at once.\n"
  "\n"
  "Exit status: 0 if every job succeeded, 1 if any failed or was not run, 2 on a usage,\n"
  "configuration or input error, 128 + N when interrupted by signal N (130 for SIGINT).\n"
  "\n"
  "Examples:\n"
  "  taskpool-run -j 8 jobs.txt\n"
  "  find . -name '*.png' | sed 's/.*/optipng -q \"&\"/' | taskpool-run -j 4 --keep-order\n"
  "  taskpool-run --config pools.ini --pool downloads --queue-capacity 100 < urls.sh\n"
  "  kill -USR1 $(pidof taskpool-run)     # one more worker\n";

static gboolean
options_check (Options  *opts,
               GError  **error)
{
  guint n_files = opts->files != NULL ? g_strv_length (opts->files) : 0;

  if (n_files > 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "expected at most one FILE, got %u (“%s”, “%s”…)",
                   n_files, opts->files[0], opts->files[1]);
      return FALSE;
    }
  if (opts->pool_group != NULL && opts->config_file == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "--pool “%s” needs --config FILE: the keyfile that holds the group",
                   opts->pool_group);
      return FALSE;
    }
  if (opts->config_file != NULL && opts->pool_group == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "--config “%s” needs --pool GROUP: the group of the keyfile to use",
                   opts->config_file);
      return FALSE;
    }
  return TRUE;
}

/* GOption reads "-j8" as "-j" followed by the next argument: split it, as
 * make and parallel users write it, into "-j" "8". */
static char **
options_split_attached (int    argc,
                        char **argv)
{
  GPtrArray *args = g_ptr_array_new_with_free_func (g_free);
  gboolean options_ended = FALSE;

  for (int i = 0; i < argc; i++)
    {
      const char *arg = argv[i];

      options_ended |= strcmp (arg, "--") == 0;
      if (i > 0 && !options_ended && arg[0] == '-' && arg[1] != '\0' &&
          strchr ("jtcp", arg[1]) != NULL && arg[2] != '\0')
        {
          g_ptr_array_add (args, g_strndup (arg, 2));
          g_ptr_array_add (args, g_strdup (arg + 2));
          continue;
        }
      g_ptr_array_add (args, g_strdup (arg));
    }
  g_ptr_array_add (args, NULL);
  return (char **) g_ptr_array_free (args, FALSE);
}

static gboolean
options_parse (Options   *opts,
               char    ***args,
               GError   **error)
{
  const GOptionEntry entries[] = {
    { "kind", 0, 0, G_OPTION_ARG_STRING, &opts->kind,
      "Pool kind, SCALER-QUEUE (default fixed-simple)", "KIND" },
    { "size", 'j', 0, G_OPTION_ARG_CALLBACK, option_size_cb,
      "Workers at start (default 3; autoscale: min-size)", "N" },
    { "min-size", 0, 0, G_OPTION_ARG_CALLBACK, option_min_size_cb,
      "Smallest size scaling may reach", "N" },
    { "max-size", 0, 0, G_OPTION_ARG_CALLBACK, option_max_size_cb,
      "Largest size scaling may reach", "N" },
    { "queue-capacity", 0, 0, G_OPTION_ARG_CALLBACK, option_queue_capacity_cb,
      "Jobs that may wait; reading pauses while the queue is full (default 0, no limit)", "N" },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opts->config_file,
      "Configure the pool from a keyfile (needs --pool)", "FILE" },
    { "pool", 'p', 0, G_OPTION_ARG_STRING, &opts->pool_group,
      "The group of --config that configures the pool", "GROUP" },
    { "plugin-path", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opts->plugin_path,
      "Search DIR for strategy plugins first (repeatable)", "DIR" },
    { "weights", 'w', 0, G_OPTION_ARG_NONE, &opts->weights,
      "Lines are WEIGHT<TAB>COMMAND; the smallest weight runs first", NULL },
    { "keep-order", 'k', 0, G_OPTION_ARG_NONE, &opts->keep_order,
      "Print each job's output (stdout and stderr) in one piece, in input order", NULL },
    { "timeout", 't', 0, G_OPTION_ARG_CALLBACK, option_timeout_cb,
      "Terminate a job after SECONDS (SIGTERM, then SIGKILL 2 s later)", "SECONDS" },
    { "halt-on-error", 0, 0, G_OPTION_ARG_NONE, &opts->halt_on_error,
      "After the first failure start no more jobs; running ones finish", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opts->json,
      "Print a JSON summary as the last line of standard output", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opts->quiet,
      "No progress: neither the status line nor a line per job", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opts->files, NULL, NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("[FILE]");
  GOptionGroup *group = g_option_group_new (PROGRAM, NULL, NULL, opts, NULL);

  g_option_group_add_entries (group, entries);
  g_option_context_set_main_group (context, group);
  g_option_context_set_summary (context,
    "Runs the shell commands in FILE, one per line, at most SIZE at once, through a\n"
    "libtaskpool pool, and reports how each one ended.");
  g_option_context_set_description (context, options_description);

  return g_option_context_parse_strv (context, args, error) && options_check (opts, error);
}

/* }}} */

/* The pool's configuration {{{ */

static GKeyFile *
options_load_keyfile (Options  *opts,
                      GError  **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) groups = NULL;
  g_autofree char *list = NULL;

  if (opts->config_file == NULL)
    return g_steal_pointer (&keyfile);

  if (!g_key_file_load_from_file (keyfile, opts->config_file, G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "--config: cannot read “%s”: %s", opts->config_file, local_error->message);
      return NULL;
    }
  if (g_key_file_has_group (keyfile, opts->pool_group))
    return g_steal_pointer (&keyfile);

  groups = g_key_file_get_groups (keyfile, NULL);
  list = groups[0] != NULL ? g_strjoinv (", ", groups) : g_strdup ("none");
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
               "--pool: “%s” has no group “%s”; its groups are: %s",
               opts->config_file, opts->pool_group, list);
  return NULL;
}

static void
options_set_key (GKeyFile   *keyfile,
                 const char *group,
                 const char *key,
                 const char *value)
{
  if (value != NULL)
    g_key_file_set_value (keyfile, group, key, value);
}

/* --plugin-path folders come first, then the keyfile's own plugin-path */
static void
options_set_plugin_path (Options    *opts,
                         GKeyFile   *keyfile,
                         const char *group)
{
  g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *configured = g_key_file_get_value (keyfile, group, "plugin-path", NULL);
  g_autofree char *joined = NULL;

  if (opts->plugin_path == NULL)
    return;

  for (guint i = 0; opts->plugin_path[i] != NULL; i++)
    {
      g_auto(GStrv) parts = g_strsplit (opts->plugin_path[i], G_SEARCHPATH_SEPARATOR_S, -1);

      for (guint j = 0; parts[j] != NULL; j++)
        {
          if (parts[j][0] != '\0')
            g_ptr_array_add (dirs, g_strdup (parts[j]));
        }
    }
  if (configured != NULL && configured[0] != '\0')
    g_ptr_array_add (dirs, g_steal_pointer (&configured));
  g_ptr_array_add (dirs, NULL);

  joined = g_strjoinv (";", (char **) dirs->pdata);
  g_key_file_set_value (keyfile, group, "plugin-path", joined);
}

/* Command-line values replace the group's: the pool is always made from a
 * keyfile, so that one set of checks and messages covers both. */
static void
options_apply (Options    *opts,
               GKeyFile   *keyfile,
               const char *group)
{
  const char *kind = opts->kind;

  if (kind == NULL && !g_key_file_has_key (keyfile, group, "kind", NULL))
    kind = opts->weights ? "fixed-priority" : "fixed-simple";

  options_set_key (keyfile, group, "kind", kind);
  options_set_key (keyfile, group, "size", opts->size);
  options_set_key (keyfile, group, "min-size", opts->min_size);
  options_set_key (keyfile, group, "max-size", opts->max_size);
  options_set_key (keyfile, group, "queue-capacity", opts->queue_capacity);
  options_set_plugin_path (opts, keyfile, group);
}

static TpPool *
options_create_pool (Options  *opts,
                     GError  **error)
{
  g_autoptr(GKeyFile) keyfile = options_load_keyfile (opts, error);
  const char *group = opts->pool_group != NULL ? opts->pool_group : CLI_GROUP;
  TpPool *pool;

  if (keyfile == NULL)
    return NULL;

  options_apply (opts, keyfile, group);
  pool = tp_pool_new_from_keyfile (keyfile, group, error);
  if (pool == NULL && opts->config_file != NULL)
    g_prefix_error (error, "--config “%s”: ", opts->config_file);
  return pool;
}

/* }}} */

/* Jobs and the run {{{ */

typedef enum {
  JOB_SUCCEEDED,
  JOB_FAILED,
  JOB_CANCELLED,
  JOB_NOT_RUN,
  N_JOB_STATUSES
} JobStatus;

static const char * const job_status_names[N_JOB_STATUSES] = {
  "succeeded", "failed", "cancelled", "not_run"
};

typedef struct _Run Run;

/* One command. The program owns it from submission to the end of its
 * submission callback, which runs exactly once. */
typedef struct {
  Run          *run;
  GList         link;           /* in run->running while its child runs */
  guint         index;          /* submission order, from 0 */
  guint         line;           /* line number in the input */
  char         *command;
  GTask        *task;           /* while its child runs */
  GPid          pid;            /* the child, leader of its own process group */
  gboolean      exited;
  int           wait_status;
  gboolean      output_done;    /* --keep-order: the output pipe reached its end */
  GBytes       *output;
  GCancellable *cancellable;
  gulong        cancel_id;
  guint         timeout_id;
  guint         kill_id;
  gint64        start_time;
  gboolean      timed_out;
  gboolean      terminated;
} Job;

/* What a job returns through its GTask */
typedef struct {
  gboolean  exited;
  int       exit_code;          /* when exited */
  int       signal;             /* when killed by a signal, else 0 */
  gboolean  timed_out;
  gboolean  terminated;         /* by an interrupt */
  gint64    elapsed_us;
  GBytes   *output;             /* --keep-order: stdout and stderr */
} JobResult;

/* A finished job, kept for --json */
typedef struct {
  guint      line;
  JobStatus  status;
  int        exit_code;         /* -1 when the child did not exit normally */
  int        signal;
  gboolean   timed_out;
  gint64     elapsed_us;
  char      *command;
} JobRecord;

struct _Run {
  Options             *opts;
  TpPool              *pool;
  GMainLoop           *loop;
  GDataInputStream    *input;
  GCancellable        *read_cancellable;
  guint                capacity;
  int                  default_weight;
  gint64               start_time;

  /* Input */
  guint                line_no;
  gboolean             reading;
  gboolean             input_done;      /* end of input, input error, halt or interrupt */
  gboolean             eof;
  gboolean             input_error;
  gboolean             halted;

  /* Jobs */
  guint                submitted;
  guint                pending;         /* submitted, callback not run yet */
  guint                counts[N_JOB_STATUSES];
  guint                timed_out;
  GQueue               running;         /* Job links whose child runs */
  guint                peak_running;
  guint                peak_size;

  /* Closing */
  guint                closes_pending;
  gboolean             closed;
  int                  interrupt_signal;

  /* Output */
  GHashTable          *outputs;         /* --keep-order: index + 1 → GBytes */
  guint                next_output;
  GArray              *records;         /* --json: JobRecord */
  gboolean             status_mode;     /* a live status line on stderr */
  gboolean             status_drawn;
  guint                status_id;
};

static void
job_result_free (JobResult *result)
{
  g_clear_pointer (&result->output, g_bytes_unref);
  g_free (result);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (JobResult, job_result_free)

static Job *
job_new (Run        *run,
         const char *command)
{
  Job *job = g_new0 (Job, 1);

  job->run = run;
  job->link.data = job;
  job->index = run->submitted;
  job->line = run->line_no;
  job->command = g_strdup (command);
  return job;
}

static void
job_free (Job *job)
{
  g_assert (job->task == NULL && job->output == NULL);
  g_free (job->command);
  g_free (job);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Job, job_free)

static void
job_record_clear (gpointer data)
{
  JobRecord *record = data;

  g_free (record->command);
}

static double
seconds_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
}

/* }}} */

/* Messages and the status line {{{ */

static void
run_clear_status (Run *run)
{
  if (!run->status_drawn)
    return;
  fputs ("\r\033[K", stderr);
  run->status_drawn = FALSE;
}

static guint
terminal_width (void)
{
  struct winsize size;

  if (ioctl (STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col >= 20)
    return size.ws_col;
  return 80;
}

static guint
run_finished (Run *run)
{
  return run->counts[JOB_SUCCEEDED] + run->counts[JOB_FAILED] + run->counts[JOB_CANCELLED] +
         run->counts[JOB_NOT_RUN];
}

static void
append_eta (GString *out,
            double   seconds)
{
  guint64 s = (guint64) (seconds + 0.5);

  if (s >= 3600)
    g_string_append_printf (out, ", ETA %u:%02u:%02u", (guint) (s / 3600),
                            (guint) (s / 60 % 60), (guint) (s % 60));
  else
    g_string_append_printf (out, ", ETA %u:%02u", (guint) (s / 60), (guint) (s % 60));
}

static char *
run_status_text (Run *run)
{
  GString *out = g_string_new (NULL);
  guint finished = run_finished (run);
  double elapsed = seconds_since (run->start_time);
  double rate = elapsed > 0 ? finished / elapsed : 0;
  guint queued = tp_pool_get_waiting (run->pool) + tp_pool_get_backlog (run->pool);
  guint width = terminal_width () - 1;

  if (run->eof)
    g_string_append_printf (out, "done %u/%u", finished, run->submitted);
  else
    g_string_append_printf (out, "done %u (%u read)", finished, run->submitted);
  if (run->counts[JOB_FAILED] > 0)
    g_string_append_printf (out, ", failed %u", run->counts[JOB_FAILED]);
  g_string_append_printf (out, ", running %u, queued %u, workers %u, %.1f/s",
                          run->running.length, queued, tp_pool_get_size (run->pool), rate);
  if (run->eof && rate > 0 && finished < run->submitted)
    append_eta (out, (run->submitted - finished) / rate);

  if (out->len > width)
    g_string_truncate (out, width);
  return g_string_free (out, FALSE);
}

static void
run_draw_status (Run *run)
{
  g_autofree char *text = run_status_text (run);

  fprintf (stderr, "\r%s\033[K", text);
  run->status_drawn = TRUE;
}

static gboolean
run_status_cb (gpointer user_data)
{
  run_draw_status (user_data);
  return G_SOURCE_CONTINUE;
}

static void run_message (Run        *run,
                         const char *format,
                         ...) G_GNUC_PRINTF (2, 3);

/* A line on stderr, above the status line when there is one */
static void
run_message (Run        *run,
             const char *format,
             ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  run_clear_status (run);
  fprintf (stderr, PROGRAM ": %s\n", text);
  if (run->status_id != 0)
    run_draw_status (run);
}

/* }}} */

/* Running a command {{{ */

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

static void
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

static gboolean
job_timeout_cb (gpointer user_data)
{
  Job *job = user_data;

  job->timeout_id = 0;
  job->timed_out = TRUE;
  job_terminate (job);
  return G_SOURCE_REMOVE;
}

/* The pool cancels a running job's cancellable when it closes with
 * TP_CLOSE_CANCEL_RUNNING */
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
  guint timeout_ms = job->run->opts->timeout_ms;

  g_child_watch_add (job->pid, job_exited_cb, job);
  if (timeout_ms > 0)
    job->timeout_id = g_timeout_add (timeout_ms, job_timeout_cb, job);
  if (cancellable != NULL)
    {
      job->cancellable = g_object_ref (cancellable);
      job->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (job_cancelled_cb), job,
                                              NULL);
    }
}

/* The async job: spawns the child and completes @task once it is over */
static void
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
  result->timed_out = job->timed_out;
  result->terminated = job->terminated;
  result->elapsed_us = g_get_monotonic_time () - job->start_time;
  result->output = g_steal_pointer (&job->output);
  return result;
}

/* Once the child exited and its output was read: stop watching it and
 * complete the task. The submission callback may run inside
 * g_task_return_pointer() and free the job. */
static void
job_maybe_complete (Job *job)
{
  JobResult *result;
  GTask *task;

  if (!job->exited || !job->output_done)
    return;

  result = job_collect_result (job);
  g_clear_handle_id (&job->timeout_id, g_source_remove);
  g_clear_handle_id (&job->kill_id, g_source_remove);
  if (job->cancel_id != 0)
    g_cancellable_disconnect (job->cancellable, job->cancel_id);
  job->cancel_id = 0;
  g_clear_object (&job->cancellable);
  g_queue_unlink (&job->run->running, &job->link);

  task = g_steal_pointer (&job->task);
  g_task_return_pointer (task, result, (GDestroyNotify) job_result_free);
  g_object_unref (task);
}

/* }}} */

/* Finished jobs {{{ */

static JobStatus
job_status (JobResult    *result,
            const GError *error)
{
  if (result == NULL)
    {
      /* Refused, discarded or cancelled before it started: it never ran */
      if ((error->domain == TP_POOL_ERROR && error->code != TP_POOL_ERROR_JOB_LOST) ||
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return JOB_NOT_RUN;
      return JOB_FAILED;
    }
  if (result->timed_out)
    return JOB_FAILED;
  if (result->exited && result->exit_code == 0)
    return JOB_SUCCEEDED;
  return result->terminated ? JOB_CANCELLED : JOB_FAILED;
}

static char *
job_describe (JobStatus     status,
              JobResult    *result,
              const GError *error)
{
  double seconds = result != NULL ? result->elapsed_us / (double) G_USEC_PER_SEC : 0;

  if (result == NULL)
    return g_strdup_printf ("%s: %s", status == JOB_NOT_RUN ? "not run" : "failed, cannot run",
                            error->message);
  if (status == JOB_SUCCEEDED)
    return g_strdup_printf ("ok (%.2f s)", seconds);
  if (status == JOB_CANCELLED)
    return g_strdup_printf ("cancelled (%.2f s)", seconds);
  if (result->timed_out)
    return g_strdup_printf ("failed, timed out after %.2f s", seconds);
  if (result->exited)
    return g_strdup_printf ("failed, exit status %d (%.2f s)", result->exit_code, seconds);
  return g_strdup_printf ("failed, killed by signal %d, %s (%.2f s)", result->signal,
                          g_strsignal (result->signal), seconds);
}

/* Plain mode logs every job that ran; the status line mode only failures */
static void
run_report_job (Run          *run,
                Job          *job,
                JobStatus     status,
                JobResult    *result,
                const GError *error)
{
  g_autofree char *description = NULL;

  if (run->opts->quiet || status == JOB_NOT_RUN)
    return;
  if (run->status_mode && status != JOB_FAILED)
    return;

  description = job_describe (status, result, error);
  run_message (run, "line %u: %s: %s", job->line, description, job->command);
}

static void
run_record_job (Run       *run,
                Job       *job,
                JobStatus  status,
                JobResult *result)
{
  JobRecord record = {
    .line = job->line,
    .status = status,
    .exit_code = result != NULL && result->exited ? result->exit_code : -1,
    .signal = result != NULL ? result->signal : 0,
    .timed_out = result != NULL && result->timed_out,
    .elapsed_us = result != NULL ? result->elapsed_us : 0,
    .command = g_steal_pointer (&job->command),
  };

  g_array_append_val (run->records, record);
}

/* --keep-order: outputs wait here until every earlier job's was printed */
static void
run_flush_outputs (Run *run)
{
  gpointer value;
  gboolean wrote = FALSE;

  while (g_hash_table_steal_extended (run->outputs, GUINT_TO_POINTER (run->next_output + 1),
                                      NULL, &value))
    {
      g_autoptr(GBytes) output = value;
      gsize size;
      const char *data = g_bytes_get_data (output, &size);

      if (size > 0 && !wrote && isatty (STDOUT_FILENO))
        run_clear_status (run);
      if (size > 0)
        wrote = fwrite (data, 1, size, stdout) > 0 || wrote;
      run->next_output++;
    }
  if (wrote)
    fflush (stdout);
}

static void
run_push_output (Run    *run,
                 guint   index,
                 GBytes *output)
{
  g_hash_table_insert (run->outputs, GUINT_TO_POINTER (index + 1),
                       output != NULL ? g_bytes_ref (output) : g_bytes_new_static ("", 0));
  run_flush_outputs (run);
}

static void run_halt (Run *run,
                      Job *job);
static void run_maybe_read (Run *run);
static void run_maybe_finish (Run *run);

/* The submission callback: runs exactly once per job, whatever happened */
static void
job_done_cb (GObject      *source,
             GAsyncResult *res,
             gpointer      user_data)
{
  g_autoptr(Job) job = user_data;
  Run *run = job->run;
  g_autoptr(GError) error = NULL;
  g_autoptr(JobResult) result = tp_pool_submit_finish (TP_POOL (source), res, &error);
  JobStatus status = job_status (result, error);

  run->pending--;
  run->counts[status]++;
  if (result != NULL && result->timed_out)
    run->timed_out++;

  run_report_job (run, job, status, result, error);
  if (run->opts->keep_order)
    run_push_output (run, job->index, result != NULL ? result->output : NULL);
  if (status == JOB_FAILED && run->opts->halt_on_error)
    run_halt (run, job);
  if (run->records != NULL)
    run_record_job (run, job, status, result);

  run_maybe_read (run);
  run_maybe_finish (run);
}

/* }}} */

/* Input {{{ */

static void run_close (Run          *run,
                       TpCloseFlags  flags);

static gboolean
run_open_input (Run     *run,
                GError **error)
{
  const char *path = run->opts->files != NULL ? run->opts->files[0] : NULL;
  g_autoptr(GInputStream) stream = NULL;
  struct stat info;
  int fd = STDIN_FILENO;

  if (path != NULL && strcmp (path, "-") != 0)
    {
      fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
      if (fd < 0 || (fstat (fd, &info) == 0 && S_ISDIR (info.st_mode)))
        {
          int saved_errno = fd < 0 ? errno : EISDIR;

          if (fd >= 0)
            close (fd);
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "cannot read “%s”: %s", path, g_strerror (saved_errno));
          return FALSE;
        }
    }

  stream = g_unix_input_stream_new (fd, fd != STDIN_FILENO);
  run->input = g_data_input_stream_new (stream);
  g_data_input_stream_set_newline_type (run->input, G_DATA_STREAM_NEWLINE_TYPE_LF);
  run->read_cancellable = g_cancellable_new ();
  return TRUE;
}

static void
run_stop_input (Run *run)
{
  run->input_done = TRUE;
  g_cancellable_cancel (run->read_cancellable);
}

/* A line that cannot be read or understood ends the input: jobs already
 * running finish, queued ones do not run, and the exit status is 2. */
static void
run_input_failed (Run        *run,
                  const char *message)
{
  run_message (run, "%s", message);
  run->input_error = TRUE;
  run_stop_input (run);
  run_close (run, TP_CLOSE_DISCARD_QUEUED);
}

static gboolean
line_is_blank_or_comment (const char *line)
{
  while (g_ascii_isspace (*line))
    line++;
  return *line == '\0' || *line == '#';
}

/* Splits a --weights line, WEIGHT<TAB>COMMAND */
static gboolean
run_parse_weight (Run         *run,
                  char        *line,
                  int         *weight,
                  const char **command,
                  GError     **error)
{
  char *tab = strchr (line, '\t');
  gint64 value;

  if (tab == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "line %u: no TAB in “%s”: --weights expects WEIGHT<TAB>COMMAND",
                   run->line_no, line);
      return FALSE;
    }
  *tab = '\0';
  g_strstrip (line);
  if (!g_ascii_string_to_signed (line, 10, G_MININT, G_MAXINT, &value, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "line %u: “%s” is not a weight: --weights expects WEIGHT<TAB>COMMAND "
                   "with a whole number from %d to %d", run->line_no, line, G_MININT, G_MAXINT);
      return FALSE;
    }
  if (line_is_blank_or_comment (tab + 1))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "line %u: no command after the weight %s", run->line_no, line);
      return FALSE;
    }
  *weight = (int) value;
  *command = tab + 1;
  return TRUE;
}

static void
run_submit (Run        *run,
            int         weight,
            const char *command)
{
  Job *job = job_new (run, command);

  run->submitted++;
  run->pending++;
  tp_pool_submit_full_async (run->pool, TP_SUBMIT_DEFAULT, weight, job_run_cb, job, NULL, NULL,
                             job_done_cb, job);
}

static void
run_take_line (Run  *run,
               char *line,
               gsize length)
{
  g_autoptr(GError) error = NULL;
  const char *command = line;
  int weight = run->default_weight;

  run->line_no++;
  if (length > 0 && line[length - 1] == '\r')
    line[length - 1] = '\0';
  if (line_is_blank_or_comment (line))
    return;

  if (run->opts->weights && !run_parse_weight (run, line, &weight, &command, &error))
    {
      run_input_failed (run, error->message);
      return;
    }
  run_submit (run, weight, command);
}

static void
run_input_ended (Run *run)
{
  run->eof = TRUE;
  run->input_done = TRUE;
  run_close (run, TP_CLOSE_DRAIN);
}

static void
run_line_read_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Run *run = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  gsize length = 0;
  g_autofree char *line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source),
                                                                result, &length, &error);

  run->reading = FALSE;
  if (run->input_done)
    return;  /* halted or interrupted meanwhile: the line is not used */

  if (error != NULL)
    {
      message = g_strdup_printf ("cannot read line %u of the input: %s", run->line_no + 1,
                                 error->message);
      run_input_failed (run, message);
      return;
    }
  if (line == NULL)
    {
      run_input_ended (run);
      return;
    }

  run_take_line (run, line, length);
  run_maybe_read (run);
}

/* Reads the next line unless the last submission still waits for room in a
 * full queue: that is the pool's back-pressure reaching the input. */
static void
run_maybe_read (Run *run)
{
  if (run->reading || run->input_done)
    return;
  if (run->capacity > 0 && tp_pool_get_backlog (run->pool) > 0)
    return;

  run->reading = TRUE;
  g_data_input_stream_read_line_async (run->input, G_PRIORITY_DEFAULT, run->read_cancellable,
                                       run_line_read_cb, run);
}

static void
run_pool_changed_cb (GObject    *pool,
                     GParamSpec *pspec,
                     gpointer    user_data)
{
  run_maybe_read (user_data);
}

/* }}} */

/* Closing, signals {{{ */

static void
run_maybe_finish (Run *run)
{
  if (run->closed && run->pending == 0)
    g_main_loop_quit (run->loop);
}

static void
run_closed_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Run *run = user_data;

  tp_pool_close_finish (TP_POOL (source), result, NULL);
  if (--run->closes_pending == 0)
    run->closed = TRUE;
  run_maybe_finish (run);
}

/* Closing again with stronger flags escalates; the run ends when every close
 * completed and every job's callback ran. */
static void
run_close (Run          *run,
           TpCloseFlags  flags)
{
  run->closed = FALSE;
  run->closes_pending++;
  tp_pool_close_async (run->pool, flags, NULL, run_closed_cb, run);
}

static void
run_halt (Run *run,
          Job *job)
{
  if (run->halted || run->interrupt_signal != 0)
    return;

  run->halted = TRUE;
  run_message (run, "line %u failed: starting no more jobs (--halt-on-error)", job->line);
  run_stop_input (run);
  run_close (run, TP_CLOSE_DISCARD_QUEUED);
}

static void
run_scale (Run        *run,
           int         delta,
           const char *signal_name)
{
  guint before = tp_pool_get_target_size (run->pool);
  guint after = (guint) tp_pool_scale (run->pool, delta);

  run->peak_size = MAX (run->peak_size, tp_pool_get_size (run->pool));
  if (after == before)
    run_message (run, "%s: size stays %u (limits %u to %u)", signal_name, after,
                 tp_pool_get_min_size (run->pool), tp_pool_get_max_size (run->pool));
  else
    run_message (run, "%s: size %u (was %u)", signal_name, after, before);
  run_maybe_read (run);
}

static gboolean
run_usr1_cb (gpointer user_data)
{
  run_scale (user_data, 1, "SIGUSR1");
  return G_SOURCE_CONTINUE;
}

static gboolean
run_usr2_cb (gpointer user_data)
{
  run_scale (user_data, -1, "SIGUSR2");
  return G_SOURCE_CONTINUE;
}

static const char *
signal_name (int signum)
{
  switch (signum)
    {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    default:
      return "a signal";
    }
}

/* The second interrupt: kill what is left and exit without waiting */
static void G_GNUC_NORETURN
run_exit_now (Run *run,
              int  signum)
{
  guint killed = run->running.length;

  for (GList *link = run->running.head; link != NULL; link = link->next)
    job_signal (link->data, SIGKILL);

  run_clear_status (run);
  fflush (stdout);
  fprintf (stderr, PROGRAM ": %s again: killed %u running job%s, exiting at once\n",
           signal_name (signum), killed, killed == 1 ? "" : "s");
  exit (128 + signum);
}

static void
run_interrupt (Run *run,
               int  signum)
{
  guint queued;

  if (run->interrupt_signal != 0)
    run_exit_now (run, signum);

  run->interrupt_signal = signum;
  queued = tp_pool_get_waiting (run->pool) + tp_pool_get_backlog (run->pool);
  run_message (run, "interrupted by %s: terminating %u running job%s, %u queued will not run "
               "(%s again exits at once)", signal_name (signum), run->running.length,
               run->running.length == 1 ? "" : "s", queued, signal_name (signum));
  run_stop_input (run);
  run_close (run, TP_CLOSE_CANCEL_RUNNING);
}

static gboolean
run_sigint_cb (gpointer user_data)
{
  run_interrupt (user_data, SIGINT);
  return G_SOURCE_CONTINUE;
}

static gboolean
run_sigterm_cb (gpointer user_data)
{
  run_interrupt (user_data, SIGTERM);
  return G_SOURCE_CONTINUE;
}

static gboolean
run_sighup_cb (gpointer user_data)
{
  run_interrupt (user_data, SIGHUP);
  return G_SOURCE_CONTINUE;
}

static void
run_watch_signals (Run *run)
{
  g_unix_signal_add (SIGUSR1, run_usr1_cb, run);
  g_unix_signal_add (SIGUSR2, run_usr2_cb, run);
  g_unix_signal_add (SIGINT, run_sigint_cb, run);
  g_unix_signal_add (SIGTERM, run_sigterm_cb, run);
  g_unix_signal_add (SIGHUP, run_sighup_cb, run);
}

/* }}} */

/* The summary {{{ */

static int
run_exit_status (Run *run)
{
  if (run->interrupt_signal != 0)
    return 128 + run->interrupt_signal;
  if (run->input_error)
    return EXIT_USAGE;
  if (run->counts[JOB_SUCCEEDED] < run->submitted)
    return EXIT_FAILED;
  return EXIT_SUCCESS;
}

static void
run_print_summary (Run *run)
{
  fprintf (stderr, PROGRAM ": %u job%s in %.2f s: %u succeeded, %u failed", run->submitted,
           run->submitted == 1 ? "" : "s", seconds_since (run->start_time),
           run->counts[JOB_SUCCEEDED], run->counts[JOB_FAILED]);
  if (run->timed_out > 0)
    fprintf (stderr, " (%u timed out)", run->timed_out);
  fprintf (stderr, ", %u cancelled, %u not run; size %u, at most %u running\n",
           run->counts[JOB_CANCELLED], run->counts[JOB_NOT_RUN],
           tp_pool_get_target_size (run->pool), run->peak_running);
}

static void
json_append_string (GString    *out,
                    const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);

  g_string_append_c (out, '"');
  for (const char *p = valid; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c == '"' || c == '\\')
        g_string_append_printf (out, "\\%c", c);
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c < 0x20)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_c (out, (char) c);
    }
  g_string_append_c (out, '"');
}

static void
json_append_seconds (GString *out,
                     gint64   microseconds)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append (out, g_ascii_formatd (buffer, sizeof buffer, "%.3f",
                                         microseconds / (double) G_USEC_PER_SEC));
}

static int
compare_records (gconstpointer a,
                 gconstpointer b)
{
  const JobRecord *ra = a, *rb = b;

  return ra->line < rb->line ? -1 : ra->line > rb->line;
}

static void
json_append_record (GString         *out,
                    const JobRecord *record)
{
  g_string_append_printf (out, "{\"line\":%u,\"status\":\"%s\",\"exit_code\":", record->line,
                          job_status_names[record->status]);
  if (record->exit_code >= 0)
    g_string_append_printf (out, "%d", record->exit_code);
  else
    g_string_append (out, "null");
  g_string_append (out, ",\"signal\":");
  if (record->signal > 0)
    g_string_append_printf (out, "%d", record->signal);
  else
    g_string_append (out, "null");
  g_string_append_printf (out, ",\"timed_out\":%s,\"elapsed_s\":",
                          record->timed_out ? "true" : "false");
  json_append_seconds (out, record->elapsed_us);
  g_string_append (out, ",\"command\":");
  json_append_string (out, record->command);
  g_string_append_c (out, '}');
}

static void
run_print_json (Run *run)
{
  g_autoptr(GString) out = g_string_new ("{");

  g_string_append_printf (out, "\"submitted\":%u,\"succeeded\":%u,\"failed\":%u,"
                          "\"timed_out\":%u,\"cancelled\":%u,\"not_run\":%u,\"exit_status\":%d,"
                          "\"interrupted\":%s,\"elapsed_s\":",
                          run->submitted, run->counts[JOB_SUCCEEDED], run->counts[JOB_FAILED],
                          run->timed_out, run->counts[JOB_CANCELLED], run->counts[JOB_NOT_RUN],
                          run_exit_status (run), run->interrupt_signal != 0 ? "true" : "false");
  json_append_seconds (out, g_get_monotonic_time () - run->start_time);
  g_string_append (out, ",\"kind\":");
  json_append_string (out, tp_pool_get_kind (run->pool));
  g_string_append_printf (out, ",\"size\":%u,\"peak_size\":%u,\"peak_running\":%u,\"jobs\":[",
                          tp_pool_get_target_size (run->pool), run->peak_size,
                          run->peak_running);

  g_array_sort (run->records, compare_records);
  for (guint i = 0; i < run->records->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      json_append_record (out, &g_array_index (run->records, JobRecord, i));
    }
  g_string_append (out, "]}\n");

  fwrite (out->str, 1, out->len, stdout);
  fflush (stdout);
}

/* }}} */

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

  if (run->opts->quiet)
    return;
  if (run->status_mode)
    {
      run->status_id = g_timeout_add (STATUS_INTERVAL_MS, run_status_cb, run);
      return;
    }
  run_message (run, "pool %s, size %u (min %u, max %u), queue capacity %u%s",
               tp_pool_get_kind (pool), tp_pool_get_target_size (pool),
               tp_pool_get_min_size (pool), tp_pool_get_max_size (pool), run->capacity,
               run->capacity == 0 ? " (no limit)" : "");
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
  args = options_split_attached (argc, argv);
  if (!options_parse (&opts, &args, &error))
    {
      status = usage_error (error->message);
      options_clear (&opts);
      return status;
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

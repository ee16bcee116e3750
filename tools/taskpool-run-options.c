/* taskpool-run-options.c: the command line
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every value is checked here, before anything runs: sizes become validated
 * text for the keyfile that configures the pool.
 */

#include <stdio.h>
#include <string.h>

#include "taskpool-run-private.h"

void
options_clear (Options *opts)
{
  g_free (opts->kind);
  g_free (opts->size);
  g_free (opts->min_size);
  g_free (opts->max_size);
  g_free (opts->queue_capacity);
  g_free (opts->queue_timeout_ms);
  g_free (opts->run_timeout_ms);
  g_free (opts->rate_limit);
  g_free (opts->rate_interval_ms);
  g_free (opts->per_key_limit);
  g_free (opts->config_file);
  g_free (opts->pool_group);
  g_strfreev (opts->plugin_path);
  g_strfreev (opts->files);
  g_strfreev (opts->command);
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

/* Seconds, decimals allowed, as milliseconds for the keyfile */
static gboolean
option_seconds (const char  *option_name,
                const char  *value,
                char       **out_ms,
                GError     **error)
{
  char *end = NULL;
  double seconds = g_ascii_strtod (value, &end);

  if (end == value || *end != '\0' || !(seconds > 0 && seconds <= MAX_TIMEOUT_S))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "%s: “%s” is not a number of seconds greater than 0 and at most %.0f",
                   option_name, value, MAX_TIMEOUT_S);
      return FALSE;
    }

  g_free (*out_ms);
  *out_ms = g_strdup_printf ("%u", MAX (1, (guint) (seconds * 1000 + 0.5)));
  return TRUE;
}

/* --timeout is --run-timeout's first name */
static gboolean
option_run_timeout_cb (const char  *option_name,
                       const char  *value,
                       gpointer     data,
                       GError     **error)
{
  Options *opts = data;

  return option_seconds (option_name, value, &opts->run_timeout_ms, error);
}

static gboolean
option_queue_timeout_cb (const char  *option_name,
                         const char  *value,
                         gpointer     data,
                         GError     **error)
{
  Options *opts = data;

  return option_seconds (option_name, value, &opts->queue_timeout_ms, error);
}

static gboolean
option_per_key_cb (const char  *option_name,
                   const char  *value,
                   gpointer     data,
                   GError     **error)
{
  Options *opts = data;

  return option_count (option_name, value, 1, TP_POOL_MAX_SIZE, &opts->per_key_limit, error);
}

/* INTERVAL of --rate: an optional whole number and a unit, "1s", "500ms",
 * "h"; FALSE when it is not that, and *ms 0 when it is out of range */
static gboolean
parse_interval (const char *text,
                guint64    *ms)
{
  static const struct {
    const char *unit;
    guint64     ms;
  } units[] = {
    { "ms", 1 }, { "s", 1000 }, { "min", 60 * 1000 }, { "h", 3600 * 1000 },
    { "d", MAX_RATE_INTERVAL_MS },
  };
  const char *p = text;
  guint64 number = 1;

  if (g_ascii_isdigit (*p))
    {
      number = 0;
      for (; g_ascii_isdigit (*p); p++)
        number = MIN (number * 10 + (guint64) (*p - '0'), (guint64) MAX_RATE_INTERVAL_MS + 1);
    }
  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    if (strcmp (p, units[i].unit) == 0)
      {
        guint64 value = number * units[i].ms;

        *ms = value >= 1 && value <= MAX_RATE_INTERVAL_MS ? value : 0;
        return TRUE;
      }
  return FALSE;
}

/* --rate N/INTERVAL: at most N starts in any INTERVAL */
static gboolean
option_rate_cb (const char  *option_name,
                const char  *value,
                gpointer     data,
                GError     **error)
{
  Options *opts = data;
  g_auto(GStrv) parts = g_strsplit (value, "/", -1);
  guint64 limit = 0;
  guint64 interval_ms = 0;

  if (g_strv_length (parts) != 2 || parts[0][0] == '\0' || parts[1][0] == '\0')
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "%s: “%s” is not N/INTERVAL, at most N starts in any INTERVAL, "
                   "such as 10/1s, 100/500ms or 5000/1h", option_name, value);
      return FALSE;
    }
  if (!g_ascii_isdigit (parts[0][0]) ||
      !g_ascii_string_to_unsigned (parts[0], 10, 1, MAX_RATE_LIMIT, &limit, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "%s: “%s”: N, “%s”, is not a whole number from 1 to %u",
                   option_name, value, parts[0], MAX_RATE_LIMIT);
      return FALSE;
    }
  if (!parse_interval (parts[1], &interval_ms))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "%s: “%s”: the interval, “%s”, is not a whole number and a unit (ms, s, "
                   "min, h or d), such as 1s, 500ms or 1h", option_name, value, parts[1]);
      return FALSE;
    }
  if (interval_ms == 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "%s: “%s”: the interval, “%s”, is not from 1 ms to 1 d", option_name, value,
                   parts[1]);
      return FALSE;
    }

  g_free (opts->rate_limit);
  g_free (opts->rate_interval_ms);
  opts->rate_limit = g_strdup_printf ("%" G_GUINT64_FORMAT, limit);
  opts->rate_interval_ms = g_strdup_printf ("%" G_GUINT64_FORMAT, interval_ms);
  return TRUE;
}

static const char options_description[] =
  "Each line of FILE (or of standard input when FILE is missing or “-”) is a command for\n"
  "/bin/sh -c. Blank lines and lines starting with “#” are skipped. Commands read /dev/null\n"
  "as standard input and, unless --keep-order is given, write straight to the terminal.\n"
  "\n"
  "With -- COMMAND [ARGUMENT…], each line is one argument instead: COMMAND runs once per\n"
  "line, the line in place of every {} in its words, or after the last word when none holds\n"
  "{}. A line is one argument whatever it holds (spaces, quotes, $, ;), never shell syntax.\n"
  "Only empty lines are skipped.\n"
  "\n"
  "Pool kinds are SCALER-QUEUE: fixed-simple (the default), fixed-lifo, fixed-priority,\n"
  "autoscale-simple, autoscale-lifo, autoscale-priority, or any kind plugins provide.\n"
  "--weights defaults the kind to fixed-priority, which runs the smallest weight first.\n"
  "\n"
  "Limits: --keys makes lines KEY<TAB>COMMAND (after WEIGHT<TAB> with --weights); --per-key N\n"
  "runs at most N jobs of one key at once; --rate N/INTERVAL starts at most N jobs in any\n"
  "INTERVAL (ms, s, min, h or d: 10/1s, 5000/1h), per key with --rate-per-key. A job that\n"
  "has not started within --queue-timeout fails without running; one that runs longer than\n"
  "--run-timeout (or --timeout) gets SIGTERM, and SIGKILL 2 s later.\n"
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
  "  find . -name '*.png' | taskpool-run -j 4 --keep-order -- optipng -q {}\n"
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
  /* Keys come only from the lines: without them these limits nothing */
  if (opts->per_key_limit != NULL && !opts->keys)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "--per-key %s needs --keys: lines KEY<TAB>COMMAND, without which no job has "
                   "a key to be limited by", opts->per_key_limit);
      return FALSE;
    }
  if (opts->rate_per_key && !opts->keys)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "--rate-per-key needs --keys: lines KEY<TAB>COMMAND, without which every "
                   "job shares one rate");
      return FALSE;
    }
  if (opts->rate_per_key && opts->rate_limit == NULL && opts->config_file == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "--rate-per-key needs --rate N/INTERVAL, or a --config group with the rate "
                   "gate");
      return FALSE;
    }
  return TRUE;
}

/* Returns the arguments for GOption, and in @command the words after the
 * first "--" (NULL when there are none): they are not options, whatever
 * they look like.
 *
 * GOption reads "-j8" as "-j" followed by the next argument: split it, as
 * make and parallel users write it, into "-j" "8". */
char **
options_split_args (int     argc,
                    char  **argv,
                    char ***command)
{
  GPtrArray *args = g_ptr_array_new_with_free_func (g_free);
  int i;

  for (i = 0; i < argc && (i == 0 || strcmp (argv[i], "--") != 0); i++)
    {
      const char *arg = argv[i];

      if (i > 0 && arg[0] == '-' && arg[1] != '\0' && strchr ("jtcp", arg[1]) != NULL &&
          arg[2] != '\0')
        {
          g_ptr_array_add (args, g_strndup (arg, 2));
          g_ptr_array_add (args, g_strdup (arg + 2));
          continue;
        }
      g_ptr_array_add (args, g_strdup (arg));
    }
  g_ptr_array_add (args, NULL);

  *command = i + 1 < argc ? g_strdupv (argv + i + 1) : NULL;
  return (char **) g_ptr_array_free (args, FALSE);
}

gboolean
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
      "Lines are WEIGHT<TAB>COMMAND (or ARGUMENT); the smallest weight runs first", NULL },
    { "keep-order", 'k', 0, G_OPTION_ARG_NONE, &opts->keep_order,
      "Print each job's output (stdout and stderr) in one piece, in input order", NULL },
    { "keys", 0, 0, G_OPTION_ARG_NONE, &opts->keys,
      "Lines are KEY<TAB>COMMAND (or ARGUMENT; after WEIGHT<TAB> with --weights)", NULL },
    { "per-key", 0, 0, G_OPTION_ARG_CALLBACK, option_per_key_cb,
      "Run at most N jobs of one key at once (needs --keys)", "N" },
    { "rate", 0, 0, G_OPTION_ARG_CALLBACK, option_rate_cb,
      "Start at most N jobs in any INTERVAL: 10/1s, 100/500ms, 5000/1h", "N/INTERVAL" },
    { "rate-per-key", 0, 0, G_OPTION_ARG_NONE, &opts->rate_per_key,
      "Apply --rate to each key on its own (needs --keys)", NULL },
    { "queue-timeout", 0, 0, G_OPTION_ARG_CALLBACK, option_queue_timeout_cb,
      "Fail a job that has not started after SECONDS", "SECONDS" },
    { "run-timeout", 0, 0, G_OPTION_ARG_CALLBACK, option_run_timeout_cb,
      "Terminate a job after SECONDS (SIGTERM, then SIGKILL 2 s later)", "SECONDS" },
    { "timeout", 't', 0, G_OPTION_ARG_CALLBACK, option_run_timeout_cb,
      "The same as --run-timeout", "SECONDS" },
    { "halt-on-error", 0, 0, G_OPTION_ARG_NONE, &opts->halt_on_error,
      "After the first failure start no more jobs; running ones finish", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opts->json,
      "Print a JSON summary as the last line of standard output", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opts->quiet,
      "No progress: neither the status line nor a line per job", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &opts->version,
      "Print the versions of taskpool-run, libtaskpool and GLib, then exit", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opts->files, NULL, NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("[FILE] [-- COMMAND [ARGUMENT…]]");
  GOptionGroup *group = g_option_group_new (PROGRAM, NULL, NULL, opts, NULL);

  g_option_group_add_entries (group, entries);
  g_option_context_set_main_group (context, group);
  g_option_context_set_summary (context,
    "Runs the shell commands in FILE, one per line, or COMMAND once per line of FILE, at\n"
    "most SIZE at once, through a libtaskpool pool, and reports how each one ended.");
  g_option_context_set_description (context, options_description);

  if (!g_option_context_parse_strv (context, args, error))
    return FALSE;
  return opts->version || options_check (opts, error);
}

/* The library has no run-time version query: it is the one built with this
 * program, from the same source tree. GLib's is the one running. */
void
options_print_version (void)
{
  printf (PROGRAM " %s\n", TASKPOOL_RUN_VERSION);
  printf ("libtaskpool %s\n", LIBTASKPOOL_VERSION);
  printf ("GLib %u.%u.%u\n", glib_major_version, glib_minor_version, glib_micro_version);
}

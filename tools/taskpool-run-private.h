/* taskpool-run-private.h: what the units of taskpool-run share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * taskpool-run is one program in several units, each named for what it owns:
 *
 *   taskpool-run.c           main(): the run from start to summary
 *   taskpool-run-options.c   the command line
 *   taskpool-run-config.c    the pool's configuration: keyfile and options
 *   taskpool-run-job.c       one command: spawning, watching, completing its job
 *   taskpool-run-status.c    messages and the status line
 *   taskpool-run-finished.c  finished jobs: counting, reporting, ordered output
 *   taskpool-run-input.c     reading lines and submitting them
 *   taskpool-run-template.c  -- COMMAND: one command per line, the line as its argument
 *   taskpool-run-close.c     closing the pool and ending the run
 *   taskpool-run-signals.c   scaling and interrupts by signal
 *   taskpool-run-summary.c   the summary and the JSON report
 *
 * Everything runs on the default main context, in the main thread.
 */

#pragma once

#include <gio/gio.h>
#include <taskpool/taskpool.h>

G_BEGIN_DECLS

#define PROGRAM              "taskpool-run"
#define EXIT_FAILED          1
#define EXIT_USAGE           2
#define CLI_GROUP            "command line"
#define STATUS_INTERVAL_MS   200
#define KILL_GRACE_MS        2000
#define MAX_TIMEOUT_S        2147483.0
#define MAX_RATE_LIMIT       1000000
#define MAX_RATE_INTERVAL_MS (24 * 3600 * 1000)

/* The command line: taskpool-run-options.c, taskpool-run-config.c */

typedef struct {
  char      *kind;
  char      *size;              /* sizes are validated text, ready for the keyfile */
  char      *min_size;
  char      *max_size;
  char      *queue_capacity;
  char      *config_file;
  char      *pool_group;
  char     **plugin_path;
  char      *queue_timeout_ms;
  char      *run_timeout_ms;
  char      *rate_limit;
  char      *rate_interval_ms;
  gboolean   rate_per_key;
  char      *per_key_limit;
  gboolean   weights;
  gboolean   keys;
  gboolean   keep_order;
  gboolean   halt_on_error;
  gboolean   json;
  gboolean   quiet;
  gboolean   version;
  char     **files;
  char     **command;           /* after --: a template, each line its argument; or NULL */
} Options;

void       options_clear          (Options   *opts);
char     **options_split_args     (int        argc,
                                   char     **argv,
                                   char    ***command);
gboolean   options_parse          (Options   *opts,
                                   char    ***args,
                                   GError   **error);
void       options_print_version  (void);
TpPool    *options_create_pool    (Options   *opts,
                                   GError   **error);

/* Jobs and the run */

typedef enum {
  JOB_SUCCEEDED,
  JOB_FAILED,
  JOB_CANCELLED,
  JOB_NOT_RUN,
  N_JOB_STATUSES
} JobStatus;

typedef struct _Run Run;

/* One command. The program owns it from submission to the end of its
 * submission callback, which runs exactly once. */
typedef struct {
  Run          *run;
  GList         link;           /* in run->running while its child runs */
  guint         index;          /* submission order, from 0 */
  guint         line;           /* line number in the input */
  char         *command;
  char         *key;            /* --keys: the line's key, or NULL */
  GTask        *task;           /* while its child runs */
  GPid          pid;            /* the child, leader of its own process group */
  gboolean      exited;
  int           wait_status;
  gboolean      output_done;    /* --keep-order: the output pipe reached its end */
  GBytes       *output;
  GCancellable *cancellable;
  gulong        cancel_id;
  guint         kill_id;
  gint64        start_time;
  gboolean      terminated;     /* its cancellable fired: a run timeout or an interrupt */
  struct _JobResult *result;    /* a terminated job's result, beside its error */
} Job;

/* What a job returns through its GTask */
typedef struct _JobResult {
  gboolean  exited;
  int       exit_code;          /* when exited */
  int       signal;             /* when killed by a signal, else 0 */
  gboolean  timed_out;          /* the pool's run timeout cancelled it */
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
  char      *key;
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

/* taskpool-run-job.c */
Job       *job_new                (Run          *run,
                                   const char   *command,
                                   const char   *key);
void       job_free               (Job          *job);
void       job_result_free        (JobResult    *result);
void       job_run_cb             (GTask        *task,
                                   gpointer      pool,
                                   gpointer      job_data,
                                   GCancellable *cancellable);
void       job_signal             (Job          *job,
                                   int           signum);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Job, job_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (JobResult, job_result_free)

/* taskpool-run-template.c */
char      *template_expand        (char * const *words,
                                   const char   *argument);

/* taskpool-run-status.c */
double     seconds_since          (gint64      start);
void       run_clear_status       (Run        *run);
gboolean   run_status_cb          (gpointer    user_data);
void       run_message            (Run        *run,
                                   const char *format,
                                   ...) G_GNUC_PRINTF (2, 3);

/* taskpool-run-finished.c */
void       job_record_clear       (gpointer      data);
void       job_done_cb            (GObject      *source,
                                   GAsyncResult *res,
                                   gpointer      user_data);

/* taskpool-run-input.c */
gboolean   run_open_input         (Run         *run,
                                   GError     **error);
void       run_stop_input         (Run         *run);
void       run_maybe_read         (Run         *run);
void       run_pool_changed_cb    (GObject     *pool,
                                   GParamSpec  *pspec,
                                   gpointer     user_data);

/* taskpool-run-close.c */
void       run_close              (Run          *run,
                                   TpCloseFlags  flags);
void       run_halt               (Run          *run,
                                   Job          *job);
void       run_maybe_finish       (Run          *run);

/* taskpool-run-signals.c */
void       run_watch_signals      (Run *run);

/* taskpool-run-summary.c */
int        run_exit_status        (Run *run);
void       run_print_summary      (Run *run);
void       run_print_json         (Run *run);

G_END_DECLS

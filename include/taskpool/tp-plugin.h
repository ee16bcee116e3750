/* tp-plugin.h: the libtaskpool plugin SDK
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A strategy plugin includes this header (and nothing else of libtaskpool)
 * and builds against `pkg-config --cflags --libs taskpool-1`. The module is
 * declared by a metadata file beside it (`name.plugin`: [Plugin] Module=,
 * Queues=, Scalers=, Gates=), without which it is never opened.
 *
 * Every struct here grows only at its end, from a first size
 * (`TP_*_SIZE_FIRST`) below which it is refused; a field added later is read
 * only from a struct whose size covers it (TP_STRUCT_SIZE_HAS()), so plugins
 * built against an older SDK keep loading.
 */

#pragma once

#include <gmodule.h>
#include <taskpool/taskpool.h>

#define TASKPOOL_INSIDE
# include "tp-version-macros.h"
#undef TASKPOOL_INSIDE

G_BEGIN_DECLS

/**
 * TP_PLUGIN_ABI_VERSION:
 *
 * The plugin ABI this header describes. The registry refuses a plugin whose
 * descriptor carries another version.
 *
 * Since: 1.0
 */
#define TP_PLUGIN_ABI_VERSION 1

/**
 * TP_PLUGIN_ENTRY_SYMBOL:
 *
 * The one symbol a plugin exports: a #TpPluginEntryFunc.
 *
 * Since: 1.0
 */
#define TP_PLUGIN_ENTRY_SYMBOL "tp_plugin_get_descriptor"

/**
 * TP_STRUCT_SIZE_HAS:
 * @type: a struct type of the SDK: `TpScaleStrategy`, `TpScaleLimits` …
 * @struct_size: the size the struct has, as its provider was built
 * @field: a field of @type
 *
 * Whether a struct of @struct_size bytes, laid out as @type, includes
 * @field. This is how every struct of the SDK grows: fields are only ever
 * added at the end, each struct has a first size below which it is refused,
 * and whoever reads a field added after that first size checks first that
 * the struct's provider knew it. The registry does so for the vtables a
 * plugin gives; a plugin does so for the structs the pool gives it (the
 * `struct_size` of #TpScaleStats, the `limits_size` of a scaling strategy's
 * `init`).
 *
 * |[<!-- language="C" -->
 * if (TP_STRUCT_SIZE_HAS (TpScaleStats, stats->struct_size, completed))
 *   rate = stats->completed;
 * ]|
 *
 * Since: 1.2
 */
#define TP_STRUCT_SIZE_HAS(type, struct_size, field) \
  ((gsize) (struct_size) >= G_STRUCT_OFFSET (type, field) + sizeof (((type *) NULL)->field))

/**
 * TpJob:
 *
 * A queued job as a queue strategy sees it. Strategies read it through the
 * `tp_job_get_*()` accessors and may keep one pointer of their own in it with
 * tp_job_set_queue_data(); the rest belongs to the pool.
 *
 * Since: 1.0
 */
typedef struct _TpJob TpJob;

TP_AVAILABLE_IN_ALL
int           tp_job_get_weight        (const TpJob *job);
TP_AVAILABLE_IN_ALL
guint64       tp_job_get_sequence      (const TpJob *job);
TP_AVAILABLE_IN_ALL
gint64        tp_job_get_submit_time   (const TpJob *job);
TP_AVAILABLE_IN_ALL
gboolean      tp_job_get_in_thread     (const TpJob *job);
TP_AVAILABLE_IN_ALL
gpointer      tp_job_get_queue_data    (const TpJob *job);
TP_AVAILABLE_IN_ALL
void          tp_job_set_queue_data    (TpJob       *job,
                                        gpointer     queue_data);
TP_AVAILABLE_IN_1_2
const char   *tp_job_get_key           (const TpJob *job);

TP_AVAILABLE_IN_1_4
const char   *tp_key_ref               (const char  *key);
TP_AVAILABLE_IN_1_4
void          tp_key_unref             (const char  *key);

/**
 * TpQueueFlags:
 * @TP_QUEUE_FLAGS_NONE: no flag: the pool records each job's submission time
 * @TP_QUEUE_IGNORES_SUBMIT_TIME: the strategy never calls
 *   tp_job_get_submit_time(), so the pool does not read the clock for each
 *   submission; tp_job_get_submit_time() then fails with a critical warning
 *
 * What a queue strategy needs of the pool.
 *
 * Since: 1.0
 */
typedef enum {
  TP_QUEUE_FLAGS_NONE          = 0,
  TP_QUEUE_IGNORES_SUBMIT_TIME = 1 << 0,
} TpQueueFlags;

/**
 * TP_QUEUE_STRATEGY_SIZE_FIRST:
 *
 * The smallest `struct_size` the registry accepts for a #TpQueueStrategy:
 * the vtable without @flags, as the first plugins were built. Such a
 * strategy has no flags.
 *
 * Since: 1.0
 */
#define TP_QUEUE_STRATEGY_SIZE_FIRST (G_STRUCT_OFFSET (TpQueueStrategy, flags))

/**
 * TpQueueStrategy:
 * @struct_size: `sizeof (TpQueueStrategy)` as the plugin was built
 * @name: the strategy's name: the queue half of a kind (`simple` in `fixed-simple`);
 *   ASCII letters, digits, `-` and `_`
 * @description: one line for listings
 * @keys: (nullable): NULL-terminated keyfile keys the strategy reads
 * @create: makes an empty queue; @config is %NULL when the pool was not
 *   configured from a keyfile
 * @destroy: frees an empty queue
 * @push: adds @job
 * @pop: removes and returns the job that runs next, or %NULL when empty
 * @remove: removes @job, which is in the queue (a cancelled or discarded job)
 * @length: the number of queued jobs
 * @flags: what the strategy needs of the pool; a vtable whose @struct_size
 *   ends before this field has none
 * @requeue: (nullable): adds @job, which may be older than jobs already queued
 *   (a job that `pop` returned and a gate held), at the place the queue's
 *   order gives it among them. %NULL when `push` already places any job by
 *   its order (as a priority queue does); the pool then calls `push`. A
 *   vtable whose @struct_size ends before this field has none. Since: 1.2
 *
 * The vtable of a queue strategy: which waiting job runs next. The pool calls
 * every function with its lock held, so a queue needs no locking of its own
 * and must not call back into the pool.
 *
 * A strategy that does not age jobs sets %TP_QUEUE_IGNORES_SUBMIT_TIME: a
 * clock read per submission is a measurable share of a short job's cost.
 *
 * Since: 1.0
 */
typedef struct _TpQueueStrategy TpQueueStrategy;
struct _TpQueueStrategy
{
  gsize               struct_size;
  const char         *name;
  const char         *description;
  const char * const *keys;

  gpointer  (*create)  (GKeyFile    *config,
                        const char  *group,
                        GError     **error);
  void      (*destroy) (gpointer     queue);
  void      (*push)    (gpointer     queue,
                        TpJob       *job);
  TpJob    *(*pop)     (gpointer     queue);
  void      (*remove)  (gpointer     queue,
                        TpJob       *job);
  guint     (*length)  (gpointer     queue);

  TpQueueFlags        flags;

  void      (*requeue) (gpointer     queue,
                        TpJob       *job);
};

/**
 * TpScaleLimits:
 * @size: workers at start
 * @min_size: the smallest size scaling may reach
 * @max_size: the largest size scaling may reach
 * @size_set: whether the application set @size
 * @min_size_set: whether the application set @min_size
 * @max_size_set: whether the application set @max_size
 *
 * The size bounds of a pool. A scaling strategy's `init` (or `create`)
 * fills in the defaults of what was not set and checks the rest; the pool
 * then checks `min_size <= size <= max_size` and
 * `1 <= max_size <= TP_POOL_MAX_SIZE`.
 *
 * The struct carries no size of its own: the pool allocates it, and it only
 * ever grows at its end. A strategy with `init` is given the size the pool
 * filled in (`limits_size`) and checks it with TP_STRUCT_SIZE_HAS() before
 * it reads or writes a field added after %TP_SCALE_LIMITS_SIZE_FIRST; a
 * strategy with only `create`, built before `init` existed, is given at
 * least the first layout and never looks past it.
 *
 * Since: 1.0
 */
typedef struct _TpScaleLimits TpScaleLimits;
struct _TpScaleLimits
{
  guint    size;
  guint    min_size;
  guint    max_size;
  gboolean size_set;
  gboolean min_size_set;
  gboolean max_size_set;
};

/**
 * TP_SCALE_LIMITS_SIZE_FIRST:
 *
 * The size of #TpScaleLimits as the first SDK laid it out: the smallest
 * `limits_size` a scaling strategy's `init` can be given.
 *
 * Since: 1.2
 */
#define TP_SCALE_LIMITS_SIZE_FIRST \
  (G_STRUCT_OFFSET (TpScaleLimits, max_size_set) + sizeof (gboolean))

/**
 * TpScaleStats:
 * @struct_size: `sizeof (TpScaleStats)` as the pool was built
 * @now: monotonic time of the snapshot, in microseconds
 * @size: live workers
 * @target: the size the pool is heading for
 * @running: jobs executing
 * @waiting: jobs waiting for a worker in the queue (not counting @backlog),
 *   that a worker could start now: 0 while the pool is held or one of its
 *   gates holds every job, and never the jobs a gate holds by their key.
 *   A scaler that grows for @waiting grows only for jobs it can help
 * @idle_workers: live workers without a job
 * @min_size: lower bound of the size
 * @max_size: upper bound of the size
 * @oldest_wait_us: how long the oldest queued job has waited, 0 when @waiting
 *   is 0
 * @longest_idle_us: how long the longest-idle worker has been idle, 0 when none is idle
 * @submitted: jobs accepted since the pool started
 * @completed: jobs that left a worker since the pool started
 * @backlog: submissions waiting for room in a full queue, not yet queued.
 *   Present when @struct_size covers it (Since: 1.2); a pool built before
 *   counted them in @waiting
 *
 * A snapshot of a pool's load, given to a scaling strategy's `decide`. The
 * pool fills @struct_size: a strategy reads a field added after the first
 * release only when @struct_size covers it.
 *
 * Since: 1.0
 */
typedef struct _TpScaleStats TpScaleStats;
struct _TpScaleStats
{
  gsize   struct_size;
  gint64  now;
  guint   size;
  guint   target;
  guint   running;
  guint   waiting;
  guint   idle_workers;
  guint   min_size;
  guint   max_size;
  gint64  oldest_wait_us;
  gint64  longest_idle_us;
  guint64 submitted;
  guint64 completed;
  guint   backlog;
};

/**
 * TpScaleStrategy:
 * @struct_size: `sizeof (TpScaleStrategy)` as the plugin was built
 * @name: the strategy's name: the scaler half of a kind (`fixed` in `fixed-simple`);
 *   ASCII letters, digits and `_` (no `-`: the first `-` of a kind ends the scaler)
 * @description: one line for listings
 * @keys: (nullable): NULL-terminated keyfile keys the strategy reads; `size`,
 *   `min-size` and `max-size` are read by the pool for the strategy, and are
 *   accepted in a keyfile only when listed here
 * @create: (nullable): makes a scaler; fills the defaults of @limits and
 *   validates it; returns %NULL with its error set on failure. Only for a
 *   strategy without @init, which must then return a non-%NULL pointer even
 *   when it keeps no state: write @init instead. A vtable with @init leaves
 *   it %NULL, or sets it for libraries older than 1.2, which call it instead
 * @destroy: (nullable): frees the scaler. Required with @create; optional
 *   with @init, which then calls it after every successful @init, whatever
 *   `*scaler` it set
 * @decide: (nullable): returns the size the pool should have; sets
 *   `*next_check_us` to the delay after which it wants to be asked again, or
 *   to -1 to be asked only when the load changes. %NULL for a strategy whose
 *   size changes only through tp_pool_scale().
 * @init: (nullable): makes a scaler: fills the defaults of @limits, of which
 *   the pool filled in `limits_size` bytes, validates it, sets `*scaler`
 *   (%NULL for a strategy without state) and returns %TRUE, or returns
 *   %FALSE with its error set. A vtable whose @struct_size ends before this
 *   field has none, and uses @create. Since: 1.2
 *
 * The vtable of a scaling strategy: how many workers there should be. The
 * pool clamps the answer to `[min_size, max_size]` and applies it. `decide`
 * is called with the pool's lock held: when a job must wait while the
 * target size is below max-size (at max-size the pool cannot grow), when a
 * worker goes idle and when the delay it asked for has passed; never while
 * the pool is idle without having asked.
 *
 * Since: 1.0
 */
typedef struct _TpScaleStrategy TpScaleStrategy;
struct _TpScaleStrategy
{
  gsize               struct_size;
  const char         *name;
  const char         *description;
  const char * const *keys;

  gpointer  (*create)  (GKeyFile            *config,
                        const char          *group,
                        TpScaleLimits       *limits,
                        GError             **error);
  void      (*destroy) (gpointer             scaler);
  guint     (*decide)  (gpointer             scaler,
                        const TpScaleStats  *stats,
                        gint64              *next_check_us);

  gboolean  (*init)    (GKeyFile            *config,
                        const char          *group,
                        TpScaleLimits       *limits,
                        gsize                limits_size,
                        gpointer            *scaler,
                        GError             **error);
};

/**
 * TP_SCALE_STRATEGY_SIZE_FIRST:
 *
 * The smallest `struct_size` the registry accepts for a #TpScaleStrategy:
 * the vtable without @init, as the first plugins were built. Such a
 * strategy is made with its `create`.
 *
 * Since: 1.2
 */
#define TP_SCALE_STRATEGY_SIZE_FIRST (G_STRUCT_OFFSET (TpScaleStrategy, init))

/**
 * TpGateHost:
 *
 * What a pool gives each of its gates: the pool's main context, and a way
 * to make the pool ask the gate again. Valid from the gate's `create` until
 * its `destroy`.
 *
 * Since: 1.2
 */
typedef struct _TpGateHost TpGateHost;

TP_AVAILABLE_IN_1_2
GMainContext *tp_gate_host_get_main_context (TpGateHost *host);
TP_AVAILABLE_IN_1_2
const char   *tp_gate_host_get_name         (TpGateHost *host);
TP_AVAILABLE_IN_1_2
void          tp_gate_host_wake             (TpGateHost *host);

/**
 * TpGateVerdict:
 * @TP_GATE_ADMIT: the job may start now, as far as this gate is concerned
 * @TP_GATE_HOLD: no job may start now: the pool stops starting jobs until
 *   the gate's retry time, a wake, or the end of a job the gate started
 * @TP_GATE_HOLD_KEY: no job of this job's key may start now; jobs of other
 *   keys go on. Held until the retry time, a wake, or the end of a job of
 *   that key the gate started
 * @TP_GATE_FAIL: the job fails with the error the gate set, and never runs
 *
 * A gate's answer to "may this job start now?".
 *
 * Since: 1.2
 */
typedef enum {
  TP_GATE_ADMIT,
  TP_GATE_HOLD,
  TP_GATE_HOLD_KEY,
  TP_GATE_FAIL,
} TpGateVerdict;

/**
 * TpGateStrategy:
 * @struct_size: `sizeof (TpGateStrategy)` as the plugin was built
 * @name: the gate's name, as listed in a pool's `gates`; ASCII letters,
 *   digits, `-` and `_`
 * @description: one line for listings
 * @keys: (nullable): NULL-terminated keyfile keys the gate reads
 * @create: makes a gate for one pool; sets `*gate` (which may be %NULL for a
 *   gate without state) and returns %TRUE, or returns %FALSE with @error set.
 *   @config is %NULL when the pool was not configured from a keyfile
 * @destroy: (nullable): frees the gate; every job it started has ended
 * @admit: may @job start now? Without side effects: the pool asks each of
 *   its gates in order, and only when all admit does it call `started` on
 *   each. A refusal may set `*retry_at` (monotonic time, µs) to when to ask
 *   again; -1 (its value on entry) means "when woken, or when a job ends".
 *   %TP_GATE_FAIL sets @error
 * @started: @job starts now: count it
 * @ended: (nullable): a job `started` was called for has ended, whichever
 *   way: called exactly once for each
 *
 * The vtable of a gate: a condition a job must meet to start, beyond a free
 * worker (a rate, a limit per key, a limit shared with other processes, the
 * network being up). The pool calls `admit`, `started` and `ended` with its
 * lock held, from any thread: a gate needs no lock for the state only they
 * touch, must not block, and must not call into the pool except through
 * tp_gate_host_wake(), which is safe anywhere. State that other threads or
 * the main context also touch (a server's replies, a monitor's signals)
 * needs a lock of the gate's own.
 *
 * A gate that counts by key finds keys by address: tp_job_get_key() returns
 * an interned string, and a key the gate keeps beyond its job needs a
 * reference of the gate's (tp_key_ref()).
 *
 * Since: 1.2
 */
typedef struct _TpGateStrategy TpGateStrategy;
struct _TpGateStrategy
{
  gsize               struct_size;
  const char         *name;
  const char         *description;
  const char * const *keys;

  gboolean       (*create)  (GKeyFile     *config,
                             const char   *group,
                             TpGateHost   *host,
                             gpointer     *gate,
                             GError      **error);
  void           (*destroy) (gpointer      gate);
  TpGateVerdict  (*admit)   (gpointer      gate,
                             const TpJob  *job,
                             gint64        now,
                             gint64       *retry_at,
                             GError      **error);
  void           (*started) (gpointer      gate,
                             const TpJob  *job,
                             gint64        now);
  void           (*ended)   (gpointer      gate,
                             const TpJob  *job);
};

/**
 * TP_GATE_STRATEGY_SIZE_FIRST:
 *
 * The smallest `struct_size` the registry accepts for a #TpGateStrategy:
 * the vtable as 1.2 laid it out, up to and including @ended. Fields added
 * later are read only from a vtable whose `struct_size` covers them.
 *
 * Since: 1.2
 */
#define TP_GATE_STRATEGY_SIZE_FIRST \
  (G_STRUCT_OFFSET (TpGateStrategy, ended) + sizeof (gpointer))

/**
 * TpPluginDescriptor:
 * @abi_version: %TP_PLUGIN_ABI_VERSION
 * @struct_size: `sizeof (TpPluginDescriptor)` as the plugin was built
 * @name: the module's name
 * @version: the module's version
 * @description: one line for listings
 * @queue_strategies: (nullable): NULL-terminated queue strategies
 * @scale_strategies: (nullable): NULL-terminated scaling strategies
 * @gate_strategies: (nullable): NULL-terminated gates; a descriptor whose
 *   @struct_size ends before this field has none. Since: 1.2
 *
 * What a plugin's entry point returns: a static description of the module
 * and of the strategies it provides. Write it with TP_PLUGIN_DEFINE(). The
 * strategies must be exactly those the plugin's metadata file declares.
 *
 * Since: 1.0
 */
typedef struct _TpPluginDescriptor TpPluginDescriptor;
struct _TpPluginDescriptor
{
  guint32                         abi_version;
  gsize                           struct_size;
  const char                     *name;
  const char                     *version;
  const char                     *description;
  const TpQueueStrategy * const  *queue_strategies;
  const TpScaleStrategy * const  *scale_strategies;
  const TpGateStrategy * const   *gate_strategies;
};

/**
 * TP_PLUGIN_DESCRIPTOR_SIZE_FIRST:
 *
 * The smallest `struct_size` the registry accepts for a #TpPluginDescriptor:
 * the descriptor as the first plugins were built, without @gate_strategies.
 *
 * Since: 1.2
 */
#define TP_PLUGIN_DESCRIPTOR_SIZE_FIRST (G_STRUCT_OFFSET (TpPluginDescriptor, gate_strategies))

/**
 * TpPluginEntryFunc:
 *
 * The type of the symbol named %TP_PLUGIN_ENTRY_SYMBOL.
 *
 * Returns: (transfer none) (nullable): the plugin's static descriptor
 *
 * Since: 1.0
 */
typedef const TpPluginDescriptor *(*TpPluginEntryFunc) (void);

/**
 * TP_PLUGIN_DEFINE:
 * @module_name: the module's name, a string
 * @module_version: the module's version, a string
 * @module_description: one line, a string
 * @queues: a NULL-terminated array of `const TpQueueStrategy *`, or %NULL
 * @scalers: a NULL-terminated array of `const TpScaleStrategy *`, or %NULL
 *
 * Defines and exports the plugin's entry point.
 *
 * Since: 1.0
 */
#define TP_PLUGIN_DEFINE(module_name, module_version, module_description, queues, scalers) \
  G_MODULE_EXPORT const TpPluginDescriptor *tp_plugin_get_descriptor (void);             \
  G_MODULE_EXPORT const TpPluginDescriptor *                                              \
  tp_plugin_get_descriptor (void)                                                         \
  {                                                                                       \
    static const TpPluginDescriptor descriptor = {                                        \
      TP_PLUGIN_ABI_VERSION, sizeof (TpPluginDescriptor),                                 \
      module_name, module_version, module_description, queues, scalers, NULL,             \
    };                                                                                    \
    return &descriptor;                                                                   \
  }

/**
 * TP_PLUGIN_DEFINE_WITH_GATES:
 * @module_name: the module's name, a string
 * @module_version: the module's version, a string
 * @module_description: one line, a string
 * @queues: a NULL-terminated array of `const TpQueueStrategy *`, or %NULL
 * @scalers: a NULL-terminated array of `const TpScaleStrategy *`, or %NULL
 * @gates: a NULL-terminated array of `const TpGateStrategy *`, or %NULL
 *
 * Defines and exports the entry point of a plugin that also provides gates.
 *
 * Since: 1.2
 */
#define TP_PLUGIN_DEFINE_WITH_GATES(module_name, module_version, module_description,         \
                                    queues, scalers, gates)                                   \
  G_MODULE_EXPORT const TpPluginDescriptor *tp_plugin_get_descriptor (void);             \
  G_MODULE_EXPORT const TpPluginDescriptor *                                              \
  tp_plugin_get_descriptor (void)                                                         \
  {                                                                                       \
    static const TpPluginDescriptor descriptor = {                                        \
      TP_PLUGIN_ABI_VERSION, sizeof (TpPluginDescriptor),                                 \
      module_name, module_version, module_description, queues, scalers, gates,            \
    };                                                                                    \
    return &descriptor;                                                                   \
  }

TP_AVAILABLE_IN_ALL
gboolean      tp_config_get_uint       (GKeyFile    *config,
                                        const char  *group,
                                        const char  *key,
                                        guint        min_value,
                                        guint        max_value,
                                        guint       *value,
                                        gboolean    *was_set,
                                        GError     **error);
TP_AVAILABLE_IN_ALL
gboolean      tp_config_get_int        (GKeyFile    *config,
                                        const char  *group,
                                        const char  *key,
                                        int          min_value,
                                        int          max_value,
                                        int         *value,
                                        gboolean    *was_set,
                                        GError     **error);
TP_AVAILABLE_IN_1_2
gboolean      tp_config_get_string     (GKeyFile    *config,
                                        const char  *group,
                                        const char  *key,
                                        char       **value,
                                        gboolean    *was_set,
                                        GError     **error);
TP_AVAILABLE_IN_1_2
gboolean      tp_config_get_boolean    (GKeyFile    *config,
                                        const char  *group,
                                        const char  *key,
                                        gboolean    *value,
                                        gboolean    *was_set,
                                        GError     **error);

G_END_DECLS

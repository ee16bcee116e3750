/* tp-pool.c: a pool that limits how many jobs run at once
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The GObject: its properties, its construction (GInitable), the
 * constructors. Its getters are in tp-pool-getters.c; what a pool does
 * lives in the units tp-pool-private.h lists.
 */

#include "config.h"

#include "tp-config-private.h"
#include "tp-pool-private.h"
#include "tp-registry-private.h"

/**
 * TpPool:
 *
 * A pool that runs at most `size` jobs at once.
 *
 * A pool queues the jobs submitted to it and runs them on its workers in the
 * order its queue strategy decides (FIFO, LIFO, by priority …), with as many
 * workers as its scaling strategy decides (fixed, or scaled automatically).
 * Its kind names the two: `fixed-simple`, `autoscale-priority` and so on.
 *
 * A job is a #GTaskThreadFunc that completes the #GTask it is given. An async
 * job runs on the pool's #GMainContext and may complete its task later; a
 * thread job runs on a worker thread and completes its task before it
 * returns. The submitter's #GAsyncReadyCallback runs exactly once, in the
 * thread-default main context of the thread that submitted, and calls
 * [method@TaskPool.Pool.submit_finish].
 *
 * Since: 1.0
 */

enum {
  PROP_0,
  PROP_KIND,
  PROP_SIZE,
  PROP_MIN_SIZE,
  PROP_MAX_SIZE,
  PROP_QUEUE_CAPACITY,
  PROP_DEFAULT_WEIGHT,
  PROP_EXECUTOR,
  PROP_MAIN_CONTEXT,
  PROP_RUNNING,
  PROP_WAITING,
  PROP_PAUSED,
  PROP_CLOSED,
  PROP_HELD,
  PROP_QUEUE_TIMEOUT,
  PROP_RUN_TIMEOUT,
  PROP_GATES,
  PROP_SUBMITTED,
  PROP_SUCCEEDED,
  PROP_FAILED,
  PROP_CANCELLED,
  PROP_TIMED_OUT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void tp_pool_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TpPool, tp_pool, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, tp_pool_initable_iface_init))

G_DEFINE_QUARK (tp-pool-error-quark, tp_pool_error)

/* Construction {{{ */

/* Initializes the pool once: from g_initable_init(), or from the first use
 * of a pool made with g_object_new() (as bindings do: `new TaskPool.Pool({…})`
 * in JavaScript) that was never initialized. A failure is kept, and every
 * later call reports it again. */
gboolean
tp_pool_ensure_initialized (TpPool  *self,
                            GError **error)
{
  gboolean initialized;

  if (G_LIKELY (g_atomic_int_get (&self->initialized)))
    return TRUE;

  g_mutex_lock (&self->init_mutex);
  if (!self->initialized && self->init_error == NULL)
    {
      if (tp_pool_configure (self, &self->init_error))
        {
          if (self->context == NULL)
            self->context = g_main_context_ref_thread_default ();
          self->source = tp_pool_source_new (self);
          self->completion_source = tp_pool_completion_source_new (self);
          g_atomic_int_set (&self->initialized, TRUE);
        }
    }
  initialized = self->initialized;
  if (!initialized && error != NULL)
    *error = g_error_copy (self->init_error);
  g_mutex_unlock (&self->init_mutex);
  return initialized;
}

static gboolean
tp_pool_initable_init (GInitable     *initable,
                       GCancellable  *cancellable,
                       GError       **error)
{
  return tp_pool_ensure_initialized (TP_POOL (initable), error);
}

static void
tp_pool_initable_iface_init (GInitableIface *iface)
{
  iface->init = tp_pool_initable_init;
}

/* }}} */

/* GObject {{{ */

static void
tp_pool_finalize (GObject *object)
{
  TpPool *self = TP_POOL (object);

  if (self->source != NULL)
    {
      g_source_destroy (self->source);
      g_source_unref (self->source);
    }
  if (self->completion_source != NULL)
    {
      g_source_destroy (self->completion_source);
      g_source_unref (self->completion_source);
    }
  tp_pool_stop_executor (self);
  tp_pool_queue_clear (self, &self->queue);
  if (g_atomic_int_get (&self->initialized))
    tp_scale_strategy_destroy (self->scale_vt, self->scaler);
  tp_pool_free_gates (self);
  g_clear_pointer (&self->gate_vts, g_free);

  g_clear_pointer (&self->close_tasks, g_ptr_array_unref);
  g_clear_pointer (&self->idle_tasks, g_ptr_array_unref);
  g_clear_pointer (&self->scale_tasks, g_ptr_array_unref);
  g_clear_pointer (&self->deadlines, g_ptr_array_unref);
  g_clear_pointer (&self->infos_added, g_ptr_array_unref);
  g_clear_pointer (&self->infos_removed, g_ptr_array_unref);
  g_clear_pointer (&self->infos_dirty, g_ptr_array_unref);
  g_clear_object (&self->jobs);
  tp_idle_ring_clear (&self->idle);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->config, g_key_file_unref);
  g_clear_pointer (&self->group, g_free);
  g_clear_pointer (&self->kind, g_free);
  g_clear_pointer (&self->executor, g_free);
  g_clear_pointer (&self->gate_names, g_strfreev);
  g_clear_error (&self->init_error);
  g_mutex_clear (&self->init_mutex);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (tp_pool_parent_class)->finalize (object);
}

static void
tp_pool_get_property (GObject    *object,
                      guint       prop_id,
                      GValue     *value,
                      GParamSpec *pspec)
{
  TpPool *self = TP_POOL (object);

  switch (prop_id)
    {
    case PROP_KIND:
      g_value_set_string (value, self->kind);
      break;
    case PROP_SIZE:
      g_value_set_uint (value, tp_pool_get_size (self));
      break;
    case PROP_MIN_SIZE:
      g_value_set_uint (value, tp_pool_get_min_size (self));
      break;
    case PROP_MAX_SIZE:
      g_value_set_uint (value, tp_pool_get_max_size (self));
      break;
    case PROP_QUEUE_CAPACITY:
      g_value_set_uint (value, self->queue_capacity);
      break;
    case PROP_DEFAULT_WEIGHT:
      g_value_set_int (value, self->default_weight);
      break;
    case PROP_EXECUTOR:
      g_value_set_string (value, self->executor);
      break;
    case PROP_MAIN_CONTEXT:
      g_value_set_boxed (value, self->context);
      break;
    case PROP_RUNNING:
      g_value_set_uint (value, tp_pool_get_running (self));
      break;
    case PROP_WAITING:
      g_value_set_uint (value, tp_pool_get_waiting (self));
      break;
    case PROP_PAUSED:
      g_value_set_boolean (value, tp_pool_get_paused (self));
      break;
    case PROP_CLOSED:
      g_value_set_boolean (value, tp_pool_get_closed (self));
      break;
    case PROP_HELD:
      g_value_set_boolean (value, tp_pool_get_held (self));
      break;
    case PROP_QUEUE_TIMEOUT:
      g_value_set_uint (value, self->queue_timeout_ms);
      break;
    case PROP_RUN_TIMEOUT:
      g_value_set_uint (value, self->run_timeout_ms);
      break;
    case PROP_GATES:
      g_value_set_boxed (value, self->gate_names);
      break;
    case PROP_SUBMITTED:
      g_value_set_uint64 (value, tp_pool_get_n_submitted (self));
      break;
    case PROP_SUCCEEDED:
      g_value_set_uint64 (value, tp_pool_get_n_succeeded (self));
      break;
    case PROP_FAILED:
      g_value_set_uint64 (value, tp_pool_get_n_failed (self));
      break;
    case PROP_CANCELLED:
      g_value_set_uint64 (value, tp_pool_get_n_cancelled (self));
      break;
    case PROP_TIMED_OUT:
      g_value_set_uint64 (value, tp_pool_get_n_timed_out (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tp_pool_set_property (GObject      *object,
                      guint         prop_id,
                      const GValue *value,
                      GParamSpec   *pspec)
{
  TpPool *self = TP_POOL (object);

  /* The one property that changes at any time */
  if (prop_id == PROP_HELD)
    {
      if (g_value_get_boolean (value))
        tp_pool_hold (self);
      else
        tp_pool_unhold (self);
      return;
    }

  if (g_atomic_int_get (&self->initialized))
    {
      /* g_log(), not g_critical(): with structured logging the latter cannot
       * be caught by g_test_expect_message() */
      g_log (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "TpPool:%s can only be set at construction",
             pspec->name);
      return;
    }

  switch (prop_id)
    {
    case PROP_KIND:
      if (g_value_get_string (value) != NULL)
        {
          g_free (self->kind);
          self->kind = g_value_dup_string (value);
        }
      break;
    case PROP_SIZE:
      self->limits.size = g_value_get_uint (value);
      self->limits.size_set = TRUE;
      break;
    case PROP_MIN_SIZE:
      self->limits.min_size = g_value_get_uint (value);
      self->limits.min_size_set = TRUE;
      break;
    case PROP_MAX_SIZE:
      self->limits.max_size = g_value_get_uint (value);
      self->limits.max_size_set = TRUE;
      break;
    case PROP_QUEUE_CAPACITY:
      self->queue_capacity = g_value_get_uint (value);
      break;
    case PROP_DEFAULT_WEIGHT:
      self->default_weight = g_value_get_int (value);
      break;
    case PROP_EXECUTOR:
      if (g_value_get_string (value) != NULL)
        {
          g_free (self->executor);
          self->executor = g_value_dup_string (value);
        }
      break;
    case PROP_MAIN_CONTEXT:
      g_clear_pointer (&self->context, g_main_context_unref);
      self->context = g_value_dup_boxed (value);
      break;
    case PROP_QUEUE_TIMEOUT:
      self->queue_timeout_ms = g_value_get_uint (value);
      break;
    case PROP_RUN_TIMEOUT:
      self->run_timeout_ms = g_value_get_uint (value);
      break;
    case PROP_GATES:
      g_strfreev (self->gate_names);
      self->gate_names = g_value_dup_boxed (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tp_pool_class_init (TpPoolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags construct_flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                                G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  GParamFlags read_flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  /* Not G_PARAM_CONSTRUCT_ONLY: GObject would set the default of every
   * construct property, and a scaler must know which sizes were given.
   * tp_pool_set_property() refuses them once the pool is initialized. */
  GParamFlags size_flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = tp_pool_finalize;
  object_class->get_property = tp_pool_get_property;
  object_class->set_property = tp_pool_set_property;

  /**
   * TpPool:kind:
   *
   * The pool's kind, `<scaler>-<queue>`, such as `fixed-simple` or
   * `autoscale-priority`.
   *
   * Since: 1.0
   */
  properties[PROP_KIND] =
    g_param_spec_string ("kind", NULL, NULL, TP_DEFAULT_KIND, construct_flags);

  /**
   * TpPool:size:
   *
   * At construction, the workers a pool starts with (default 3 for fixed
   * pools, `min-size` for autoscale pools); when read, the live workers.
   * Settable only at construction.
   *
   * Since: 1.0
   */
  properties[PROP_SIZE] =
    g_param_spec_uint ("size", NULL, NULL, 0, TP_POOL_MAX_SIZE, 3, size_flags);

  /**
   * TpPool:min-size:
   *
   * The smallest size scaling may reach: default 0 for fixed pools, 3 for
   * autoscale pools. Settable only at construction.
   *
   * Since: 1.0
   */
  properties[PROP_MIN_SIZE] =
    g_param_spec_uint ("min-size", NULL, NULL, 0, TP_POOL_MAX_SIZE, 0, size_flags);

  /**
   * TpPool:max-size:
   *
   * The largest size scaling may reach: default %TP_POOL_MAX_SIZE for fixed
   * pools, `min-size` + 5 for autoscale pools. Settable only at construction.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_SIZE] =
    g_param_spec_uint ("max-size", NULL, NULL, 0, TP_POOL_MAX_SIZE, TP_POOL_MAX_SIZE,
                       size_flags);

  /**
   * TpPool:queue-capacity:
   *
   * How many jobs may be queued; 0 for no limit. Past it, a submission waits
   * for room, or fails with %TP_POOL_ERROR_FULL given %TP_SUBMIT_NO_WAIT.
   *
   * Since: 1.0
   */
  properties[PROP_QUEUE_CAPACITY] =
    g_param_spec_uint ("queue-capacity", NULL, NULL, 0, G_MAXINT, 0, construct_flags);

  /**
   * TpPool:default-weight:
   *
   * The weight of a job submitted without one; priority queues run the
   * smallest weight first.
   *
   * Since: 1.0
   */
  properties[PROP_DEFAULT_WEIGHT] =
    g_param_spec_int ("default-weight", NULL, NULL, G_MININT, G_MAXINT, TP_DEFAULT_WEIGHT,
                      construct_flags);

  /**
   * TpPool:executor:
   *
   * What runs thread jobs: `threads`, the pool's own thread pool sized to
   * the pool, or `gtask`, GIO's shared pool through g_task_run_in_thread().
   *
   * Since: 1.0
   */
  properties[PROP_EXECUTOR] =
    g_param_spec_string ("executor", NULL, NULL, "threads", construct_flags);

  /**
   * TpPool:main-context:
   *
   * The context async jobs, scaling and notifications run on; the
   * thread-default context of the thread that made the pool by default.
   *
   * Since: 1.0
   */
  properties[PROP_MAIN_CONTEXT] =
    g_param_spec_boxed ("main-context", NULL, NULL, G_TYPE_MAIN_CONTEXT, construct_flags);

  /**
   * TpPool:running:
   *
   * The jobs that own a worker.
   *
   * Since: 1.0
   */
  properties[PROP_RUNNING] =
    g_param_spec_uint ("running", NULL, NULL, 0, G_MAXUINT, 0, read_flags);

  /**
   * TpPool:waiting:
   *
   * The jobs that wait to start: queued, or held by a gate. Submissions
   * that wait for room in a full queue are the backlog, apart.
   *
   * Since: 1.0
   */
  properties[PROP_WAITING] =
    g_param_spec_uint ("waiting", NULL, NULL, 0, G_MAXUINT, 0, read_flags);

  /**
   * TpPool:paused:
   *
   * Whether the pool refuses submissions for now.
   *
   * Since: 1.0
   */
  properties[PROP_PAUSED] =
    g_param_spec_boolean ("paused", NULL, NULL, FALSE, read_flags);

  /**
   * TpPool:closed:
   *
   * Whether the pool was closed: set when closing starts, since the pool
   * will never accept a job again.
   *
   * Since: 1.0
   */
  properties[PROP_CLOSED] =
    g_param_spec_boolean ("closed", NULL, NULL, FALSE, read_flags);

  /**
   * TpPool:held:
   *
   * Whether the pool starts no job for now: submissions are still accepted
   * and queued (unlike [property@TaskPool.Pool:paused], which refuses them).
   * Set at construction, a pool starts held, and runs its first jobs in
   * strict queue order once unheld. Setting it holds or unholds the pool:
   * see [method@TaskPool.Pool.hold].
   *
   * Since: 1.2
   */
  properties[PROP_HELD] =
    g_param_spec_boolean ("held", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * TpPool:queue-timeout:
   *
   * How long, in milliseconds, a job may wait before it starts; 0 for no
   * limit. A job's options may set its own: see
   * [method@TaskPool.JobOptions.set_queue_timeout].
   *
   * Since: 1.2
   */
  properties[PROP_QUEUE_TIMEOUT] =
    g_param_spec_uint ("queue-timeout", NULL, NULL, 0, G_MAXUINT, 0, construct_flags);

  /**
   * TpPool:run-timeout:
   *
   * How long, in milliseconds, a job may run before the pool cancels it; 0
   * for no limit. A job's options may set its own: see
   * [method@TaskPool.JobOptions.set_run_timeout].
   *
   * Since: 1.2
   */
  properties[PROP_RUN_TIMEOUT] =
    g_param_spec_uint ("run-timeout", NULL, NULL, 0, G_MAXUINT, 0, construct_flags);

  /**
   * TpPool:gates:
   *
   * The gates a job must pass, in order, before it starts, by name (such as
   * `rate` or `per-key`); %NULL or empty for none. Gates come from plugins,
   * like strategies.
   *
   * Since: 1.2
   */
  properties[PROP_GATES] =
    g_param_spec_boxed ("gates", NULL, NULL, G_TYPE_STRV, construct_flags);

  /**
   * TpPool:submitted:
   *
   * The submissions made to the pool, accepted or refused. Once completed,
   * each counts in exactly one of #TpPool:succeeded, #TpPool:failed,
   * #TpPool:cancelled and #TpPool:timed-out; the others are in flight.
   *
   * Since: 1.4
   */
  properties[PROP_SUBMITTED] =
    g_param_spec_uint64 ("submitted", NULL, NULL, 0, G_MAXUINT64, 0, read_flags);

  /**
   * TpPool:succeeded:
   *
   * The jobs that completed their task with a result.
   *
   * Since: 1.4
   */
  properties[PROP_SUCCEEDED] =
    g_param_spec_uint64 ("succeeded", NULL, NULL, 0, G_MAXUINT64, 0, read_flags);

  /**
   * TpPool:failed:
   *
   * The submissions that ended with an error, but for a cancellation or a
   * timeout: the job's own error, a job that dropped its task, a refusal
   * (not accepting, full), a gate's error.
   *
   * Since: 1.4
   */
  properties[PROP_FAILED] =
    g_param_spec_uint64 ("failed", NULL, NULL, 0, G_MAXUINT64, 0, read_flags);

  /**
   * TpPool:cancelled:
   *
   * The submissions cancelled: while they waited, before they were
   * submitted, discarded by a close, or that failed after their
   * cancellable was cancelled (by the submitter, by
   * [method@TaskPool.JobInfo.cancel] or by a close).
   *
   * Since: 1.4
   */
  properties[PROP_CANCELLED] =
    g_param_spec_uint64 ("cancelled", NULL, NULL, 0, G_MAXUINT64, 0, read_flags);

  /**
   * TpPool:timed-out:
   *
   * The jobs not started within their queue timeout, and those that failed
   * after their run timeout cancelled them.
   *
   * Since: 1.4
   */
  properties[PROP_TIMED_OUT] =
    g_param_spec_uint64 ("timed-out", NULL, NULL, 0, G_MAXUINT64, 0, read_flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tp_pool_init (TpPool *self)
{
  g_mutex_init (&self->mutex);
  g_mutex_init (&self->init_mutex);
  self->kind = g_strdup (TP_DEFAULT_KIND);
  self->executor = g_strdup ("threads");
  self->default_weight = TP_DEFAULT_WEIGHT;
  self->cancellable = g_cancellable_new ();
  self->jobs = g_object_new (TP_TYPE_JOB_LIST_MODEL, NULL);
  self->next_check = -1;
  self->ready_time = -1;
}

/* From the pool's source (tp-dispatch.c): the properties that changed */
void
tp_pool_notify_changed (TpPool      *self,
                        const guint *changed,
                        guint        n_changed)
{
  static const guint props_of[TP_POOL_N_NOTIFY] = {
    [TP_POOL_NOTIFY_SIZE] = PROP_SIZE,
    [TP_POOL_NOTIFY_RUNNING] = PROP_RUNNING,
    [TP_POOL_NOTIFY_WAITING] = PROP_WAITING,
    [TP_POOL_NOTIFY_PAUSED] = PROP_PAUSED,
    [TP_POOL_NOTIFY_CLOSED] = PROP_CLOSED,
    [TP_POOL_NOTIFY_HELD] = PROP_HELD,
    [TP_POOL_NOTIFY_SUBMITTED] = PROP_SUBMITTED,
    [TP_POOL_NOTIFY_SUCCEEDED] = PROP_SUCCEEDED,
    [TP_POOL_NOTIFY_FAILED] = PROP_FAILED,
    [TP_POOL_NOTIFY_CANCELLED] = PROP_CANCELLED,
    [TP_POOL_NOTIFY_TIMED_OUT] = PROP_TIMED_OUT,
  };

  g_object_freeze_notify (G_OBJECT (self));
  for (guint i = 0; i < n_changed; i++)
    g_object_notify_by_pspec (G_OBJECT (self), properties[props_of[changed[i]]]);
  g_object_thaw_notify (G_OBJECT (self));
}

/* }}} */

/* Public API {{{ */

/**
 * tp_pool_new:
 * @kind: (nullable): the kind, such as `fixed-simple`; %NULL for `fixed-simple`
 * @error: return location for a #GError
 *
 * Creates a pool of @kind with default settings, on the thread-default main
 * context. Start it with [method@TaskPool.Pool.start].
 *
 * Returns: (transfer full) (nullable): a new pool, or %NULL with @error set
 *   (%TP_POOL_ERROR_CONFIG or %TP_POOL_ERROR_PLUGIN)
 *
 * Since: 1.0
 */
TpPool *
tp_pool_new (const char  *kind,
             GError     **error)
{
  return g_initable_new (TP_TYPE_POOL, NULL, error, "kind", kind, NULL);
}

/**
 * tp_pool_new_from_keyfile:
 * @keyfile: a keyfile
 * @group: the group that configures the pool
 * @error: return location for a #GError
 *
 * Creates a pool configured by @group of @keyfile. Every key is checked: an
 * unknown key, a value of the wrong type or out of range, or a kind no plugin
 * provides is an error that names the group, the key, the value and what is
 * allowed.
 *
 * Returns: (transfer full) (nullable): a new pool, or %NULL with @error set
 *
 * Since: 1.0
 */
TpPool *
tp_pool_new_from_keyfile (GKeyFile    *keyfile,
                          const char  *group,
                          GError     **error)
{
  g_autoptr(TpPool) self = NULL;
  g_autofree char *kind = NULL;

  g_return_val_if_fail (keyfile != NULL, NULL);
  g_return_val_if_fail (group != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_key_file_has_group (keyfile, group))
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                   "The keyfile has no group “%s”", group);
      return NULL;
    }

  if (!tp_config_get_string (keyfile, group, "kind", &kind, NULL, error))
    return NULL;

  self = g_object_new (TP_TYPE_POOL, "kind", kind, NULL);
  self->config = g_key_file_ref (keyfile);
  self->group = g_strdup (group);

  if (!g_initable_init (G_INITABLE (self), NULL, error))
    return NULL;

  return g_steal_pointer (&self);
}

/* }}} */

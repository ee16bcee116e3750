/* tp-job-info.c: labelled jobs, as a list of jobs shows them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A job submitted with a label (tp_job_options_set_label()) gets a TpJobInfo
 * when it is accepted, and its pool's list of jobs (tp_pool_get_jobs()) shows
 * it until the job leaves the pool. The pool records what changes under its
 * lock, from any thread (a job queued, held, started or gone; a progress
 * from tp_task_set_progress()), and its source applies the changes on its
 * context, once per dispatch: the model's items-changed, the infos' notify.
 * A pool with no labelled job has nothing here to do.
 */

#include "config.h"

#include "tp-job-info-private.h"
#include "tp-pool-private.h"

/**
 * TpJobInfo:
 *
 * A job submitted with a label, as [method@TaskPool.Pool.get_jobs] lists it:
 * its label, key and weight, where it is (queued, held, running), when it
 * was submitted and started, and its progress.
 *
 * Its properties change on the pool's main context, with `notify`, at most
 * once per dispatch of the pool; bind them to a list row.
 *
 * Since: 1.4
 */
struct _TpJobInfo
{
  GObject     parent_instance;

  /* Set at creation, then read-only */
  char       *label;
  char       *key;
  int         weight;
  gint64      submit_time;

  GWeakRef    pool;

  /* Protected by the pool's mutex */
  TpJob      *job;           /* while the job is in the pool */
  TpJobState  state;
  gint64      start_time;
  double      progress;
  gboolean    dirty;         /* in the pool's list of infos to notify */
  gboolean    listed;        /* in the pool's model, or about to be */

  /* Only on the pool's context: what the last notify said */
  TpJobState  shown_state;
  gint64      shown_start_time;
  double      shown_progress;
};

enum {
  INFO_PROP_0,
  PROP_LABEL,
  PROP_KEY,
  PROP_WEIGHT,
  PROP_STATE,
  PROP_SUBMIT_TIME,
  PROP_START_TIME,
  PROP_PROGRESS,
  N_INFO_PROPS
};

static GParamSpec *info_properties[N_INFO_PROPS];

G_DEFINE_FINAL_TYPE (TpJobInfo, tp_job_info, G_TYPE_OBJECT)

static GQuark tp_job_info_quark (void);
G_DEFINE_QUARK (tp-job-info, tp_job_info)

/* TpJobInfo {{{ */

static void
tp_job_info_finalize (GObject *object)
{
  TpJobInfo *self = TP_JOB_INFO (object);

  g_assert (self->job == NULL);
  g_weak_ref_clear (&self->pool);
  g_free (self->label);
  g_clear_pointer (&self->key, tp_key_release);

  G_OBJECT_CLASS (tp_job_info_parent_class)->finalize (object);
}

static void
tp_job_info_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  TpJobInfo *self = TP_JOB_INFO (object);

  switch (prop_id)
    {
    case PROP_LABEL:
      g_value_set_string (value, self->label);
      break;
    case PROP_KEY:
      g_value_set_string (value, self->key);
      break;
    case PROP_WEIGHT:
      g_value_set_int (value, self->weight);
      break;
    case PROP_STATE:
      g_value_set_enum (value, tp_job_info_get_state (self));
      break;
    case PROP_SUBMIT_TIME:
      g_value_set_int64 (value, self->submit_time);
      break;
    case PROP_START_TIME:
      g_value_set_int64 (value, tp_job_info_get_start_time (self));
      break;
    case PROP_PROGRESS:
      g_value_set_double (value, tp_job_info_get_progress (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tp_job_info_class_init (TpJobInfoClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = tp_job_info_finalize;
  object_class->get_property = tp_job_info_get_property;

  /**
   * TpJobInfo:label:
   *
   * The label the job was submitted with.
   *
   * Since: 1.4
   */
  info_properties[PROP_LABEL] = g_param_spec_string ("label", NULL, NULL, NULL, flags);

  /**
   * TpJobInfo:key:
   *
   * The job's key, such as a host, or %NULL.
   *
   * Since: 1.4
   */
  info_properties[PROP_KEY] = g_param_spec_string ("key", NULL, NULL, NULL, flags);

  /**
   * TpJobInfo:weight:
   *
   * The job's weight.
   *
   * Since: 1.4
   */
  info_properties[PROP_WEIGHT] =
    g_param_spec_int ("weight", NULL, NULL, G_MININT, G_MAXINT, 0, flags);

  /**
   * TpJobInfo:state:
   *
   * Where the job is: queued, held by a gate, or running.
   *
   * Since: 1.4
   */
  info_properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, TP_TYPE_JOB_STATE, TP_JOB_STATE_QUEUED, flags);

  /**
   * TpJobInfo:submit-time:
   *
   * When the job was submitted: g_get_monotonic_time(), in microseconds.
   *
   * Since: 1.4
   */
  info_properties[PROP_SUBMIT_TIME] =
    g_param_spec_int64 ("submit-time", NULL, NULL, 0, G_MAXINT64, 0, flags);

  /**
   * TpJobInfo:start-time:
   *
   * When the job started, in g_get_monotonic_time() microseconds; 0 until
   * it does.
   *
   * Since: 1.4
   */
  info_properties[PROP_START_TIME] =
    g_param_spec_int64 ("start-time", NULL, NULL, 0, G_MAXINT64, 0, flags);

  /**
   * TpJobInfo:progress:
   *
   * How far the job got, from 0 to 1, as the job reported it with
   * tp_task_set_progress().
   *
   * Since: 1.4
   */
  info_properties[PROP_PROGRESS] =
    g_param_spec_double ("progress", NULL, NULL, 0.0, 1.0, 0.0, flags);

  g_object_class_install_properties (object_class, N_INFO_PROPS, info_properties);
}

static void
tp_job_info_init (TpJobInfo *self)
{
  g_weak_ref_init (&self->pool, NULL);
}

/* A new submission's info, not yet in the pool's list */
TpJobInfo *
tp_job_info_new (TpJob      *job,
                 const char *label)
{
  TpJobInfo *self = g_object_new (TP_TYPE_JOB_INFO, NULL);
  const char *key = tp_job_get_key (job);

  self->label = g_strdup (label);
  self->key = key != NULL ? g_ref_string_acquire ((char *) key) : NULL;
  self->weight = job->weight;
  self->submit_time = g_get_monotonic_time ();
  self->state = self->shown_state = TP_JOB_STATE_QUEUED;
  return self;
}

/**
 * tp_job_info_get_label:
 * @self: a job's info
 *
 * Gets the job's label.
 *
 * Returns: (transfer none): the label
 *
 * Since: 1.4
 */
const char *
tp_job_info_get_label (TpJobInfo *self)
{
  g_return_val_if_fail (TP_IS_JOB_INFO (self), NULL);

  return self->label;
}

/**
 * tp_job_info_get_key:
 * @self: a job's info
 *
 * Gets the job's key.
 *
 * Returns: (transfer none) (nullable): the key, or %NULL
 *
 * Since: 1.4
 */
const char *
tp_job_info_get_key (TpJobInfo *self)
{
  g_return_val_if_fail (TP_IS_JOB_INFO (self), NULL);

  return self->key;
}

/**
 * tp_job_info_get_weight:
 * @self: a job's info
 *
 * Gets the job's weight.
 *
 * Returns: the weight
 *
 * Since: 1.4
 */
int
tp_job_info_get_weight (TpJobInfo *self)
{
  g_return_val_if_fail (TP_IS_JOB_INFO (self), 0);

  return self->weight;
}

/**
 * tp_job_info_get_state:
 * @self: a job's info
 *
 * Gets where the job is, as last notified on the pool's context.
 *
 * Returns: the state
 *
 * Since: 1.4
 */
TpJobState
tp_job_info_get_state (TpJobInfo *self)
{
  g_return_val_if_fail (TP_IS_JOB_INFO (self), TP_JOB_STATE_QUEUED);

  return self->shown_state;
}

/**
 * tp_job_info_get_submit_time:
 * @self: a job's info
 *
 * Gets when the job was submitted.
 *
 * Returns: g_get_monotonic_time() at submission, in microseconds
 *
 * Since: 1.4
 */
gint64
tp_job_info_get_submit_time (TpJobInfo *self)
{
  g_return_val_if_fail (TP_IS_JOB_INFO (self), 0);

  return self->submit_time;
}

/**
 * tp_job_info_get_start_time:
 * @self: a job's info
 *
 * Gets when the job started, as last notified on the pool's context.
 *
 * Returns: g_get_monotonic_time() at its start, in microseconds, or 0
 *
 * Since: 1.4
 */
gint64
tp_job_info_get_start_time (TpJobInfo *self)
{
  g_return_val_if_fail (TP_IS_JOB_INFO (self), 0);

  return self->shown_start_time;
}

/**
 * tp_job_info_get_progress:
 * @self: a job's info
 *
 * Gets the job's progress, as last notified on the pool's context.
 *
 * Returns: from 0 to 1
 *
 * Since: 1.4
 */
double
tp_job_info_get_progress (TpJobInfo *self)
{
  g_return_val_if_fail (TP_IS_JOB_INFO (self), 0.0);

  return self->shown_progress;
}

/**
 * tp_job_info_cancel:
 * @self: a job's info
 *
 * Cancels the job, as its own cancellable would: a job that waits leaves
 * the pool and completes with %G_IO_ERROR_CANCELLED; a running job sees the
 * cancellable it was given cancelled, and decides. Its submitter's callback
 * runs exactly once, as for any cancellation. Cancelling a job that already
 * completed does nothing. Thread-safe.
 *
 * Since: 1.4
 */
void
tp_job_info_cancel (TpJobInfo *self)
{
  g_autoptr(GCancellable) cancellable = NULL;
  g_autoptr(TpPool) pool = NULL;
  TpJob *job;
  gboolean leaves = FALSE;

  g_return_if_fail (TP_IS_JOB_INFO (self));

  pool = g_weak_ref_get (&self->pool);
  if (pool == NULL)
    return;
  tp_pool_lock (pool);
  job = self->job;
  if (job != NULL && job->state != TP_JOB_NEW)
    {
      leaves = tp_pool_withdraw_locked (pool, job);
      if (!leaves)
        cancellable = g_object_ref (tp_job_get_run_cancellable (job));
    }
  tp_pool_unlock (pool);

  if (leaves)
    tp_job_fail (job, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The job was cancelled while queued");
  else if (cancellable != NULL)
    g_cancellable_cancel (cancellable);
}

/**
 * tp_task_set_progress:
 * @task: the task a job was given
 * @fraction: how far the job got, from 0 to 1 (values outside are clamped)
 *
 * Reports a job's progress, from any thread. For a job submitted with a
 * label, its [property@TaskPool.JobInfo:progress] follows on the pool's
 * context, coalesced: a job that reports a thousand times between two
 * dispatches of its pool is notified once, with the last value. For other
 * jobs it does nothing.
 *
 * Since: 1.4
 */
void
tp_task_set_progress (GTask  *task,
                      double  fraction)
{
  TpJobInfo *self;
  TpPool *pool;

  g_return_if_fail (G_IS_TASK (task));

  self = g_object_get_qdata (G_OBJECT (task), tp_job_info_quark ());
  if (self == NULL)
    return;

  if (!(fraction >= 0.0))   /* NaN too */
    fraction = 0.0;
  fraction = MIN (fraction, 1.0);

  pool = g_task_get_source_object (task);
  tp_pool_lock (pool);
  self->progress = fraction;
  tp_pool_info_changed_locked (pool, self);
  tp_pool_unlock (pool);
}

/* }}} */

/* The pool's side {{{ */

/* Lets tp_task_set_progress() find the info from the job's task */
void
tp_job_info_attach_task (TpJobInfo *self,
                         GTask     *task)
{
  g_object_set_qdata_full (G_OBJECT (task), tp_job_info_quark (), g_object_ref (self),
                           g_object_unref);
}

/* The job was accepted: it joins the list */
void
tp_pool_info_added_locked (TpPool    *self,
                           TpJob     *job)
{
  TpJobInfo *info = job->extra->info;

  g_weak_ref_set (&info->pool, self);
  info->job = job;
  info->listed = TRUE;
  if (self->infos_added == NULL)
    self->infos_added = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (self->infos_added, g_object_ref (info));
  tp_pool_request_flush_locked (self);
}

/* Something of the info changed: notify it at the next flush */
void
tp_pool_info_changed_locked (TpPool    *self,
                             TpJobInfo *info)
{
  if (info->dirty || !info->listed)
    return;
  info->dirty = TRUE;
  if (self->infos_dirty == NULL)
    self->infos_dirty = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (self->infos_dirty, g_object_ref (info));
  tp_pool_request_flush_locked (self);
}

void
tp_pool_info_set_state_locked (TpPool     *self,
                               TpJob      *job,
                               TpJobState  state)
{
  TpJobInfo *info = job->extra->info;

  if (info->state == state)
    return;
  info->state = state;
  if (state == TP_JOB_STATE_RUNNING && info->start_time == 0)
    info->start_time = g_get_monotonic_time ();
  tp_pool_info_changed_locked (self, info);
}

/* The job left the pool: it leaves the list at the next flush */
void
tp_pool_info_removed_locked (TpPool *self,
                             TpJob  *job)
{
  TpJobInfo *info = job->extra->info;

  if (info->job == NULL)
    return;
  info->job = NULL;
  if (self->infos_removed == NULL)
    self->infos_removed = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (self->infos_removed, g_object_ref (info));
  tp_pool_request_flush_locked (self);
}

/* }}} */

/* The list {{{ */

/* The pool's list of labelled jobs: items in submission order. Changed only
 * on the pool's context, by tp_pool_flush_infos(). */
struct _TpJobListModel
{
  GObject    parent_instance;
  GPtrArray *items;   /* TpJobInfo */
};

static GType
tp_job_list_model_get_item_type (GListModel *model)
{
  return TP_TYPE_JOB_INFO;
}

static guint
tp_job_list_model_get_n_items (GListModel *model)
{
  return TP_JOB_LIST_MODEL (model)->items->len;
}

static gpointer
tp_job_list_model_get_item (GListModel *model,
                            guint       position)
{
  TpJobListModel *self = TP_JOB_LIST_MODEL (model);

  if (position >= self->items->len)
    return NULL;
  return g_object_ref (self->items->pdata[position]);
}

static void
tp_job_list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = tp_job_list_model_get_item_type;
  iface->get_n_items = tp_job_list_model_get_n_items;
  iface->get_item = tp_job_list_model_get_item;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TpJobListModel, tp_job_list_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      tp_job_list_model_iface_init))

static void
tp_job_list_model_finalize (GObject *object)
{
  g_ptr_array_unref (TP_JOB_LIST_MODEL (object)->items);

  G_OBJECT_CLASS (tp_job_list_model_parent_class)->finalize (object);
}

static void
tp_job_list_model_class_init (TpJobListModelClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tp_job_list_model_finalize;
}

static void
tp_job_list_model_init (TpJobListModel *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
}

/* Applies what changed since the last flush, on the pool's context: the
 * removals, as one items-changed per run of removed items, from the end;
 * the additions, as one at the end; then the infos' notify. */
void
tp_pool_flush_infos (TpPool *self)
{
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) removed = NULL;
  g_autoptr(GPtrArray) dirty = NULL;
  TpJobListModel *model = self->jobs;
  GPtrArray *items = model->items;
  guint old_len;

  tp_pool_lock (self);
  added = g_steal_pointer (&self->infos_added);
  removed = g_steal_pointer (&self->infos_removed);
  dirty = g_steal_pointer (&self->infos_dirty);
  for (guint i = 0; removed != NULL && i < removed->len; i++)
    ((TpJobInfo *) removed->pdata[i])->listed = FALSE;
  for (guint i = 0; added != NULL && i < added->len; i++)
    {
      TpJobInfo *info = added->pdata[i];

      info->shown_state = info->state;
      info->shown_start_time = info->start_time;
      info->shown_progress = info->progress;
    }
  for (guint i = 0; dirty != NULL && i < dirty->len; i++)
    {
      TpJobInfo *info = dirty->pdata[i];

      info->dirty = FALSE;
      info->shown_state = info->state;
      info->shown_start_time = info->start_time;
      info->shown_progress = info->progress;
    }
  tp_pool_unlock (self);

  /* A job both added and removed since the last flush was never shown */
  old_len = items->len;
  if (removed != NULL)
    {
      guint i = items->len;

      while (i > 0)
        {
          guint end = i;

          while (i > 0 && !((TpJobInfo *) items->pdata[i - 1])->listed)
            i--;
          if (i < end)
            {
              g_ptr_array_remove_range (items, i, end - i);
              g_list_model_items_changed (G_LIST_MODEL (model), i, end - i, 0);
            }
          else
            i--;
        }
    }
  old_len = items->len;
  for (guint i = 0; added != NULL && i < added->len; i++)
    {
      TpJobInfo *info = added->pdata[i];

      if (info->listed)
        g_ptr_array_add (items, g_object_ref (info));
    }
  if (items->len > old_len)
    g_list_model_items_changed (G_LIST_MODEL (model), old_len, 0, items->len - old_len);

  for (guint i = 0; dirty != NULL && i < dirty->len; i++)
    {
      TpJobInfo *info = dirty->pdata[i];

      g_object_freeze_notify (G_OBJECT (info));
      g_object_notify_by_pspec (G_OBJECT (info), info_properties[PROP_STATE]);
      g_object_notify_by_pspec (G_OBJECT (info), info_properties[PROP_START_TIME]);
      g_object_notify_by_pspec (G_OBJECT (info), info_properties[PROP_PROGRESS]);
      g_object_thaw_notify (G_OBJECT (info));
    }
}

/**
 * tp_pool_get_jobs:
 * @self: a pool
 *
 * Gets the jobs of the pool that were submitted with a label
 * ([method@TaskPool.JobOptions.set_label]), as a list of
 * [class@TaskPool.JobInfo] in submission order: a job appears when it is
 * accepted and leaves the list when it leaves the pool (it ran, or it was
 * cancelled, timed out or discarded while it waited), just before its
 * callback runs. The list changes only on the pool's main context, with
 * `items-changed`, at most once per dispatch of the pool: bind it to a
 * #GtkListView. Jobs without a label are not in it, and cost nothing here.
 *
 * Returns: (transfer full): the list of the pool's labelled jobs
 *
 * Since: 1.4
 */
GListModel *
tp_pool_get_jobs (TpPool *self)
{
  g_return_val_if_fail (TP_IS_POOL (self), NULL);

  return g_object_ref (G_LIST_MODEL (self->jobs));
}

/* }}} */

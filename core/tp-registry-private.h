/* tp-registry-private.h: the process-wide plugin registry
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <sys/stat.h>

#include <taskpool/tp-plugin.h>

G_BEGIN_DECLS

#define TP_QUEUE_KNOWN_FLAGS (TP_QUEUE_IGNORES_SUBMIT_TIME)

/* Fields added after a struct's first size, read only when the plugin's
 * struct_size covers them: a plugin built before a field existed has none. */

static inline TpQueueFlags
tp_queue_strategy_get_flags (const TpQueueStrategy *queue)
{
  if (!TP_STRUCT_SIZE_HAS (TpQueueStrategy, queue->struct_size, flags))
    return TP_QUEUE_FLAGS_NONE;
  return queue->flags;
}

typedef void (*TpQueueRequeueFunc) (gpointer  queue,
                                    TpJob    *job);

/* NULL when the strategy has none: the pool then pushes the job again */
static inline TpQueueRequeueFunc
tp_queue_strategy_get_requeue (const TpQueueStrategy *queue)
{
  if (!TP_STRUCT_SIZE_HAS (TpQueueStrategy, queue->struct_size, requeue))
    return NULL;
  return queue->requeue;
}

typedef gboolean (*TpScaleInitFunc) (GKeyFile       *config,
                                     const char     *group,
                                     TpScaleLimits  *limits,
                                     gsize           limits_size,
                                     gpointer       *scaler,
                                     GError        **error);

/* NULL for a strategy made with its create */
static inline TpScaleInitFunc
tp_scale_strategy_get_init (const TpScaleStrategy *scale)
{
  if (!TP_STRUCT_SIZE_HAS (TpScaleStrategy, scale->struct_size, init))
    return NULL;
  return scale->init;
}

static inline const TpGateStrategy * const *
tp_plugin_descriptor_get_gate_strategies (const TpPluginDescriptor *descriptor)
{
  if (!TP_STRUCT_SIZE_HAS (TpPluginDescriptor, descriptor->struct_size, gate_strategies))
    return NULL;
  return descriptor->gate_strategies;
}

/* The three kinds of strategy a plugin may provide */
typedef enum {
  TP_STRATEGY_QUEUE,
  TP_STRATEGY_SCALE,
  TP_STRATEGY_GATE,
  TP_N_STRATEGY_KINDS,
} TpStrategyKind;

typedef struct {
  const char *what;        /* in messages: “queue strategy “simple”” */
  const char *plural;      /* in listings: “available queue strategies” */
  const char *info_key;    /* the metadata key that declares them */
  gboolean    allow_dash;  /* a scaler's name ends at the first '-' of a kind */
} TpStrategyKindInfo;

extern const TpStrategyKindInfo tp_strategy_kinds[TP_N_STRATEGY_KINDS];

/* tp-strategy.c: a vtable's checks */
gboolean             tp_strategy_name_is_valid  (const char                *name,
                                                 TpStrategyKind             kind);
void                 tp_strategy_set_name_error (GError                   **error,
                                                 TpStrategyKind             kind,
                                                 const char                *name);
const char          *tp_strategy_get_name       (TpStrategyKind             kind,
                                                 gconstpointer              vtable);
gboolean             tp_strategy_check          (TpStrategyKind             kind,
                                                 gconstpointer              vtable,
                                                 GError                   **error);
/* The descriptor's NULL-terminated list of @kind, or NULL */
const gconstpointer *tp_plugin_descriptor_get_strategies (const TpPluginDescriptor *descriptor,
                                                          TpStrategyKind            kind);

/* tp-plugin-info.c: a metadata file as read from its folder */
typedef struct {
  char   *info_path;         /* canonical */
  char   *module_name;       /* its Module */
  char   *module_path;       /* beside it */
  char   *module_identity;   /* the module's real path */
  GStrv   declared[TP_N_STRATEGY_KINDS];
  GError *error;             /* why it cannot be used; the rest is then unset */
} TpPluginInfo;

TpPluginInfo *tp_plugin_info_read  (const char    *path);
void          tp_plugin_info_free  (TpPluginInfo  *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TpPluginInfo, tp_plugin_info_free)

/* The file's real path, or its canonical one if it has none */
char         *tp_plugin_real_path  (const char    *path);
/* Whether the file or folder @path, of status @st, may hold or be plugin
 * code for a process whose effective user is @euid */
gboolean      tp_plugin_check_owner_and_mode (const char         *path,
                                              const struct stat  *st,
                                              uid_t               euid,
                                              GError            **error);
/* Whether @dir is a folder plugins may be loaded from; TRUE for a folder that
 * does not exist (yet) */
gboolean      tp_plugin_check_folder (const char  *dir,
                                      GError     **error);
/* Whether @path is a regular file, safe, in a safe folder, and so is what a
 * link leads to; @what names it in messages (“module”) */
gboolean      tp_plugin_check_file (const char    *path,
                                    const char    *what,
                                    struct stat   *st,
                                    GError       **error);

/* Making and freeing a strategy's state: the one place that knows which
 * entry point a vtable has and turns a broken answer into an error. */
gpointer               tp_queue_strategy_create  (const TpQueueStrategy  *vt,
                                                  GKeyFile               *config,
                                                  const char             *group,
                                                  GError                **error);
gboolean               tp_scale_strategy_create  (const TpScaleStrategy  *vt,
                                                  GKeyFile               *config,
                                                  const char             *group,
                                                  TpScaleLimits          *limits,
                                                  gpointer               *scaler,
                                                  GError                **error);
void                   tp_scale_strategy_destroy (const TpScaleStrategy  *vt,
                                                  gpointer                scaler);
gboolean               tp_gate_strategy_create   (const TpGateStrategy   *vt,
                                                  GKeyFile               *config,
                                                  const char             *group,
                                                  TpGateHost             *host,
                                                  gpointer               *gate,
                                                  GError                **error);

/* “Plugin queue-simple (…/queue-simple.plugin), queue strategy “simple””:
 * who to blame in a message about @vtable, or NULL for an unknown vtable */
char                  *tp_registry_describe_strategy (gconstpointer      vtable);

gboolean               tp_registry_load_file    (const char          *path,
                                                 GError             **error);
const TpQueueStrategy *tp_registry_lookup_queue (const char * const  *extra_dirs,
                                                 const char          *name,
                                                 GError             **error);
const TpScaleStrategy *tp_registry_lookup_scale (const char * const  *extra_dirs,
                                                 const char          *name,
                                                 GError             **error);
const TpGateStrategy  *tp_registry_lookup_gate  (const char * const  *extra_dirs,
                                                 const char          *name,
                                                 GError             **error);
char                  *tp_registry_describe     (const char * const  *extra_dirs);

G_END_DECLS

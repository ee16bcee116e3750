/* abi-first.c: a plugin as the first SDK built it, with queue strategy “firstq” and scaling strategy “firsts”
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Not broken: it must load and work. Its descriptor and both vtables are
 * copies of the first SDK's layouts, which ended before `gate_strategies`,
 * `flags` and `init`, with their first sizes as `struct_size`. Each is
 * followed in memory by a trap where the later field would be: a gate list
 * that is not one, a flag nobody knows, an init that aborts. The registry
 * must read none of them. */

#include <taskpool/tp-plugin.h>

#define FIRSTS_DEFAULT_SIZE 2

/* TpPluginDescriptor, TpQueueStrategy and TpScaleStrategy as in 1.0 */

typedef struct {
  guint32                         abi_version;
  gsize                           struct_size;
  const char                     *name;
  const char                     *version;
  const char                     *description;
  const TpQueueStrategy * const  *queue_strategies;
  const TpScaleStrategy * const  *scale_strategies;
} FirstDescriptor;

typedef struct {
  gsize               struct_size;
  const char         *name;
  const char         *description;
  const char * const *keys;
  gpointer  (*create)  (GKeyFile *config, const char *group, GError **error);
  void      (*destroy) (gpointer queue);
  void      (*push)    (gpointer queue, TpJob *job);
  TpJob    *(*pop)     (gpointer queue);
  void      (*remove)  (gpointer queue, TpJob *job);
  guint     (*length)  (gpointer queue);
} FirstQueueStrategy;

typedef struct {
  gsize               struct_size;
  const char         *name;
  const char         *description;
  const char * const *keys;
  gpointer  (*create)  (GKeyFile *config, const char *group, TpScaleLimits *limits,
                        GError **error);
  void      (*destroy) (gpointer scaler);
  guint     (*decide)  (gpointer scaler, const TpScaleStats *stats, gint64 *next_check_us);
} FirstScaleStrategy;

G_STATIC_ASSERT (sizeof (FirstDescriptor) == TP_PLUGIN_DESCRIPTOR_SIZE_FIRST);
G_STATIC_ASSERT (sizeof (FirstQueueStrategy) == TP_QUEUE_STRATEGY_SIZE_FIRST);
G_STATIC_ASSERT (sizeof (FirstScaleStrategy) == TP_SCALE_STRATEGY_SIZE_FIRST);

/* firstq: first in, first out on a GQueue */

static gpointer
firstq_create (GKeyFile    *config,
               const char  *group,
               GError     **error)
{
  return g_queue_new ();
}

static void
firstq_destroy (gpointer queue)
{
  g_queue_free (queue);
}

static void
firstq_push (gpointer  queue,
             TpJob    *job)
{
  g_queue_push_tail (queue, job);
}

static TpJob *
firstq_pop (gpointer queue)
{
  return g_queue_pop_head (queue);
}

static void
firstq_remove (gpointer  queue,
               TpJob    *job)
{
  g_queue_remove (queue, job);
}

static guint
firstq_length (gpointer queue)
{
  return g_queue_get_length (queue);
}

/* firsts: a fixed size, made with create and a non-NULL pointer, as the
 * first SDK required */

static const char * const firsts_keys[] = { "size", "min-size", "max-size", NULL };

static gpointer
firsts_create (GKeyFile       *config,
               const char     *group,
               TpScaleLimits  *limits,
               GError        **error)
{
  if (!limits->min_size_set)
    limits->min_size = 0;
  if (!limits->max_size_set)
    limits->max_size = TP_POOL_MAX_SIZE;
  if (!limits->size_set)
    limits->size = CLAMP (FIRSTS_DEFAULT_SIZE, limits->min_size, limits->max_size);
  return g_new0 (char, 1);
}

/* What would be `init` in a later SDK: never called */
static gboolean
firsts_trap_init (GKeyFile       *config,
                  const char     *group,
                  TpScaleLimits  *limits,
                  gsize           limits_size,
                  gpointer       *scaler,
                  GError        **error)
{
  g_error ("abi-first: the registry called what lies past the first scaling vtable");
  return FALSE;
}

/* Each struct, then the trap where a later SDK has its next field */

static const struct {
  FirstQueueStrategy vtable;
  TpQueueFlags       trap_flags;
} firstq = {
  {
    .struct_size = sizeof (FirstQueueStrategy),
    .name = "firstq",
    .description = "First in, first out, with the first SDK's vtable",
    .create = firstq_create,
    .destroy = firstq_destroy,
    .push = firstq_push,
    .pop = firstq_pop,
    .remove = firstq_remove,
    .length = firstq_length,
  },
  1 << 7,
};

static const struct {
  FirstScaleStrategy vtable;
  gboolean         (*trap_init) (GKeyFile *, const char *, TpScaleLimits *, gsize, gpointer *,
                                 GError **);
} firsts = {
  {
    .struct_size = sizeof (FirstScaleStrategy),
    .name = "firsts",
    .description = "A fixed size, with the first SDK's vtable",
    .keys = firsts_keys,
    .create = firsts_create,
    .destroy = g_free,
  },
  firsts_trap_init,
};

/* A gate list that would be refused: the registry must not see it */
static const TpGateStrategy trap_gate = { .struct_size = 1, .name = "trap" };
static const TpGateStrategy * const trap_gates[] = { &trap_gate, NULL };

static const TpQueueStrategy * const first_queues[] = {
  (const TpQueueStrategy *) &firstq.vtable, NULL
};
static const TpScaleStrategy * const first_scalers[] = {
  (const TpScaleStrategy *) &firsts.vtable, NULL
};

static const struct {
  FirstDescriptor                descriptor;
  const TpGateStrategy * const  *trap_gates;
} first = {
  {
    .abi_version = TP_PLUGIN_ABI_VERSION,
    .struct_size = sizeof (FirstDescriptor),
    .name = "abi-first",
    .version = "1.0",
    .description = "A plugin built against the first SDK",
    .queue_strategies = first_queues,
    .scale_strategies = first_scalers,
  },
  trap_gates,
};

G_MODULE_EXPORT const TpPluginDescriptor *tp_plugin_get_descriptor (void);

G_MODULE_EXPORT const TpPluginDescriptor *
tp_plugin_get_descriptor (void)
{
  return (const TpPluginDescriptor *) &first.descriptor;
}

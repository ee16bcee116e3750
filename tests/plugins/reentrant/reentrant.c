/* reentrant.c: a plugin whose constructor and entry point make pools, scaling strategy “reenter”
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Legal but odd: code of a plugin being loaded asks the registry for
 * strategies. Each of its constructor and its entry point makes a pool of a
 * bundled kind, which must work, and one of its own kind “reenter-simple”
 * (from the folder named by TP_TEST_PLUGIN_DIR), which must fail with an
 * error, since the plugin is not loaded yet: neither may deadlock. What they
 * got is kept for reentrant_get_report(). */

#include <taskpool/tp-plugin.h>

#define REENTRANT_DIR_VAR "TP_TEST_PLUGIN_DIR"

G_MODULE_EXPORT void reentrant_get_report (const char * const **report);

/* constructor's bundled pool, constructor's own kind, entry's bundled, entry's own */
static char *report[5];

G_MODULE_EXPORT void
reentrant_get_report (const char * const **out)
{
  *out = (const char * const *) report;
}

/* "ok", or the error's domain, code and message */
static char *
reentrant_try (const char *kind,
               const char *plugin_path)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(TpPool) pool = NULL;

  g_key_file_set_string (keyfile, "reentrant", "kind", kind);
  if (plugin_path != NULL)
    g_key_file_set_string (keyfile, "reentrant", "plugin-path", plugin_path);
  pool = tp_pool_new_from_keyfile (keyfile, "reentrant", &error);
  if (pool != NULL)
    return g_strdup ("ok");
  return g_strdup_printf ("%s %d %s", g_quark_to_string (error->domain), error->code,
                          error->message);
}

static void
reentrant_fill (char       **bundled,
                char       **own,
                const char  *bundled_kind)
{
  *bundled = reentrant_try (bundled_kind, NULL);
  *own = reentrant_try ("reenter-simple", g_getenv (REENTRANT_DIR_VAR));
}

__attribute__((constructor)) static void
reentrant_constructor (void)
{
  reentrant_fill (&report[0], &report[1], "fixed-lifo");
}

__attribute__((destructor)) static void
reentrant_destructor (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (report); i++)
    g_clear_pointer (&report[i], g_free);
}

static const char * const reenter_keys[] = { "size", "min-size", "max-size", NULL };

static gpointer
reenter_create (GKeyFile       *config,
                const char     *group,
                TpScaleLimits  *limits,
                GError        **error)
{
  if (!limits->min_size_set)
    limits->min_size = 0;
  if (!limits->max_size_set)
    limits->max_size = TP_POOL_MAX_SIZE;
  if (!limits->size_set)
    limits->size = CLAMP (1, limits->min_size, limits->max_size);
  return g_new0 (char, 1);
}

static const TpScaleStrategy reenter_strategy = {
  .struct_size = sizeof (TpScaleStrategy),
  .name = "reenter",
  .description = "A fixed size, from a plugin that makes pools while it loads",
  .keys = reenter_keys,
  .create = reenter_create,
  .destroy = g_free,
};

static const TpScaleStrategy * const reenter_scalers[] = { &reenter_strategy, NULL };

static const TpPluginDescriptor reenter_descriptor = {
  .abi_version = TP_PLUGIN_ABI_VERSION,
  .struct_size = sizeof (TpPluginDescriptor),
  .name = "reentrant",
  .version = "1.0",
  .description = "A plugin that makes pools while it loads",
  .scale_strategies = reenter_scalers,
};

G_MODULE_EXPORT const TpPluginDescriptor *tp_plugin_get_descriptor (void);

G_MODULE_EXPORT const TpPluginDescriptor *
tp_plugin_get_descriptor (void)
{
  if (report[2] == NULL)
    reentrant_fill (&report[2], &report[3], "fixed-simple");
  return &reenter_descriptor;
}

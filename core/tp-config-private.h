/* tp-config-private.h: strict keyfile parsing
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <taskpool/tp-plugin.h>

G_BEGIN_DECLS

gboolean tp_config_check_keys      (GKeyFile                   *config,
                                    const char                 *group,
                                    const char                 *kind,
                                    const char * const * const *key_lists,
                                    GError                    **error);
gboolean tp_config_get_plugin_path (GKeyFile    *config,
                                    const char  *group,
                                    char      ***dirs,
                                    GError     **error);

G_END_DECLS

/* gate-redis-config.c: the redis gate's keys
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every key is checked when the pool is made: a limit shared through a
 * server must never become "no limit" because of a typing error, so a name
 * and a limit are required, and a bad value is an error naming the group,
 * the key, the value and what is allowed.
 */

#include <string.h>

#include "gate-redis-private.h"

#define URL_FORMS "redis://[[user]:password@]host[:port][/db] or " \
                  "unix:/absolute/path[?db=N][&user=U][&password=P]"

static void
gate_redis_address_clear (GateRedisAddress *address)
{
  g_clear_pointer (&address->display, g_free);
  g_clear_pointer (&address->host, g_free);
  g_clear_pointer (&address->path, g_free);
  g_clear_pointer (&address->user, g_free);
  if (address->password != NULL)
    memset (address->password, 0, strlen (address->password));
  g_clear_pointer (&address->password, g_free);
}

/* A query with the value of its password parameter hidden */
static char *
gate_redis_query_display (const char *query)
{
  g_auto(GStrv) parts = g_strsplit (query, "&", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (g_str_has_prefix (parts[i], "password="))
        {
          g_free (parts[i]);
          parts[i] = g_strdup ("password=***");
        }
    }
  return g_strjoinv ("&", parts);
}

/* The URL as it may appear in a message: without its password */
static char *
gate_redis_url_display (const char *url)
{
  g_autofree char *scheme = NULL, *user = NULL, *password = NULL, *host = NULL;
  g_autofree char *path = NULL, *query = NULL, *fragment = NULL;
  int port = -1;

  if (!g_uri_split_with_user (url, G_URI_FLAGS_HAS_PASSWORD | G_URI_FLAGS_ENCODED,
                              &scheme, &user, &password, NULL, &host, &port, &path,
                              &query, &fragment, NULL) ||
      (password == NULL && (query == NULL || strstr (query, "password=") == NULL)))
    return g_strdup (url);

  if (query != NULL)
    {
      char *hidden = gate_redis_query_display (query);

      g_free (query);
      query = hidden;
    }
  return g_uri_join_with_user (G_URI_FLAGS_HAS_PASSWORD | G_URI_FLAGS_ENCODED, scheme, user,
                               password != NULL ? "***" : NULL, NULL, host, port, path, query,
                               fragment);
}

static gboolean
gate_redis_parse_db (const char  *text,
                     guint       *db,
                     char       **why)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT16, &value, NULL) ||
      text[0] == '+')
    {
      *why = g_strdup_printf ("the database “%s” is not a number from 0 to %u",
                              text, G_MAXUINT16);
      return FALSE;
    }
  *db = (guint) value;
  return TRUE;
}

static gboolean
gate_redis_parse_tcp (GUri              *uri,
                      GateRedisAddress  *address,
                      char             **why)
{
  const char *path = g_uri_get_path (uri);

  if (g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0')
    {
      *why = g_strdup ("a host is needed");
      return FALSE;
    }
  if (g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL)
    {
      *why = g_strdup ("a redis:// URL takes no query or fragment");
      return FALSE;
    }
  if (g_uri_get_port (uri) == 0)
    {
      *why = g_strdup ("the port must be from 1 to 65535");
      return FALSE;
    }
  address->host = g_strdup (g_uri_get_host (uri));
  address->port = g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : 6379;
  if (path[0] == '/')
    path++;
  if (path[0] != '\0' && !gate_redis_parse_db (path, &address->db, why))
    return FALSE;
  address->user = g_strdup (g_uri_get_user (uri));
  address->password = g_strdup (g_uri_get_password (uri));
  if (address->user != NULL && address->user[0] == '\0')
    g_clear_pointer (&address->user, g_free);
  if (address->user != NULL && address->password == NULL)
    {
      *why = g_strdup ("a user needs a password (user:password@)");
      return FALSE;
    }
  return TRUE;
}

static gboolean
gate_redis_parse_unix (GUri              *uri,
                       GateRedisAddress  *address,
                       char             **why)
{
  g_autoptr(GHashTable) params = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *query = g_uri_get_query (uri);
  const char *path = g_uri_get_path (uri);
  GHashTableIter iter;
  gpointer key, value;

  if ((g_uri_get_host (uri) != NULL && g_uri_get_host (uri)[0] != '\0') ||
      g_uri_get_userinfo (uri) != NULL || g_uri_get_fragment (uri) != NULL)
    {
      *why = g_strdup ("a unix: URL takes a path, and db, user and password after “?”");
      return FALSE;
    }
  if (!g_path_is_absolute (path))
    {
      *why = g_strdup ("the socket’s path must be absolute");
      return FALSE;
    }
  address->path = g_strdup (path);
  if (query == NULL)
    return TRUE;

  params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, &local_error);
  if (params == NULL)
    {
      *why = g_strdup (local_error->message);
      return FALSE;
    }
  g_hash_table_iter_init (&iter, params);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      if (g_str_equal (key, "db"))
        {
          if (!gate_redis_parse_db (value, &address->db, why))
            return FALSE;
        }
      else if (g_str_equal (key, "user"))
        address->user = g_strdup (value);
      else if (g_str_equal (key, "password"))
        address->password = g_strdup (value);
      else
        {
          *why = g_strdup_printf ("unknown parameter “%s”: db, user and password are allowed",
                                  (const char *) key);
          return FALSE;
        }
    }
  if (address->user != NULL && address->password == NULL)
    {
      *why = g_strdup ("a user needs a password");
      return FALSE;
    }
  return TRUE;
}

static gboolean
gate_redis_address_parse (const char        *url,
                          GateRedisAddress  *address,
                          char             **why)
{
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *scheme;

  uri = g_uri_parse (url, G_URI_FLAGS_HAS_PASSWORD | G_URI_FLAGS_ENCODED_QUERY, &local_error);
  if (uri == NULL)
    {
      *why = g_strdup (local_error->message);
      return FALSE;
    }

  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "redis") == 0)
    {
      if (!gate_redis_parse_tcp (uri, address, why))
        return FALSE;
    }
  else if (g_ascii_strcasecmp (scheme, "unix") == 0)
    {
      if (!gate_redis_parse_unix (uri, address, why))
        return FALSE;
    }
  else if (g_ascii_strcasecmp (scheme, "rediss") == 0)
    {
      *why = g_strdup ("TLS (rediss://) is not supported");
      return FALSE;
    }
  else
    {
      *why = g_strdup_printf ("unknown scheme “%s”", scheme);
      return FALSE;
    }

  address->display = gate_redis_url_display (url);
  return TRUE;
}

static gboolean
gate_redis_name_is_valid (const char *name)
{
  gsize length = strlen (name);

  if (length == 0 || length > GATE_REDIS_MAX_NAME)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    {
      if (!g_ascii_isalnum (name[i]) && strchr ("-_.:", name[i]) == NULL)
        return FALSE;
    }
  return TRUE;
}

static gboolean
gate_redis_config_load_url (GateRedisConfig  *config,
                            GKeyFile         *keyfile,
                            const char       *group,
                            GError          **error)
{
  g_autofree char *url = g_strdup (GATE_REDIS_DEFAULT_URL);
  g_autofree char *why = NULL;

  if (!tp_config_get_string (keyfile, group, "redis-url", &url, NULL, error))
    return FALSE;

  if (!gate_redis_address_parse (url, &config->address, &why))
    {
      g_autofree char *display = gate_redis_url_display (url);

      gate_redis_address_clear (&config->address);
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                   "Invalid value “%s” for key “redis-url” in group “%s”: %s; expected "
                   URL_FORMS, display, group, why);
      return FALSE;
    }
  return TRUE;
}

static gboolean
gate_redis_config_load_name (GateRedisConfig  *config,
                             GKeyFile         *keyfile,
                             const char       *group,
                             GError          **error)
{
  gboolean was_set = FALSE;

  if (!tp_config_get_string (keyfile, group, "redis-name", &config->name, &was_set, error))
    return FALSE;
  if (!was_set)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                   "Missing key “redis-name” in group “%s”: the redis gate needs the name "
                   "of the limit its pools share", group);
      return FALSE;
    }
  if (!gate_redis_name_is_valid (config->name))
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                   "Invalid value “%s” for key “redis-name” in group “%s”: expected 1 to %u "
                   "ASCII letters, digits, “-”, “_”, “.” or “:”",
                   config->name, group, GATE_REDIS_MAX_NAME);
      return FALSE;
    }
  return TRUE;
}

static gboolean
gate_redis_config_load_numbers (GateRedisConfig  *config,
                                GKeyFile         *keyfile,
                                const char       *group,
                                GError          **error)
{
  gboolean was_set = FALSE;

  if (!tp_config_get_uint (keyfile, group, "redis-limit", 1, GATE_REDIS_MAX_LIMIT,
                           &config->limit, &was_set, error))
    return FALSE;
  if (!was_set)
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                   "Missing key “redis-limit” in group “%s”: the redis gate needs the number "
                   "of jobs that may run at once across all its pools, from 1 to %u",
                   group, GATE_REDIS_MAX_LIMIT);
      return FALSE;
    }

  config->lease_ms = GATE_REDIS_DEFAULT_LEASE_MS;
  return tp_config_get_uint (keyfile, group, "redis-lease-ms", GATE_REDIS_MIN_LEASE_MS,
                             GATE_REDIS_MAX_LEASE_MS, &config->lease_ms, NULL, error);
}

static gboolean
gate_redis_config_load_unavailable (GateRedisConfig  *config,
                                    GKeyFile         *keyfile,
                                    const char       *group,
                                    GError          **error)
{
  g_autofree char *value = g_strdup ("hold");

  if (!tp_config_get_string (keyfile, group, "redis-unavailable", &value, NULL, error))
    return FALSE;

  if (g_str_equal (value, "hold"))
    config->fail = FALSE;
  else if (g_str_equal (value, "fail"))
    config->fail = TRUE;
  else
    {
      g_set_error (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                   "Invalid value “%s” for key “redis-unavailable” in group “%s”: "
                   "expected hold or fail", value, group);
      return FALSE;
    }
  return TRUE;
}

gboolean
gate_redis_config_load (GateRedisConfig  *config,
                        GKeyFile         *keyfile,
                        const char       *group,
                        GError          **error)
{
  memset (config, 0, sizeof *config);

  if (keyfile == NULL || group == NULL)
    {
      g_set_error_literal (error, TP_POOL_ERROR, TP_POOL_ERROR_CONFIG,
                           "The redis gate is configured from a keyfile: it needs at least "
                           "the keys redis-name and redis-limit");
      return FALSE;
    }

  if (!gate_redis_config_load_name (config, keyfile, group, error) ||
      !gate_redis_config_load_numbers (config, keyfile, group, error) ||
      !gate_redis_config_load_unavailable (config, keyfile, group, error) ||
      !gate_redis_config_load_url (config, keyfile, group, error))
    {
      gate_redis_config_clear (config);
      return FALSE;
    }
  return TRUE;
}

void
gate_redis_config_clear (GateRedisConfig *config)
{
  gate_redis_address_clear (&config->address);
  g_clear_pointer (&config->name, g_free);
}

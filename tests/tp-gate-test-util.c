/* tp-gate-test-util.c: a gate driven through its vtable, for the gate tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "tp-gate-test-util.h"

const TpGateStrategy *
gate_test_lookup (const char *module_name,
                  const char *gate_name)
{
  g_auto(GStrv) dirs = g_strsplit (g_getenv ("TASKPOOL_PLUGIN_PATH"), ":", -1);

  g_assert_nonnull (dirs);
  for (guint i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *file = g_strconcat (module_name, ".", G_MODULE_SUFFIX, NULL);
      g_autofree char *path = g_build_filename (dirs[i], file, NULL);
      const TpPluginDescriptor *descriptor;
      TpPluginEntryFunc entry = NULL;
      GModule *module;

      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        continue;

      module = g_module_open (path, G_MODULE_BIND_LOCAL);
      g_assert_nonnull (module);
      g_module_make_resident (module);
      g_assert_true (g_module_symbol (module, TP_PLUGIN_ENTRY_SYMBOL, (gpointer *) &entry));
      descriptor = entry ();
      g_assert_nonnull (descriptor);
      g_assert_cmpuint (descriptor->abi_version, ==, TP_PLUGIN_ABI_VERSION);
      g_assert_cmpuint (descriptor->struct_size, ==, sizeof (TpPluginDescriptor));
      g_assert_cmpstr (descriptor->name, ==, module_name);
      g_assert_nonnull (descriptor->gate_strategies);
      for (guint j = 0; descriptor->gate_strategies[j] != NULL; j++)
        {
          const TpGateStrategy *vt = descriptor->gate_strategies[j];

          if (!g_str_equal (vt->name, gate_name))
            continue;
          g_assert_cmpuint (vt->struct_size, ==, sizeof (TpGateStrategy));
          g_assert_nonnull (vt->create);
          g_assert_nonnull (vt->admit);
          g_assert_nonnull (vt->started);
          return vt;
        }
      g_error ("%s has no gate “%s”", path, gate_name);
    }
  g_error ("No module %s in TASKPOOL_PLUGIN_PATH", module_name);
  return NULL;
}

static void
gate_fixture_wake_cb (gpointer data)
{
  GateFixture *fixture = data;

  fixture->wakes++;
}

gboolean
gate_fixture_init (GateFixture  *fixture,
                   const char   *module_name,
                   const char   *gate_name,
                   const char   *keyfile_data,
                   GError      **error)
{
  g_autoptr(GKeyFile) keyfile = NULL;

  memset (fixture, 0, sizeof *fixture);
  fixture->vt = gate_test_lookup (module_name, gate_name);
  fixture->context = g_main_context_new ();
  fixture->host = tp_gate_host_new (fixture->context, "test-pool", gate_fixture_wake_cb, fixture);

  if (keyfile_data != NULL)
    {
      keyfile = g_key_file_new ();
      g_assert_true (g_key_file_load_from_data (keyfile, keyfile_data, -1, G_KEY_FILE_NONE,
                                                NULL));
    }
  if (!fixture->vt->create (keyfile, keyfile != NULL ? "pool" : NULL, fixture->host,
                            &fixture->gate, error))
    {
      g_assert_null (fixture->gate);
      return FALSE;
    }
  return TRUE;
}

void
gate_fixture_clear (GateFixture *fixture)
{
  if (fixture->gate != NULL && fixture->vt->destroy != NULL)
    fixture->vt->destroy (fixture->gate);
  fixture->gate = NULL;
  g_clear_pointer (&fixture->host, tp_gate_host_free);
  g_clear_pointer (&fixture->context, g_main_context_unref);
}

TpGateVerdict
gate_admit (GateFixture *fixture,
            TpJob       *job,
            gint64       now,
            gint64      *retry_at)
{
  g_autoptr(GError) error = NULL;
  TpGateVerdict verdict;

  *retry_at = -1;
  verdict = fixture->vt->admit (fixture->gate, job, now, retry_at, &error);
  if (verdict == TP_GATE_FAIL)
    g_assert_nonnull (error);
  else
    g_assert_no_error (error);
  if (verdict == TP_GATE_ADMIT)
    g_assert_cmpint (*retry_at, ==, -1);
  else if (*retry_at != -1)
    g_assert_cmpint (*retry_at, >, now);
  return verdict;
}

gboolean
gate_try_start (GateFixture *fixture,
                TpJob       *job,
                gint64       now,
                gint64      *retry_at)
{
  if (gate_admit (fixture, job, now, retry_at) != TP_GATE_ADMIT)
    return FALSE;
  fixture->vt->started (fixture->gate, job, now);
  return TRUE;
}

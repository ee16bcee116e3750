/* test-gtk-downloads.c: the GTK window's self-test, under Xvfb
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Runs `xvfb-run -a gtk-downloads --self-test N --screenshot FILE`: the
 * window downloads N files from a server of its own through the pool's
 * list of jobs, holds and releases them with its Hold toggle, cancels one
 * from its row's button, and checks every file and the pool's counters
 * (see examples/gtk-downloads/self-test.c). Here: its exit status, the count
 * of completed rows it prints, and the picture it saved.
 */

#include <gio/gio.h>
#include <glib/gstdio.h>

typedef struct {
  char *out;
  char *err;
  int   status;
} Run;

static void
run_clear (Run *run)
{
  g_free (run->out);
  g_free (run->err);
}

static void
run (Run                *run,
     gboolean            under_xvfb,
     const char * const *args)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv = NULL;

  if (under_xvfb)
    g_strv_builder_add_many (builder, g_getenv ("TP_XVFB_RUN"), "-a", NULL);
  g_strv_builder_add (builder, g_getenv ("TP_GTK_DOWNLOADS"));
  g_strv_builder_addv (builder, (const char **) args);
  argv = g_strv_builder_end (builder);

  /* No accessibility bus under Xvfb */
  g_subprocess_launcher_setenv (launcher, "GTK_A11Y", "none", TRUE);
  g_subprocess_launcher_setenv (launcher, "no_proxy", "127.0.0.1,localhost", TRUE);
  g_subprocess_launcher_unsetenv (launcher, "http_proxy");
  g_subprocess_launcher_unsetenv (launcher, "HTTP_PROXY");
  /* GTK and the libraries under it keep allocations until exit: the
   * downloads' own code is leak-checked by test-downloads */
  if (g_getenv ("TP_SANITIZED") != NULL)
    g_subprocess_launcher_setenv (launcher, "ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1",
                                  TRUE);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &run->out, &run->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  run->status = g_subprocess_get_exit_status (process);
  g_test_message ("exit %d\nstdout:\n%s\nstderr:\n%s", run->status, run->out, run->err);
}

static guint32
read_be32 (const guint8 *bytes)
{
  return (guint32) bytes[0] << 24 | (guint32) bytes[1] << 16 | (guint32) bytes[2] << 8 |
         bytes[3];
}

static void
test_self_test (void)
{
  g_autofree char *folder = g_dir_make_tmp ("test-gtk-downloads-XXXXXX", NULL);
  g_autofree char *png = g_build_filename (folder, "window.png", NULL);
  g_autofree char *contents = NULL;
  const char * const args[] = { "--self-test", "6", "--screenshot", png, NULL };
  gsize length;
  Run result;

  g_test_summary ("Under Xvfb, the window's self-test completes its six rows, cancels one from "
                  "its row, exits 0, and saves a picture of the window as a PNG");
  g_assert_nonnull (folder);
  run (&result, TRUE, args);
  g_assert_cmpint (result.status, ==, 0);
  g_assert_cmpstr (result.out, ==, "self-test: 6 of 6 rows completed, 1 cancelled from its row\n");

  g_assert_true (g_file_get_contents (png, &contents, &length, NULL));
  g_assert_cmpuint (length, >, 24);
  g_assert_cmpmem (contents, 8, "\x89PNG\r\n\x1a\n", 8);
  g_assert_cmpmem (contents + 12, 4, "IHDR", 4);
  /* The default size, 640 × 540, less what the window's decorations take */
  g_assert_cmpuint (read_be32 ((const guint8 *) contents + 16), >=, 600);
  g_assert_cmpuint (read_be32 ((const guint8 *) contents + 16), <=, 640);
  g_assert_cmpuint (read_be32 ((const guint8 *) contents + 20), >=, 500);
  g_assert_cmpuint (read_be32 ((const guint8 *) contents + 20), <=, 540);
  g_assert_cmpint (g_unlink (png), ==, 0);
  g_assert_cmpint (g_rmdir (folder), ==, 0);
  run_clear (&result);
}

static void
test_usage (void)
{
  const struct { const char *args[4]; const char *message; } cases[] = {
    { { "--screenshot", "x.png", NULL }, "--screenshot needs --self-test" },
    { { "-j", "0", NULL }, "--jobs and --per-host must be from 1 to 4096" },
  };

  g_test_summary ("A bad option is a usage error, exit status 2, found before any window opens "
                  "(no display needed)");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Run result;

      run (&result, FALSE, cases[i].args);
      g_assert_cmpint (result.status, ==, 2);
      g_assert_nonnull (strstr (result.err, cases[i].message));
      run_clear (&result);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_assert_nonnull (g_getenv ("TP_GTK_DOWNLOADS"));
  g_assert_nonnull (g_getenv ("TP_XVFB_RUN"));
  g_test_add_func ("/examples/gtk-downloads/self-test", test_self_test);
  g_test_add_func ("/examples/gtk-downloads/usage", test_usage);
  return g_test_run ();
}

/* test-downloads.c: the command-line downloader against a local server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test starts a SoupServer on 127.0.0.1 (a port the kernel chooses), runs
 * examples/downloads against it as a subprocess while iterating the main
 * context that serves, and checks what the downloader saved, byte for byte,
 * what it left in its folder, its output and its exit status. The server
 * reaches the downloader as two hosts, 127.0.0.1 and localhost: two keys
 * for the pool's per-host limit, which the server counts.
 */

#define _GNU_SOURCE   /* posix_openpt() */

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "download.h"
#include "dl-server.h"

typedef struct {
  DlServer *server;
  char     *folder;
} Fixture;

/* What one run of the downloader did */
typedef struct {
  GSubprocess *process;
  char        *out;
  char        *err;
  int          status;      /* the exit status, or 128 + the signal's number */
  gboolean     done;
  GString     *pty_out;     /* with run_on_pty() */
} Run;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->server = dl_server_new (&error);
  g_assert_no_error (error);
  f->folder = g_dir_make_tmp ("test-downloads-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
remove_folder (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_folder (child);
      else
        g_assert_cmpint (g_unlink (child), ==, 0);
    }
  g_assert_cmpint (g_rmdir (path), ==, 0);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  /* The server's last messages finish in the context */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_pointer (&f->server, dl_server_free);
  remove_folder (f->folder);
  g_free (f->folder);
}

static void
run_clear (Run *run)
{
  g_clear_object (&run->process);
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
  if (run->pty_out != NULL)
    g_string_free (g_steal_pointer (&run->pty_out), TRUE);
}

/* Running the downloader {{{ */

static GSubprocessLauncher *
launcher_new (GSubprocessFlags flags)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);
  const char * const proxies[] = { "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                   "all_proxy", "ALL_PROXY", NULL };

  for (guint i = 0; proxies[i] != NULL; i++)
    g_subprocess_launcher_unsetenv (launcher, proxies[i]);
  g_subprocess_launcher_setenv (launcher, "no_proxy", "127.0.0.1,localhost", TRUE);
  g_subprocess_launcher_setenv (launcher, "TERM", "xterm", TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  return launcher;
}

static GStrv
downloader_argv (Fixture            *f,
                 const char * const *args)
{
  g_autoptr(GStrvBuilder) argv = g_strv_builder_new ();
  const char *downloads = g_getenv ("TP_DOWNLOADS");

  g_assert_nonnull (downloads);
  g_strv_builder_add (argv, downloads);
  g_strv_builder_add_many (argv, "-o", f->folder, NULL);
  g_strv_builder_addv (argv, (const char **) args);
  return g_strv_builder_end (argv);
}

static void
run_set_status (Run *run)
{
  if (g_subprocess_get_if_signaled (run->process))
    run->status = 128 + g_subprocess_get_term_sig (run->process);
  else
    run->status = g_subprocess_get_exit_status (run->process);
  run->done = TRUE;
}

static void
run_communicated_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Run *run = user_data;
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &run->out, &run->err,
                                        &error);
  g_assert_no_error (error);
  run_set_status (run);
}

/* Under valgrind (--trace-children), the downloader's errors are in its
 * stderr; its exit status alone could not tell them from a failed download */
static void
assert_clean_run (Run *run)
{
  const char *summary = run->err != NULL ? strstr (run->err, "ERROR SUMMARY: ") : NULL;

  if (summary != NULL && !g_str_has_prefix (summary, "ERROR SUMMARY: 0 errors"))
    g_error ("the downloader had memory errors:\n%s", run->err);
  g_assert_cmpint (run->status, !=, 128 + SIGSEGV);
  g_assert_cmpint (run->status, !=, 128 + SIGABRT);
}

/* Starts the downloader with @args and @input on its standard input */
static void
run_start (Fixture            *f,
           Run                *run,
           const char * const *args,
           const char         *input)
{
  g_autoptr(GSubprocessLauncher) launcher =
    launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                  G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_auto(GStrv) argv = downloader_argv (f, args);
  g_autoptr(GError) error = NULL;

  memset (run, 0, sizeof *run);
  run->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (run->process, input != NULL ? input : "", NULL,
                                       run_communicated_cb, run);
}

static void
run_wait (Run *run)
{
  while (!run->done)
    g_main_context_iteration (NULL, TRUE);
  g_test_message ("downloader: exit %d\nstdout:\n%s\nstderr:\n%s", run->status,
                  run->out != NULL ? run->out : "",
                  run->err != NULL ? run->err : "");
  assert_clean_run (run);
}

static void
run_downloader (Fixture            *f,
                Run                *run,
                const char * const *args,
                const char         *input)
{
  run_start (f, run, args, input);
  run_wait (run);
}

/* }}} */

/* Checks {{{ */

static void
add_url (GStrvBuilder *builder,
         char         *url)
{
  g_strv_builder_add (builder, url);
  g_free (url);
}

static char *
url_for (Fixture    *f,
         const char *host,
         const char *path)
{
  return dl_server_get_url (f->server, host, path);
}

/* The file @name in the folder holds exactly the server's bytes */
static void
assert_saved (Fixture    *f,
              const char *name,
              gsize       size)
{
  g_autofree char *path = g_build_filename (f->folder, name, NULL);
  g_autoptr(GBytes) expected = dl_content (name, size);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length;

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (contents, length, g_bytes_get_data (expected, NULL), size);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

/* The folder holds exactly @names (sorted, space-separated): no partial file */
static void
assert_folder (Fixture    *f,
               const char *names)
{
  g_autoptr(GDir) dir = g_dir_open (f->folder, 0, NULL);
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *joined = NULL;
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (found, g_strdup (name));
  g_ptr_array_sort (found, compare_names);
  g_ptr_array_add (found, NULL);
  joined = g_strjoinv (" ", (char **) found->pdata);
  g_assert_cmpstr (joined, ==, names);
}

static guint
count_lines_with_prefix (const char *text,
                         const char *prefix)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    n += g_str_has_prefix (lines[i], prefix);
  return n;
}

/* }}} */

/* Names and keys {{{ */

static void
assert_name (const char *url,
             const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) uri = download_parse_url (url, &error);
  g_autofree char *name = NULL;

  g_assert_no_error (error);
  name = download_file_name_for_uri (uri);
  g_assert_cmpstr (name, ==, expected);
}

static void
test_names (void)
{
  g_autofree char *long_segment = g_strnfill (300, 'a');
  g_autofree char *long_url = g_strdup_printf ("http://h/%s.tar.gz", long_segment);
  g_autofree char *long_name = g_strdup_printf ("%.*s.gz", 197, long_segment);

  g_test_summary ("A URL's file name is its last path segment, decoded when that is UTF-8 "
                  "without a slash or NUL; never hidden, never with a control character or a "
                  "slash, at most 200 bytes with its extension kept; index.html for none");
  assert_name ("http://h/a/b.txt", "b.txt");
  assert_name ("http://h/f.zip?x=1&y=/z#frag", "f.zip");
  assert_name ("http://h", "index.html");
  assert_name ("http://h/", "index.html");
  assert_name ("http://h/dir/", "index.html");
  assert_name ("http://h/caf%C3%A9%20au%20lait.txt", "café au lait.txt");
  assert_name ("http://h/.bashrc", "_bashrc");
  assert_name ("http://h/a/%2e%2e", "index.html");   /* "/a/.." is "/" */
  assert_name ("http://h/...", "_..");
  assert_name ("http://h/..%2F..%2Fetc%2Fpasswd", "_.%2F..%2Fetc%2Fpasswd");
  assert_name ("http://h/a%00b", "a%00b");
  assert_name ("http://h/%FF%FE.bin", "%FF%FE.bin");
  assert_name ("http://h/line%0Abreak%09tab%5Cback", "line_break_tab_back");
  assert_name (long_url, long_name);
}

static void
test_keys (void)
{
  const struct { const char *url; const char *key; } cases[] = {
    { "http://Example.COM:8080/x", "example.com" },
    { "https://b%C3%BCcher.de/", "xn--bcher-kva.de" },
    { "http://127.0.0.1:80/", "127.0.0.1" },
    { "http://[::1]:8080/", "::1" },
  };
  const char * const bad[] = {
    "ftp://example.com/file", "example.com/file", "http:///file", "http://exa mple.com/", "",
  };

  g_test_summary ("The limit key is the URL's host, lower case and ASCII; only http and "
                  "https URLs with a host are accepted, with an error naming the URL");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GUri) uri = download_parse_url (cases[i].url, &error);
      g_autofree char *key = NULL;

      g_assert_no_error (error);
      key = download_key_for_uri (uri);
      g_assert_cmpstr (key, ==, cases[i].key);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GUri) uri = download_parse_url (bad[i], &error);

      g_assert_null (uri);
      g_assert_error (error, G_URI_ERROR, error->code);
      g_assert_nonnull (strstr (error->message, bad[i]));
    }
}

/* }}} */

/* Runs {{{ */

static void
test_files (Fixture       *f,
            gconstpointer  data)
{
  const struct { const char *host; const char *name; gsize size; } files[] = {
    { "127.0.0.1", "empty.bin", 0 },
    { "127.0.0.1", "one.bin", 1 },
    { "127.0.0.1", "small.txt", 1000 },
    { "localhost", "buffer.bin", 64 * 1024 },
    { "localhost", "large.bin", 1024 * 1024 + 17 },
    { "localhost", "page.html", 4096 },
  };
  g_autoptr(GStrvBuilder) args = g_strv_builder_new ();
  g_auto(GStrv) argv = NULL;
  Run run;

  g_test_summary ("URLs given as arguments are saved, byte for byte, into the folder, under "
                  "their names; the run exits 0 and prints one line per file and a summary");
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_strdup_printf ("/file/%s?size=%" G_GSIZE_FORMAT,
                                               files[i].name, files[i].size);

      add_url (args, url_for (f, files[i].host, path));
    }
  argv = g_strv_builder_end (args);
  run_downloader (f, &run, (const char * const *) argv, NULL);

  g_assert_cmpint (run.status, ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    assert_saved (f, files[i].name, files[i].size);
  assert_folder (f, "buffer.bin empty.bin large.bin one.bin page.html small.txt");
  g_assert_cmpuint (count_lines_with_prefix (run.out, "saved "), ==, G_N_ELEMENTS (files));
  g_assert_nonnull (strstr (run.out, "\n6 saved, 0 failed, 0 cancelled\n"));
  g_assert_null (strstr (run.out, "\033["));   /* not a terminal: no bars */
  g_assert_cmpuint (dl_server_get_n_requests (f->server), ==, G_N_ELEMENTS (files));
  run_clear (&run);
}

static void
test_stdin (Fixture       *f,
            gconstpointer  data)
{
  g_autofree char *a = url_for (f, "127.0.0.1", "/file/a.txt?size=300");
  g_autofree char *b = url_for (f, "localhost", "/slow/b.txt?size=5000&chunks=5");
  g_autofree char *input = g_strdup_printf ("# two files\n\n  %s  \n%s\n", a, b);
  const char * const args[] = { NULL };
  Run run;

  g_test_summary ("Without URL arguments, URLs are read from standard input, one per line; "
                  "blank lines and # comments are skipped");
  run_downloader (f, &run, args, input);
  g_assert_cmpint (run.status, ==, 0);
  assert_saved (f, "a.txt", 300);
  assert_saved (f, "b.txt", 5000);
  assert_folder (f, "a.txt b.txt");
  g_assert_nonnull (strstr (run.out, "2 saved, 0 failed, 0 cancelled"));
  run_clear (&run);
}

typedef struct {
  const char *jobs;
  const char *per_host;
  guint       n_first;      /* downloads from 127.0.0.1 */
  guint       n_second;     /* downloads from localhost */
  guint       total_peak;   /* what the limits allow at once, with these downloads */
} LimitCase;

/* Slow downloads from two hosts: the server lets none of them send its
 * body until as many are in flight as the limits allow, so that the limits
 * are reached; a limit not held shows as a peak above it */
static void
test_limits (Fixture       *f,
             gconstpointer  data)
{
  const LimitCase *limits = data;
  guint per_host = atoi (limits->per_host);
  g_autoptr(GStrvBuilder) args = g_strv_builder_new ();
  g_autoptr(GString) names = g_string_new (NULL);
  g_auto(GStrv) argv = NULL;
  guint n = limits->n_first + limits->n_second;
  guint first_peak, second_peak;
  Run run;

  g_test_summary ("At most --per-host downloads run at once from one host and --jobs in all: "
                  "the server counts the requests of each host in flight");
  g_strv_builder_add_many (args, "-j", limits->jobs, "-p", limits->per_host, NULL);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *path = g_strdup_printf ("/slow/s%u.bin?size=20000&chunks=4", i);

      add_url (args, url_for (f, i < limits->n_first ? "127.0.0.1" : "localhost", path));
      g_string_append_printf (names, "%ss%u.bin", i > 0 ? " " : "", i);
    }
  argv = g_strv_builder_end (args);
  dl_server_set_barrier (f->server, limits->total_peak);
  run_downloader (f, &run, (const char * const *) argv, NULL);

  g_assert_cmpint (run.status, ==, 0);
  g_assert_true (dl_server_barrier_reached (f->server));
  first_peak = dl_server_get_peak (f->server, "127.0.0.1");
  second_peak = dl_server_get_peak (f->server, "localhost");
  g_assert_cmpuint (first_peak, <=, per_host);
  g_assert_cmpuint (second_peak, <=, per_host);
  g_assert_cmpuint (MAX (first_peak, second_peak), ==, per_host);
  g_assert_cmpuint (dl_server_get_peak_total (f->server), ==, limits->total_peak);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("s%u.bin", i);

      assert_saved (f, name, 20000);
    }
  assert_folder (f, names->str);
  run_clear (&run);
}

static void
test_failures (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *ok = url_for (f, "127.0.0.1", "/file/ok.bin?size=2000");
  g_autofree char *slow = url_for (f, "localhost", "/slow/slow.bin?size=30000&chunks=6");
  g_autofree char *fail = url_for (f, "127.0.0.1", "/fail/fail.bin");
  g_autofree char *drop = url_for (f, "localhost", "/drop/drop.bin?size=40000");
  g_autofree char *missing = url_for (f, "localhost", "/nowhere/missing.bin");
  g_autofree char *fail_line = g_strdup_printf ("failed %s: HTTP 500 Internal Server Error",
                                                fail);
  g_autofree char *missing_line = g_strdup_printf ("failed %s: HTTP 404 Not Found", missing);
  g_autofree char *drop_line = g_strdup_printf ("failed %s: ", drop);
  const char * const args[] = { ok, fail, drop, slow, missing, NULL };
  Run run;

  g_test_summary ("A server error or a connection closed in the middle of the body fails "
                  "that download only: the others are saved, the failed ones leave no file "
                  "(not even a partial one), and the run exits 1");
  run_downloader (f, &run, args, NULL);

  g_assert_cmpint (run.status, ==, 1);
  assert_saved (f, "ok.bin", 2000);
  assert_saved (f, "slow.bin", 30000);
  assert_folder (f, "ok.bin slow.bin");
  g_assert_nonnull (strstr (run.out, fail_line));
  g_assert_nonnull (strstr (run.out, missing_line));
  g_assert_nonnull (strstr (run.out, drop_line));
  g_assert_cmpuint (count_lines_with_prefix (run.out, "failed "), ==, 3);
  g_assert_nonnull (strstr (run.out, "\n2 saved, 3 failed, 0 cancelled\n"));
  run_clear (&run);
}

static void
write_file (Fixture    *f,
            const char *name,
            const char *contents)
{
  g_autofree char *path = g_build_filename (f->folder, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static void
test_overwrite (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *url = url_for (f, "127.0.0.1", "/file/there.bin?size=777");
  g_autofree char *other = url_for (f, "localhost", "/file/new.bin?size=10");
  g_autofree char *same_name = url_for (f, "localhost", "/slow/new.bin?size=10");
  g_autofree char *path = g_build_filename (f->folder, "there.bin", NULL);
  g_autofree char *contents = NULL;
  const char * const args[] = { url, other, same_name, NULL };
  const char * const force[] = { "--overwrite", url, NULL };
  Run run;

  g_test_summary ("A file that exists is not overwritten without --overwrite: that URL "
                  "fails and the file is kept as it was; two URLs of one name in a run: the "
                  "later one fails; with --overwrite the file is replaced");
  write_file (f, "there.bin", "mine");
  write_file (f, ".there.bin.part", "left by a killed run");
  run_downloader (f, &run, args, NULL);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "mine");
  assert_saved (f, "new.bin", 10);
  g_assert_nonnull (strstr (run.out, "not overwritten without --overwrite"));
  g_assert_nonnull (strstr (run.out, "it would be saved as new.bin"));
  g_assert_nonnull (strstr (run.out, "\n1 saved, 2 failed, 0 cancelled\n"));
  /* Nothing was requested for the existing file nor for the duplicate */
  g_assert_cmpuint (dl_server_get_n_requests (f->server), ==, 1);
  run_clear (&run);

  run_downloader (f, &run, force, NULL);
  g_assert_cmpint (run.status, ==, 0);
  assert_saved (f, "there.bin", 777);
  /* The partial file a killed run left was replaced, then renamed */
  assert_folder (f, "new.bin there.bin");
  run_clear (&run);
}

static void
test_usage (Fixture       *f,
            gconstpointer  data)
{
  g_autofree char *good = url_for (f, "127.0.0.1", "/file/good.bin?size=10");
  const struct { const char *args[4]; const char *message; } cases[] = {
    { { "--no-such-option", NULL }, "Unknown option --no-such-option" },
    { { "-j", "0", NULL }, "--jobs and --per-host must be from 1 to 4096" },
    { { "-p", "5000", NULL }, "--jobs and --per-host must be from 1 to 4096" },
    { { "-j", "many", NULL }, "Cannot parse integer value “many” for -j" },
    { { good, "ftp://example.com/x", NULL }, "the scheme “ftp” is not supported" },
    { { good, "no-url", NULL }, "“no-url” is not a URL" },
  };

  g_test_summary ("A bad option or a bad URL is a usage error: exit status 2, a message on "
                  "stderr that names it, and nothing downloaded");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Run run;

      run_downloader (f, &run, cases[i].args, NULL);
      g_assert_cmpint (run.status, ==, 2);
      g_assert_nonnull (strstr (run.err, cases[i].message));
      g_assert_cmpstr (run.out, ==, "");
      run_clear (&run);
    }
  g_assert_cmpuint (dl_server_get_n_requests (f->server), ==, 0);
  assert_folder (f, "");
}

static void
test_interrupt (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GStrvBuilder) args = g_strv_builder_new ();
  g_auto(GStrv) argv = NULL;
  Run run;

  g_test_summary ("SIGINT cancels every download, running or waiting: none is saved, no "
                  "partial file is left, the run exits 130");
  g_strv_builder_add_many (args, "-j", "2", NULL);
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *path = g_strdup_printf ("/slow/c%u.bin?size=100000&chunks=10&stop=50", i);

      add_url (args, url_for (f, "127.0.0.1", path));
    }
  argv = g_strv_builder_end (args);
  dl_server_stop (f->server);
  run_start (f, &run, (const char * const *) argv, NULL);
  while (dl_server_get_n_stopped (f->server) < 2)
    g_main_context_iteration (NULL, TRUE);
  g_subprocess_send_signal (run.process, SIGINT);
  run_wait (&run);

  g_assert_cmpint (run.status, ==, 130);
  g_assert_cmpuint (count_lines_with_prefix (run.out, "cancelled "), ==, 5);
  g_assert_nonnull (strstr (run.out, "\n0 saved, 0 failed, 5 cancelled\n"));
  assert_folder (f, "");
  g_assert_cmpuint (dl_server_get_n_requests (f->server), ==, 2);
  run_clear (&run);
}

/* On a terminal {{{ */

static gboolean
pty_readable_cb (int          fd,
                 GIOCondition condition,
                 gpointer     user_data)
{
  Run *run = user_data;
  char buffer[4096];
  ssize_t n = read (fd, buffer, sizeof buffer);

  if (n > 0)
    {
      g_string_append_len (run->pty_out, buffer, n);
      return G_SOURCE_CONTINUE;
    }
  return G_SOURCE_REMOVE;   /* EIO: the downloader closed its end */
}

static void
run_waited_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, &error);
  g_assert_no_error (error);
  run_set_status (user_data);
}

/* The downloader with its standard output on a pseudo-terminal */
static int
run_on_pty (Fixture            *f,
            Run                *run,
            const char * const *args)
{
  g_autoptr(GSubprocessLauncher) launcher = launcher_new (G_SUBPROCESS_FLAGS_STDIN_INHERIT);
  g_auto(GStrv) argv = downloader_argv (f, args);
  g_autoptr(GError) error = NULL;
  int master = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  int slave;

  g_assert_cmpint (master, >=, 0);
  g_assert_cmpint (grantpt (master), ==, 0);
  g_assert_cmpint (unlockpt (master), ==, 0);
  slave = open (ptsname (master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  g_assert_cmpint (slave, >=, 0);
  g_assert_true (g_unix_set_fd_nonblocking (master, TRUE, NULL));

  memset (run, 0, sizeof *run);
  run->pty_out = g_string_new (NULL);
  g_subprocess_launcher_take_stdout_fd (launcher, slave);
  run->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv, &error);
  g_assert_no_error (error);
  g_unix_fd_add (master, G_IO_IN | G_IO_HUP | G_IO_ERR, pty_readable_cb, run);
  g_subprocess_wait_async (run->process, NULL, run_waited_cb, run);
  return master;
}

static void
test_terminal (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *a = url_for (f, "127.0.0.1", "/slow/bar-a.bin?size=100000&chunks=10&stop=50");
  g_autofree char *b = url_for (f, "localhost", "/slow/bar-b.bin?size=100000&chunks=10&stop=50");
  g_autofree char *c = url_for (f, "localhost", "/slow/bar-c.bin?size=100000&chunks=10");
  const char * const args[] = { "-j", "2", "-p", "2", a, b, c, NULL };
  const char *bar_a = "bar-a.bin                    [############------------]  50%";
  const char *bar_b = "bar-b.bin                    [############------------]  50%";
  Run run;
  int master;

  g_test_summary ("On a terminal, each running download has a bar on a line of its own, "
                  "redrawn, and a line counts the waiting ones; saved files are printed "
                  "above the bars, which are erased at the end");
  dl_server_stop (f->server);
  master = run_on_pty (f, &run, args);
  /* Both stop at half: the bars must show it, with the third one waiting */
  while (strstr (run.pty_out->str, bar_a) == NULL || strstr (run.pty_out->str, bar_b) == NULL ||
         strstr (run.pty_out->str, "1 waiting for a free slot") == NULL)
    {
      g_assert_false (run.done);
      g_main_context_iteration (NULL, TRUE);
    }
  dl_server_release (f->server);
  while (!run.done)
    g_main_context_iteration (NULL, TRUE);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  close (master);
  g_test_message ("terminal output:\n%s", run.pty_out->str);

  g_assert_cmpint (run.status, ==, 0);
  assert_saved (f, "bar-a.bin", 100000);
  assert_saved (f, "bar-b.bin", 100000);
  assert_saved (f, "bar-c.bin", 100000);
  g_assert_nonnull (strstr (run.pty_out->str, "\033[J"));     /* bars erased for redraws */
  g_assert_nonnull (strstr (run.pty_out->str, "bar-c.bin                    [#"));
  g_assert_true (g_str_has_suffix (run.pty_out->str, "3 saved, 0 failed, 0 cancelled\r\n"));
  run_clear (&run);
}

/* }}} */

/* }}} */

int
main (int   argc,
      char *argv[])
{
  static const LimitCase limits[] = {
    { "4", "2", 6, 1, 3 },    /* the host limit keeps a slot free */
    { "3", "2", 4, 4, 3 },    /* the total limit is lower than two hosts' */
    { "8", "1", 4, 4, 2 },
  };

  g_test_init (&argc, &argv, NULL);
  signal (SIGPIPE, SIG_IGN);

  g_test_add_func ("/examples/downloads/names", test_names);
  g_test_add_func ("/examples/downloads/keys", test_keys);
  g_test_add ("/examples/downloads/files", Fixture, NULL, fixture_setup, test_files,
              fixture_teardown);
  g_test_add ("/examples/downloads/stdin", Fixture, NULL, fixture_setup, test_stdin,
              fixture_teardown);
  g_test_add ("/examples/downloads/limits/per-host-2-one-busy-host", Fixture, &limits[0],
              fixture_setup, test_limits, fixture_teardown);
  g_test_add ("/examples/downloads/limits/total-3", Fixture, &limits[1], fixture_setup,
              test_limits, fixture_teardown);
  g_test_add ("/examples/downloads/limits/per-host-1", Fixture, &limits[2], fixture_setup,
              test_limits, fixture_teardown);
  g_test_add ("/examples/downloads/failures", Fixture, NULL, fixture_setup, test_failures,
              fixture_teardown);
  g_test_add ("/examples/downloads/overwrite", Fixture, NULL, fixture_setup, test_overwrite,
              fixture_teardown);
  g_test_add ("/examples/downloads/usage", Fixture, NULL, fixture_setup, test_usage,
              fixture_teardown);
  g_test_add ("/examples/downloads/interrupt", Fixture, NULL, fixture_setup, test_interrupt,
              fixture_teardown);
  g_test_add ("/examples/downloads/terminal", Fixture, NULL, fixture_setup, test_terminal,
              fixture_teardown);
  return g_test_run ();
}

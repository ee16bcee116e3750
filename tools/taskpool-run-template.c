/* taskpool-run-template.c: one command per input line, the line as its argument
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * After `--` the command line holds COMMAND [ARGUMENT…], a template: each
 * input line is one argument, put in place of every `{}` of its words, or
 * after the last word when no word holds one (as xargs -I and GNU parallel
 * do). Each word is then quoted for /bin/sh, so that the job runs exactly
 * these words: whatever a line holds (spaces, quotes, `$`, `;`, backquotes,
 * `*`), it is one argument, never shell syntax.
 */

#include <string.h>

#include "taskpool-run-private.h"

#define PLACEHOLDER "{}"

/* Words the shell reads as syntax when unquoted in the place of a command:
 * POSIX's reserved words, and those bash adds where /bin/sh is bash */
static const char * const reserved_words[] = {
  "!", "{", "}", "case", "do", "done", "elif", "else", "esac", "fi", "for", "if", "in", "then",
  "until", "while", "[[", "]]", "coproc", "function", "select", "time", NULL
};

/* A word the shell reads back unchanged without quotes: letters, digits and
 * punctuation that means nothing to it. '=' would make a first word an
 * assignment; elsewhere it is plain. */
static gboolean
word_is_plain (const char *word,
               gboolean    first)
{
  if (word[0] == '\0' || g_strv_contains (reserved_words, word))
    return FALSE;
  for (const char *p = word; *p != '\0'; p++)
    {
      if (g_ascii_isalnum (*p) || strchr ("_-./,:@%+", *p) != NULL || (*p == '=' && !first))
        continue;
      return FALSE;
    }
  return TRUE;
}

/* Plain words stay as they are, so that messages read naturally; any other
 * is single-quoted, which leaves the shell nothing to interpret in it */
static void
template_append_word (GString    *command,
                      const char *word,
                      gboolean    first)
{
  g_autofree char *quoted = NULL;

  if (!first)
    g_string_append_c (command, ' ');
  if (word_is_plain (word, first))
    {
      g_string_append (command, word);
      return;
    }
  quoted = g_shell_quote (word);
  g_string_append (command, quoted);
}

/* The command line for /bin/sh -c that runs @words with @argument */
char *
template_expand (char * const *words,
                 const char   *argument)
{
  GString *command = g_string_new (NULL);
  gboolean placed = FALSE;

  g_assert (words != NULL && words[0] != NULL);

  for (guint i = 0; words[i] != NULL; i++)
    {
      g_autoptr(GString) word = g_string_new (words[i]);

      /* g_string_replace() goes on after what it inserted: a {} in the
       * argument stays as it is */
      placed |= g_string_replace (word, PLACEHOLDER, argument, 0) > 0;
      template_append_word (command, word->str, i == 0);
    }
  if (!placed)
    template_append_word (command, argument, FALSE);
  return g_string_free (command, FALSE);
}

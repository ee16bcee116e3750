#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Copies the markdown guides into the build tree for gi-docgen: each page gets the `Title:`
# header gi-docgen reads (from its first `# ` heading) and its links to the other guides
# (`writing-a-plugin.md`) point at the pages gi-docgen generates (`writing-a-plugin.html`).
#
# Usage: content.py OUTPUT_DIR PAGE.md…

import os
import re
import sys


def convert(text, pages):
    if not text.startswith('Title:'):
        heading = re.search(r'^# (.+)$', text, re.MULTILINE)
        title = heading.group(1).strip() if heading else 'Untitled'
        text = 'Title: {}\n\n{}'.format(title, text)
    link = re.compile(r'\]\(({})(#[^)]*)?\)'.format('|'.join(re.escape(p) for p in pages)))
    return link.sub(lambda m: '](' + m.group(1)[:-3] + '.html' + (m.group(2) or '') + ')', text)


def main(output_dir, paths):
    pages = [os.path.basename(p) for p in paths]
    for path in paths:
        with open(path, encoding='utf-8') as source:
            text = source.read()
        with open(os.path.join(output_dir, os.path.basename(path)), 'w', encoding='utf-8') as out:
            out.write(convert(text, pages))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2:])

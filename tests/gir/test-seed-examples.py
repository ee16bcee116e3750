#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Python task pool's three examples (seed/example-*.py, the seed's code with only its import
# changed) run on the taskpool package, each in an interpreter of its own, and print what the
# seed's pool printed (suite `python`).
#
# The examples' jobs sleep 1 s five times: that is their work, not a wait of the test. Run at
# that pace the second example alone takes 10 s, so the examples run with their sleeps scaled
# by TIME_SCALE, through time.sleep() and asyncio.sleep() replaced before an example is loaded;
# their code stays the seed's. The checks are on order and counts, never on durations.

import os
import re
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TIME_SCALE = float(os.environ.get('TASKPOOL_EXAMPLE_TIME_SCALE', '0.01'))

RUNNER = '''
import asyncio, runpy, sys, time
path, scale = sys.argv[1], float(sys.argv[2])
sleep, async_sleep = time.sleep, asyncio.sleep

def scaled_sleep(seconds):
    sleep(seconds * scale)

async def scaled_async_sleep(delay, result=None):
    return await async_sleep(delay * scale, result)

time.sleep = scaled_sleep
asyncio.sleep = scaled_async_sleep
runpy.run_path(path, run_name='__main__')
'''

FIRST_AND_THIRD = [
    'test pool size 3',
    'test 4 task with pool size 3',
    'test await blocking submit',
    'e start',
    'e done',
    'test await blocking submit',
    'scale 3',
    'test pool size 6',
]


def run_example(name):
    completed = subprocess.run(
        [sys.executable, '-c', RUNNER, os.path.join(HERE, 'seed', name), str(TIME_SCALE)],
        capture_output=True, text=True, timeout=120)
    return completed.returncode, completed.stdout, completed.stderr


class SeedExamplesTest(unittest.TestCase):
    def check_clean(self, returncode, stderr):
        self.assertEqual(returncode, 0, stderr)
        self.assertNotIn('Warning', stderr)
        self.assertNotIn('Traceback', stderr)

    def test_example_1(self):
        """async with, an awaited coroutine job returning "ok:e done", scale(3)"""
        returncode, stdout, stderr = run_example('example-1.py')
        self.check_clean(returncode, stderr)
        self.assertEqual(stdout.splitlines(), FIRST_AND_THIRD)

    def test_example_2(self):
        """Four blocking jobs on a pool of three: three run at once, the fourth after one ends"""
        returncode, stdout, stderr = run_example('example-2.py')
        self.check_clean(returncode, stderr)
        lines = stdout.splitlines()
        self.assertEqual(lines[:2], ['test pool size 3', 'test 4 task with pool size 3'])
        # The jobs print from their threads: read the events, not the lines
        events = re.findall(r'([abcd]) (start|done)', '\n'.join(lines[2:]))
        self.assertEqual(len(events), 8, stdout)
        running = peak = 0
        for name, event in events:
            running += 1 if event == 'start' else -1
            peak = max(peak, running)
        self.assertEqual(peak, 3)
        starts = [name for name, event in events if event == 'start']
        self.assertCountEqual(starts[:3], ['c', 'b', 'a'])  # first in, first out
        self.assertEqual(starts[3], 'd')
        self.assertLess(events.index(('d', 'start')), events.index(('d', 'done')))
        self.assertIn('done', [event for name, event in events[:events.index(('d', 'start'))]])

    def test_example_3(self):
        """start() and close() instead of async with"""
        returncode, stdout, stderr = run_example('example-3.py')
        self.check_clean(returncode, stderr)
        self.assertEqual(stdout.splitlines(), FIRST_AND_THIRD)


if __name__ == '__main__':
    unittest.main(argv=sys.argv, verbosity=2)

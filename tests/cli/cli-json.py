# cli-json.py: reads taskpool-run's JSON report, checks it, prints a value of it
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: cli-json.py FILE EXPRESSION
#
# The report is the last line of FILE (the commands' own output comes before
# it). It must be the document doc/taskpool-run.md describes: these members,
# in this order, of these types, with counts that add up. Then EXPRESSION,
# Python applied to the report as "d", is printed as JSON: "d['size']".

import json
import sys

NULL = type(None)

# (member, allowed types); bool is not an int here
SUMMARY = [
    ("submitted", int),
    ("succeeded", int),
    ("failed", int),
    ("timed_out", int),
    ("cancelled", int),
    ("not_run", int),
    ("exit_status", int),
    ("interrupted", bool),
    ("elapsed_s", (float, int)),
    ("kind", str),
    ("size", int),
    ("peak_size", int),
    ("peak_running", int),
    ("jobs", list),
]

JOB = [
    ("line", int),
    ("status", str),
    ("exit_code", (int, NULL)),
    ("signal", (int, NULL)),
    ("timed_out", bool),
    ("elapsed_s", (float, int)),
    ("command", str),
    ("key", (str, NULL)),
]

STATUSES = ("succeeded", "failed", "cancelled", "not_run")


def fail(message):
    sys.exit("cli-json.py: the JSON report is wrong: " + message)


def check_members(what, obj, members):
    if not isinstance(obj, dict):
        fail(f"{what} is not an object: {obj!r}")
    names = [name for name, _ in members]
    if list(obj) != names:
        fail(f"{what} has members {list(obj)}, expected {names}")
    for name, types in members:
        types = types if isinstance(types, tuple) else (types,)
        if type(obj[name]) not in types:
            expected = " or ".join(t.__name__ for t in types)
            fail(f"{what}: {name} is {obj[name]!r}, expected {expected}")


def check_job(index, job):
    what = f"jobs[{index}]"
    check_members(what, job, JOB)
    if job["status"] not in STATUSES:
        fail(f"{what}: status {job['status']!r} is none of {STATUSES}")
    if job["elapsed_s"] < 0:
        fail(f"{what}: elapsed_s {job['elapsed_s']} is negative")
    if job["exit_code"] is not None and not 0 <= job["exit_code"] <= 255:
        fail(f"{what}: exit_code {job['exit_code']} is not a wait status")
    if job["exit_code"] is not None and job["signal"] is not None:
        fail(f"{what}: both an exit code and a signal")
    if job["signal"] is not None and not 1 <= job["signal"] <= 64:
        fail(f"{what}: signal {job['signal']} is not a signal")
    if job["status"] == "succeeded" and job["exit_code"] != 0:
        fail(f"{what}: succeeded with exit_code {job['exit_code']}")
    if job["timed_out"] and job["status"] != "failed":
        fail(f"{what}: timed out but {job['status']}")
    if job["status"] == "not_run" and (job["exit_code"], job["signal"]) != (None, None):
        fail(f"{what}: not run, yet an exit code or a signal")
    if job["key"] == "":
        fail(f"{what}: an empty key, which is no key: null")


def check(d):
    check_members("the report", d, SUMMARY)
    jobs = d["jobs"]
    for index, job in enumerate(jobs):
        check_job(index, job)
    if d["submitted"] != sum(d[s] for s in STATUSES):
        fail("submitted is not succeeded + failed + cancelled + not_run")
    if len(jobs) != d["submitted"]:
        fail(f"{len(jobs)} job records for {d['submitted']} submitted")
    for status in STATUSES:
        if d[status] != sum(job["status"] == status for job in jobs):
            fail(f"{status} does not count the records with that status")
    if d["timed_out"] != sum(job["timed_out"] for job in jobs):
        fail("timed_out does not count the records that timed out")
    lines = [job["line"] for job in jobs]
    if lines != sorted(set(lines)) or (lines and lines[0] < 1):
        fail(f"job lines {lines} are not in input order")
    if d["elapsed_s"] < 0:
        fail("elapsed_s is negative")


def main():
    path, expression = sys.argv[1], sys.argv[2]
    with open(path, "rb") as f:
        lines = f.read().splitlines()
    if not lines:
        fail(f"{path} is empty")
    try:
        d = json.loads(lines[-1].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        fail(f"the last line of {path} is not JSON: {error}")
    check(d)
    print(json.dumps(eval(expression, {}, {"d": d})))


main()

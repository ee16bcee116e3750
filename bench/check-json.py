# check-json.py: runs tp-bench --quick --json and checks what every row says
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: check-json.py TP-BENCH [ARGUMENT…]
#
# Not a measurement: it checks that the JSON is the table's content for
# tools, that each row's value is the median of its samples, and that each
# value is plausible in the unit the row names, which is how a unit that
# does not match its value shows: a duration in "ms" that is under a
# microsecond is seconds under a wrong name, a rate under 10 jobs/s is a
# time, and no run is faster than its ideal.

import json
import statistics
import subprocess
import sys
import time

SECTIONS = ("W1", "W2", "W3", "W4", "queue", "memory", "burst", "idle", "limits", "aged")
TOP = ["cpus", "glib", "warmup", "runs", "quick", "rows"]


def fail(row, message):
    name = row["workload"] if row else "the document"
    sys.exit(f"check-json.py: {name}: {message}")


def close(a, b, digits=1e-5):
    # %.6g in the JSON: six significant digits
    return abs(a - b) <= digits * max(abs(a), abs(b)) + 1e-300


def check_median(row, value_key, samples_key):
    samples = row.get(samples_key)
    if not samples:
        fail(row, f"no {samples_key}")
    if not close(row[value_key], statistics.median(samples)):
        fail(row, f"{value_key} {row[value_key]} is not the median of {samples}")


def check_unit(row, value, wall_ms):
    unit = row["unit"]
    if unit == "jobs/s":
        ok = 10 <= value <= 1e10
    elif unit == "wall/ideal":
        ok = 0.9 <= value <= 1000
    elif unit == "s/op":
        ok = 0 < value < 1
    elif unit == "ms":
        # -1: the event never came. Anything measured after at least one
        # submission takes over a microsecond, and less than the whole run.
        ok = value == -1 or 0.001 <= value <= wall_ms
    elif unit == "bytes/job":
        # 0 under a sanitizer, whose allocator glibc's counters do not see
        ok = 0 <= value < 1e6
    elif unit == "count":
        ok = value >= -1 and value == int(value)
    else:
        fail(row, f"unknown unit {unit!r}")
    if not ok:
        fail(row, f"{value} is not a plausible value in {unit}")


def check_row(row, wall_ms):
    for key in ("section", "workload", "unit", "value", "samples"):
        if key not in row:
            fail(row if "workload" in row else None, f"no {key}")
    if row["section"] not in SECTIONS:
        fail(row, f"unknown section {row['section']!r}")
    check_median(row, "value", "samples")
    for sample in row["samples"]:
        check_unit(row, sample, wall_ms)
    if "baseline" in row:
        check_median(row, "baseline_value", "baseline_samples")
        for sample in row["baseline_samples"]:
            check_unit(row, sample, wall_ms)
    if "ratio" in row and not close(row["ratio"], row["value"] / row["baseline_value"], 5e-5):
        fail(row, f"ratio {row['ratio']} is not value / baseline_value")
    if ("target" in row) != ("met" in row):
        fail(row, "a target without met, or met without a target")


def main():
    start = time.monotonic()
    result = subprocess.run(sys.argv[1:] + ["--quick", "--json"], stdout=subprocess.PIPE,
                            check=True)
    wall_ms = (time.monotonic() - start) * 1e3
    document = json.loads(result.stdout)
    if list(document) != TOP:
        fail(None, f"members {list(document)}, expected {TOP}")
    rows = document["rows"]
    if not rows:
        fail(None, "no rows")
    for row in rows:
        check_row(row, wall_ms)
    units = sorted({row["unit"] for row in rows})
    print(f"# {len(rows)} rows checked, units {', '.join(units)}")


main()

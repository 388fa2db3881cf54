"""Measure: lookups while a replica is stopped, and the time to a 503 while the database is
frozen (SIGSTOP), against `rdapd serve` processes already configured by the environment.

    python benchmarks/faults.py --url http://127.0.0.1:8084 --name example.post \
        --stop-replica 'pg_ctlcluster 15 rdap-replica stop' \
        --start-replica 'pg_ctlcluster 15 rdap-replica start'
    python benchmarks/faults.py --url http://127.0.0.1:8085 --name example.post \
        --freeze-pid "$(head -1 /var/lib/postgresql/15/main/postmaster.pid)"

--freeze-pid stops that postmaster and all its children for the run, then resumes them.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


def lookup(url: str) -> tuple[int, float]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.monotonic() - started


def series(url: str, count: int) -> dict[str, object]:
    results = [lookup(url) for _ in range(count)]
    times = sorted(t * 1000 for _, t in results)
    return {
        "statuses": sorted({s for s, _ in results}),
        "first_ms": round(results[0][1] * 1000, 1),
        "p50_ms": round(statistics.median(times), 1),
        "max_ms": round(times[-1], 1),
    }


def children(pid: int) -> list[int]:
    found = [pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--stop-replica")
    parser.add_argument("--start-replica")
    parser.add_argument("--freeze-pid", type=int)
    args = parser.parse_args()
    target = f"{args.url}/domain/{args.name}"
    report: dict[str, object] = {"before": series(target, args.count)}
    if args.stop_replica:
        subprocess.run(args.stop_replica, shell=True, check=True)
        try:
            report["replica stopped"] = series(target, args.count)
        finally:
            subprocess.run(args.start_replica, shell=True, check=True)
    if args.freeze_pid:
        pids = children(args.freeze_pid)
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            report["database frozen"] = series(target, 3)
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        started = time.monotonic()
        while lookup(target)[0] != 200 and time.monotonic() - started < 60:
            time.sleep(0.1)
        report["seconds to recover after thaw"] = round(time.monotonic() - started, 2)
    report["after"] = series(target, args.count)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

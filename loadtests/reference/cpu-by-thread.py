#!/usr/bin/env python3
"""CPU time of one process's threads, grouped by thread name, over the run of a command.

    cpu-by-thread.py PID -- COMMAND [ARGS...]

Reads /proc/PID/task/*/schedstat (ns on a CPU) and the thread names before and after COMMAND (e.g. a load test
against the server PID) and prints a JSON object: CPU seconds per thread name, the total, and the wall time (COMMAND's own output goes to stderr). Threads
that started or ended during the run count from zero or to their last reading. CPU_BY_THREAD_TIDS=1 lists every
thread ("name/tid") instead of summing by name. Used by docs/benchmarks.md to split a
server's CPU into compute threads (llama.cpp) and everything else (HTTP, JSON, the runtime) per generated token.
"""
import json
import os
import subprocess
import sys
import time


def snapshot(pid):
    threads = {}
    base = f"/proc/{pid}/task"
    for tid in os.listdir(base):
        try:
            with open(f"{base}/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"{base}/{tid}/schedstat") as f:
                ns = int(f.read().split()[0])
            threads[tid] = (name, ns)
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
    return threads


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit(__doc__)
    pid = int(sys.argv[1])
    before = snapshot(pid)
    start = time.monotonic()
    code = subprocess.call(sys.argv[3:], stdout=sys.stderr)  # stdout is this script's JSON alone
    wall = time.monotonic() - start
    after = snapshot(pid)
    groups = {}
    by_thread = os.environ.get("CPU_BY_THREAD_TIDS") == "1"  # one entry per thread ("name/tid") instead of per name
    for tid, (name, ns) in after.items():
        delta = ns - before.get(tid, (name, 0))[1]
        key = f"{name}/{tid}" if by_thread else name
        groups[key] = groups.get(key, 0) + delta
    for tid, (name, ns) in before.items():
        if tid not in after:  # ended during the run: its CPU before the end is unknown past the first reading
            groups.setdefault(f"{name}/{tid}" if by_thread else name, 0)
    seconds = {name: round(ns / 1e9, 3) for name, ns in sorted(groups.items(), key=lambda kv: -kv[1]) if ns > 0}
    print(json.dumps({"wall_s": round(wall, 3), "cpu_s": round(sum(groups.values()) / 1e9, 3), "threads": seconds, "exit_code": code}))
    sys.exit(code)


if __name__ == "__main__":
    main()

"""Benchmark: port-43 queries for random names over a large database vs a bare asyncio server.

`rdapd whois` (the real server: lookup, redaction, rendering) and bare_whois.py (reads the line,
answers a prebuilt text of the same size as rdapd's answer) run one after the other on
127.0.0.1, each as the only server, and are loaded by the same asyncio client in this process:
`--connections` clients, each opening a connection, sending a domain name, reading the answer to
the end, and starting over, for `--duration` seconds after a 3 s warm-up. `--names` says which
names: `random` (default; uniform over `--sample` names, so nearly every query misses rdapd's
answer cache: the cold figure), `hot` (1,000 popular names, each asked once before the warm-up:
every query is a kept answer) or `zipf` (the `--sample` names with Zipf weights, s = 1.1: a few
names asked often, a long tail seldom, as public query logs look). Prints
queries/s, p50 and p99 latency (connect to close) of each, and the ratio rdapd/bare, and the
servers' CPU time per answer (from /proc; the figure a busy host disturbs least) with its ratio
bare/rdapd; with `--rounds N` both are measured N times, alternating, so drift of the host shows.

    python benchmarks/whois.py                           # 1M domains (built once), 32 clients
    python benchmarks/whois.py --db out/lookup-1000000-7.sqlite3 --duration 15 --rounds 3
    python benchmarks/whois.py --size 20000 --names hot       # answers from the answer cache
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import os
import random
import shutil
import socket
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from harness import ROOT, benchmark_parser, database, free_port, start, stop


def wait_port(port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port}")


def ask(port: int, name: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(name.encode() + b"\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def sample_names(db_path: Path, count: int, seed: int) -> list[str]:
    """`count` distinct domain names of the database (all if it holds fewer), in random order."""
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        every = [row[0] for row in conn.execute("SELECT ldh_name FROM domains ORDER BY id")]
    return random.Random(seed).sample(every, min(count, len(every)))


HOT_NAMES = 1000
ZIPF_S = 1.1


@dataclasses.dataclass(frozen=True)
class Names:
    """The names clients ask, and how often: uniform, or by cumulative weights."""

    names: list[str]
    cum_weights: list[float] | None = None
    warm: bool = False  # ask each name once before the warm-up

    def pick(self, rng: random.Random) -> str:
        if self.cum_weights is None:
            return rng.choice(self.names)
        return rng.choices(self.names, cum_weights=self.cum_weights)[0]


def names_for(mode: str, sample: list[str], seed: int) -> Names:
    if mode == "hot":
        return Names(random.Random(seed).sample(sample, min(HOT_NAMES, len(sample))), warm=True)
    if mode == "zipf":  # rank r asked with weight 1 / r^s; the ranks shuffled over the names
        ranked = random.Random(seed).sample(sample, len(sample))
        weights = (1 / rank**ZIPF_S for rank in range(1, len(ranked) + 1))
        return Names(ranked, list(itertools.accumulate(weights)))
    return Names(sample)


async def _ask_each(port: int, names: list[str], connections: int) -> None:
    queue = list(names)

    async def worker() -> None:
        while queue:
            name = queue.pop()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(name.encode() + b"\r\n")
            await reader.read()
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))


async def _load(
    port: int, names: Names, connections: int, duration: float, seed: int
) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    failures = 0
    stop_at = loop.time() + duration

    async def client(index: int) -> None:
        nonlocal failures
        rng = random.Random(seed * 1000 + index)
        while loop.time() < stop_at:
            name = names.pick(rng)
            began = time.perf_counter()
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(name.encode() + b"\r\n")
                data = await reader.read()
                writer.close()
            except OSError:
                failures += 1
                continue
            if not data.startswith(b"Domain Name:"):
                failures += 1
                continue
            latencies.append(time.perf_counter() - began)

    began = loop.time()
    await asyncio.gather(*(client(i) for i in range(connections)))
    elapsed = loop.time() - began
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2)

    return {
        "qps": round(len(latencies) / elapsed, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "answers": len(latencies),
        "failures": failures,
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(pid: int, port: int, names: Names, args) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Load the server; its CPU time per answer is the figure a busy host disturbs least."""
    if names.warm:
        asyncio.run(_ask_each(port, names.names, args.connections))
    asyncio.run(_load(port, names, args.connections, 3, 1))  # warm-up
    before = cpu_seconds(pid)
    figures = asyncio.run(_load(port, names, args.connections, args.duration, args.seed))
    used = cpu_seconds(pid) - before
    figures["server_cpu_ms_per_answer"] = round(used / max(1, figures["answers"]) * 1000, 3)
    return figures


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--sample", type=int, default=20000, help="domain names sampled")
    parser.add_argument("--names", choices=("random", "hot", "zipf"), default="random")
    parser.add_argument("--ratelimit", action="store_true", help="keep rate limiting on")
    args = parser.parse_args()

    db_path = database(args)
    sampled = sample_names(db_path, args.sample, args.seed)
    names = names_for(args.names, sampled, args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="rdapd-bench-whois-"))
    env = {
        **os.environ,
        "RDAP_DATABASE_URL": f"sqlite:///{db_path}",
        "RDAP_RATELIMIT_ENABLED": "true" if args.ratelimit else "false",
        "RDAP_BASE_URL": "https://rdap.example",
        "RDAP_LOG_LEVEL": "WARNING",
    }
    if args.ratelimit:  # limits every query stays under: this measures the limiter's cost
        env.setdefault("RDAP_RATELIMIT_PUBLIC", "100000000/minute")

    def rdapd() -> tuple[object, int]:
        port = free_port()
        command = [sys.executable, "-m", "rdap", "whois", "--bind", f"127.0.0.1:{port}"]
        proc = start(command, {**env, "PYTHONPATH": str(ROOT)})
        wait_port(port)
        return proc, port

    proc, port = rdapd()
    try:
        sample = ask(port, names.names[0])
    finally:
        stop(proc)  # type: ignore[arg-type]
    body_file = workdir / "body.txt"
    body_file.write_bytes(sample)

    def bare() -> tuple[object, int]:
        port = free_port()
        command = [sys.executable, str(ROOT / "benchmarks" / "bare_whois.py"), f"127.0.0.1:{port}"]
        proc = start(command, {**env, "BARE_BODY_FILE": str(body_file)})
        wait_port(port)
        return proc, port

    rounds = []
    for _ in range(args.rounds):
        figures = {}
        for label, server in (("rdapd", rdapd), ("bare", bare)):
            proc, port = server()
            try:
                figures[label] = measure(proc.pid, port, names, args)  # type: ignore[attr-defined]
            finally:
                stop(proc)  # type: ignore[arg-type]
        figures["ratio_qps"] = round(figures["rdapd"]["qps"] / figures["bare"]["qps"], 3)
        figures["ratio_cpu_per_answer"] = round(
            figures["bare"]["server_cpu_ms_per_answer"]
            / figures["rdapd"]["server_cpu_ms_per_answer"],
            3,
        )
        rounds.append(figures)
    shutil.rmtree(workdir, ignore_errors=True)
    print(
        json.dumps(
            {
                "database": str(db_path),
                "names": args.names,
                "distinct_names": len(names.names),
                "answer_bytes": len(sample),
                "connections": args.connections,
                "duration_s": args.duration,
                "rounds": rounds,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

"""Parallel parsing: several processes share a deposit's content objects, results in order.

Each worker process reads the whole file (libxml2 is fast) but converts only its share of the
content objects (parser.Share: every n-th run of `size` objects), which is where the time goes.
It turns each run into one chunk with `produce` and sends it down a pipe; the importer takes
the chunks round-robin, which is document order. A pipe holds one chunk at a time, so memory
stays flat and no worker runs more than a chunk ahead.

Errors keep their sequential meaning: a worker sends the DepositError it met instead of its next
chunk, and since the importer reads runs in document order, the first error in the document is
the one it raises. Workers are stopped whatever happens to the importer.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Generator, Iterable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

from rdap.errors import DepositError
from rdap.escrow import parser as p

T = TypeVar("T")

# produce(records, first) → one chunk per run; `first` is true for the worker that owns run 0
# (it alone passes on the records that precede the content, such as DepositInfo).
Producer = Callable[[Iterable[p.Record], bool], Iterator[Any]]

_CHUNK, _END, _ERROR, _CRASH = "chunk", "end", "error", "crash"

# fork: a worker starts in milliseconds and needs no importable __main__ (spawn re-runs the
# caller's script). It inherits the importer's database connection but never touches it, and
# leaves through os._exit, so nothing of the parent's is closed or flushed twice.
_START_METHOD = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


class WorkerFailed(RuntimeError):
    """A parser process died or raised something other than a DepositError (a bug)."""


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def chunks(path: str | Path, produce: Producer, *, workers: int, size: int) -> Generator[Any]:
    """The chunks `produce` makes of the deposit at `path`, in document order."""
    context = multiprocessing.get_context(_START_METHOD)
    pipes: list[Connection] = []
    processes = []
    try:
        for index in range(workers):
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(  # type: ignore[attr-defined]
                target=_work,
                args=(str(path), p.Share(index, workers, size), produce, sender),
                name=f"rdapd-parse-{index}",
                daemon=True,
            )
            process.start()
            sender.close()  # the worker holds the only sending end: EOF means it is gone
            pipes.append(receiver)
            processes.append(process)
        run = 0
        while True:
            kind, payload = _receive(pipes[run % workers])
            if kind == _END:
                return
            if kind == _ERROR:
                raise DepositError(payload)
            if kind == _CRASH:
                raise WorkerFailed(f"a deposit parser process failed: {payload}")
            yield payload
            run += 1
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=10)
        for receiver in pipes:
            receiver.close()


def _receive(pipe: Connection) -> tuple[str, Any]:
    try:
        message: tuple[str, Any] = pipe.recv()
    except EOFError:
        return _CRASH, "it exited without an answer"
    return message


def _work(path: str, share: p.Share, produce: Producer, pipe: Connection) -> None:
    """Worker process: parse, convert this share, send chunks; then END, or the error met."""
    try:
        for chunk in produce(p.parse_deposit(path, share), share.index == 0):
            pipe.send((_CHUNK, chunk))
        pipe.send((_END, None))
    except DepositError as exc:
        pipe.send((_ERROR, str(exc)))
    except Exception as exc:  # reported to the importer, which raises WorkerFailed
        pipe.send((_CRASH, f"{type(exc).__name__}: {exc}"))
    finally:
        pipe.close()

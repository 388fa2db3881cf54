"""Progress of long commands: a tqdm bar on a terminal, a plain line now and then otherwise."""

from __future__ import annotations

import sys
from typing import IO, Any

from tqdm import tqdm

# Seconds between progress lines when the output is not a terminal (a log, a CI job).
LINE_PERIOD = 10.0


class _Lines:
    """What tqdm writes, as whole lines: it redraws with carriage returns, which a log file
    would keep as one ever-growing line."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        line = text.replace("\r", "").strip()
        if line:
            self.stream.write(line + "\n")

    def flush(self) -> None:
        self.stream.flush()


def bar(
    description: str,
    *,
    total: int | None = None,
    unit: str = "objects",
    stream: IO[str] | None = None,
) -> tqdm[Any]:
    """A progress bar for `description`; close it (or use it as a context manager) when done."""
    out = stream or sys.stderr
    terminal = out.isatty()
    return tqdm(
        total=total,
        desc=description,
        unit=unit,
        unit_scale=True,
        file=out if terminal else _Lines(out),
        mininterval=0.2 if terminal else LINE_PERIOD,
        delay=0.5 if terminal else LINE_PERIOD,  # short work prints nothing but its summary
        ascii=not terminal,
        dynamic_ncols=terminal,
        leave=True,
    )


def abandon(shown: tqdm[Any]) -> None:
    """Close a bar without its final line, so an error message stands alone after it."""
    shown.leave = False
    shown.close()

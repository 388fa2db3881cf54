"""Baseline for benchmarks/whois.py: a bare asyncio port-43 server answering a prebuilt text.

It reads one query line and answers BARE_BODY_FILE's bytes, whatever was asked, then closes:
what serving port 43 costs before any lookup, redaction or rendering."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

BODY = Path(os.environ["BARE_BODY_FILE"]).read_bytes()


async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readline()
    writer.write(BODY)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def main(host: str, port: int) -> None:
    server = await asyncio.start_server(answer, host, port, reuse_address=True, backlog=512)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    host, _, port = sys.argv[1].rpartition(":")
    asyncio.run(main(host, int(port)))

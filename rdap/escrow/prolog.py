"""A deposit's prolog, read before any XML parser sees it: a DOCTYPE is refused there.

libxml2 acts on a DOCTYPE as it parses it (entity declarations, parameter entities, and since
libxml2 2.14 an amplification guard with its own message), so refusing it after the parser has
met it depends on the libxml2 version. The prolog (XML declaration, comments, processing
instructions and white space before the root element) is short and simple enough to read here:
a DOCTYPE is refused before the parser gets a single byte, the same way on every lxml.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from typing import Final

from rdap.errors import DepositError

PROLOG_LIMIT: Final = 1024 * 1024  # bytes before the root element; real deposits need ~50
_CHUNK: Final = 64 * 1024
_SPACE: Final = " \t\r\n"
_DOCTYPE_ROOT: Final = "<rde:deposit>"  # every deposit's root; the DOCTYPE's own name is not echoed

# XML 1.0 Appendix F: the encoding family from the first bytes (with or without a BOM).
_FAMILIES: Final = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
    (b"\xef\xbb\xbf", "utf-8"),
)


def _decoder(head: bytes) -> codecs.IncrementalDecoder:
    """A decoder good enough to find ASCII markup; invalid bytes become U+FFFD (never markup,
    and the parser refuses them anyway)."""
    for magic, encoding in _FAMILIES:
        if head.startswith(magic):
            return codecs.getincrementaldecoder(encoding)("replace")
    # UTF-8 without a BOM and every other ASCII-compatible encoding: markup is ASCII.
    return codecs.getincrementaldecoder("latin-1")()


class _Prolog:
    """The prolog read so far, decoded, with the position of the next unread character."""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self.read = read
        self.raw = bytearray()
        self.text = ""
        self.pos = 0
        self.eof = False
        self.decoder: codecs.IncrementalDecoder | None = None

    def more(self) -> bool:
        """Read and decode another chunk; False at the end of the input."""
        if self.eof:
            return False
        if len(self.raw) >= PROLOG_LIMIT:
            raise self.error(f"more than {PROLOG_LIMIT} bytes before the root element")
        chunk = self.read(_CHUNK)
        self.eof = not chunk
        self.raw.extend(chunk)
        if self.decoder is None:
            if len(self.raw) < 4 and not self.eof:
                return True
            self.decoder = _decoder(bytes(self.raw))
            chunk = bytes(self.raw)
        self.text += self.decoder.decode(chunk, final=self.eof)
        return True

    def ahead(self, n: int) -> str:
        """The next `n` characters (fewer only at the end of the input)."""
        while len(self.text) - self.pos < n and self.more():
            pass
        return self.text[self.pos : self.pos + n]

    def skip_past(self, terminator: str, start: int) -> bool:
        """Move past the next `terminator` found from `start` characters ahead."""
        end = self.text.find(terminator, self.pos + start)
        while end < 0 and self.more():
            end = self.text.find(terminator, self.pos + start)
        if end < 0:
            return False
        self.pos = end + len(terminator)
        return True

    def error(self, message: str) -> DepositError:
        return DepositError(f"line {self.text.count(chr(10), 0, self.pos) + 1}: {message}")


def check(read: Callable[[int], bytes]) -> bytes:
    """Read a deposit's prolog through `read`; return the bytes read, which the parser must be
    given first. Raises DepositError (with the line) for a DOCTYPE, for anything but comments,
    processing instructions and white space before the root element, and for a prolog longer
    than PROLOG_LIMIT. An empty or unterminated prolog is left to the parser to report."""
    prolog = _Prolog(read)
    if prolog.ahead(1) == "\ufeff":
        prolog.pos = 1
    while True:
        head = prolog.ahead(9)  # enough to tell "<!DOCTYPE" from the rest
        stripped = head.lstrip(_SPACE)
        if stripped != head:
            prolog.pos += len(head) - len(stripped)
            continue
        if not head:
            return bytes(prolog.raw)
        if head.startswith("<?"):
            if not prolog.skip_past("?>", 2):
                return bytes(prolog.raw)
        elif head.startswith("<!--"):
            if not prolog.skip_past("-->", 4):
                return bytes(prolog.raw)
        elif head.startswith("<!DOCTYPE"):
            raise prolog.error(
                f"{_DOCTYPE_ROOT}: a DOCTYPE (DTD, entities) is not allowed in a deposit"
            )
        elif head.startswith("<!"):
            raise prolog.error("malformed XML: a markup declaration before the root element")
        elif head.startswith("<"):
            return bytes(prolog.raw)  # the root element: the rest is the parser's
        else:
            raise prolog.error("malformed XML: content before the root element")


class Replay:
    """A binary stream that returns `prefix` first, then the rest of `stream` (what the prolog
    check read from a stream that cannot seek back)."""

    def __init__(self, prefix: bytes, read: Callable[[int], bytes]) -> None:
        self._prefix = prefix
        self._read = read

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            if size is None or size < 0:
                head, self._prefix = self._prefix, b""
                return head + self._read(-1)
            head, self._prefix = self._prefix[:size], self._prefix[size:]
            return head
        return self._read(size)

"""Where an HTTP/1.x request ends, decided from the bytes received so far, without blocking.

The REST worker's event loop feeds each connection's bytes to a :class:`RequestFraming` and
hands the connection to a request thread only once the verdict is no longer ``INCOMPLETE``;
the thread then parses the request with gunicorn's own parser, from memory.

The invariant: ``COMPLETE`` means every byte gunicorn's parser will read for this request is
buffered. Where the head is something gunicorn refuses (a bare LF, contradictory framing
headers, a bad chunk size line, an unknown expectation) the verdict is ``MALFORMED`` as soon
as that is seen: gunicorn's parser, running on the buffered bytes, then raises its error
without waiting for a body that will never be read. Only the refusals gunicorn cannot make
before reading (a body or a head too large) are verdicts of their own, so that they are
answered before the bytes are held in memory.

This module does not validate a request beyond its framing; gunicorn does that.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

_CRLF = b"\r\n"
_HEAD_END = b"\r\n\r\n"
_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")


class Verdict(enum.Enum):
    INCOMPLETE = "incomplete"
    COMPLETE = "complete"
    #: gunicorn's parser will refuse it from the bytes already here
    MALFORMED = "malformed"
    BODY_TOO_LARGE = "body too large"
    REQUEST_LINE_TOO_LONG = "request line too long"
    HEAD_TOO_LARGE = "head too large"


@dataclass(frozen=True)
class FramingLimits:
    """Bounds of one request. ``max_request_line`` is the request line without its CRLF
    (None: bounded by ``max_head_bytes`` only); ``max_head_bytes`` the header fields after
    the request line; ``max_body_bytes`` the body as sent (chunk framing included);
    ``max_chunk_line`` a chunk size line and ``max_trailer_bytes`` a trailer section, which
    must be at least gunicorn's own bounds so that gunicorn is the one to refuse them."""

    max_body_bytes: int
    max_request_line: int | None = 4094
    max_head_bytes: int = 100 * (8190 + 2) + 4
    max_chunk_line: int = 8190
    max_trailer_bytes: int = 8190 * 32


class _Body(enum.Enum):
    NONE = 0
    LENGTH = 1
    CHUNKED = 2


class RequestFraming:
    """Bytes of one request (and whatever the client pipelined after it) and its verdict.

    ``feed`` is called with each piece received; once the verdict is not ``INCOMPLETE`` it
    stays as it is and further bytes are only kept.
    """

    def __init__(self, limits: FramingLimits):
        self.limits = limits
        self.buffer = bytearray()
        self.verdict = Verdict.INCOMPLETE
        #: the head is in, announces a body, and asks for ``100 Continue`` before sending it
        self.expects_continue = False
        #: the declared body size (Content-Length), for the 413 message
        self.declared_length: int | None = None
        self._scan = 0  # where the searches for the ends of the request line and head resume
        self._lf_scan = 0  # the head is free of bare LFs up to here
        self._line_end = -1
        self._body_start = -1
        self._body = _Body.NONE
        self._length = 0
        self._chunk_pos = 0  # start of the next chunk size line (or of the trailers)
        self._in_trailers = False
        self._chunk_scan = 0  # where the search for the end of a size line or trailers resumes

    @property
    def head_complete(self) -> bool:
        return self._body_start >= 0

    def take(self) -> bytes:
        """All bytes received, for the parser; the framing is done with them."""
        data = bytes(self.buffer)
        self.buffer = bytearray()
        return data

    def feed(self, data: bytes) -> Verdict:
        self.buffer += data
        if self.verdict is Verdict.INCOMPLETE:
            self.verdict = self._advance()
        return self.verdict

    # -- the head ---------------------------------------------------------------------------
    def _advance(self) -> Verdict:
        if self._body_start < 0:
            verdict = self._read_head()
            if verdict is not Verdict.INCOMPLETE or self._body_start < 0:
                return verdict
        if self._body is _Body.NONE:
            return Verdict.COMPLETE
        if self._body is _Body.LENGTH:
            return self._read_length_body()
        return self._read_chunked_body()

    def _read_head(self) -> Verdict:
        # Every search resumes where the previous one stopped: a client sending its head a
        # byte at a time must not make each byte cost a scan of everything before it.
        buf = self.buffer
        if len(buf) < 2:
            return Verdict.INCOMPLETE
        # RFC 9112 section 2.2: one empty line before the request line is ignored, as
        # gunicorn does; it does not count against the request line.
        start = 2 if buf[:2] == _CRLF else 0
        if self._line_end < 0:
            self._line_end = buf.find(_CRLF, max(start, self._scan))
        head_end = fields_start = body_start = -1
        if self._line_end >= 0:
            fields_start = self._line_end + 2
            if len(buf) >= fields_start + 2 and buf[fields_start : fields_start + 2] == _CRLF:
                head_end, body_start = fields_start, fields_start + 2
            else:
                head_end = buf.find(_HEAD_END, max(fields_start, self._scan))
                body_start = head_end + 4
        checked_to = body_start if head_end >= 0 else len(buf)
        if _has_bare_lf(buf, max(start, self._lf_scan), checked_to):
            return Verdict.MALFORMED
        self._lf_scan = checked_to
        self._scan = max(start, len(buf) - 3)
        line_limit = self.limits.max_request_line
        if self._line_end < 0:
            if line_limit is not None and len(buf) - start > line_limit + 1:
                return Verdict.REQUEST_LINE_TOO_LONG
            if len(buf) - start > self.limits.max_head_bytes + (line_limit or 0):
                return Verdict.HEAD_TOO_LARGE
            return Verdict.INCOMPLETE
        if line_limit is not None and self._line_end - start > line_limit:
            return Verdict.REQUEST_LINE_TOO_LONG
        if (head_end if head_end >= 0 else len(buf)) - fields_start > self.limits.max_head_bytes:
            return Verdict.HEAD_TOO_LARGE
        if head_end < 0:
            return Verdict.INCOMPLETE
        self._body_start = body_start
        return self._frame_body(
            bytes(buf[start : self._line_end]), bytes(buf[fields_start:head_end])
        )

    def _frame_body(self, request_line: bytes, fields: bytes) -> Verdict:
        http10 = request_line.rstrip().endswith(b"HTTP/1.0")
        lengths: list[bytes] = []
        codings: list[bytes] = []
        expect: bytes | None = None
        for line in fields.split(_CRLF) if fields else []:
            if line[:1] in (b" ", b"\t"):
                return Verdict.MALFORMED  # obsolete line folding
            name, sep, value = line.partition(b":")
            if not sep:
                return Verdict.MALFORMED
            name = name.lower()
            value = value.strip(b" \t")
            if name == b"content-length":
                lengths.append(value)
            elif name == b"transfer-encoding":
                codings.extend(c.strip(b" \t").lower() for c in value.split(b","))
            elif name == b"expect":
                if value.lower() != b"100-continue":
                    return Verdict.MALFORMED  # gunicorn answers 417
                expect = value.lower()
        if codings:
            if lengths or http10 or codings.count(b"chunked") != 1 or codings[-1] != b"chunked":
                return Verdict.MALFORMED
            self._body = _Body.CHUNKED
            self._chunk_pos = self._body_start
        elif lengths:
            if len(lengths) > 1 or not lengths[0].isdigit():
                return Verdict.MALFORMED
            self._length = int(lengths[0])
            self.declared_length = self._length
            if self._length > self.limits.max_body_bytes:
                return Verdict.BODY_TOO_LARGE
            self._body = _Body.LENGTH if self._length else _Body.NONE
        # RFC 9110 section 10.1.1: an HTTP/1.0 client's expectation is ignored.
        self.expects_continue = expect is not None and not http10 and self._body is not _Body.NONE
        return Verdict.INCOMPLETE

    # -- the body ---------------------------------------------------------------------------
    def _read_length_body(self) -> Verdict:
        if len(self.buffer) - self._body_start >= self._length:
            return Verdict.COMPLETE
        return Verdict.INCOMPLETE

    def _read_chunked_body(self) -> Verdict:
        buf = self.buffer
        limit = self.limits.max_body_bytes
        while True:
            pos = self._chunk_pos
            if pos - self._body_start > limit:
                return Verdict.BODY_TOO_LARGE
            if self._in_trailers:
                return self._read_trailers()
            line_end = buf.find(_CRLF, max(pos, self._chunk_scan))
            if line_end < 0:
                if len(buf) - pos > self.limits.max_chunk_line:
                    return Verdict.MALFORMED  # gunicorn: invalid chunk size
                self._chunk_scan = max(pos, len(buf) - 1)
                return Verdict.INCOMPLETE
            size_field = bytes(buf[pos:line_end]).split(b";", 1)[0].rstrip(b" \t")
            if not size_field or not _HEX_DIGITS.issuperset(size_field):
                return Verdict.MALFORMED
            size = int(size_field, 16)
            data_start = line_end + 2
            if size == 0:
                self._chunk_pos = self._chunk_scan = data_start
                self._in_trailers = True
                continue
            data_end = data_start + size
            if data_end - self._body_start > limit:
                return Verdict.BODY_TOO_LARGE
            if len(buf) < data_end + 2:
                return Verdict.INCOMPLETE
            if buf[data_end : data_end + 2] != _CRLF:
                return Verdict.MALFORMED  # gunicorn: chunk missing terminator
            self._chunk_pos = self._chunk_scan = data_end + 2

    def _read_trailers(self) -> Verdict:
        # After the last chunk: an empty line, or trailer fields ending with one.
        buf = self.buffer
        pos = self._chunk_pos
        if len(buf) - pos < 2:
            return Verdict.INCOMPLETE
        if buf[pos : pos + 2] == _CRLF or buf.find(_HEAD_END, self._chunk_scan) >= 0:
            return Verdict.COMPLETE
        if len(buf) - pos > self.limits.max_trailer_bytes:
            return Verdict.MALFORMED  # gunicorn: trailer section too large
        self._chunk_scan = max(pos, len(buf) - 3)
        return Verdict.INCOMPLETE


def _has_bare_lf(buf: bytearray, start: int, end: int) -> bool:
    """An LF in ``buf[start:end]`` not preceded by CR: gunicorn refuses it at once."""
    i = buf.find(b"\n", start, end)
    while i >= 0:
        if i == 0 or buf[i - 1] != 0x0D:
            return True
        i = buf.find(b"\n", i + 1, end)
    return False

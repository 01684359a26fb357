"""Request framing: the verdict on the bytes received so far, and the invariant the REST worker
relies on — once the verdict is COMPLETE or MALFORMED, gunicorn's own parser reads (or refuses)
the request from the buffered bytes alone, never waiting on the socket."""

from __future__ import annotations

import json

import pytest
from gunicorn.config import Config
from gunicorn.http import errors as parse_errors
from gunicorn.http.parser import RequestParser
from kconnect.rest.request_buffering import describe_parse_error, error_response
from kconnect.rest.request_framing import FramingLimits, RequestFraming, Verdict

LIMITS = FramingLimits(max_body_bytes=1000, max_request_line=100, max_head_bytes=500)


class _SilentSocket:
    """A socket with nothing more to read: the parser must not need it."""

    def recv(self, size: int) -> bytes:
        raise AssertionError("the parser waited for the socket")


def _parser(data: bytes) -> RequestParser:
    parser = RequestParser(Config(), _SilentSocket(), ("127.0.0.1", 1))
    parser.unreader.unread(data)
    return parser


def _feed_bytewise(framing: RequestFraming, data: bytes) -> list[Verdict]:
    return [framing.feed(data[i : i + 1]) for i in range(len(data))]


def test_a_content_length_body_is_complete_at_its_last_byte_and_parses_from_memory():
    body = b'{"name": "x"}'
    request = b"POST /connectors HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )
    framing = RequestFraming(LIMITS)
    verdicts = _feed_bytewise(framing, request)
    assert verdicts[:-1] == [Verdict.INCOMPLETE] * (len(request) - 1)
    assert verdicts[-1] is Verdict.COMPLETE
    req = next(_parser(framing.take()))
    assert (req.method, req.path, req.body.read()) == ("POST", "/connectors", body)


def test_a_chunked_body_with_extensions_and_trailers_is_complete_at_its_last_byte():
    request = (
        b"PUT /connectors/a/config HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    framing = RequestFraming(LIMITS)
    verdicts = _feed_bytewise(framing, request)
    assert verdicts[-1] is Verdict.COMPLETE
    assert Verdict.COMPLETE not in verdicts[:-1]
    assert next(_parser(framing.take())).body.read() == b"hello world"


def test_requests_without_a_body_and_pipelined_ones():
    first = b"\r\nGET /connectors HTTP/1.1\r\nHost: x\r\n\r\n"  # one leading CRLF is allowed
    second = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    framing = RequestFraming(LIMITS)
    assert framing.feed(first + second) is Verdict.COMPLETE
    assert not framing.expects_continue
    parser = _parser(framing.take())
    assert next(parser).path == "/connectors"
    assert parser.unreader.take_buffered() == second


def test_a_body_over_the_limit_is_refused_from_what_announces_it():
    framing = RequestFraming(LIMITS)
    verdict = framing.feed(b"POST /connectors HTTP/1.1\r\nContent-Length: 1001\r\n\r\n")
    assert verdict is Verdict.BODY_TOO_LARGE
    assert framing.declared_length == 1001
    # chunked: the chunk size line that would pass the limit, before its data arrives
    framing = RequestFraming(LIMITS)
    head = b"POST /connectors HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert framing.feed(head + b"100\r\n" + b"a" * 256 + b"\r\n") is Verdict.INCOMPLETE
    assert framing.feed(b"400\r\n") is Verdict.BODY_TOO_LARGE


def test_chunk_framing_counts_against_the_limit():
    framing = RequestFraming(LIMITS)
    framing.feed(b"POST /connectors HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    tiny_chunk = b"1;" + b"e" * 20 + b"\r\na\r\n"  # 1 byte of data, 27 bytes sent
    verdicts = [framing.feed(tiny_chunk) for _ in range(60)]
    assert verdicts[-1] is Verdict.BODY_TOO_LARGE
    assert verdicts.index(Verdict.BODY_TOO_LARGE) * len(tiny_chunk) <= 1000 + len(tiny_chunk)


def test_a_request_line_or_head_too_long_is_refused_before_it_ends():
    framing = RequestFraming(LIMITS)
    assert framing.feed(b"GET /" + b"a" * 90) is Verdict.INCOMPLETE
    assert framing.feed(b"a" * 20) is Verdict.REQUEST_LINE_TOO_LONG
    framing = RequestFraming(LIMITS)
    framing.feed(b"GET / HTTP/1.1\r\n")
    for _ in range(20):
        verdict = framing.feed(b"X-Field: " + b"v" * 40 + b"\r\n")
    assert verdict is Verdict.HEAD_TOO_LARGE


def test_a_head_sent_a_byte_at_a_time_is_framed_once():
    framing = RequestFraming(FramingLimits(max_body_bytes=10, max_head_bytes=200_000))
    head = b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 10_000 + b"\r\n"
    verdicts = _feed_bytewise(framing, head)  # quadratic rescanning would take minutes here
    assert verdicts[-1] is Verdict.COMPLETE


MALFORMED = {
    "bare LF": b"GET / HTTP/1.1\nHost: x\n\n",
    "bare LF in a field": b"GET / HTTP/1.1\r\nHost: x\nA: b\r\n\r\n",
    "length and chunked": (
        b"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
    ),
    "two lengths": b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    "length not a number": b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
    "coding not chunked": b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
    "chunked twice": b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
    "chunked in HTTP/1.0": b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
    "unknown expectation": b"POST / HTTP/1.1\r\nExpect: tea\r\nContent-Length: 5\r\n\r\n",
    "folded field": b"POST / HTTP/1.1\r\nContent-Length: 5\r\n 6\r\n\r\n",
    "field without a colon": b"POST / HTTP/1.1\r\nContent-Length 5\r\n\r\n",
    "bad chunk size": b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "chunk without its CRLF": (
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY0\r\n\r\n"
    ),
}


@pytest.mark.parametrize("request_bytes", MALFORMED.values(), ids=MALFORMED.keys())
def test_what_gunicorn_refuses_is_handed_over_at_once_and_refused_from_memory(request_bytes):
    framing = RequestFraming(LIMITS)
    assert framing.feed(request_bytes) is Verdict.MALFORMED
    with pytest.raises(parse_errors.ParseException):
        req = next(_parser(framing.take()))
        req.body.read()


def test_expect_100_continue_is_noted_only_when_a_body_is_awaited():
    framing = RequestFraming(LIMITS)
    framing.feed(b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
    assert framing.verdict is Verdict.INCOMPLETE and framing.expects_continue
    framing = RequestFraming(LIMITS)
    framing.feed(b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
    assert not framing.expects_continue  # RFC 9110: ignored for HTTP/1.0
    framing = RequestFraming(LIMITS)
    assert framing.feed(b"GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n") is Verdict.COMPLETE
    assert not framing.expects_continue
    # over the limit: refused rather than invited
    framing = RequestFraming(LIMITS)
    verdict = framing.feed(
        b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n"
    )
    assert verdict is Verdict.BODY_TOO_LARGE


def test_gunicorn_errors_are_answered_in_kafka_connects_shape():
    assert describe_parse_error(parse_errors.LimitRequestLine(9000, 4094))[0] == 414
    assert describe_parse_error(parse_errors.LimitRequestHeaders("too many"))[0] == 431
    status, message = describe_parse_error(parse_errors.InvalidHeader("X"))
    assert status == 400 and message.startswith("Bad request: Invalid HTTP Header")
    assert describe_parse_error(parse_errors.UnsupportedTransferCoding("br"))[0] == 501
    assert describe_parse_error(RuntimeError("secret detail")) == (500, "Internal Server Error")
    response = error_response(413, "Request body is too large")
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 Content Too Large\r\n") or head.startswith(
        b"HTTP/1.1 413 Request Entity Too Large\r\n"
    )
    assert b"Content-Type: application/json" in head and b"Connection: close" in head
    assert b"Content-Length: %d" % len(body) in head
    assert json.loads(body) == {"error_code": 413, "message": "Request body is too large"}

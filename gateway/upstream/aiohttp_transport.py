"""An httpx transport over aiohttp: the httpx API the `Sender` is written against, with
aiohttp's connection pool and C HTTP/1.1 parser underneath.

Why: httpcore spends 1.4 to 1.9 ms of CPU per call on pool bookkeeping and anyio (see
encode/httpx#3215), which dominates a GraphQL request that makes several upstream calls.
This transport hands each `httpx.Request` to one `aiohttp.ClientSession` and gives back an
`httpx.Response` whose body streams from aiohttp, so everything above it (timeouts read
from the request, the body cap, httpx's decoders, `MockTransport` in tests) is unchanged.

What it keeps from the httpx transport, on purpose:
- nothing automatic: no cookie jar (`DummyCookieJar`: the pool is shared by every tenant),
  no redirects, no proxy or netrc from the environment, no retries of its own (aiohttp
  resends an idempotent request once after a dropped connection; the `RetryPolicy` alone
  decides that here, and the emulator's counters prove it);
- the body as sent: aiohttp does not decompress (`auto_decompress=False`), httpx does, so
  gzip and brotli decode as before and the cap counts decoded bytes;
- httpx's exceptions: every aiohttp failure becomes the httpx exception httpcore raises
  for the same event (`translate_error`), so the Sender's mapping to the gateway's error
  tree, and which failures it retries, is the same on both transports. Messages name the
  aiohttp exception and never carry its text, which quotes the URL and its query string.

The session needs a running event loop: it is made on entering the client (`async with
http:`) or on the first request, and closed with the client.
"""

from __future__ import annotations

import math
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Final

import aiohttp
import httpx
from aiohttp.http_exceptions import HttpProcessingError
from yarl import URL

# httpx's own keep-alive expiry: an idle pooled connection is dropped after 5 s.
KEEPALIVE_EXPIRY_S: Final = 5.0
# httpcore's bound on an answer's status line and headers (h11's incomplete event size).
MAX_HEADER_BYTES: Final = 100 * 1024


def translate_error(exc: Exception) -> Exception:
    """The httpx exception httpcore raises for the failure `exc` stands for.

    Kept by their httpx meaning, as the Sender reads them: a connect or pool timeout and a
    refused connection happened before anything was sent (retryable); a read timeout may
    follow a request the far side is still working on (not retried by default); a
    connection dropped before or during the answer is a `RemoteProtocolError` or a
    `ReadError` (retryable for GETs, as the far side may simply have closed a kept-alive
    connection). Anything else is a plain `TransportError` (not retried).
    """
    name = type(exc).__name__
    translated: Exception
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        translated = httpx.ConnectTimeout(f"{name}: connecting timed out")
    elif isinstance(exc, TimeoutError):  # SocketTimeoutError (sock_read), or any other
        translated = httpx.ReadTimeout(f"{name}: reading timed out")
    elif isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ServerFingerprintMismatch):
        translated = httpx.ConnectError(f"{name}: {_strerror(exc)}")
    elif isinstance(exc, aiohttp.ServerDisconnectedError):
        translated = httpx.RemoteProtocolError(f"{name}: the server disconnected")
    elif isinstance(exc, aiohttp.ClientPayloadError):  # a body cut short or mis-chunked
        translated = httpx.RemoteProtocolError(f"{name}: the body was not completed")
    elif isinstance(exc, aiohttp.ClientResponseError | HttpProcessingError):
        translated = httpx.RemoteProtocolError(f"{name}: a malformed HTTP answer")
    elif isinstance(exc, aiohttp.NonHttpUrlClientError):
        translated = httpx.UnsupportedProtocol(f"{name}: not an http or https URL")
    elif isinstance(exc, aiohttp.InvalidURL):
        # httpx's own verdict on a URL it cannot send; the Sender reports it as a request
        # it could not form, as it does when httpx refuses the URL while building it.
        translated = httpx.InvalidURL(f"{name}: the URL was refused")
    elif isinstance(exc, aiohttp.ClientConnectionError | OSError):  # reset, broken pipe
        translated = httpx.ReadError(f"{name}: {_strerror(exc)}")
    elif isinstance(exc, aiohttp.ClientError):
        translated = httpx.TransportError(f"{name}: the request failed")
    else:
        return exc  # not aiohttp's: a bug to see as it is
    return translated


def _strerror(exc: Exception) -> str:
    """The operating system's words for a socket failure, without host, port or URL."""
    os_error = getattr(exc, "os_error", exc)
    if isinstance(os_error, OSError) and os_error.strerror:
        return os_error.strerror
    return "the connection failed"


@contextmanager
def _httpx_errors() -> Iterator[None]:
    """Re-raise aiohttp's failures as httpx's; a cancellation passes untouched (the
    caller's `asyncio.timeout` turns it into its deadline)."""
    try:
        yield
    except Exception as exc:
        translated = translate_error(exc)
        if translated is exc:
            raise
        # `from None`: aiohttp's own message, with the URL, stays out of tracebacks.
        raise translated from None


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One `aiohttp.ClientSession` behind an `httpx.AsyncClient`.

    `max_connections` bounds the pool (all hosts together, as `httpx.Limits`); idle
    connections are kept `KEEPALIVE_EXPIRY_S`. Timeouts come from each request (httpx puts
    the client's `httpx.Timeout` in `request.extensions`), so per-call timeouts work too.
    """

    def __init__(self, *, max_connections: int, ssl_context: ssl.SSLContext | None = None):
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.max_connections = max_connections
        # As httpx with trust_env=False: certifi's roots, no SSL_CERT_FILE from the env.
        self._ssl = ssl_context or httpx.create_ssl_context(trust_env=False)
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The open session, if one was made (for tests and diagnostics)."""
        return self._session

    async def __aenter__(self) -> AiohttpTransport:
        self._open()
        return self

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("the transport is closed")
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self.max_connections,
                limit_per_host=0,
                keepalive_timeout=KEEPALIVE_EXPIRY_S,
                ssl=self._ssl,
                # Timeouts when they are due, not rounded up to the next second.
                timeout_ceil_threshold=math.inf,
            )
            session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
                auto_decompress=False,
                raise_for_status=False,
                requote_redirect_url=False,
                timeout=aiohttp.ClientTimeout(),  # no total: httpx's timeouts, per request
                # httpcore reads a header block of up to 100 KiB; aiohttp's default refuses
                # any header line over 8 KiB.
                max_line_size=MAX_HEADER_BYTES,
                max_field_size=MAX_HEADER_BYTES,
            )
            # aiohttp resends an idempotent request once when a connection drops; the
            # RetryPolicy must be the only one to decide that (and count it). Private, but
            # aiohttp's own test client sets it the same way.
            session._retry_connection = False
            self._session = session
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._open()
        body = await _body_of(request)
        url = request.url
        if url.userinfo:
            # httpx has made its credentials a header already; aiohttp would make them one
            # more, and refuse the pair.
            url = url.copy_with(username=None, password=None)
        with _httpx_errors():
            response = await session.request(
                request.method,
                # Already encoded by httpx: sent as it is, not quoted a second time.
                URL(str(url), encoded=True),
                headers=request.headers.multi_items(),
                data=body,
                allow_redirects=False,
                compress=None,
                timeout=self._timeout_of(request),
                server_hostname=request.extensions.get("sni_hostname"),
            )
        extensions: dict[str, object] = {"http_version": _http_version(response)}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode("ascii", "replace")
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_AiohttpBody(response),
            request=request,
            extensions=extensions,
        )

    def _timeout_of(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        """httpx's four timeouts in aiohttp's terms. httpx has a pool wait and a connect;
        aiohttp's `connect` covers both together, `sock_connect` the connect alone.
        aiohttp has no write timeout: a request body is written as part of the call and
        bounded by the caller's deadline."""
        given = request.extensions.get("timeout", {})
        key = (given.get("pool"), given.get("connect"), given.get("read"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            pool, connect, read = key
            timeout = aiohttp.ClientTimeout(
                total=None,
                connect=None if pool is None or connect is None else pool + connect,
                sock_connect=connect,
                sock_read=read,
                ceil_threshold=math.inf,
            )
            self._timeouts[key] = timeout
        return timeout

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


def _http_version(response: aiohttp.ClientResponse) -> bytes:
    version = response.version
    if version is None or version == aiohttp.HttpVersion11:
        return b"HTTP/1.1"
    return f"HTTP/{version.major}.{version.minor}".encode()


async def _body_of(request: httpx.Request) -> bytes | None:
    """The request body as bytes (the gateway only sends bytes; a stream is read whole)."""
    try:
        content = request.content
    except httpx.RequestNotRead:
        content = await request.aread()
        # aiohttp sets Content-Length for bytes; a chunked framing header would contradict it.
        request.headers.pop("Transfer-Encoding", None)
    return content or None


class _AiohttpBody(httpx.AsyncByteStream):
    """The answer's body as httpx reads it: chunks as aiohttp receives them, and a close
    that keeps the connection only when the body was read to its end."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        with _httpx_errors():
            chunk = await self._response.content.readany()
        if not chunk:
            raise StopAsyncIteration
        return chunk

    async def aclose(self) -> None:
        if self._response.content.at_eof():
            self._response.release()  # read whole: the connection goes back to the pool
        else:
            # Half-read (over the cap, a deadline, a failure): a pooled connection would
            # hand its rest to the next call, so it is closed.
            self._response.close()

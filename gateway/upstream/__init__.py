"""The gateway's side of the wire: the ChargEye contract, its records and the client.

contract    every inferred detail of the upstream contract, in one place
models      frozen records decoded from the upstream's JSON
client      `UpstreamClient`: one typed async method per upstream operation
transport   sending: per-call bearer, deadline, concurrency bound, retries, errors
retry       `RetryPolicy` and `Retry-After` parsing
pages       `Page` and the on-demand page walker
"""

from gateway.upstream.client import UpstreamClient
from gateway.upstream.pages import Page, PageFetcher, walk
from gateway.upstream.retry import RetryPolicy, parse_retry_after
from gateway.upstream.transport import build_http_client

__all__ = [
    "Page",
    "PageFetcher",
    "RetryPolicy",
    "UpstreamClient",
    "build_http_client",
    "parse_retry_after",
    "walk",
]

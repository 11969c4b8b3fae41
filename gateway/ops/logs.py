"""Logs: one structured line per request and per upstream failure, never a secret.

`json` writes one JSON object per line (what log shippers want); `text` writes the same
facts for a person reading a terminal (the demo's default). A record's `extra` fields
(`event`, `requestId`, `operation`, …) become keys of the line. Nothing the gateway logs
holds a token, a URL or a query string: upstream failures name the operationId and the
status, requests a short non-reversible digest of the caller's credentials.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Final

# Attributes every LogRecord has: anything else on a record came from `extra`.
_STANDARD: Final = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
}


QUIET_LIBRARIES: Final = ("httpx", "httpcore", "aiohttp", "hpack", "asyncio")


def _extra(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_extra(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, separators=(",", ":"))


class HumanLines(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S")


def configure(level: str, format: str) -> None:
    """The process's logging: every logger (uvicorn's too) in one format."""
    if format not in ("json", "text"):
        raise ValueError("log format must be json or text")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if format == "json" else HumanLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # uvicorn's access log would repeat the request line without its facts.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # The HTTP libraries log whole URLs (ids, page tokens) at INFO and DEBUG: whatever
    # the gateway's level, theirs stays at WARNING.
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)

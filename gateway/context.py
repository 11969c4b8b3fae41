"""The per-request `Context`: the caller's token, fresh loaders, limits and a deadline."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from gateway.config import Settings
from gateway.cursors import CursorCodec
from gateway.errors import BadUserInput
from gateway.loaders import Loaders
from gateway.upstream.client import UpstreamClient


@dataclass
class Context:
    settings: Settings
    upstream: UpstreamClient
    token: str | None
    loaders: Loaders
    deadline: float = field(default=0.0)

    @classmethod
    def build(cls, settings: Settings, upstream: UpstreamClient, token: str | None) -> Context:
        deadline = time.monotonic() + settings.request_deadline_s
        return cls(settings, upstream, token, Loaders(upstream, token, deadline), deadline)

    def require_token(self) -> str:
        """The caller's token; without one, the field fails before any upstream call."""
        return self.loaders.token

    def cursors(self, list_name: str, filter_key: str = "") -> CursorCodec:
        return CursorCodec(
            self.settings.cursor_secret,
            list_name=list_name,
            filter_key=filter_key,
            token=self.require_token(),
        )

    def page_size(self, first: int) -> int:
        """`first`, checked against the configured cap."""
        cap = self.settings.max_page_size
        if first < 0 or first > cap:
            raise BadUserInput(f"`first` must be between 0 and {cap}.", field="first")
        return first

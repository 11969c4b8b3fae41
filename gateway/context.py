"""The per-request `Context`: settings, fresh loaders bound to the caller, and the deadline."""

from __future__ import annotations

import time
from dataclasses import dataclass

from gateway.config import Settings
from gateway.cursors import CursorCodec
from gateway.errors import BadUserInput
from gateway.loaders import Loaders
from gateway.upstream.client import UpstreamClient


@dataclass
class Context:
    settings: Settings
    loaders: Loaders

    @classmethod
    def build(cls, settings: Settings, upstream: UpstreamClient, token: str | None) -> Context:
        deadline = time.monotonic() + settings.request_deadline_s
        return cls(settings, Loaders(upstream, token, deadline))

    def cursors(self, list_name: str, filter_key: str = "") -> CursorCodec:
        """Cursors of one list and filter, for this caller (bound to its token)."""
        return CursorCodec(
            self.settings.cursor_secret,
            list_name=list_name,
            filter_key=filter_key,
            token=self.loaders.token,
        )

    def page_size(self, first: int) -> int:
        """`first`, checked against the configured cap."""
        cap = self.settings.max_page_size
        if first < 0 or first > cap:
            raise BadUserInput(f"`first` must be between 0 and {cap}.", field="first")
        return first

"""GraphQL over WebSocket (graphql-transport-ws) at /graphql, for subscriptions.

On top of Strawberry's handler: every operation runs with a context of its own (fresh
loaders, so no cache or budget is shared across a long-lived connection), and the server
pings the client every `keepalive_s` so that proxies keep an idle connection open and a
dead peer is noticed.

The token comes from the `connection_init` payload (`{"Authorization": "Bearer …"}`) or
the upgrade request's `Authorization` header, never from the URL; without one the
connection is closed with 4403 before any upstream call (`GatewayGraphQL.on_ws_connect`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import CompleteMessage
from strawberry.utils.aio import aclosing

from gateway.context import Context


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """Messages as text frames, as graphql-transport-ws requires (the view encodes JSON
    to bytes with orjson, which Strawberry would send as binary frames)."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        encoded = self.view.encode_json(message)
        text = encoded.decode() if isinstance(encoded, bytes) else encoded
        try:
            await self.ws.send_text(text)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class LiveSocketHandler(BaseGraphQLTransportWSHandler[Context, None]):
    @property
    def keepalive_s(self) -> float:
        """Seconds between pings: the view's `keepalive_s` (0: none)."""
        return float(getattr(self.view, "keepalive_s", 0.0))

    async def handle(self) -> None:
        pinger = asyncio.create_task(self._ping()) if self.keepalive_s > 0 else None
        try:
            await super().handle()
        finally:
            if pinger is not None:
                pinger.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pinger
            self.context.loaders.close()

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(self.keepalive_s)
            if self.connection_acknowledged:
                with contextlib.suppress(Exception):  # a closing socket ends the loop anyway
                    await self.send_message({"type": "ping"})

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        """Strawberry's `run_operation`, with the operation's own context."""
        context = self.context.fork()
        try:
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )
            async with aclosing(result_source):
                await self._send_result_stream(operation, result_source)
            await operation.send_operation_message(
                CompleteMessage(id=operation.id, type="complete")
            )
        except _OperationStreamClosed:
            return
        except Exception as error:
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise
        finally:
            context.loaders.close()


def payload_authorization(params: dict[str, Any] | None) -> str | None:
    """The `Authorization` entry of a `connection_init` payload, any case of the name."""
    for name, value in (params or {}).items():
        if isinstance(name, str) and name.lower() == "authorization" and isinstance(value, str):
            return value
    return None

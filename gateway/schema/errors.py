"""Give every GraphQL error a stable `extensions.code`, and mask the unexpected ones.

A `GatewayError` is ours and safe to show: it keeps its message and gains its code.
Anything else raised in a resolver is a bug or a leak risk (it may carry an upstream
body or a URL): the client sees a generic message and an id that is in the log.
Errors without an original exception are parse and validation errors and pass through.
"""

from __future__ import annotations

import logging
import uuid

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from gateway.errors import GatewayError

log = logging.getLogger("gateway.errors")


class ErrorCodes(MaskErrors):
    def __init__(self) -> None:
        super().__init__(error_message="Internal server error.")

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [_with_code(error) for error in errors]


def _with_code(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, GraphQLError):  # a variable that does not fit its type
        return _copy(error, error.message, {"code": "BAD_USER_INPUT"})
    if original is None:
        if error.extensions and "code" in error.extensions:
            return error
        return _copy(error, error.message, {"code": "GRAPHQL_VALIDATION_FAILED"})
    if isinstance(original, GatewayError):
        return _copy(error, original.message, original.extensions())
    error_id = uuid.uuid4().hex[:12]
    log.error("unexpected error %s at %s", error_id, error.path, exc_info=original)
    return _copy(
        error,
        "Internal server error.",
        {"code": "INTERNAL_SERVER_ERROR", "errorId": error_id},
    )


def _copy(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    return GraphQLError(
        message=message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )

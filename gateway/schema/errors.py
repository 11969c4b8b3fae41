"""Give every GraphQL error a stable `extensions.code`, and mask the unexpected ones.

A `GatewayError` is ours and safe to show: it keeps its message and gains its code.
Anything else raised in a resolver is a bug or a leak risk (it may carry an upstream
body or a URL): the client sees a generic message and an id that is in the log.
Errors without an original exception are parse and validation errors and pass through.

Errors come in path order (deterministic, whatever order concurrent fields failed in).
One failed upstream call is one error. A batch that fails fails every field that waited
on it with the same exception; those errors are folded into the first, which names the
others in `extensions.affectedPaths` (at most `MAX_AFFECTED_PATHS`, with
`affectedCount` for all), so a page of 14 locations whose status call failed reads as one
failure, not fourteen.
"""

from __future__ import annotations

import logging
import uuid

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from gateway.errors import GatewayError

log = logging.getLogger("gateway.errors")
MAX_AFFECTED_PATHS = 20


class ErrorCodes(MaskErrors):
    def __init__(self) -> None:
        super().__init__(error_message="Internal server error.")

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [_with_code(first, others) for first, others in _by_failure(errors)]

    def _process_result(self, result: object) -> None:
        # Most results carry no error: skip MaskErrors' isinstance against a runtime
        # Protocol, which cost more than executing a live event (once per subscriber).
        if getattr(result, "errors", None):
            super()._process_result(result)


def _position(error: GraphQLError) -> tuple[tuple[int, int | str], ...]:
    """A total order of error paths (indexes before names), so errors come in path order
    whatever order concurrent fields failed in."""
    return tuple((0, step) if isinstance(step, int) else (1, step) for step in error.path or ())


def _by_failure(errors: list[GraphQLError]) -> list[tuple[GraphQLError, list[GraphQLError]]]:
    """Errors grouped by the upstream failure that caused them, in path order."""
    groups: dict[int, tuple[GraphQLError, list[GraphQLError]]] = {}
    for error in sorted(errors, key=_position):
        original = error.original_error
        # One exception raised into many fields is one failure (a batch, a shared call).
        # Not across `_entities`: a router places each representation's error itself.
        shared = isinstance(original, GatewayError) and not _under_entities(error)
        key = id(original) if shared else id(error)
        if key in groups:
            groups[key][1].append(error)
        else:
            groups[key] = (error, [])
    return list(groups.values())


_TOKEN_LIMIT = "tokens. Parsing aborted"


def _under_entities(error: GraphQLError) -> bool:
    path = error.path
    return bool(path) and path is not None and path[0] == "_entities"


def _with_code(error: GraphQLError, others: list[GraphQLError] | None = None) -> GraphQLError:
    original = error.original_error
    if isinstance(original, GraphQLError):  # a variable that does not fit its type
        return _copy(error, error.message, {"code": "BAD_USER_INPUT"})
    if original is None:
        if error.extensions and "code" in error.extensions:
            return error
        extensions: dict[str, object] = {"code": "GRAPHQL_VALIDATION_FAILED"}
        if _TOKEN_LIMIT in error.message:  # graphql-core's parser stopped at the token limit
            extensions["limit"] = "tokens"
        return _copy(error, error.message, extensions)
    if isinstance(original, GatewayError):
        extensions = original.extensions()
        if others:
            paths = [other.path for other in others[:MAX_AFFECTED_PATHS]]
            extensions["affectedPaths"] = paths
            extensions["affectedCount"] = len(others) + 1
        return _copy(error, original.message, extensions)
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

"""`ConformantGraphQL`: Strawberry's ASGI view, made to follow the GraphQL-over-HTTP spec.

What it changes on top of `strawberry.asgi.GraphQL`:

- It answers in `application/graphql-response+json` or `application/json`, whichever the
  `Accept` header prefers, and 406 when the client takes neither.
- A request error (the document does not parse or validate, or the variables do not
  coerce) has no `data` entry. Under `application/graphql-response+json` it is a 400;
  under `application/json` it stays a 200, as the spec asks for legacy clients.
- Malformed requests get a clear 4xx: 405 with `Allow` for other methods and for a mutation
  over GET, 415 for a missing or foreign content type, 400 for a body that is not a JSON
  object and for wrongly typed `query`, `operationName`, `variables` or `extensions`.
- Every error it raises itself is a JSON body `{"errors": [{"message": ..., "extensions":
  {"code": ...}}]}`, the code naming the refusal (`BAD_REQUEST`, `METHOD_NOT_ALLOWED` …).
- A request whose `Accept` asks for a stream (`multipart/mixed;subscriptionSpec=1.0`, or
  `text/event-stream` for graphql-sse) runs as a subscription over HTTP, as Strawberry does.
- JSON is read with orjson, which refuses invalid UTF-8 and nesting past 1,024 levels as
  malformed JSON; `variables` and `extensions` nested past `MAX_JSON_DEPTH` are refused
  too, before anything walks them.

Subclasses override `get_context` as with Strawberry. An override of `process_result` or
`create_response` must call `super()`, or the status codes above are lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, GraphQLRequestProtocol
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.typevars import Context, RootValue
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from gateway.http.negotiation import GRAPHQL_RESPONSE_JSON, JSON, response_media_type

METHODS = ("GET", "POST")
# Deeper than any input type of the schema goes: nothing legitimate nests further.
MAX_JSON_DEPTH = 64
REFUSAL_CODES = {
    400: "BAD_REQUEST",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def refusal_body(status: int, message: str) -> dict[str, object]:
    """The GraphQL error body of an HTTP-level refusal, with its code."""
    code = REFUSAL_CODES.get(status, f"HTTP_{status}")
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


class HTTPError(HTTPException):
    """An HTTP-level refusal, raised before any GraphQL execution; may carry headers."""

    def __init__(
        self, status_code: int, reason: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status_code, reason)
        self.headers = dict(headers or {})


def is_request_error(result: ExecutionResult) -> bool:
    """True when `result` failed before execution started, so it must carry no `data`.

    Parse and validation failures are `PreExecutionError`s. Variable coercion fails inside
    graphql-core's `execute`, so it only shows as `data: null` with errors that have no
    `path`: a field error always has one.
    """
    if isinstance(result, PreExecutionError):
        return True
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )


class ConformantGraphQL(GraphQL[Context, RootValue]):
    """A GraphQL endpoint that passes every graphql-http server audit."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        response: Response
        try:
            self._refuse_unservable(request)
            response = await self.run(request)
        except HTTPException as exc:
            response = self._error_response(request, exc)
        await response(scope, receive, send)

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # Without an IDE a browser's GET is plain GraphQL over HTTP, not Strawberry's 404.
        return self.graphql_ide is not None and super().should_render_graphql_ide(request)

    def _refuse_unservable(self, request: Request) -> None:
        # Checked before `run`, so that no context (and no loader) is built for a request
        # that cannot be answered.
        if request.method not in METHODS:
            raise HTTPError(
                405, "GraphQL is served over GET and POST.", headers={"Allow": ", ".join(METHODS)}
            )
        if self.should_render_graphql_ide(self.request_adapter_class(request)):
            return
        if self._get_stream_transport_from_headers(request.headers) is not None:
            return  # a subscription over HTTP: multipart or server-sent events
        if response_media_type(request.headers.get("accept")) is None:
            raise HTTPError(
                406, f"Answers are {GRAPHQL_RESPONSE_JSON} or {JSON}; `Accept` takes neither."
            )

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        # `create_response` sees only the sub-response, so the negotiated type travels on it.
        sub_response.media_type = response_media_type(request.headers.get("accept")) or JSON
        return sub_response

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        stream = self._get_stream_transport_from_headers(request.headers)
        protocol = stream.protocol if stream is not None else "http"
        if request.method == "GET":
            return _request_data(self.parse_query_params(request.query_params), protocol)
        mime_type, charset = _content_type(request.content_type)
        if mime_type == "multipart/form-data" and self.multipart_uploads_enabled:
            return await super().parse_http_body(request)
        if mime_type != JSON or charset not in (None, "utf-8"):
            raise HTTPError(
                415,
                f"A GraphQL POST needs `Content-Type: {JSON}` (UTF-8).",
                headers={"Accept-Post": JSON},
            )
        data = self.parse_json(await request.get_body())
        if isinstance(data, list) and self.schema.config.batching_config is not None:
            return await super().parse_http_body(request)  # the body is cached by Starlette
        if not isinstance(data, dict):
            raise HTTPError(400, "The request body must be a JSON object.")
        return _request_data(data, protocol)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: RootValue | None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as exc:
            # The spec wants 405, not Strawberry's 400, for an operation GET may not run.
            if request_adapter.method == "GET" and isinstance(
                exc.__cause__, InvalidOperationTypeError
            ):
                raise HTTPError(
                    405, "Only queries can be sent over GET; use POST.", headers={"Allow": "POST"}
                ) from exc
            raise

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        if is_request_error(result):
            response.pop("data", None)
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        media_type = sub_response.media_type or JSON
        status = sub_response.status_code or _status(response_data, media_type)
        response = self._json_response(response_data, status, media_type)
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        return response

    def _error_response(self, request: Request, exc: HTTPException) -> Response:
        media_type = response_media_type(request.headers.get("accept")) or JSON
        response = self._json_response(
            refusal_body(exc.status_code, exc.reason), exc.status_code, media_type
        )
        if isinstance(exc, HTTPError):
            response.headers.update(exc.headers)
        return response

    def decode_json(self, data: str | bytes) -> object:
        # orjson.JSONDecodeError is a json.JSONDecodeError: Strawberry answers it with 400.
        return orjson.loads(data)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def _json_response(self, data: object, status: int, media_type: str) -> Response:
        response = Response(
            self.encode_json(data), status_code=status, media_type=f"{media_type}; charset=utf-8"
        )
        # The body's media type follows `Accept`, so caches must key on it.
        response.headers["Vary"] = "Accept"
        return response


def _status(
    response_data: GraphQLHTTPResponse | Sequence[GraphQLHTTPResponse], media_type: str
) -> int:
    # Under the new media type a response without `data` is a request error; under plain
    # JSON the spec keeps 200 for every well-formed request, since older clients expect it.
    if media_type == GRAPHQL_RESPONSE_JSON and isinstance(response_data, dict):
        return 200 if "data" in response_data else 400
    return 200


def _content_type(header: str | None) -> tuple[str | None, str | None]:
    if header is None:
        return None, None
    mime_type, *params = (part.strip() for part in header.split(";"))
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return mime_type.lower(), charset


def _request_data(
    data: Mapping[str, object], protocol: GraphQLRequestProtocol = "http"
) -> GraphQLRequestData:
    query = data.get("query")
    operation_name = data.get("operationName")
    variables = data.get("variables")
    extensions = data.get("extensions")
    # A missing query is left to Strawberry: an extension (persisted documents) may supply it.
    if query is not None and not isinstance(query, str):
        raise HTTPError(400, "`query` must be a string.")
    if operation_name is not None and not isinstance(operation_name, str):
        raise HTTPError(400, "`operationName` must be a string or null.")
    if variables is not None and not isinstance(variables, dict):
        raise HTTPError(400, "`variables` must be an object or null.")
    if extensions is not None and not isinstance(extensions, dict):
        raise HTTPError(400, "`extensions` must be an object or null.")
    for name, value in (("variables", variables), ("extensions", extensions)):
        if _deeper_than(value, MAX_JSON_DEPTH):
            raise HTTPError(400, f"`{name}` is nested deeper than {MAX_JSON_DEPTH} levels.")
    return GraphQLRequestData(
        query=query,
        variables=variables,
        operation_name=operation_name,
        extensions=extensions,
        protocol=protocol,
    )


def _deeper_than(value: object, limit: int) -> bool:
    """Whether JSON `value` nests past `limit` levels (without recursion)."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False

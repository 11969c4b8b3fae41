"""Persisted documents: Apollo's automatic persisted queries (APQ) and trusted documents.

APQ (over POST and GET): a client sends `extensions.persistedQuery = {version: 1,
sha256Hash}` without the text; the gateway answers `PersistedQueryNotFound` (code
`PERSISTED_QUERY_NOT_FOUND`) until the client has sent the text once with its hash,
which registers it. Registered documents live in the shared state, so a hash registered
on one replica is found on every other. They are documents, not tenant data: the one kind
of shared entry whose key carries no credential digest (ARCHITECTURE's "parsed documents
aside"). A store that cannot answer loses nothing but the shortcut: lookups miss and the
client sends the text again.

Trusted documents (`GATEWAY_TRUSTED_DOCUMENTS`): a manifest of hash → document, read at
start-up; only its documents run, named by hash or sent as text that hashes into it, and
any other is refused with `PERSISTED_QUERY_NOT_IN_LIST`. The check is a schema extension,
so it holds for every transport (HTTP, WebSocket, server-sent events).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.http import GraphQLRequestData
from strawberry.types.graphql import OperationType

from gateway.config import SettingsError
from gateway.shared import SharedState, SharedStateError

log = logging.getLogger("gateway.persisted")

APQ_VERSION = 1
MAX_REGISTERED_CHARS = 100_000  # longer documents still run, only not registered
PLACEHOLDER_ORDER = (OperationType.QUERY, OperationType.SUBSCRIPTION, OperationType.MUTATION)


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def refusal(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


def persisted_hash(extensions: Mapping[str, object] | None) -> str | None:
    """The `sha256Hash` of `extensions.persistedQuery`, checked; None without one."""
    given = (extensions or {}).get("persistedQuery")
    if given is None:
        return None
    if not isinstance(given, dict) or given.get("version") != APQ_VERSION:
        raise refusal("Unsupported persisted query version", "BAD_REQUEST")
    digest = given.get("sha256Hash")
    if not isinstance(digest, str) or len(digest) != 64:
        raise refusal("`persistedQuery.sha256Hash` must be 64 hex digits", "BAD_REQUEST")
    return digest.lower()


class AutomaticPersistedQueries:
    """APQ over the shared state; `resolve` gives a request its document text."""

    def __init__(self, state: SharedState, *, ttl_s: float) -> None:
        self._state = state
        self._ttl = ttl_s

    async def resolve(self, data: GraphQLRequestData) -> GraphQLRequestData:
        digest = persisted_hash(data.extensions)
        if digest is None:
            return data
        key = f"apq:{digest}"
        if data.query is not None:
            if sha256_of(data.query) != digest:
                raise refusal("provided sha does not match query", "BAD_REQUEST")
            if len(data.query) <= MAX_REGISTERED_CHARS:
                try:
                    await self._state.set(key, data.query.encode(), ttl_s=self._ttl)
                except SharedStateError as exc:
                    log.warning("persisted query not registered: %s", exc)
            return data
        try:
            stored = await self._state.get(key)
        except SharedStateError as exc:
            log.warning("persisted query not looked up: %s", exc)
            stored = None
        if stored is None:
            raise refusal("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
        return replace(data, query=stored.decode())


@dataclass(frozen=True)
class TrustedDocuments:
    by_hash: Mapping[str, str]

    @classmethod
    def load(cls, path: str) -> TrustedDocuments:
        """Read a manifest: Apollo's (`operations: [{id, body}]`) or a plain hash → text
        map (graphql-codegen's, Relay's). Every hash must be its document's SHA-256."""
        where = f"GATEWAY_TRUSTED_DOCUMENTS ({path})"
        try:
            manifest = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SettingsError(f"{where}: not a readable JSON file: {exc}") from None
        if isinstance(manifest, dict) and isinstance(manifest.get("operations"), list):
            pairs = [(op.get("id"), op.get("body")) for op in manifest["operations"]]
        elif isinstance(manifest, dict):
            pairs = list(manifest.items())
        else:
            raise SettingsError(f"{where}: not a manifest of hash → document")
        by_hash: dict[str, str] = {}
        for digest, body in pairs:
            if not isinstance(digest, str) or not isinstance(body, str):
                raise SettingsError(f"{where}: an entry is not a hash and a document")
            if sha256_of(body) != digest.lower():
                raise SettingsError(f"{where}: {digest[:16]}… is not its document's SHA-256")
            by_hash[digest.lower()] = body
        return cls(by_hash)

    def resolve(self, query: str | None, extensions: Mapping[str, object] | None) -> str:
        digest = persisted_hash(extensions)
        if query is None and digest is not None and digest in self.by_hash:
            return self.by_hash[digest]
        if query is not None and sha256_of(query) in self.by_hash:
            if digest is not None and digest != sha256_of(query):
                raise refusal("provided sha does not match query", "BAD_REQUEST")
            return query
        raise refusal(
            "Only the documents of this gateway's trusted list run; this one is not on it.",
            "PERSISTED_QUERY_NOT_IN_LIST",
        )


class TrustedDocumentsOnly(SchemaExtension):
    """Refuses any document not in the manifest, before it is parsed; names by hash work.

    An error raised from `on_operation` escapes Strawberry's subscription path (the stream
    breaks), so a refused document is swapped for a placeholder of a type the transport
    allows, which is parsed (a few tokens) but never run: the refusal is set as its
    validation result, which every transport reports as a request error.
    """

    def __init__(self, *, documents: TrustedDocuments) -> None:
        self.documents = documents
        self.refused: GraphQLError | None = None

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.query = self.documents.resolve(context.query, context.operation_extensions)
        except GraphQLError as refused:
            self.refused = refused
            allowed = context.allowed_operations
            kind = next(k for k in PLACEHOLDER_ORDER if k in allowed)
            context.query = f"{kind.value} {{ __typename }}"
        yield

    def on_validate(self) -> Iterator[None]:
        # Before the others: a result already set skips the limits and graphql-core's rules.
        if self.refused is not None:
            self.execution_context.pre_execution_errors = [self.refused]
        yield

"""End a request's upstream work with the request."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from gateway.context import Context


class RequestScope(SchemaExtension):
    """Cancels upstream walks still running when the answer is complete.

    A failed sibling field can finish a request while a shared walk (the whole network's
    status pages) is still under way; nothing would read the rest of its pages.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        if isinstance(context, Context):
            context.loaders.cancel_pending()

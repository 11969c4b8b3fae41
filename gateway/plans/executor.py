"""`PlannedExecutor`: graphql-core's executor, with a compiled plan where one exists.

Strawberry accepts an executor class (`execution_context_class`), and graphql-core hands
it the operation, the coerced variables and the context. For a query the compiler models,
the plan runs instead of graphql-core's field-by-field execution; for anything else
graphql-core runs as usual. Everything around execution (parsing, validation, limits,
error codes, extensions) is Strawberry's and the gateway's, on both paths.

Plans are kept per operation node (the document cache keeps the nodes alive, so the same
text reuses them) and per value of the variables `@skip`/`@include` read, in a bounded LRU.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from typing import Any

from graphql import ExecutionResult, OperationDefinitionNode, OperationType
from graphql.execution import Executor
from strawberry.types.arguments import convert_arguments

from gateway.plans.compiler import Compiler, Unsupported, directive_variables
from gateway.plans.nodes import FieldPlan, Plan
from gateway.plans.runner import Execution

MAX_PLANS = 2000
MAX_VARIANTS = 8  # combinations of @skip/@include values planned per operation


class PlanCache:
    def __init__(self) -> None:
        self._plans: OrderedDict[int, tuple[OperationDefinitionNode, dict[Any, Plan | None]]]
        self._plans = OrderedDict()
        self.compiled = 0
        self.fallbacks = 0
        self.enabled = True

    def plan_for(self, executor: Executor[Any]) -> Plan | None:
        operation = executor.operation
        entry = self._plans.get(id(operation))
        if entry is None or entry[0] is not operation:
            entry = (operation, {})
            self._plans[id(operation)] = entry
            while len(self._plans) > MAX_PLANS:
                self._plans.popitem(last=False)
        else:
            self._plans.move_to_end(id(operation))
        variants = entry[1]
        if any(details.variable_signatures for details in executor.fragments.values()):
            return None  # fragment variables (experimental) are not planned
        fragments = {name: details.definition for name, details in executor.fragments.items()}
        coerced = executor.variable_values.coerced
        flags = tuple(
            coerced.get(name) is True for name in directive_variables(operation, fragments)
        )
        if flags not in variants:
            if len(variants) >= MAX_VARIANTS:
                return None
            try:
                variants[flags] = Compiler(executor.schema, fragments, coerced).compile(operation)
                self.compiled += 1
            except Unsupported:
                variants[flags] = None
                self.fallbacks += 1
        return variants[flags]


class PlannedExecutor(Executor[Any]):
    """The executor of one schema (see `planned_executor`)."""

    plans: PlanCache
    strawberry_schema: Any = None  # set once the schema exists

    def __init__(self, *args: Any, operation_extensions: Any = None, **kwargs: Any) -> None:
        # Strawberry hands a custom executor the request's `extensions` too.
        super().__init__(*args, **kwargs)
        self.operation_extensions = operation_extensions

    def execute_operation(self, serially: bool | None = None) -> Any:
        shared = shared_results(self)
        if shared is None:
            return self._execute(serially)
        results, key = shared
        found = results.get(key)
        if found is not None and found[0] is self.operation:
            return found[1]
        outcome = self._execute(serially)
        if not inspect.isawaitable(outcome):
            results[key] = (self.operation, outcome)
            return outcome

        async def remember() -> Any:
            result = await outcome
            results[key] = (self.operation, result)
            return result

        return remember()

    def _execute(self, serially: bool | None) -> Any:
        plan = self.plans.plan_for(self) if self.plans.enabled and not serially else None
        if plan is None:
            return super().execute_operation(serially)
        config = self.strawberry_schema.config
        registry = self.strawberry_schema.schema_converter.scalar_registry

        def convert(raw: dict[str, Any], field: FieldPlan) -> dict[str, Any]:
            assert field.definition is not None
            strawberry_field = field.definition.extensions["strawberry-definition"]
            return convert_arguments(
                raw, strawberry_field.arguments, scalar_registry=registry, config=config
            )

        execution = Execution(
            plan,
            context=self.context_value,
            root_value=self.root_value,
            variables=self.variable_values,
            convert=convert,
        )

        async def run() -> ExecutionResult:
            data = await execution.run()
            return ExecutionResult(data, execution.errors or None)

        return run()


SharedResults = dict[tuple[int, str | None, str], tuple[OperationDefinitionNode, Any]]


def shared_results(
    executor: Executor[Any],
) -> tuple[SharedResults, tuple[int, str | None, str]] | None:
    """Where a subscription event keeps its results, and this subscriber's key, if shared.

    A live event reaches every subscriber of its cohort as one object (`shared_results`
    on it). Subscribers of the same token with the same document and variables would
    compute the same result: the first executes, the rest reuse it. The token is in the
    key, so a result never crosses credentials; the operation node is checked by identity
    (the document cache hands the same text the same node).
    """
    if executor.operation.operation is not OperationType.SUBSCRIPTION:
        return None
    results = getattr(executor.root_value, "shared_results", None)
    if not isinstance(results, dict):
        return None
    loaders = getattr(executor.context_value, "loaders", None)
    token = loaders.caller.bearer if loaders is not None else None
    variables = repr(sorted(executor.variable_values.coerced.items()))
    return results, (id(executor.operation), token, variables)


def planned_executor(*, enabled: bool) -> type[PlannedExecutor]:
    """An executor class with its own plan cache (`enabled=False`: graphql-core only)."""
    plans = PlanCache()
    plans.enabled = enabled
    return type("PlannedExecutor", (PlannedExecutor,), {"plans": plans})

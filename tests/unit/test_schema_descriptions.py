"""Every element of the schema explains itself in GraphiQL's docs explorer."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    specified_scalar_types,
)

from gateway.schema.build import build_schema

# Apollo Federation machinery that Strawberry generates when it builds the schema: the
# router-facing `_entities` / `_service` root fields and the spec's own types. Strawberry
# offers no way to describe them (they are not declared in our code), their meaning is
# fixed by the federation spec, and routers, not people, read them.
FEDERATION_TYPES = frozenset(
    {"_Any", "_Entity", "_Service", "_FieldSet", "link__Import", "link__Purpose"}
)
FEDERATION_FIELDS = frozenset({"Query._entities", "Query._service"})


def undescribed(schema: GraphQLSchema) -> list[str]:
    """Every type, field, argument, input field and enum value without a description."""
    missing: list[str] = []

    def check(name: str, description: str | None) -> None:
        if not (description or "").strip():
            missing.append(name)

    for name, type_ in schema.type_map.items():
        if name.startswith("__") or name in specified_scalar_types or name in FEDERATION_TYPES:
            continue
        check(name, type_.description)
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in type_.fields.items():
                path = f"{name}.{field_name}"
                if path in FEDERATION_FIELDS:
                    continue
                check(path, field.description)
                for arg_name, arg in field.args.items():
                    check(f"{path}({arg_name})", arg.description)
        elif isinstance(type_, GraphQLInputObjectType):
            for field_name, input_field in type_.fields.items():
                check(f"{name}.{field_name}", input_field.description)
        elif isinstance(type_, GraphQLEnumType):
            for value_name, value in type_.values.items():
                check(f"{name}.{value_name}", value.description)
    return missing


def test_every_schema_element_has_a_description() -> None:
    missing = undescribed(build_schema().graphql_schema)
    assert not missing, f"{len(missing)} schema elements lack a description:\n" + "\n".join(missing)


def test_the_check_reports_each_kind_of_offender() -> None:
    """A fresh schema with descriptions taken away: each one is named in the report."""
    schema = build_schema().graphql_schema
    location = schema.get_type("Location")
    status = schema.get_type("EvseStatus")
    filter_ = schema.get_type("LocationFilter")
    assert isinstance(location, GraphQLObjectType)
    assert isinstance(status, GraphQLEnumType)
    assert isinstance(filter_, GraphQLInputObjectType)
    location.description = None
    location.fields["name"].description = ""
    location.fields["transactions"].args["first"].description = None
    status.values["FAULTED"].description = None
    filter_.fields["city"].description = "  "
    assert sorted(undescribed(schema)) == [
        "EvseStatus.FAULTED",
        "Location",
        "Location.name",
        "Location.transactions(first)",
        "LocationFilter.city",
    ]

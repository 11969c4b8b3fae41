"""Location writes: checked before any upstream call, sent once, never retried."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import BadUserInput
from gateway.schema.costs import LOCATION_BY_ID, Charge, Cost, priced
from gateway.schema.location import Location
from gateway.schema.location_input import CreateLocationInput, UpdateLocationInput, checked
from gateway.upstream.models import LocationInput

Ctx = Info[Context, None]
WRITE = Cost(lambda level, ask: Charge(1))  # one POST or PATCH, never retried


@strawberry.type(description="What `createLocation` answers.")
class CreateLocationPayload:
    id: strawberry.ID = strawberry.field(description="The new location's ChargEye id.")

    @strawberry.field(
        description="The new location as the upstream now returns it.",
        metadata=priced(LOCATION_BY_ID),
    )
    async def location(self, info: Ctx) -> Location | None:
        return await Location.load(info, str(self.id))


@strawberry.type(description="What `updateLocation` answers.")
class UpdateLocationPayload:
    id: strawberry.ID = strawberry.field(description="The changed location's ChargEye id.")

    @strawberry.field(
        description="The location as the upstream now returns it.",
        metadata=priced(LOCATION_BY_ID),
    )
    async def location(self, info: Ctx) -> Location | None:
        return await Location.load(info, str(self.id))


@strawberry.type(
    description=(
        "Writes to the caller's locations. Payloads are nullable, so an earlier mutation's "
        "result still arrives when a later one in the same document fails."
    )
)
class Mutation:
    """Payloads are nullable: when a later mutation of the same document fails, the
    result of an earlier one (a new location's id) still reaches the client."""

    @strawberry.mutation(
        description="Create a location. Sent upstream once, never retried.",
        metadata=priced(WRITE),
    )
    async def create_location(
        self,
        info: Ctx,
        input: Annotated[
            CreateLocationInput,
            strawberry.argument(description="The new site's fields; all are checked first."),
        ],
        idempotency_key: Annotated[
            str | None,
            strawberry.argument(
                description=(
                    "Makes retries safe: a create with a key this caller used before "
                    "(within `GATEWAY_IDEMPOTENCY_WINDOW_S`, a day by default) answers the "
                    "first result instead of making a second location."
                )
            ),
        ] = None,
    ) -> CreateLocationPayload | None:
        fields = checked(input, creating=True)
        station_id = str(input.station_id) if input.station_id is not None else None
        new_id = await info.context.loaders.writer.create(
            LocationInput(**fields),
            copy_access_of=station_id,
            idempotency_key=idempotency_key,
        )
        return CreateLocationPayload(id=strawberry.ID(new_id))

    @strawberry.mutation(
        description="Change a location. Sent upstream once, never retried.",
        metadata=priced(WRITE),
    )
    async def update_location(
        self,
        info: Ctx,
        id: Annotated[
            strawberry.ID, strawberry.argument(description="The location's ChargEye id.")
        ],
        input: Annotated[
            UpdateLocationInput,
            strawberry.argument(description="The fields to change; give at least one."),
        ],
    ) -> UpdateLocationPayload | None:
        if not str(id).strip():
            raise BadUserInput("`id` must not be empty.", field="id")
        fields = checked(input, creating=False)
        if not fields:
            raise BadUserInput("`input` changes nothing: give at least one field.", field="input")
        await info.context.loaders.writer.update(str(id), LocationInput(**fields))
        return UpdateLocationPayload(id=id)

"""Handlers of the location operations: list, create, get, update, and a site's stations.

None takes query parameters. The reads ignore any they are sent, because the contract
gives them no 400 answer; create and update refuse them.
"""

from __future__ import annotations

from starlette.responses import Response

from . import wire
from .endpoint import ApiError, Call, json_response
from .location_input import decode, parse_create, parse_update
from .records import Location


def _visible_location(call: Call) -> Location:
    """The location named in the path; unknown and invisible ones alike answer 404."""
    uid = call.request.path_params["locationUid"]
    location = call.state.network.visible_location(call.tenant_id, uid)
    if location is None:
        raise ApiError(404, f"Location '{uid}' not found")
    return location


async def list_locations(call: Call) -> Response:
    locations = call.state.network.visible_locations(call.tenant_id)
    rows = [wire.location_row(location, call.tenant_id) for location in locations]
    return json_response({"locations": rows})


async def create_location(call: Call) -> Response:
    call.query()
    fields, station_id = parse_create(decode(await call.request.body()))
    try:
        location = call.state.network.create_location(call.tenant_id, fields, station_id)
    except KeyError:
        raise ApiError(400, f"Unknown stationId '{station_id}'") from None
    return json_response({"id": location.uid, "success": True})


async def get_location(call: Call) -> Response:
    location = _visible_location(call)
    return json_response({"location": wire.location_row(location, call.tenant_id)})


async def update_location(call: Call) -> Response:
    call.query()
    location = _visible_location(call)
    changes = parse_update(decode(await call.request.body()), location.uid)
    call.state.network.update_location(call.tenant_id, location.uid, changes)
    return json_response({"success": True})


async def location_stations(call: Call) -> Response:
    location = _visible_location(call)
    stations = call.state.network.stations_at(location.uid)
    return json_response(
        {"stations": [wire.station_row(s, location, call.tenant_id) for s in stations]}
    )

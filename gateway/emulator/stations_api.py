"""Handler of the Charging Stations API's `GET /stations`: live station state."""

from __future__ import annotations

from starlette.responses import Response

from . import wire
from .endpoint import Call, json_response


async def list_stations(call: Call) -> Response:
    """Visible stations, filtered by `locationUid` and/or `stationIds` (both combine).

    Unknown or invisible ids are simply absent from the answer, as in any list filter.
    """
    query = call.query("locationUid", "stationIds")
    location_uid = query.text("locationUid")
    station_ids = query.array("stationIds")
    network = call.state.network
    stations = network.visible_stations(
        call.tenant_id, None if location_uid is None else {location_uid}, station_ids
    )
    rows = []
    for station in stations:
        location = network.location(station.location_uid)
        assert location is not None  # visible stations sit at visible locations
        connectors = [
            (evse, network.latest_transaction(station.station_id, evse.evse_id))
            for evse in network.evses_of(station.station_id)
        ]
        rows.append(wire.station_info(station, location, connectors, call.tenant_id))
    return json_response({"stations": rows})

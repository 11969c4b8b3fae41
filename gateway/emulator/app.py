"""`create_emulator_app`: the Starlette app that plays ChargEye on the far side of the wire."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import auth_api, locations_api, network_api, stations_api, transactions_api
from . import operations as ops
from .admin import ADMIN_ROUTES
from .config import EmulatorConfig
from .endpoint import Handler, emulator_state, error_response, operation
from .state import EmulatorState
from .ticker import ticking

# Bodies are small location objects; anything bigger is a client bug.
MAX_BODY_BYTES = 1 << 20


def _get(path: str, operation_id: str, handler: Handler) -> Route:
    return Route(path, operation(operation_id, handler), methods=["GET"])


# The literal /locations/<view> paths come before the /locations/{locationUid} template.
API_ROUTES: list[BaseRoute] = [
    Route(
        "/auth/refreshAccessToken",
        operation(ops.REFRESH_ACCESS_TOKEN, auth_api.refresh_access_token, refresh=True),
        methods=["GET"],
    ),
    _get("/locations/networkStatus", ops.GET_NETWORK_STATUS, network_api.network_status),
    _get(
        "/locations/currentlyUsedPower",
        ops.GET_CURRENTLY_USED_POWER,
        network_api.currently_used_power,
    ),
    _get(
        "/locations/networkHardwareErrors",
        ops.GET_NETWORK_HARDWARE_ERRORS,
        network_api.hardware_errors,
    ),
    _get(
        "/locations/problematicSessions",
        ops.GET_PROBLEMATIC_SESSIONS,
        network_api.problematic_sessions,
    ),
    _get(
        "/locations/networkTransactions",
        ops.GET_NETWORK_TRANSACTIONS,
        network_api.network_transactions,
    ),
    _get("/locations", ops.GET_LOCATIONS, locations_api.list_locations),
    Route(
        "/locations", operation(ops.POST_LOCATION, locations_api.create_location), methods=["POST"]
    ),
    _get("/locations/{locationUid}", ops.GET_LOCATION, locations_api.get_location),
    Route(
        "/locations/{locationUid}",
        operation(ops.PATCH_LOCATION, locations_api.update_location),
        methods=["PATCH"],
    ),
    _get(
        "/locations/{locationUid}/stations",
        ops.GET_LOCATION_STATIONS,
        locations_api.location_stations,
    ),
    _get("/stations", ops.LIST_STATIONS, stations_api.list_stations),
    _get(
        "/chargingStations/{stationId}/transactions",
        ops.GET_TRANSACTIONS,
        transactions_api.station_transactions,
    ),
    _get("/transactions/{txId}", ops.GET_TRANSACTION, transactions_api.get_transaction),
]


async def _http_error(request: Request, exc: Exception) -> Response:
    """Routing errors (unknown path, wrong method) in the API's JSON error shape."""
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, exc.detail, dict(exc.headers or {}))


@asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    """The background ticker, when the config asks for one (see ticker.py)."""
    async with ticking(emulator_state(app)):
        yield


def create_emulator_app(config: EmulatorConfig | None = None) -> Starlette:
    """A fresh emulator; its state is `app.state.emulator` (see `emulator_state`)."""
    config = config or EmulatorConfig()
    routes = API_ROUTES + (ADMIN_ROUTES if config.admin else [])
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error},
        max_body_size=MAX_BODY_BYTES,
        lifespan=_lifespan,
    )
    app.state.emulator = EmulatorState(config)
    return app

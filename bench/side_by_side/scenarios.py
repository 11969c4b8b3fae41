"""The scenarios: one GraphQL document per gateway, and what its answer must contain.

Our schema is `schema.graphql`. The peer's is what Mesh generates from the contract: one
root field per operation, each answering a union of the 200 body and `ErrorBody`, with no
links between operations. Where the peer can ask for the same data, its document does, and
both answers are reduced to one canonical form and compared with what the emulator's REST
API shows (`Reference`). Where it cannot, the scenario is ours only, with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.side_by_side.emulator import WALK_PAGES, Reference, Station

Data = dict[str, Any]
Canonical = Callable[[list[Data]], object]


def _no_variables(reference: Reference) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Document:
    """One gateway's way to ask for a scenario's data."""

    query: str
    canonical: Canonical
    """The data of every page of one unit -> the form compared with `Scenario.expected`."""
    variables: Callable[[Reference], dict[str, Any]] = _no_variables
    follow: Callable[[Data], dict[str, Any]] | None = None
    """For a walk: the next page's variables, from this page's data."""


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    expected: Callable[[Reference], object]
    ours: Document
    peer: Document | None
    peer_na: str = ""
    """Why the peer has no document (shown in the table)."""
    pages: int = 1
    """Requests in one unit of work (a walk's pages); rates and costs are per unit."""
    concurrency: tuple[int, ...] | None = None
    """Fixed client counts, instead of the run's."""


# --- canonical forms ------------------------------------------------------------------------


def _status(value: str | None) -> str:
    """`AuthorizedNotPluggedIn` (REST, peer) and `AUTHORIZED_NOT_PLUGGED_IN` (ours) alike."""
    return re.sub(r"[^A-Z]", "", (value or "").upper())


def _stations(rows: list[Data] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((row["stationId"], row.get("name") or "") for row in rows or ()))


def _ref_stations(stations: tuple[Station, ...]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((s.station_id, s.name) for s in stations))


def _peer_member(data: Data, field: str, typename: str) -> Data:
    """The 200 member of a Mesh response union; an ErrorBody fails the check."""
    value = data[field]
    if value.get("__typename") != typename:
        raise ValueError(f"{field} answered {value.get('__typename')}: {value.get('message')}")
    member: Data = value
    return member


def _complete(page: Data) -> None:
    """A peer answer that is one upstream page of several is not the whole list."""
    if page.get("paginationToken"):
        raise ValueError("the answer is one upstream page of several (paginationToken set)")


# S1: every location, id and name.
def _expected_locations(ref: Reference) -> object:
    return tuple(sorted(ref.locations.items()))


def _ours_locations(pages: list[Data]) -> object:
    nodes = pages[0]["locations"]["nodes"]
    return tuple(sorted((n["id"], n.get("name") or "") for n in nodes))


def _peer_locations(pages: list[Data]) -> object:
    rows = _peer_member(pages[0], "getLocations", "ListLocationsResponse")["locations"]
    return tuple(sorted((r["id"], r.get("name") or "") for r in rows))


# S2: every location with its stations.
def _expected_with_stations(ref: Reference) -> object:
    return tuple(
        sorted(
            (uid, name, _ref_stations(ref.stations.get(uid, ())))
            for uid, name in ref.locations.items()
        )
    )


def _ours_with_stations(pages: list[Data]) -> object:
    nodes = pages[0]["locations"]["nodes"]
    return tuple(sorted((n["id"], n.get("name") or "", _stations(n["stations"])) for n in nodes))


def _peer_with_stations(pages: list[Data]) -> object:
    page = _peer_member(pages[0], "getNetworkStatus", "NetworkStatusPage")
    _complete(page)
    rows = page["locations"]
    return tuple(sorted((r["id"], r.get("name") or "", _stations(r["stations"])) for r in rows))


# S3: one location by id, with its stations.
def _one_id(ref: Reference) -> dict[str, Any]:
    return {"id": min(ref.locations)}


def _expected_one(ref: Reference) -> object:
    uid = min(ref.locations)
    return (uid, ref.locations[uid], _ref_stations(ref.stations.get(uid, ())))


def _ours_one(pages: list[Data]) -> object:
    loc = pages[0]["location"]
    return (loc["id"], loc.get("name") or "", _stations(loc["stations"]))


def _peer_one(pages: list[Data]) -> object:
    loc = _peer_member(pages[0], "getLocation", "GetLocationResponse")["location"]
    listed = _peer_member(pages[0], "getLocationStations", "ListLocationStationsResponse")
    return (loc["id"], loc.get("name") or "", _stations(listed["stations"]))


# S4 and S7: the dashboard, summary counts plus the tree down to EVSE status.
def _expected_dashboard(ref: Reference) -> object:
    stations = [s for uid in ref.locations for s in ref.stations.get(uid, ())]
    tree = tuple(
        sorted(
            (
                uid,
                tuple(
                    sorted(
                        (s.station_id, tuple(sorted((e, _status(st)) for e, st, _ in s.evses)))
                        for s in ref.stations.get(uid, ())
                    )
                ),
            )
            for uid in ref.locations
        )
    )
    counts = (len(ref.locations), len(stations), sum(len(s.evses) for s in stations))
    return counts, tree


def _ours_dashboard(pages: list[Data]) -> object:
    summary = pages[0]["networkSummary"]
    tree = tuple(
        sorted(
            (
                node["id"],
                tuple(
                    sorted(
                        (
                            st["stationId"],
                            tuple(sorted((e["evseId"], _status(e["status"])) for e in st["evses"])),
                        )
                        for st in node["stations"] or ()
                    )
                ),
            )
            for node in pages[0]["locations"]["nodes"]
        )
    )
    counts = (summary["locationCount"], summary["stationCount"], summary["evseCount"])
    return counts, tree


# S5: down to each EVSE's current transaction.
def _expected_current(ref: Reference) -> object:
    return tuple(
        sorted(
            (uid, s.station_id, evse_id, tx_id)
            for uid in ref.locations
            for s in ref.stations.get(uid, ())
            for evse_id, _, tx_id in s.evses
        )
    )


def _ours_current(pages: list[Data]) -> object:
    return tuple(
        sorted(
            (
                node["id"],
                st["stationId"],
                e["evseId"],
                e["currentTransaction"]["txId"] if e["currentTransaction"] else None,
            )
            for node in pages[0]["locations"]["nodes"]
            for st in node["stations"] or ()
            for e in st["evses"] or ()
        )
    )


# S6: three pages of the network's transactions, in order.
def _expected_walk(ref: Reference) -> object:
    return tuple((tx, _status(status)) for tx, status in ref.transactions)


def _ours_walk(pages: list[Data]) -> object:
    return tuple(
        (n["txId"], _status(n["status"])) for page in pages for n in page["transactions"]["nodes"]
    )


def _ours_next(data: Data) -> dict[str, Any]:
    return {"after": data["transactions"]["pageInfo"]["endCursor"]}


def _peer_walk(pages: list[Data]) -> object:
    return tuple(
        (row["txId"], _status(row["status"]))
        for page in pages
        for row in _peer_member(page, "getNetworkTransactions", "NetworkTransactionsPage")[
            "transactions"
        ]
    )


def _peer_next(data: Data) -> dict[str, Any]:
    return {"token": data["getNetworkTransactions"]["paginationToken"]}


# --- the documents ---------------------------------------------------------------------------

TYPENAME = "{ __typename }"

OURS_LOCATIONS = "{ locations(first: 100) { nodes { id name } } }"
PEER_LOCATIONS = """{
  getLocations { __typename ... on ListLocationsResponse { locations { id name } } }
}"""

OURS_WITH_STATIONS = "{ locations(first: 100) { nodes { id name stations { stationId name } } } }"
PEER_WITH_STATIONS = """{
  getNetworkStatus {
    __typename
    ... on NetworkStatusPage { paginationToken locations { id name stations { stationId name } } }
  }
}"""

OURS_ONE = "query One($id: ID!) { location(id: $id) { id name stations { stationId name } } }"
PEER_ONE = """query One($id: NonEmptyString!) {
  getLocation(locationUid: $id) {
    __typename ... on GetLocationResponse { location { id name } }
  }
  getLocationStations(locationUid: $id) {
    __typename ... on ListLocationStationsResponse { stations { stationId name } }
  }
}"""

OURS_DASHBOARD = """query Dashboard {
  networkSummary {
    locationCount stationCount evseCount faultedEvseCount activeSessions
    evsesByStatus { status count }
  }
  locations(first: 100) {
    nodes { id name stations { stationId name evses { evseId status } } }
  }
}"""

OURS_CURRENT = """query Current {
  locations(first: 100) {
    nodes {
      id
      stations {
        stationId
        evses { evseId status currentTransaction { txId status powerKw soc } }
      }
    }
  }
}"""


def ours_walk(page_size: int) -> str:
    return f"""query Walk($after: String) {{
  transactions(first: {page_size}, after: $after) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ txId status }}
  }}
}}"""


PEER_WALK = """query Walk($token: NonEmptyString) {
  getNetworkTransactions(paginationToken: $token) {
    __typename
    ... on NetworkTransactionsPage { paginationToken transactions { txId status } }
  }
}"""

NO_SUMMARY = (
    "networkSummary is computed by our gateway (counts over every status page); the "
    "generated schema has only the REST operations"
)
NO_CURRENT_TX = (
    "the current transaction's details come from the Charging Stations API, which the "
    "peer's supergraph (Locations contract only) does not link to an EVSE"
)


def all_scenarios(page_size: int) -> list[Scenario]:
    """Every scenario; the walk asks for GraphQL pages of the emulator's page size, so each
    GraphQL page is one upstream page on both sides."""

    def typename(pages: list[Data]) -> object:
        return pages[0]["__typename"]

    return [
        Scenario(
            "S0",
            "{ __typename }",
            lambda ref: "Query",
            Document(TYPENAME, typename),
            Document(TYPENAME, typename),
        ),
        Scenario(
            "S1",
            "all locations (id, name)",
            _expected_locations,
            Document(OURS_LOCATIONS, _ours_locations),
            Document(PEER_LOCATIONS, _peer_locations),
        ),
        Scenario(
            "S2",
            "locations with stations",
            _expected_with_stations,
            Document(OURS_WITH_STATIONS, _ours_with_stations),
            Document(PEER_WITH_STATIONS, _peer_with_stations),
        ),
        Scenario(
            "S3",
            "one location by id with its stations",
            _expected_one,
            Document(OURS_ONE, _ours_one, _one_id),
            Document(PEER_ONE, _peer_one, _one_id),
        ),
        Scenario(
            "S4",
            "dashboard: networkSummary + locations > stations > EVSE status",
            _expected_dashboard,
            Document(OURS_DASHBOARD, _ours_dashboard),
            None,
            NO_SUMMARY,
        ),
        Scenario(
            "S5",
            "locations(first: 100) > stations > EVSEs > current transaction",
            _expected_current,
            Document(OURS_CURRENT, _ours_current),
            None,
            NO_CURRENT_TX,
        ),
        Scenario(
            "S6",
            f"transaction walk, {WALK_PAGES} pages of {page_size} (per walk)",
            _expected_walk,
            Document(ours_walk(page_size), _ours_walk, follow=_ours_next),
            Document(PEER_WALK, _peer_walk, follow=_peer_next),
            pages=WALK_PAGES,
        ),
        Scenario(
            "S7",
            "50 identical concurrent dashboard cards (the S4 query)",
            _expected_dashboard,
            Document(OURS_DASHBOARD, _ours_dashboard),
            None,
            NO_SUMMARY,
            concurrency=(50,),
        ),
    ]

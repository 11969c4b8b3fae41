"""Transactions: the network view (paged), an EVSE's sessions from its station's list in
the Transactions API (paged, filtered to the EVSE), and single transactions by id.
"""

from __future__ import annotations

from operator import attrgetter

from gateway.cursors import Position
from gateway.errors import NotFound
from gateway.loaders.batch import RequestLoader, each
from gateway.loaders.caller import Caller
from gateway.loaders.limits import Limits
from gateway.loaders.network_status import NetworkStatusLoaders
from gateway.loaders.pages import PagedList
from gateway.loaders.queries import EvseTransactionQuery, StationTransactionPages, TransactionQuery
from gateway.loaders.scope import RequestScope
from gateway.loaders.stations import StationLoaders
from gateway.paging import Slice
from gateway.upstream.models import NetworkEvseStatus, NetworkStatusTransaction, TransactionRecord
from gateway.upstream.pages import Page


class TransactionLoaders:
    def __init__(
        self,
        caller: Caller,
        scope: RequestScope,
        limits: Limits,
        network_status: NetworkStatusLoaders,
        stations: StationLoaders,
    ) -> None:
        self._caller = caller
        self._status = network_status
        self._stations = stations
        self._network: PagedList[TransactionQuery, NetworkStatusTransaction] = PagedList(
            self._network_page, scope, limits, row_key=attrgetter("tx_id")
        )
        self._station: PagedList[StationTransactionPages, TransactionRecord] = PagedList(
            self._station_page, scope, limits, row_key=attrgetter("tx_id")
        )
        self._by_id: RequestLoader[str, TransactionRecord] = RequestLoader(
            each(self._fetch_one), scope
        )

    async def network(
        self, query: TransactionQuery, start: Position, first: int
    ) -> Slice[NetworkStatusTransaction]:
        """Network transactions, newest first."""
        return await self._network.slice(query, start, first)

    async def of_evse(
        self, query: EvseTransactionQuery, start: Position, first: int
    ) -> Slice[TransactionRecord]:
        """An EVSE's sessions, newest first.

        The network view cannot serve this: its rows name no station, and an EVSE id is
        unique only within its station. The station's list is filtered to the EVSE, so a
        page may need several upstream pages (at most `Limits.filtered_pages`).
        """
        return await self._station.slice(
            query.station_pages,
            start,
            first,
            keep=query.keeps,
        )

    async def get(self, tx_id: str) -> TransactionRecord:
        """One transaction from the Transactions API (no multi-id call: one per id)."""
        return await self._by_id.load(tx_id)

    async def evse_of(
        self, location_uid: str, evse_id: str, tx_id: str
    ) -> tuple[str, NetworkEvseStatus]:
        """The EVSE a network transaction ran on, with its station; its rows name none.

        The location's status tree answers when the EVSE id is unique at the location or
        the EVSE still shows the session; otherwise the Transactions API names the station.
        """
        tree = await self._status.of(location_uid)
        candidates = [
            (station.station_id, evse)
            for station in tree.stations
            for evse in station.evses
            if evse.evse_id == evse_id
        ]
        running = [(sid, evse) for sid, evse in candidates if evse.tx_id == tx_id]
        if len(running) == 1:
            return running[0]
        if len(candidates) == 1:
            return candidates[0]
        detail = await self.get(tx_id)
        if detail.station_id is None:
            raise NotFound("EVSE", f"{location_uid}/{evse_id}")
        return detail.station_id, await self._stations.evse((detail.station_id, evse_id))

    async def _network_page(
        self, query: TransactionQuery, token: str | None
    ) -> Page[NetworkStatusTransaction]:
        caller = self._caller
        return await caller.call(
            caller.upstream.network_transactions_page,
            location_uids=query.location_uids,
            start=query.start,
            end=query.end,
            classifications=query.classifications,
            page_token=token,
        )

    async def _station_page(
        self, query: StationTransactionPages, token: str | None
    ) -> Page[TransactionRecord]:
        caller = self._caller
        return await caller.call(
            caller.upstream.station_transactions_page,
            query.station_id,
            start=query.start,
            end=query.end,
            page_token=token,
        )

    async def _fetch_one(self, tx_id: str) -> TransactionRecord:
        caller = self._caller
        return await caller.call(caller.upstream.get_transaction, tx_id)

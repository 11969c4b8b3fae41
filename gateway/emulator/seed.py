"""The seeded demo network: who the tenants are, who shares which site, and the entry point
that draws everything else (seed_sites, seed_activity) from one `random.Random(seed)`."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from .catalog import SiteKind
from .records import (
    Evse,
    HardwareError,
    Location,
    ProblematicSession,
    Station,
    Tenancy,
    Tenant,
    Transaction,
)
from .seed_activity import build_activity
from .seed_sites import build_sites
from .session_model import Pools

CPO = Tenant("tnt-voltra", "Voltra Charging Oy", "cpo")
EMSP = Tenant("tnt-nordlink", "NordLink eMobility AB", "emsp")
MAINTENANCE = Tenant("tnt-servicegrid", "ServiceGrid Maintenance Oy", "maintenance")
TENANTS = (CPO, EMSP, MAINTENANCE)

# Who reads each demo site (A = the CPO, B = the eMSP partner, C = the maintenance firm).
# B-only sites are the partner's own small network, operated by itself.
_SHARING = ("A",) * 10 + ("AB",) * 8 + ("AC",) * 6 + ("ABC",) * 3 + ("B",) * 3


@dataclass(frozen=True, slots=True)
class NetworkSeed:
    """Everything the seed decides, immutable, so emulators can share one copy."""

    seed: int
    now: datetime
    tenants: tuple[Tenant, ...]
    locations: tuple[Location, ...]
    stations: tuple[Station, ...]
    evses: tuple[Evse, ...]
    transactions: tuple[Transaction, ...]  # newest first
    sessions: tuple[ProblematicSession, ...]  # newest first
    hardware_errors: tuple[HardwareError, ...]  # newest first
    site_kinds: dict[str, SiteKind]  # by location uid: how busy a site is, fleet or not
    pools: Pools  # vehicles, tokens and error definitions, for sessions drawn later


def _tenancy(sharing: str) -> Tenancy:
    if sharing == "B":
        return Tenancy(cpo=EMSP.id, emsp=EMSP.id, maintenance=None, ids=(EMSP.id,))
    emsp = EMSP.id if "B" in sharing else CPO.id
    maintenance = MAINTENANCE.id if "C" in sharing else None
    ids = tuple(dict.fromkeys(t for t in (CPO.id, emsp, maintenance) if t is not None))
    return Tenancy(cpo=CPO.id, emsp=emsp, maintenance=maintenance, ids=ids)


@lru_cache(maxsize=16)
def build_seed(seed: int, now: datetime) -> NetworkSeed:
    """Draw the demo network; the same seed and anchor always give the same network."""
    rng = random.Random(seed)
    sharing = list(_SHARING)
    rng.shuffle(sharing)
    names = {tenant.id: tenant.name for tenant in TENANTS}
    sites = build_sites(rng, now, [_tenancy(s) for s in sharing], names)
    activity = build_activity(rng, now, sites)
    return NetworkSeed(
        seed=seed,
        now=now,
        tenants=TENANTS,
        locations=tuple(site.location for site in sites.sites),
        stations=sites.stations,
        evses=activity.evses,
        transactions=activity.transactions,
        sessions=activity.sessions,
        hardware_errors=activity.hardware_errors,
        site_kinds={site.location.uid: site.kind for site in sites.sites},
        pools=activity.pools,
    )

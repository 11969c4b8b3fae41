"""GraphQL enums: the upstream's open enums, each with an `UNKNOWN` member.

`strawberry.enum` marks the upstream classes in place, so schema modules annotate with
the same classes the client decodes into; import them from here so the marking is done.
"""

from __future__ import annotations

import strawberry

from gateway.upstream.models.enums import (
    Access,
    ApplicationType,
    EvseStatus,
    EvseType,
    Facility,
    OnlineStatus,
    ParkingType,
    StationOperationalStatus,
    StationStatus,
    TechnicalFailClassification,
    TxStatus,
)

strawberry.enum(Access, description="Who may charge at a station.")
strawberry.enum(ApplicationType, description="Intended use of a site.")
strawberry.enum(Facility, description="Facility a site belongs to (OCPI).")
strawberry.enum(ParkingType, description="Kind of parking place (OCPI).")
strawberry.enum(StationOperationalStatus, description="Operational state set by the operator.")
strawberry.enum(EvseType, description="Connector standard of an EVSE.")
strawberry.enum(EvseStatus, description="Live state of an EVSE.")
strawberry.enum(TxStatus, description="Phase of a charging transaction.")
strawberry.enum(TechnicalFailClassification, description="Verdict on how a session went.")
strawberry.enum(OnlineStatus, description="Whether the OCPP link is up.")
strawberry.enum(StationStatus, description="OCPP availability of a station.")

__all__ = [
    "Access",
    "ApplicationType",
    "EvseStatus",
    "EvseType",
    "Facility",
    "OnlineStatus",
    "ParkingType",
    "StationOperationalStatus",
    "StationStatus",
    "TechnicalFailClassification",
    "TxStatus",
]

"""Which `Station` fields each upstream source serves (GraphQL names).

Shared by the resolvers, which pick the cheaper source for a selection, and by the cost
estimate, which charges for the sources a selection needs.
"""

from __future__ import annotations

from typing import Final

# Served by the live network status view, batched across locations.
LIVE_FIELDS: Final = frozenset({"access", "powerModulePowerSumKw", "evses"})
# Served only by GET /locations/{uid}/stations: one call per location.
INVENTORY_FIELDS: Final = frozenset(
    {
        "model", "vendorName", "firmwareVersion", "maxPowerKw", "operationalStatus",
        "classification", "manufacturingInfo", "customer", "customerSuppliedId",
        "commissioningRequired", "groupPath", "licenseId", "licenseTenantId", "notes",
        "operator", "stationCapabilities", "labels", "tenantIdCPO", "tenantIdEMSP",
        "tenantIdMaintenance", "tenantIds",
    }
)  # fmt: skip

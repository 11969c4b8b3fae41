"""`DemoGuide`: what GraphiQL may teach when the gateway runs in front of its own emulator.

Only `python -m gateway demo` builds one, from the emulator it started, and hands it to
`create_app`: a gateway serving a real upstream has no tokens to offer and never guesses
that it is a demo from its settings.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

# The README's three example queries, verbatim (tests/http/test_graphiql.py compares them),
# opened as GraphiQL tabs. Kept here, not read from README.md, which an installed package
# or the Docker image may not carry.
EXAMPLE_QUERIES: tuple[str, ...] = (
    """\
query Dashboard {
  networkSummary {
    locationCount stationCount evseCount faultedEvseCount activeSessions currentPowerKw
    evsesByStatus { status count }
  }
  locations(first: 10) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id name city
      currentPower { currentPowerKw sessionCount }
      stations {
        stationId name access
        evses {
          evseId name type status maxPowerKw
          currentTransaction { txId status powerKw soc startTime }
        }
      }
    }
  }
}
""",
    """\
query FailedSessions($after: String) {
  transactions(
    first: 20
    after: $after
    filter: { technicalFailClassifications: [HANDSHAKE_FAIL, ABRUPT_STOP, LOW_POWER] }
  ) {
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        txId status technicalFailClassification startTime endTime powerKw soc
        evIdentify { displayName }
        location { name city }
      }
    }
  }
}
""",
    """\
query Problems {
  problematicSessions(first: 5) {
    nodes {
      alert status startTime evName
      transaction { txId powerKw soc socStart }
      evse {
        stationId evseId name type status
        station { name model firmwareVersion operationalStatus }
      }
      location { name address city }
    }
  }
}
""",
)


# The README's subscription (its Subscriptions section), verbatim too: the Live tab. The
# demo's emulator steps its clock every 2 s, so events keep coming after the initial ones.
LIVE_EXAMPLE = """\
subscription Live {
  evseStatusChanges(includeInitial: true) {
    previousStatus status previousTxId txId seenAt initial
    evse { evseId station { name } }
  }
}
"""


@dataclass(frozen=True)
class DemoTenant:
    """One tenant of the demo network and the access token its emulator issued."""

    name: str
    id: str
    token: str = field(repr=False)


@dataclass(frozen=True)
class DemoGuide:
    """The demo's tenants, in the order GraphiQL offers them (the first one is preloaded)."""

    tenants: tuple[DemoTenant, ...]

    @property
    def boot_id(self) -> str:
        """Names this emulator boot: its tokens are new each boot, so a digest of them is.

        GraphiQL keeps its tabs (and their headers) in the browser under this name, so a
        page of the next boot starts from fresh tabs instead of replaying a dead token.
        """
        digest = hashlib.sha256("\n".join(t.token for t in self.tenants).encode())
        return digest.hexdigest()[:12]

    def authorization(self, tenant: DemoTenant) -> str:
        """The header editor's text for `tenant`."""
        return '{\n  "Authorization": "Bearer ' + tenant.token + '"\n}'

    def tabs(self) -> list[dict[str, str]]:
        """GraphiQL's `defaultTabs`: each example query, then the Live subscription, under
        the first tenant's token."""
        headers = self.authorization(self.tenants[0]) if self.tenants else ""
        examples = (*EXAMPLE_QUERIES, LIVE_EXAMPLE)
        return [{"query": query, "headers": headers} for query in examples]

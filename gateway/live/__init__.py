"""Live data: GraphQL subscriptions fed by one upstream poll per credential and view.

cohorts.py     one poll loop per (credential digest, view), over its subscribers' filters
feeds.py       the views polled (status, power, errors) and what one poll hands on
snapshots.py   typed records of what a poll saw
diff.py        pure diffs between two snapshots
subscriber.py  a subscriber's bounded, coalescing queue of events
watch.py       the latest power from the shared power poll, for summaries
policy.py      intervals with jitter, backoff, Retry-After
hub.py         `LiveHub`, what the subscription resolvers ask
"""

from gateway.live.hub import LiveHub, LiveLimits

__all__ = ["LiveHub", "LiveLimits"]

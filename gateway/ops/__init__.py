"""Running the gateway for real: health and readiness, metrics, request logs, tracing."""

"""The HTTP surface of the gateway: GraphQL-over-HTTP, credentials, CORS, compression."""

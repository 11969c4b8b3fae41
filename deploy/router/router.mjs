// An Apollo Federation 2 router: @apollo/gateway composes the subgraphs named in
// ROUTER_SUBGRAPHS (by introspecting their `_service { sdl }`) and @apollo/server serves the
// supergraph. Each request's Authorization and X-Request-Id headers go on to every subgraph,
// so the ChargEye gateway still calls its upstream with the caller's own token.
//
//   ROUTER_SUBGRAPHS  name=url pairs, comma-separated (required),
//                     e.g. chargeye=http://gateway:8000/graphql,parking=http://parking:4001/
//   ROUTER_HOST       address to listen on (default 127.0.0.1; 0.0.0.0 in a container)
//   ROUTER_PORT       port (default 4000; 0 lets the OS pick)
//   ROUTER_POLL_MS    re-compose every so many ms to pick up subgraph changes (default 0: never)
//
// Prints `listening <url>` on stdout once composed; exits 1 when composition fails.
// For production, compose the supergraph ahead of time (rover) instead of at start-up.
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

const FORWARDED = ['authorization', 'x-request-id'];

// Stay offline whatever the environment holds: no GraphOS usage reporting or uplink.
for (const name of ['APOLLO_KEY', 'APOLLO_GRAPH_REF', 'APOLLO_GRAPH_ID', 'APOLLO_GRAPH_VARIANT']) {
  delete process.env[name];
}

export function parseSubgraphs(text) {
  const subgraphs = (text ?? '')
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new Error(`not name=url: ${pair}`);
      return { name: pair.slice(0, at), url: new URL(pair.slice(at + 1)).href };
    });
  if (subgraphs.length === 0) throw new Error('ROUTER_SUBGRAPHS names no subgraph');
  return subgraphs;
}

class ForwardingDataSource extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    // Composition's introspection runs without a request context.
    for (const name of FORWARDED) {
      const value = context?.headers?.[name];
      if (value) request.http.headers.set(name, value);
    }
  }
}

async function main() {
  const subgraphs = parseSubgraphs(process.env.ROUTER_SUBGRAPHS);
  const gateway = new ApolloGateway({
    supergraphSdl: new IntrospectAndCompose({
      subgraphs,
      pollIntervalInMs: Number(process.env.ROUTER_POLL_MS ?? 0) || undefined,
    }),
    buildService: ({ name, url }) => new ForwardingDataSource({ name, url }),
  });
  const server = new ApolloServer({ gateway, includeStacktraceInErrorResponses: false });
  const { url } = await startStandaloneServer(server, {
    listen: { host: process.env.ROUTER_HOST ?? '127.0.0.1', port: Number(process.env.ROUTER_PORT ?? 4000) },
    context: async ({ req }) => ({
      headers: Object.fromEntries(FORWARDED.map((name) => [name, req.headers[name]])),
    }),
  });
  console.log(`listening ${url}`);
}

main().catch((error) => {
  console.error('router failed to start:', error.message);
  process.exit(1);
});

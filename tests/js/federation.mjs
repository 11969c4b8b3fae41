// An Apollo Federation 2 supergraph in one process: the gateway under test as the
// `chargeye` subgraph, a tiny `parking` subgraph defined here, and @apollo/gateway
// composing both with IntrospectAndCompose and serving them through @apollo/server.
//
// Usage: node tests/js/federation.mjs <chargeye subgraph url> < input.json
// input: { featured: [location id, ...], requests: [{ query, variables?, token? }, ...] }
// Prints one JSON object: { supergraphSdl, subgraphs, results: [{ data, errors, fetches }] },
// where `fetches` lists what the router sent to each subgraph for that request.
// Exits 1 (with the reason on stderr) when the supergraph does not compose.
//
// The parking subgraph joins the two graphs in both directions:
//   Location.parkingNotice   our Location -> parking's _entities (built from the id alone)
//   Query.featuredLocations  parking's Location references -> our _entities for the rest
import { readFileSync } from 'node:fs';
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';

const HOST = '127.0.0.1';

const chargeyeUrl = process.argv[2];
if (!chargeyeUrl) {
  console.error('usage: node federation.mjs <chargeye subgraph url> < input.json');
  process.exit(2);
}
const input = JSON.parse(readFileSync(0, 'utf8'));

// Stay offline whatever the environment holds: no GraphOS usage reporting or uplink.
for (const name of ['APOLLO_KEY', 'APOLLO_GRAPH_REF', 'APOLLO_GRAPH_ID', 'APOLLO_GRAPH_VARIANT']) {
  delete process.env[name];
}

// Only the trouble goes to stderr; stdout carries the JSON answer alone.
const quiet = {
  debug() {},
  info() {},
  warn: (message) => console.error('warn:', message),
  error: (message) => console.error('error:', message),
};

/** What the parking subgraph says about a site: derived from the id, nothing else. */
const parkingNotice = (id) => `Visitors park free for 2 h at ${id}`;

const parkingTypeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])

  type Location @key(fields: "id") {
    id: ID!
    "Where and how long visitors may park; needs only the location's id."
    parkingNotice: String
  }

  type Query {
    "Sites the parking operator promotes; every other field comes from their own subgraph."
    featuredLocations: [Location!]!
  }
`);

const parkingResolvers = {
  Query: {
    featuredLocations: () => input.featured.map((id) => ({ id })),
  },
  Location: {
    __resolveReference: ({ id }) => ({ id }),
    parkingNotice: ({ id }) => parkingNotice(id),
  },
};

/** Forwards the caller's Authorization header and records each fetch of a request. */
class ForwardingDataSource extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    if (context?.authorization) {
      request.http.headers.set('authorization', context.authorization);
    }
    // Introspection during composition runs without a request context.
    if (context?.fetches) {
      const representations = request.variables?.representations;
      context.fetches.push({
        service: this.name,
        entities: Array.isArray(representations),
        representations: Array.isArray(representations) ? representations.length : 0,
        authorization: request.http.headers.has('authorization'),
      });
    }
  }
}

/** Hands each request's subgraph fetches back to the caller, in the response extensions. */
const reportFetches = {
  async requestDidStart() {
    return {
      async willSendResponse({ response, contextValue }) {
        if (response.body.kind === 'single') {
          const result = response.body.singleResult;
          result.extensions = { ...result.extensions, fetches: contextValue.fetches };
        }
      },
    };
  },
};

const servers = [];
let output;
let failed = false;
try {
  const parking = new ApolloServer({
    schema: buildSubgraphSchema({ typeDefs: parkingTypeDefs, resolvers: parkingResolvers }),
    logger: quiet,
    includeStacktraceInErrorResponses: false,
  });
  servers.push(parking);
  const { url: parkingUrl } = await startStandaloneServer(parking, {
    listen: { host: HOST, port: 0 },
  });

  let supergraphSdl = null;
  const gateway = new ApolloGateway({
    supergraphSdl: new IntrospectAndCompose({
      subgraphs: [
        { name: 'chargeye', url: chargeyeUrl },
        { name: 'parking', url: parkingUrl },
      ],
    }),
    buildService: ({ name, url }) => new ForwardingDataSource({ name, url }),
    logger: quiet,
  });
  gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    supergraphSdl = coreSupergraphSdl;
  });

  const router = new ApolloServer({
    gateway,
    logger: quiet,
    plugins: [reportFetches],
    includeStacktraceInErrorResponses: false,
  });
  servers.push(router);
  let routerUrl;
  try {
    ({ url: routerUrl } = await startStandaloneServer(router, {
      listen: { host: HOST, port: 0 },
      context: async ({ req }) => ({ authorization: req.headers.authorization, fetches: [] }),
    }));
  } catch (error) {
    // A composition error surfaces here, from the gateway's first load.
    servers.pop();
    throw Object.assign(error, { composition: true });
  }

  const results = [];
  for (const request of input.requests) {
    results.push(await send(routerUrl, request));
  }
  output = {
    supergraphSdl,
    subgraphs: { chargeye: chargeyeUrl, parking: parkingUrl },
    results,
  };
} catch (error) {
  failed = true;
  console.error(error.composition ? 'composition failed:' : 'failed:', error.message);
} finally {
  // Stop the router before the subgraph it fetches from.
  for (const server of servers.reverse()) {
    await server.stop();
  }
}

if (failed) {
  process.exitCode = 1;
} else {
  process.stdout.write(JSON.stringify(output) + '\n');
}

/** One GraphQL request through the router, with the fetches the router made for it. */
async function send(url, { query, variables, token }) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  return {
    status: response.status,
    data: body.data ?? null,
    errors: body.errors ?? null,
    fetches: body.extensions?.fetches ?? [],
  };
}

// Sends GraphQL requests through graphql-request, the client many frontends use, and
// prints what the client hands to application code, as JSON, one entry per request.
// Usage: node tests/js/client.mjs <graphql url> < requests.json
// Each request: { query, variables?, operationName?, token?, method?: "GET" | "POST" }.
import { readFileSync } from 'node:fs';
import { ClientError, GraphQLClient } from 'graphql-request';

const url = process.argv[2];
if (!url) {
  console.error('usage: node client.mjs <graphql url> < requests.json');
  process.exit(2);
}

const requests = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
for (const request of requests) {
  const client = new GraphQLClient(url, {
    method: request.method ?? 'POST',
    headers: request.token ? { authorization: `Bearer ${request.token}` } : {},
    // Hand partial data and errors to the caller instead of throwing them away.
    errorPolicy: 'all',
  });
  try {
    const response = await client.rawRequest({
      query: request.query,
      variables: request.variables,
      operationName: request.operationName,
    });
    results.push({
      ok: true,
      status: response.status,
      contentType: response.headers.get('content-type'),
      data: response.data ?? null,
      errors: response.errors ?? null,
    });
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    // A non-2xx answer: the client still exposes the GraphQL errors it carried.
    results.push({
      ok: false,
      status: error.response.status,
      contentType: error.response.headers.get('content-type'),
      data: error.response.data ?? null,
      errors: error.response.errors ?? null,
    });
  }
}
process.stdout.write(JSON.stringify(results) + '\n');

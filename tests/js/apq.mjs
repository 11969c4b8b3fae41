// Apollo Client with its persisted-queries link (hashes sent over GET), against two
// gateway replicas: prints, per client, what it got and each HTTP request it sent.
// Usage: node tests/js/apq.mjs <url of replica A> <url of replica B> <token> < query
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client/core/index.js';
import { createPersistedQueryLink } from '@apollo/client/link/persisted-queries/index.js';

const [urlA, urlB, token] = process.argv.slice(2);
if (!token) {
  console.error('usage: node apq.mjs <url A> <url B> <token> < query');
  process.exit(2);
}
const query = gql(readFileSync(0, 'utf8'));
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

async function run(uri) {
  const requests = [];
  const logged = (input, options) => {
    const url = new URL(input);
    const sent = options.method === 'GET'
      ? url.searchParams.has('query')
      : JSON.parse(options.body).query !== undefined;
    requests.push({ method: options.method, withText: sent });
    return fetch(input, options);
  };
  const link = createPersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
    new HttpLink({ uri, fetch: logged, headers: { authorization: `Bearer ${token}` } }),
  );
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  const result = await client.query({ query, fetchPolicy: 'no-cache' });
  return { data: result.data, requests };
}

const a = await run(urlA);
const b = await run(urlB);
console.log(JSON.stringify({ a, b }));

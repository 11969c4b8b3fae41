// Subscribes over HTTP through graphql-sse (server-sent events, "distinct connections"
// mode) and prints what it hands application code, one JSON object per line:
//   {"next": <payload>} per event, {"error": ...}, {"complete": true}.
// Usage: node tests/js/sse.mjs <graphql url> <token or ""> <query> [variables JSON]
// A line "stop" on stdin ends the subscription and the process.
import { createInterface } from 'node:readline';
import { createClient } from 'graphql-sse';

const [url, token, query, variables] = process.argv.slice(2);
if (!url || query === undefined) {
  console.error('usage: node sse.mjs <graphql url> <token> <query> [variables]');
  process.exit(2);
}
const print = (value) => process.stdout.write(JSON.stringify(value) + '\n');

const client = createClient({
  url,
  headers: token ? { Authorization: `Bearer ${token}` } : {},
  retryAttempts: 0,
});
const unsubscribe = client.subscribe(
  { query, variables: variables ? JSON.parse(variables) : undefined },
  {
    next: (payload) => print({ next: payload }),
    error: (error) => print({ error: String(error?.message ?? error) }),
    complete: () => print({ complete: true }),
  },
);
const stop = () => {
  unsubscribe();
  client.dispose();
};
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'stop') stop();
});
process.stdin.on('end', stop);

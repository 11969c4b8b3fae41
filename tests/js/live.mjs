// Subscribes through graphql-ws, the WebSocket client most frontends use, and prints
// what it hands application code, one JSON object per line:
//   {"connected": true}, {"next": <payload>} per event, {"error": ...}, {"closed": <code>}.
// Usage: node tests/js/live.mjs <ws url> <token or ""> <query> [variables JSON]
// A line "stop" on stdin disposes of the client and ends the process.
import { createInterface } from 'node:readline';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, token, query, variables] = process.argv.slice(2);
if (!url || query === undefined) {
  console.error('usage: node live.mjs <ws url> <token> <query> [variables]');
  process.exit(2);
}
const print = (value) => process.stdout.write(JSON.stringify(value) + '\n');

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  // The token travels in connection_init, never in the URL.
  connectionParams: token ? { Authorization: `Bearer ${token}` } : {},
  retryAttempts: 0,
  lazy: false,
  on: {
    connected: () => print({ connected: true }),
    closed: (event) => print({ closed: event.code }),
  },
  onNonLazyError: () => {},
});

const stop = () => client.dispose();
client.subscribe(
  { query, variables: variables ? JSON.parse(variables) : undefined },
  {
    next: (payload) => print({ next: payload }),
    error: (error) => print({ error: Array.isArray(error) ? error : String(error?.code ?? error) }),
    complete: () => print({ complete: true }),
  },
);
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'stop') stop();
});
process.stdin.on('end', stop);

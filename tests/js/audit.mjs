// Runs every graphql-http server audit against one URL and prints the results as JSON.
// Usage: node tests/js/audit.mjs http://127.0.0.1:PORT/graphql
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}

const results = await auditServer({ url });
const rows = results.map((result) => ({
  id: result.id,
  name: result.name,
  status: result.status,
  // A failed audit carries the Response it judged; its status is enough to debug.
  reason: result.status === 'ok' ? null : result.reason,
  httpStatus: result.status === 'ok' ? null : result.response.status,
}));
process.stdout.write(JSON.stringify(rows) + '\n');

// The fallback load generator (when wrk is not installed): one closed-loop autocannon run.
//
//   node autocannon.mjs SPEC.json
//
// SPEC: {url, connections, seconds, headers, bodies: [string, ...]}. Each connection sends
// the bodies in turn (a three-page walk is three bodies). Prints one JSON line with what
// bench/side_by_side/loadgen.py reads.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));

// A 2xx answer can still be a failure: a GraphQL error, or (for the Mesh schema) the
// contract's ErrorBody member of a response union. Those count as bad bodies.
// The first bad body is kept (its start) to tell what went wrong.
let badSample = '';
const isGood = (body) => {
  const good = !body.includes('"errors"') && !body.includes('"ErrorBody"');
  if (!good && !badSample) badSample = body.slice(0, 300);
  return good;
};

const result = await autocannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.seconds,
  timeout: 30,
  requests: spec.bodies.map((body) => ({ method: 'POST', headers: spec.headers, body })),
  verifyBody: isGood,
});

process.stdout.write(
  JSON.stringify({
    tool: 'autocannon',
    requests: result.requests.total,
    seconds: result.duration,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    non_2xx: result.non2xx,
    socket_errors: result.errors + result.timeouts,
    bad_bodies: result.mismatches,
    bad_sample: badSample,
  }) + '\n',
);

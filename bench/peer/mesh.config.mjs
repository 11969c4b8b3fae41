// GraphQL Mesh Compose: turn the project's copy of the upstream contract into a supergraph.
//
// `python -m bench side-by-side` runs `mesh-compose` with BENCH_UPSTREAM_URL set to the
// emulator it started; the supergraph bakes that URL into its @transport directive, so it
// is composed anew for every run (about 4 s) into the git-ignored build/ folder.
import { defineConfig } from '@graphql-mesh/compose-cli';
import { loadOpenAPISubgraph } from '@omnigraph/openapi';

export const composeConfig = defineConfig({
  output: process.env.BENCH_SUPERGRAPH ?? 'build/supergraph.graphql',
  subgraphs: [
    {
      sourceHandler: loadOpenAPISubgraph('Locations', {
        source: '../../docs/upstream/locations-openapi.yaml',
        // The contract's `servers` entry is https://kempower.io/api; the emulator serves
        // the same paths at its root, on loopback.
        endpoint: process.env.BENCH_UPSTREAM_URL ?? 'http://127.0.0.1:8001',
      }),
    },
  ],
});

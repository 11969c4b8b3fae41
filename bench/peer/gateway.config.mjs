// Hive Gateway: serve the Mesh-composed supergraph (its path is given on the command line)
// and forward each caller's own bearer token to the upstream, as our gateway does. Without
// this the REST source calls the emulator with no Authorization header and every field
// answers the contract's ErrorBody ("Missing Authorization header").
import { defineConfig } from '@graphql-hive/gateway';

export const gatewayConfig = defineConfig({
  propagateHeaders: {
    fromClientToSubgraphs({ request }) {
      const authorization = request.headers.get('authorization');
      return authorization ? { authorization } : {};
    },
  },
});

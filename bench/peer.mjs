// The reference token service for `npm run bench`: oidc-provider configured like this service's issuer —
// one client, client_secret_basic, client_credentials only, a resource indicator that yields an ES256 JWT
// access token, plus an opaque-token resource (oidc-provider introspects only tokens it stores).
//   PEER_PORT, PEER_CLIENT_ID, PEER_CLIENT_SECRET, PEER_JWT_RESOURCE, PEER_OPAQUE_RESOURCE, PEER_TTL
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const PORT = Number(process.env.PEER_PORT ?? 4010);
const CLIENT_ID = process.env.PEER_CLIENT_ID ?? 'peer-client';
const CLIENT_SECRET = process.env.PEER_CLIENT_SECRET ?? 'peer-secret-5fJ2kq9XvR1mWb7tYc3LzN8hD0aP4sUe6Gi';
const JWT_RESOURCE = process.env.PEER_JWT_RESOURCE ?? 'https://business-api.acceptance.example';
const OPAQUE_RESOURCE = process.env.PEER_OPAQUE_RESOURCE ?? 'https://opaque-api.acceptance.example';
const TTL = Number(process.env.PEER_TTL ?? 900);

const jwk = (pair, extra) => ({ ...pair.privateKey.export({ format: 'jwk' }), use: 'sig', ...extra });
const provider = new Provider(`http://127.0.0.1:${PORT}`, {
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: {
    keys: [
      jwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }), { alg: 'ES256', kid: 'es256' }),
      // oidc-provider insists on an RS256 key for ID tokens even when none are issued.
      jwk(generateKeyPairSync('rsa', { modulusLength: 2048 }), { alg: 'RS256', kid: 'rs256' }),
    ],
  },
  ttl: { ClientCredentials: () => TTL },
  cookies: { keys: ['bench-peer-cookie-key-not-a-secret'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, _client, oneOf) => oneOf ?? JWT_RESOURCE,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resource) => {
        if (resource === JWT_RESOURCE)
          return { scope: 'business', audience: JWT_RESOURCE, accessTokenTTL: TTL, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
        if (resource === OPAQUE_RESOURCE) return { scope: 'business', audience: OPAQUE_RESOURCE, accessTokenTTL: TTL, accessTokenFormat: 'opaque' };
        throw new Provider.errors.InvalidTarget();
      },
    },
  },
});
provider.on('server_error', (_ctx, err) => console.error('server_error', err));
const server = provider.listen(PORT, '127.0.0.1');
server.keepAliveTimeout = 65_000;
process.on('SIGTERM', () => server.close(() => process.exit(0)));

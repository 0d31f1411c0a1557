// panva's oidc-provider (https://github.com/panva/node-oidc-provider), configured as an
// authorization server that nobody in this workshop wrote: lesson 03's resource server and
// client must work with it exactly as they do with the lesson's own.
//
//   node provider.mjs CONFIG_JSON
//
// CONFIG_JSON: {"port", "jwtResource", "opaqueResource", "redirectUri", "botSecret", "resourceServerSecret"}
// It listens on 127.0.0.1:port and prints "listening" when ready. The settings that matter
// for MCP are marked "MCP:" below; docs/authorization-servers.md explains them.
import { generateKeyPairSync } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(process.argv[2]);
const issuer = `http://127.0.0.1:${config.port}`;
const SCOPES = 'journal:read journal:write';

// A fresh ES256 signing key for each run (a real deployment keeps its keys).
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'es256-1', alg: 'ES256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [
    {
      // A public client for the authorization code flow with PKCE, registered in advance.
      client_id: 'journal-cli',
      token_endpoint_auth_method: 'none',
      application_type: 'native',
      redirect_uris: [config.redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
    {
      // A machine client: client credentials, no user.
      client_id: 'journal-bot',
      client_secret: config.botSecret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
    },
    {
      // The MCP server itself, as a client: it introspects tokens and obtains none.
      client_id: 'journal-mcp-server',
      client_secret: config.resourceServerSecret,
      grant_types: [],
      redirect_uris: [],
      response_types: [],
    },
  ],
  clientDefaults: { id_token_signed_response_alg: 'ES256' }, // the one key below is ES256
  scopes: ['openid', 'offline_access', 'journal:read', 'journal:write'],
  jwks: { keys: [signingKey] },
  pkce: { required: () => true }, // MCP: PKCE (S256, the only method oidc-provider 9 supports) for every client
  features: {
    devInteractions: { enabled: true }, // the built-in login and consent pages: any username, no password
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      // MCP: RFC 8707. The MCP server's URL is the token's audience, and the token's format
      // follows the resource: a JWT for one MCP server, an opaque token for the other.
      enabled: true,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => {
        if (resource === config.jwtResource) {
          return { scope: SCOPES, audience: resource, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
        }
        if (resource === config.opaqueResource) {
          return { scope: SCOPES, audience: resource, accessTokenFormat: 'opaque' };
        }
        throw new errors.InvalidTarget();
      },
    },
  },
  // MCP clients refresh without asking for offline_access.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  ttl: { AccessToken: 300, ClientCredentials: 300, Grant: 3600, Interaction: 600, Session: 3600 },
  cookies: { keys: ['workshop-test-cookie-key'] },
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
});

provider.listen(config.port, '127.0.0.1', () => console.log('listening'));

// Starts panva's oidc-provider on loopback as a peer for test/loadtool.
//
//   node server.mjs --port 0 --redirect-uri http://127.0.0.1:9/cb --secret S
//     [--redis redis://127.0.0.1:6379 | --sentinels host:port,... --master-name NAME]
//
// It prints one line, "LISTEN http://127.0.0.1:PORT", once it serves.
// Everything is kept in memory (a plain Map adapter: the bundled memory
// adapter is an LRU of 1,000 entries, too small for pre-minted codes), or
// with --redis in Redis through ioredis, as oidc-provider's documentation
// suggests for more than one process (RedisAdapter below). The
// one client mirrors ida-operator's load client: client_secret_basic, PKCE,
// ES256 ID tokens, authorization_code and refresh_token grants. Sign-in
// uses the provider's built-in development interactions (any login).
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Redis from 'ioredis';
import Provider, { errors } from 'oidc-provider';

const jwtResource = 'https://api.load.example/';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'redirect-uri': { type: 'string' },
    secret: { type: 'string' },
    redis: { type: 'string' },
    sentinels: { type: 'string' },
    'master-name': { type: 'string' },
  },
});
if (!args['redirect-uri'] || !args.secret) {
  console.error('usage: node server.mjs --port N --redirect-uri URI --secret S');
  process.exit(2);
}

// Map-backed adapter: find/upsert/consume/destroy with expiry, plus the
// indexes oidc-provider needs (session uid, grant members).
const store = new Map();
const grantMembers = new Map();
const sessionUids = new Map();
const now = () => Math.floor(Date.now() / 1000);

class MapAdapter {
  constructor(model) { this.model = model; }

  key(id) { return `${this.model}:${id}`; }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    store.set(key, { payload, exp: expiresIn ? now() + expiresIn : Infinity });
    if (this.model === 'Session' && payload.uid) sessionUids.set(payload.uid, id);
    if (payload.grantId) {
      let m = grantMembers.get(payload.grantId);
      if (!m) grantMembers.set(payload.grantId, (m = new Set()));
      m.add(key);
    }
  }

  async find(id) {
    const e = store.get(this.key(id));
    if (!e) return undefined;
    if (e.exp <= now()) {
      store.delete(this.key(id));
      return undefined;
    }
    return e.payload;
  }

  async findByUid(uid) {
    const id = sessionUids.get(uid);
    return id ? this.find(id) : undefined;
  }

  async findByUserCode() { return undefined; }

  async consume(id) {
    const e = store.get(this.key(id));
    if (e) e.payload.consumed = now();
  }

  async destroy(id) { store.delete(this.key(id)); }

  async revokeByGrantId(grantId) {
    const m = grantMembers.get(grantId);
    if (!m) return;
    for (const key of m) store.delete(key);
    grantMembers.delete(grantId);
  }
}

// RedisAdapter keeps each model's payload in Redis with its expiry, as a
// hash so that consume (codes, refresh tokens, pushed requests) marks it
// in place. Grant members are listed per grant for revokeByGrantId,
// sessions indexed by uid.
function connectRedis() {
  if (args.redis) return new Redis(args.redis, { keyPrefix: 'oidc:' });
  if (args.sentinels) {
    const sentinels = args.sentinels.split(',').map((a) => ({ host: a.split(':')[0], port: Number(a.split(':')[1]) }));
    return new Redis({ sentinels, name: args['master-name'], keyPrefix: 'oidc:' });
  }
  return undefined;
}
const redis = connectRedis();

class RedisAdapter {
  constructor(model) { this.model = model; }

  key(id) { return `${this.model}:${id}`; }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const multi = redis.multi();
    multi.hset(key, { payload: JSON.stringify(payload) });
    if (expiresIn) multi.expire(key, expiresIn);
    if (payload.grantId) {
      const grantKey = `grant:${payload.grantId}`;
      multi.rpush(grantKey, key);
      if (expiresIn) multi.expire(grantKey, expiresIn, 'GT');
    }
    if (this.model === 'Session' && payload.uid) {
      multi.set(`sessionUid:${payload.uid}`, id);
      if (expiresIn) multi.expire(`sessionUid:${payload.uid}`, expiresIn);
    }
    await multi.exec();
  }

  async find(id) {
    const { payload, consumed } = await redis.hgetall(this.key(id));
    if (!payload) return undefined;
    return { ...JSON.parse(payload), ...(consumed ? { consumed: Number(consumed) } : {}) };
  }

  async findByUid(uid) {
    const id = await redis.get(`sessionUid:${uid}`);
    return id ? this.find(id) : undefined;
  }

  async findByUserCode() { return undefined; }

  async consume(id) { await redis.hset(this.key(id), 'consumed', now()); }

  async destroy(id) { await redis.del(this.key(id)); }

  async revokeByGrantId(grantId) {
    const grantKey = `grant:${grantId}`;
    const members = await redis.lrange(grantKey, 0, -1);
    await redis.del(...members, grantKey);
  }
}

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'es256-1', alg: 'ES256', use: 'sig' };

// The same person as ida-operator's demo user, without verified_claims
// (oidc-provider has no IDA support).
const claims = {
  name: 'Taro Yamada', given_name: 'Taro', family_name: 'Yamada',
  birthdate: '1985-04-12', email: 'taro@example.com', email_verified: true,
  address: { country: 'JP', locality: 'Tokyo', street_address: '1-1 Chiyoda' },
};

const port = Number(args.port);
const server = createServer();
await new Promise((resolve) => { server.listen(port, '127.0.0.1', resolve); });
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  adapter: redis ? RedisAdapter : MapAdapter,
  clients: ['rp-load', 'rp-load-jwt'].map((id) => ({
    client_id: id,
    client_secret: args.secret,
    redirect_uris: [args['redirect-uri']],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
  })),
  jwks: { keys: [signingKey] },
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'birthdate'],
    email: ['email', 'email_verified'],
    address: ['address'],
  },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'address'],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    pushedAuthorizationRequests: { enabled: true },
    dPoP: { enabled: true },
    revocation: { enabled: true },
    // A client introspects its own access tokens, as in ida-operator
    // (whose resource-server clients may see every client's).
    // rp-load-jwt's access tokens are JWTs (RFC 9068) for an API, as
    // ida-operator's rp-load-jwt: oidc-provider issues JWT access tokens
    // for a resource indicator, here the client's default one.
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, client) => (client?.clientId === 'rp-load-jwt' ? jwtResource : undefined),
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resource) => {
        if (resource !== jwtResource) throw new errors.InvalidTarget();
        return { scope: 'openid profile email offline_access', audience: jwtResource, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
      },
    },
    introspection: {
      enabled: true,
      allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
    },
    userinfo: { enabled: true },
  },
  // Refresh tokens for every code of a client allowed the grant (the
  // default also wants offline_access, which needs prompt=consent on each
  // authorization); ida-operator issues them for offline_access, which the
  // load client's consent covers.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 600,
    IdToken: 300,
    RefreshToken: 86400,
    Grant: 86400,
    Session: 86400,
    Interaction: 3600,
  },
  findAccount: async (_ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, ...claims }),
  }),
});
provider.on('server_error', (_ctx, err) => console.error('server_error', err));

server.on('request', provider.callback());
console.log(`LISTEN ${issuer}`);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

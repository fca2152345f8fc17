// A real OpenID Connect provider for the tests: node `oidc-provider` (pinned in package.json)
// with one confidential web client, configured from the environment. Started and driven by
// tests/peers/oidc_provider.py; prints `READY <issuer>` on stdout once it accepts connections.
//
// Environment:
//   PORT           port on 127.0.0.1 (0 or unset: any free port, reported in the READY line)
//   ISSUER         issuer identifier (default http://127.0.0.1:PORT); a path is served as a mount point
//   CLIENT_ID, CLIENT_SECRET  the one client (client_secret_basic)
//   REDIRECT_URIS  comma-separated, matched exactly (application_type 'web')
//   SCOPES         comma-separated scopes to grant besides openid, email and offline_access
//                  (default: the Gmail, Microsoft Graph and Yahoo mail scopes below)
//   EMAIL_UNVERIFIED_PREFIX  logins starting with it (default "unverified+") get
//                  email_verified false and email = the rest; set it to "" to turn this off
//   ACCESS_TOKEN_TTL  access token lifetime in seconds (default 3600)
//   OIDC_VERBOSE   set to 1 to keep oidc-provider's development warnings on stderr
//   EXIT_WITH_STDIN  set to 1 to exit when stdin closes (the test process died without stopping us)
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

// oidc-provider warns about Node 20 ("Unsupported runtime"), dev keys and devInteractions at import
// and start-up, and prints notices with console.info (stdout, where READY goes). Keep both quiet.
if (process.env.OIDC_VERBOSE !== '1') {
  for (const level of ['warn', 'info']) {
    const original = console[level];
    console[level] = (...args) => {
      if (!/^(\x1b\[[\d;]*m)?oidc-provider (WARNING|NOTICE)/.test(String(args[0]))) original(...args);
    };
  }
}
const { default: Provider } = await import('oidc-provider'); // after the filter: warns on import

const env = process.env;
const list = (value) => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const DEFAULT_SCOPES = [
  'https://www.googleapis.com/auth/gmail.send',
  'https://www.googleapis.com/auth/gmail.readonly',
  'https://www.googleapis.com/auth/gmail.settings.basic',
  'Mail.Send', 'Mail.Read', 'MailboxSettings.Read', // Microsoft Graph
  'mail-r', 'mail-w', // Yahoo
];
const scopes = ['openid', 'email', 'offline_access', ...(env.SCOPES === undefined ? DEFAULT_SCOPES : list(env.SCOPES))];
const unverifiedPrefix = env.EMAIL_UNVERIFIED_PREFIX ?? 'unverified+';

// Listen first, so PORT=0 can pick a free port before the issuer (which contains it) is fixed.
const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject).listen(Number(env.PORT || 0), '127.0.0.1', resolve);
});
const issuer = env.ISSUER || `http://127.0.0.1:${server.address().port}`;
const mountPath = new URL(issuer).pathname.replace(/\/$/, '');

const provider = new Provider(issuer, {
  clients: [{
    client_id: env.CLIENT_ID,
    client_secret: env.CLIENT_SECRET,
    redirect_uris: list(env.REDIRECT_URIS),
    application_type: 'web',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  }],
  responseTypes: ['code'],
  scopes, // a scope listed here is an "OIDC scope": requested, it shows in consent and is granted
  claims: { email: ['email', 'email_verified'] },
  conformIdTokenClaims: false, // put email in the ID token of the code flow, as Google does
  pkce: { required: () => true }, // v9 only implements S256
  // Google-style: a refresh token whenever the client may refresh (no need for prompt=consent
  // plus offline_access), and it outlives the provider's sign-in session.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  expiresWithSession: async () => false,
  ttl: { AccessToken: Number(env.ACCESS_TOKEN_TTL || 3600) },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  features: {
    devInteractions: { enabled: true }, // login + consent forms, and GET /interaction/:uid/abort
    revocation: { enabled: true },
    introspection: { enabled: true },
  },
  // The login name is the mailbox: signing in as jane@acme.test gives email jane@acme.test.
  async findAccount(ctx, id) {
    const unverified = unverifiedPrefix !== '' && id.startsWith(unverifiedPrefix);
    const email = unverified ? id.slice(unverifiedPrefix.length) : id;
    return { accountId: id, claims: () => ({ sub: id, email, email_verified: !unverified }) };
  },
});

// Static clients are only checked when first used: fail at start-up instead, with the reason.
if (!await provider.Client.find(env.CLIENT_ID ?? '')) throw new Error('CLIENT_ID is required');

const handle = provider.callback();
server.on('request', (req, res) => {
  if (mountPath && req.url.startsWith(`${mountPath}/`)) {
    req.originalUrl = req.url; // oidc-provider derives its mount path from originalUrl vs url
    req.url = req.url.slice(mountPath.length);
  }
  handle(req, res);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
if (env.EXIT_WITH_STDIN === '1') process.stdin.on('close', () => process.exit(0)).resume();

console.log(`READY ${issuer}`);

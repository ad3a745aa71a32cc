// A token issuer for docker-registry's `auth.token` (run as a script inside the e2e netns):
//   GET /token?service=S&scope=repository:NAME:pull  [Authorization: Basic user:password]
// answers `{"token": JWT}`: RS256, signed with the key whose self-signed certificate the registry trusts
// (`rootcertbundle`), the certificate in the header's `x5c`. Users: the JSON file's `users`; a wrong password
// gets 401, no credentials get an anonymous token without access (the registry then refuses the pull).
//
//   node token-issuer.js CONFIG.json   (CONFIG: { port, issuer, service, keyFile, certFile, users: { name: password } })

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';

interface IssuerConfig {
  port: number;
  issuer: string;
  service: string;
  keyFile: string;
  certFile: string;
  users: Record<string, string>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export function signJwt(claims: object, keyPem: string, certPem: string): string {
  const der = new crypto.X509Certificate(certPem).raw.toString('base64');
  const header = { alg: 'RS256', typ: 'JWT', x5c: [der] };
  const body = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = crypto.sign('RSA-SHA256', Buffer.from(body), keyPem);
  return `${body}.${b64url(sig)}`;
}

export function serve(cfg: IssuerConfig): http.Server {
  const key = fs.readFileSync(cfg.keyFile, 'utf8');
  const cert = fs.readFileSync(cfg.certFile, 'utf8');
  return http
    .createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const send = (status: number, body: object) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (url.pathname !== '/token') return send(404, { details: 'not found' });
      if (url.searchParams.get('service') !== cfg.service)
        return send(400, { details: `unknown service ${url.searchParams.get('service')}` });
      let user = '';
      const auth = req.headers.authorization;
      if (auth) {
        const [scheme, value] = auth.split(' ');
        const decoded = scheme === 'Basic' ? Buffer.from(value ?? '', 'base64').toString('utf8') : '';
        const i = decoded.indexOf(':');
        user = decoded.slice(0, i);
        if (i < 0 || cfg.users[user] === undefined || cfg.users[user] !== decoded.slice(i + 1)) {
          process.stdout.write(`token refused for ${user || '?'}\n`);
          return send(401, { details: 'invalid username or password' });
        }
      }
      const access = user
        ? url.searchParams.getAll('scope').flatMap((s) => {
            const [type, name, actions] = s.split(':');
            return type === 'repository' && name ? [{ type, name, actions: (actions ?? '').split(',').filter((a) => a === 'pull') }] : [];
          })
        : [];
      const now = Math.floor(Date.now() / 1000);
      const token = signJwt(
        {
          iss: cfg.issuer,
          sub: user,
          aud: cfg.service,
          exp: now + 300,
          nbf: now - 10,
          iat: now,
          jti: crypto.randomBytes(8).toString('hex'),
          access,
        },
        key,
        cert,
      );
      process.stdout.write(`token issued for ${user || 'anonymous'}: ${JSON.stringify(access)}\n`);
      send(200, { token, access_token: token, expires_in: 300 });
    })
    .listen(cfg.port, '127.0.0.1');
}

if (require.main === module) {
  const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as IssuerConfig;
  serve(cfg);
  process.on('SIGTERM', () => process.exit(0));
}

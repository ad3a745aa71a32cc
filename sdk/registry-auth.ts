// The `kuke login` credentials file: `~/.kuke/auth.json` (or `$KUKEON_AUTH_FILE`), mode 0600, in the shape of
// docker's config.json `auths` section: `{ "auths": { "<host[:port]>": { "auth": base64("user:password") } } }`.
// The SDK index exports the reading side (a runtime plugin pulls with these credentials); writing is `kuke login`'s.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomicSync } from './atomic-write';

export interface StoredCredential {
  username: string;
  password: string;
  serverAddress: string;
}

export function authFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.KUKEON_AUTH_FILE || path.join(env.HOME || os.homedir(), '.kuke', 'auth.json');
}

interface AuthFile {
  auths?: Record<string, { auth?: string }>;
}

/** `docker.io`, `index.docker.io` and `https://index.docker.io/v1/` all mean Docker Hub: stored as `docker.io`. */
export function normalizeServerAddress(server: string): string {
  const h = server
    .trim()
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '');
  return h === 'index.docker.io' || h === 'registry-1.docker.io' ? 'docker.io' : h;
}

export function readAuthFile(file: string = authFilePath()): StoredCredential[] {
  let doc: AuthFile;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8')) as AuthFile;
  } catch {
    return [];
  }
  const out: StoredCredential[] = [];
  for (const [serverAddress, v] of Object.entries(doc.auths ?? {})) {
    const decoded = Buffer.from(v.auth ?? '', 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i > 0) out.push({ serverAddress, username: decoded.slice(0, i), password: decoded.slice(i + 1) });
  }
  return out;
}

/** Stores (or with `password` undefined, removes) the credential for `server`; the file is written 0600. */
export function writeAuthFile(
  server: string,
  username: string | undefined,
  password: string | undefined,
  file: string = authFilePath(),
): void {
  let doc: AuthFile = {};
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8')) as AuthFile;
  } catch {
    // new file
  }
  doc.auths ??= {};
  const key = normalizeServerAddress(server);
  if (username === undefined || password === undefined) delete doc.auths[key];
  else doc.auths[key] = { auth: Buffer.from(`${username}:${password}`).toString('base64') };
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomicSync(file, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
}

// Test registries: Debian's `docker-registry` (distribution 2.8) run inside an e2e harness's netns on
// 127.0.0.1 with its own config and filesystem storage under the harness's temp dir (never the package's
// default config), images "pushed" by writing distribution's storage layout directly, and a token issuer
// (test/helpers/token-issuer.ts) for the bearer flow. Everything started here is stopped by pid.

import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { E2EHarness } from '../e2e/harness';
import { findBinary } from '../e2e/requirements';

export const sha256 = (b: Buffer | string): string => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;
const hex = (digest: string) => digest.slice('sha256:'.length);

/**
 * Writes a repository into distribution's filesystem layout under `root` (what a push leaves behind):
 * the blobs, the repository's layer links (for every blob: configs and layers), manifest revisions, and tags.
 */
export function writeRegistryRepo(
  root: string,
  repo: string,
  content: { blobs: Buffer[]; manifests: Buffer[]; tags: Record<string, Buffer> },
): void {
  const v2 = path.join(root, 'docker', 'registry', 'v2');
  const put = (file: string, data: Buffer | string) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data);
  };
  const blob = (data: Buffer) => {
    const d = sha256(data);
    put(path.join(v2, 'blobs', 'sha256', hex(d).slice(0, 2), hex(d), 'data'), data);
    return d;
  };
  const r = path.join(v2, 'repositories', repo);
  for (const b of content.blobs) put(path.join(r, '_layers', 'sha256', hex(blob(b)), 'link'), sha256(b));
  for (const m of [...content.manifests, ...Object.values(content.tags)])
    put(path.join(r, '_manifests', 'revisions', 'sha256', hex(blob(m)), 'link'), sha256(m));
  for (const [tag, m] of Object.entries(content.tags)) {
    put(path.join(r, '_manifests', 'tags', tag, 'current', 'link'), sha256(m));
    put(path.join(r, '_manifests', 'tags', tag, 'index', 'sha256', hex(sha256(m)), 'link'), sha256(m));
  }
}

/** A free TCP port number (picked at random from a high range; the netns is private, so collisions are ours only). */
export function freePort(): number {
  return 20000 + crypto.randomInt(20000);
}

export interface NetnsProcess {
  pid: number;
  logFile: string;
  log(): string;
  stop(): Promise<void>;
}

/** Starts `cmd args` inside the harness netns as a detached child, output to `logFile`; stop() ends it by pid. */
export function startInNetns(h: E2EHarness, cmd: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = {}): NetnsProcess {
  const out = fs.openSync(logFile, 'a');
  const child: ChildProcess = spawn(findBinary('nsenter')!, [`--net=${h.netnsPath}`, cmd, ...args], {
    detached: true,
    stdio: ['ignore', out, out],
    cwd: h.tmp,
    env: { ...process.env, ...env },
  });
  fs.closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.unref();
  // a test process that dies early still ends what it started
  const onExit = () => {
    try {
      process.kill(child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  };
  process.once('exit', onExit);
  void exited.then(() => process.removeListener('exit', onExit));
  return {
    pid: child.pid!,
    logFile,
    log: () => fs.readFileSync(logFile, 'utf8'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(child.pid!, 'SIGTERM');
      } catch {
        return;
      }
      const t = setTimeout(() => {
        try {
          process.kill(child.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      }, 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Waits until something listens on 127.0.0.1:port inside the netns. */
export async function waitListening(h: E2EHarness, port: number, timeoutMs = 15_000): Promise<void> {
  const script = `const s=require('net').connect(${port},'127.0.0.1');s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1));`;
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if ((await h.exec(process.execPath, ['-e', script], { timeoutMs: 5000 })).code === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} in ${h.netns}`);
}

export interface TestRegistry extends NetnsProcess {
  port: number;
  host: string;
  storage: string;
  /** Blob GETs of `repo` in the access log (from `since`, a log offset). */
  blobGets(repo: string, since?: number): { digest: string; status: number; bytes: number }[];
}

/** Starts docker-registry with its own config: 127.0.0.1:<port>, filesystem storage in `dir`, optional token auth. */
export async function startRegistry(
  h: E2EHarness,
  dir: string,
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string },
): Promise<TestRegistry> {
  const port = freePort();
  const storage = path.join(dir, 'storage');
  fs.mkdirSync(storage, { recursive: true });
  const config = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  accesslog:',
    '    disabled: false',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(storage)}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${crypto.randomBytes(16).toString('hex')}`,
    ...(token
      ? [
          'auth:',
          '  token:',
          `    realm: ${JSON.stringify(token.realm)}`,
          `    service: ${JSON.stringify(token.service)}`,
          `    issuer: ${JSON.stringify(token.issuer)}`,
          `    rootcertbundle: ${JSON.stringify(token.rootCertBundle)}`,
        ]
      : []),
    '',
  ].join('\n');
  const configFile = path.join(dir, 'config.yml');
  fs.writeFileSync(configFile, config);
  const p = startInNetns(h, findBinary('docker-registry')!, ['serve', configFile], path.join(dir, 'registry.log'));
  await waitListening(h, port).catch(async (e) => {
    await p.stop();
    throw new Error(`${(e as Error).message}; registry log:\n${p.log()}`);
  });
  return {
    ...p,
    port,
    host: `127.0.0.1:${port}`,
    storage,
    blobGets(repo, since = 0) {
      const out: { digest: string; status: number; bytes: number }[] = [];
      const re = new RegExp(
        `"GET /v2/${repo.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/blobs/(sha256:[0-9a-f]{64}) HTTP/[0-9.]+" (\\d+) (\\d+)`,
        'g',
      );
      for (const m of p.log().slice(since).matchAll(re)) out.push({ digest: m[1], status: Number(m[2]), bytes: Number(m[3]) });
      return out;
    },
  };
}

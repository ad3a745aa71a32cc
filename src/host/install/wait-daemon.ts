// Waiting for kukeond after init starts it: a version ping on its socket, retried until it answers or time is up.

import fs from 'node:fs';
import path from 'node:path';
import { KukeonError } from '../../../sdk';

const SEARCH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The absolute path of an executable on PATH or in the usual directories, or undefined. */
export function findExecutable(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SEARCH]) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // next
    }
  }
  return undefined;
}

/** What answers on `socket` now (one version call), or undefined when nothing does. */
export async function daemonOn(socket: string, timeoutMs = 1500): Promise<{ pid: number; runPath: string } | undefined> {
  if (!fs.existsSync(socket)) return undefined;
  const { SocketClient } = require('../../../plugins/api-socket/client') as typeof import('../../../plugins/api-socket/client');
  const client = new SocketClient(socket);
  try {
    const v = await client.version({ signal: AbortSignal.timeout(timeoutMs) });
    return { pid: v.pid, runPath: v.runPath };
  } catch {
    return undefined;
  } finally {
    client.close();
  }
}

/** Resolves with the daemon's version once it answers on `socket`; KUKEON_E_DAEMON after `timeoutMs`, KUKEON_E_CANCELLED on `signal`. */
export async function waitForDaemon(socket: string, timeoutMs: number, signal?: AbortSignal): Promise<string> {
  const { SocketClient } = require('../../../plugins/api-socket/client') as typeof import('../../../plugins/api-socket/client');
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    if (fs.existsSync(socket)) {
      const client = new SocketClient(socket);
      try {
        return (await client.version({ signal: AbortSignal.timeout(Math.max(500, Math.min(2000, deadline - Date.now()))) })).version;
      } catch (err) {
        last = (err as Error).message;
      } finally {
        client.close();
      }
    }
    if (signal?.aborted) throw new KukeonError('KUKEON_E_CANCELLED', 'interrupted');
    if (Date.now() >= deadline)
      throw new KukeonError('KUKEON_E_DAEMON', `kukeond did not answer on ${socket} within ${Math.round(timeoutMs / 1000)} s (${last})`, {
        hint: 'see its log: kuke daemon logs, or <run path>/kukeon-system/kukeon/kukeon/kukeond/logs/kukeond.log',
      });
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Talking to kukeond without a command to run: one version ping (status, init, daemon start), and waiting after init starts it.

import fs from 'node:fs';
import path from 'node:path';
import { KukeonError } from '../../../sdk';
import type { DaemonProbe } from '../status/host-status';

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

const PING_TIMEOUT_MS = 3_000;

/** One version call on `socket`: what answers there, or why nothing does (for status, init and daemon start). */
export async function pingDaemon(socket: string, timeoutMs = PING_TIMEOUT_MS): Promise<DaemonProbe> {
  const { SocketClient } = require('../../../plugins/api-socket/client') as typeof import('../../../plugins/api-socket/client');
  const client = new SocketClient(socket);
  try {
    const v = await client.version({ signal: AbortSignal.timeout(timeoutMs) });
    return { socket, answered: true, version: v.version, pid: v.pid, runPath: v.runPath };
  } catch (err) {
    // the client's advice (start it, or run in-process) is the caller's to give
    return { socket, answered: false, error: (err as Error).message.split('; start it')[0] };
  } finally {
    client.close();
  }
}

/** Resolves with the daemon's version once it answers on `socket`; KUKEON_E_DAEMON after `timeoutMs`, KUKEON_E_CANCELLED on `signal`. */
export async function waitForDaemon(socket: string, timeoutMs: number, signal?: AbortSignal): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    if (fs.existsSync(socket)) {
      const probe = await pingDaemon(socket, Math.max(500, Math.min(2000, deadline - Date.now())));
      if (probe.answered) return probe.version;
      last = probe.error;
    }
    if (signal?.aborted) throw new KukeonError('KUKEON_E_CANCELLED', 'interrupted');
    if (Date.now() >= deadline)
      throw new KukeonError('KUKEON_E_DAEMON', `kukeond did not answer on ${socket} within ${Math.round(timeoutMs / 1000)} s (${last})`, {
        hint: 'see its log: kuke daemon logs, or <run path>/kukeon-system/kukeon/kukeon/kukeond/logs/kukeond.log',
      });
    await new Promise((r) => setTimeout(r, 100));
  }
}

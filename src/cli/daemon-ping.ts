// Whether kukeond answers on its socket (a version call), for `kuke status` and for `kuke daemon start` waiting
// until the daemon it started serves. A fresh client per try: a client remembers a failed connect.

import { KukeonError } from '../../sdk';
import type { DaemonProbe } from '../host/status/host-status';

const PING_TIMEOUT_MS = 3_000;
const POLL_MS = 200;

export async function pingDaemon(socket: string, timeoutMs = PING_TIMEOUT_MS): Promise<DaemonProbe> {
  const { SocketClient } = require('../../plugins/api-socket/client') as typeof import('../../plugins/api-socket/client');
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

/** Pings every 200 ms until kukeond answers; KUKEON_E_DAEMON with the last error after `timeoutMs`. */
export async function waitForDaemon(socket: string, timeoutMs: number, signal?: AbortSignal): Promise<DaemonProbe & { answered: true }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probe = await pingDaemon(socket, Math.max(500, Math.min(PING_TIMEOUT_MS, deadline - Date.now())));
    if (probe.answered) return probe;
    if (signal?.aborted) throw new KukeonError('KUKEON_E_CANCELLED', 'interrupted');
    if (Date.now() >= deadline)
      throw new KukeonError(
        'KUKEON_E_DAEMON',
        `kukeond did not answer on ${socket} within ${timeoutMs / 1000} s (${probe.error}); kuke daemon logs says why`,
      );
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * Refuses (KUKEON_E_STATE) while a kukeond outside the system cell (systemd, a process) answers on the socket:
 * the cell's kukeond would only fail to take it.
 */
export async function refuseOtherDaemon(socket: string): Promise<void> {
  const other = await pingDaemon(socket);
  if (other.answered)
    throw new KukeonError(
      'KUKEON_E_STATE',
      `a kukeond outside the system cell already answers on ${socket}${other.pid ? ` (pid ${other.pid})` : ''}; stop it first (systemctl stop kukeond, or end that process)`,
    );
}

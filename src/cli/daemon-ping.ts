// Whether kukeond answers on its socket (a version call), for `kuke status` and for `kuke daemon start|restart`,
// which refuse to start a second kukeond beside one that already answers.

import { KukeonError } from '../../sdk';
import type { DaemonProbe } from '../host/status/host-status';

const PING_TIMEOUT_MS = 3_000;

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

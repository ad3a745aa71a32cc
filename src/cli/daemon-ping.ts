// `kuke daemon start|restart` refuse to start a second kukeond beside one that already answers on the socket.

import { KukeonError } from '../../sdk';
import { pingDaemon } from '../host/install/wait-daemon';

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

// Whether kukeond starts after a reboot: the kernel's boot id, and an alive file beside the daemon's socket that
// holds the boot id of the daemon that last finished its start-up pass. The socket's directory is on tmpfs
// (/run/kukeon), so a reboot removes the file; a different id covers a /run that is not tmpfs.

import fs from 'node:fs';
import path from 'node:path';
import { KukeonError, writeFileAtomicSync } from '../../../sdk';

export const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';
export const ALIVE_FILE = 'alive';

export class BootMarker {
  /** The alive file: `<socket dir>/alive`. */
  readonly aliveFile: string;
  /** This boot's id. */
  readonly bootId: string;

  /** `bootIdFile`: where the boot id is read (tests present another boot through KUKEON_BOOT_ID_FILE). */
  constructor(socketDir: string, bootIdFile: string = process.env.KUKEON_BOOT_ID_FILE || BOOT_ID_FILE) {
    this.aliveFile = path.join(socketDir, ALIVE_FILE);
    let id: string;
    try {
      id = fs.readFileSync(bootIdFile, 'utf8').trim();
    } catch (err) {
      throw new KukeonError('KUKEON_E_CONFIG', `cannot read the boot id from ${bootIdFile}: ${(err as Error).message}`);
    }
    if (!id) throw new KukeonError('KUKEON_E_CONFIG', `the boot id file ${bootIdFile} is empty`);
    this.bootId = id;
  }

  /** The boot id the alive file holds, or undefined when there is no alive file. */
  recorded(): string | undefined {
    try {
      return fs.readFileSync(this.aliveFile, 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  /** True when the last daemon that finished its start-up pass ran under another boot, or none ever did. */
  rebooted(): boolean {
    return this.recorded() !== this.bootId;
  }

  /** Writes the alive file (atomically) with this boot's id. */
  record(): void {
    writeFileAtomicSync(this.aliveFile, `${this.bootId}\n`, { mode: 0o644 });
  }
}

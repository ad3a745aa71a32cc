// kukeond as kukeond.service (`kuke init --systemd`, which removes the system cell): `kuke daemon` drives the unit
// with systemctl instead of the cell. Where the unit is installed but systemd does not run, nothing can drive it
// and the error says so.

import fs from 'node:fs';
import path from 'node:path';
import { KukeonError } from '../../../sdk';
import type { ServiceManager } from '../install/containerd-unit';
import { SYSTEMD } from '../install/containerd-unit';
import { UNIT_DIR, UNIT_NAME } from '../install/systemd-unit';

export class DaemonUnit {
  constructor(
    private readonly unitDir = UNIT_DIR,
    private readonly sm: ServiceManager = SYSTEMD,
  ) {}

  get file(): string {
    return path.join(this.unitDir, UNIT_NAME);
  }

  /** Whether `kuke init --systemd` installed kukeond.service (then there is no system cell to drive). */
  installed(): boolean {
    return fs.existsSync(this.file);
  }

  active(): boolean {
    this.requireSystemd();
    return this.sm.systemctl(['is-active', '--quiet', UNIT_NAME]) === undefined;
  }

  /** Starts the unit unless it runs; returns whether it started it. */
  start(): boolean {
    if (this.active()) return false;
    this.systemctl('start');
    return true;
  }

  /** Stops the unit (systemd's TimeoutStopSec, then SIGKILL); returns whether it ran. */
  stop(): boolean {
    const was = this.active();
    this.systemctl('stop');
    return was;
  }

  restart(): void {
    this.requireSystemd();
    this.systemctl('restart');
  }

  /** journalctl's arguments for kukeond's log (the unit's stdout and stderr go to the journal). */
  journalArgs(follow: boolean): string[] {
    return ['-u', UNIT_NAME, '--no-pager', '-o', 'cat', ...(follow ? ['-f'] : [])];
  }

  private requireSystemd(): void {
    if (!this.sm.running(this.unitDir))
      throw new KukeonError(
        'KUKEON_E_STATE',
        `kukeond is installed as ${this.file} (kuke init --systemd), but systemd does not run here: nothing can start that unit`,
        { hint: 'start kukeond yourself, or run kuke init (without --systemd) to run it as the system cell' },
      );
  }

  private systemctl(verb: string): void {
    const err = this.sm.systemctl([verb, UNIT_NAME]);
    if (err)
      throw new KukeonError('KUKEON_E_INSTALL', `systemctl ${verb} ${UNIT_NAME} failed: ${err}`, { hint: `journalctl -u ${UNIT_NAME}` });
  }
}

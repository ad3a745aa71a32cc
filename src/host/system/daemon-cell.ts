// `kuke daemon start|stop|restart|logs`: the kukeond cell driven in-process through the controller (the daemon may
// be down, so nothing here goes through its socket). Start clears whatever a crash left (a root still running
// beside a dead kukeond, a stopped task) before starting, so a `kill -9` of kukeond never blocks the next start.

import { KukeonError } from '../../../sdk';
import type { CallOptions, State } from '../../../sdk';
import type { Host } from '../host';
import { KUKEOND_CELL as SYSTEM_CELL, SYSTEM } from '../install/system-realm';

export interface DaemonCellState {
  /** The cell's live state (`Ready` only while its root runs). */
  cell: State | undefined;
  /** The kukeond container's live state. */
  daemon: State | undefined;
  pid?: number;
}

/** How a stop ends kukeond: SIGTERM, then SIGKILL after `timeoutMs`. */
const CLEAR_MS = 10_000;
/** Starts tried when each finds a task that something else (the restart monitor) started meanwhile. */
const START_ATTEMPTS = 3;

export class DaemonCell {
  constructor(private readonly host: Host) {}

  /** The cell's and kukeond's live state; KUKEON_E_NOT_FOUND (run `kuke init`) when there is no system cell. */
  async state(): Promise<DaemonCellState> {
    const c = this.host.controller;
    const scope = SYSTEM_CELL.path.slice(0, 3);
    if (!(await this.host.state.get(SYSTEM_CELL)))
      throw new KukeonError('KUKEON_E_NOT_FOUND', `there is no system cell ${SYSTEM_CELL.path.join('/')} (kukeond's): run kuke init first`);
    const [cell] = await c.get({ kind: 'Cell', scope, name: SYSTEM_CELL.path[3] });
    const containers = await c.get({ kind: 'Container', scope: [...SYSTEM_CELL.path], name: SYSTEM.container }).catch(() => []);
    const daemon = containers[0]?.kind === 'Container' ? containers[0].status : undefined;
    return { cell: cell?.status?.state, daemon: daemon?.state, pid: daemon?.pid };
  }

  running(s: DaemonCellState): boolean {
    return s.cell === 'Ready' && s.daemon === 'Ready';
  }

  /** Starts the cell unless kukeond already runs; returns whether it started it. */
  async start(opts: CallOptions = {}): Promise<{ started: boolean; state: DaemonCellState }> {
    const before = await this.state();
    if (this.running(before)) return { started: false, state: before };
    for (let attempt = 1; ; attempt++) {
      // What a crash left (the root, a stopped kukeond task) is stopped first: the start then begins from nothing.
      await this.host.controller.stop(SYSTEM_CELL, { signal: 'SIGTERM', timeoutMs: CLEAR_MS }, { signal: opts.signal });
      try {
        await this.host.controller.start(SYSTEM_CELL, { signal: opts.signal });
        return { started: true, state: await this.state() };
      } catch (err) {
        // containerd's restart monitor watches kukeond's container too: right after a crash it may start a task
        // between the clear and the start, which then finds it existing. Clear that one and start again.
        if (attempt >= START_ATTEMPTS || !/already exists/i.test((err as Error).message)) throw err;
      }
    }
  }

  /** Stops the cell (kukeond gets SIGTERM, then SIGKILL after `timeoutMs`); returns whether anything ran. */
  async stop(timeoutMs: number, opts: CallOptions = {}): Promise<{ wasRunning: boolean }> {
    const before = await this.state();
    const wasRunning = before.cell === 'Ready' || before.daemon === 'Ready' || before.cell === 'Unknown';
    await this.host.controller.stop(SYSTEM_CELL, { signal: 'SIGTERM', timeoutMs }, { signal: opts.signal });
    return { wasRunning };
  }

  /** kukeond's log, from the start; with `follow`, what is appended until it exits (or the call is aborted). */
  async *logs(follow: boolean, opts: CallOptions = {}): AsyncIterable<Uint8Array> {
    await this.state();
    yield* this.host.api.logs({ ref: SYSTEM_CELL, container: SYSTEM.container, follow }, opts);
  }
}

// How the supervisor reads an exit and what the cell's state becomes: pure functions, no I/O (unit-tested).

import os from 'node:os';
import type { CellStatus, ContainerReason, ContainerStatus } from '../../../sdk';

/** Exit statuses above this came from a signal (the shell's and containerd's convention: 128 + signal number). */
const SIGNAL_OFFSET = 128;

const SIGNAL_NAMES = new Map<number, string>(Object.entries(os.constants.signals).map(([name, n]) => [n, name]));

export interface ExitReading {
  exitCode: number;
  /** `SIGKILL` for an exit status of 137, ...; unset for a plain exit. */
  exitSignal?: string;
  reason: Extract<ContainerReason, 'Completed' | 'Error' | 'Killed' | 'OOMKilled'>;
  /** For a status message: `exited with code 3`, `killed by SIGKILL`, `killed by the OOM killer`. */
  text: string;
}

/** The name of signal `n` (`SIGKILL` for 9), or undefined when there is none. */
export function signalName(n: number): string | undefined {
  return SIGNAL_NAMES.get(n);
}

/** What an exit status says: `oomKilled` when the container's cgroup counted a new OOM kill. */
export function readExit(exitCode: number, oomKilled = false): ExitReading {
  const exitSignal = exitCode > SIGNAL_OFFSET ? signalName(exitCode - SIGNAL_OFFSET) : undefined;
  if (oomKilled) return { exitCode, exitSignal, reason: 'OOMKilled', text: 'killed by the OOM killer' };
  if (exitSignal) return { exitCode, exitSignal, reason: 'Killed', text: `killed by ${exitSignal}` };
  return { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', text: `exited with code ${exitCode}` };
}

/** Reasons the supervisor writes when it has dealt with an exit (the exit is not read again). */
const HANDLED = new Set<string>(['Completed', 'Error', 'Killed', 'OOMKilled', 'CrashLoopBackOff']);

/**
 * Whether a container's stored status already records the exit of its stopped task: the supervisor wrote its
 * reason (a start clears it, and a running container is `Ready`), or a restart is pending.
 */
export function exitRecorded(st: ContainerStatus): boolean {
  if (st.nextRestartAt) return true;
  return (st.state === 'Exited' || st.state === 'Failed' || st.state === 'Stopped') && HANDLED.has(st.reason ?? '');
}

/**
 * The state of a cell whose root runs, from its workloads: `Failed` when one gave up (on-failure's cap), else
 * `Degraded` while a restart is pending, else `Exited` when every workload exited, else `Ready`.
 */
export function cellStateOf(workloads: Record<string, ContainerStatus>): Pick<CellStatus, 'state' | 'reason' | 'message'> {
  const entries = Object.entries(workloads);
  const failed = entries.find(([, c]) => c.state === 'Failed');
  if (failed) return { state: 'Failed', reason: failed[1].reason, message: `container ${failed[0]}: ${failed[1].message ?? 'failed'}` };
  const pending = entries.filter(([, c]) => c.nextRestartAt);
  if (pending.length)
    return {
      state: 'Degraded',
      reason: 'CrashLoopBackOff',
      message: pending.map(([id, c]) => `container ${id} restarts at ${c.nextRestartAt}`).join('; '),
    };
  if (entries.length && entries.every(([, c]) => c.state === 'Exited')) return { state: 'Exited', reason: undefined, message: undefined };
  return { state: 'Ready', reason: undefined, message: undefined };
}

// What happened to a resource, read from how its stored document changed: the lifecycle, the network plugin and
// the supervisor only write status, and the history derives `Started`, `Exited`, `Restarted`, `OOMKilled`, ...
// from the difference, so none of them calls into the history. Pure: no I/O, no clock.

import { constants } from 'node:os';
import { sameSpec } from '../controller/diff';
import type { AnyDoc, CellStatus, ContainerStatus, Ref, ResourceEvent } from '../../../sdk';

type AnyStatusFields = ContainerStatus & CellStatus;

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, n]) => [n as number, name]));

/** `exited with code 3`; `exited with code 137 (SIGKILL)`: a code above 128 is the runtime's way to say "a signal". */
export function exitMessage(exitCode: number | undefined, exitSignal?: string): string {
  const signal = exitSignal ?? (exitCode !== undefined && exitCode > 128 ? SIGNAL_NAMES.get(exitCode - 128) : undefined);
  if (exitCode === undefined) return signal ? `killed by ${signal}` : 'exited';
  return `exited with code ${exitCode}${signal ? ` (${signal})` : ''}`;
}

/** The event of a task exit (from the runtime's exit events, or from a status that gained one). */
export function exitEvent(ref: Ref, time: string, exitCode: number | undefined, exitSignal?: string, reason?: string): ResourceEvent {
  const failed = (exitCode !== undefined && exitCode !== 0) || exitSignal !== undefined;
  const why = reason && !['Completed', 'Error', 'Killed'].includes(reason) ? ` (${reason})` : '';
  return { time, ref, type: failed ? 'Warning' : 'Normal', reason: 'Exited', message: `${exitMessage(exitCode, exitSignal)}${why}` };
}

/**
 * The events of one store write: `previous` is the document before it (undefined when it was added), `next` after
 * it (undefined when it was removed).
 */
export function eventsOfChange(ref: Ref, previous: AnyDoc | undefined, next: AnyDoc | undefined, time: string): ResourceEvent[] {
  const kind = ref.kind.toLowerCase();
  const ev = (reason: string, message: string, type: ResourceEvent['type'] = 'Normal'): ResourceEvent => ({
    time,
    ref,
    type,
    reason,
    message,
  });
  if (!next) return [ev('Deleted', `${kind} deleted`)];
  if (!previous) return [ev('Created', `${kind} created`)];
  const p = (previous.status ?? {}) as AnyStatusFields;
  const n = (next.status ?? {}) as AnyStatusFields;
  const out: ResourceEvent[] = [];
  const changed = n.state !== p.state;
  // status writes keep the spec object: compared only when it is another one
  if (previous.spec !== next.spec && !sameSpec(previous.spec, next.spec)) out.push(ev('Updated', 'spec changed (applied)'));

  // Exits first: they happened before whatever the same write says came next (a restart, a back-off).
  const exitedNow = (n.finishTime !== undefined && n.finishTime !== p.finishTime) || (changed && n.state === 'Exited');
  if (exitedNow && n.state !== 'Stopped') out.push(exitEvent(ref, time, n.exitCode, n.exitSignal, n.reason));
  if (n.reason === 'OOMKilled' && (p.reason !== 'OOMKilled' || exitedNow))
    out.push(ev('OOMKilled', "killed by the kernel's OOM killer (memory limit reached)", 'Warning'));

  const restarts = n.restartCount ?? 0;
  if (restarts > (p.restartCount ?? 0)) out.push(ev('Restarted', `restarted by its restart policy (restart ${restarts})`));
  else if (changed && n.state === 'Ready' && ref.kind !== 'Realm' && ref.kind !== 'Space' && ref.kind !== 'Stack')
    out.push(ev('Started', n.pid ? `started (pid ${n.pid})` : 'started'));

  if (n.nextRestartAt && n.nextRestartAt !== p.nextRestartAt)
    out.push(ev('BackOff', `back-off: restarting at ${n.nextRestartAt}${n.reason ? ` (${n.reason})` : ''}`, 'Warning'));

  if (changed && n.state === 'Stopped') {
    const by = n.reason === 'Reboot' ? ': the host restarted under it' : n.stoppedByUser ? ' by the user' : '';
    const code =
      n.exitCode !== undefined && (n.finishTime !== p.finishTime || n.exitCode !== p.exitCode)
        ? ` (${exitMessage(n.exitCode, n.exitSignal)})`
        : '';
    out.push(ev('Stopped', `stopped${by}${code}`));
  }
  if (changed && n.state === 'Failed') out.push(ev('Failed', describeFailure(n), 'Warning'));
  if (changed && n.state === 'Degraded') out.push(ev('Degraded', n.message ?? 'a container exited; a restart is pending', 'Warning'));
  if (changed && n.state === 'Unknown' && p.state === 'Ready')
    out.push(ev('Lost', n.message ?? 'its task is gone (found by a status check)', 'Warning'));
  out.push(...networkEvents(p, n, ev));
  return out;
}

function describeFailure(s: AnyStatusFields): string {
  if (s.reason && s.message) return `${s.reason}: ${s.message}`;
  return s.message ?? s.reason ?? 'failed';
}

function networkEvents(
  p: AnyStatusFields,
  n: AnyStatusFields,
  ev: (reason: string, message: string, type?: ResourceEvent['type']) => ResourceEvent,
): ResourceEvent[] {
  const was = p.network;
  const is = n.network;
  if (!is || (was?.state === is.state && was?.address === is.address)) return [];
  if (is.state === 'Attached')
    return [
      ev(
        'NetworkAttached',
        `attached ${is.interface ?? 'eth0'} ${is.address ?? n.ip ?? ''}${is.hostInterface ? ` (host side ${is.hostInterface})` : ''}`.trim(),
      ),
    ];
  if (is.state === 'Host') return [ev('NetworkAttached', "uses the host's network")];
  if (is.state === 'Broken') return [ev('NetworkBroken', is.message ?? 'the network attachment is damaged', 'Warning')];
  return [];
}

// Who holds a lock. A pid alone is not enough: pids are reused, and lock files under the run path outlive a
// reboot. So a holder is pid + kernel start time + boot id, and it is alive only if all three still match.

import * as fs from 'node:fs';

export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks after boot. */
  startTime: number;
  /** /proc/sys/kernel/random/boot_id: changes on every boot. */
  bootId: string;
}

// The boot id cannot change while this process runs.
let cachedBootId: string | undefined;

function currentBootId(): string | undefined {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  }
  return cachedBootId;
}

function readStat(pid: number): { state: string; startTime: number } | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2 (comm) is in parens and may itself hold spaces and parens: field 3 onwards follows the last ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const state = fields[0];
  const startTime = Number(fields[22 - 3]);
  if (!state || !Number.isSafeInteger(startTime)) return undefined;
  return { state, startTime };
}

/** The identity of a running process (this one by default), or undefined when /proc does not show it. */
export function processIdentity(pid: number = process.pid): ProcessIdentity | undefined {
  const stat = readStat(pid);
  const bootId = currentBootId();
  if (!stat || !bootId) return undefined;
  return { pid, startTime: stat.startTime, bootId };
}

/** True only if the very process `identity` names still runs on this boot. Anything malformed is not alive. */
export function isAlive(identity: unknown): boolean {
  if (!identity || typeof identity !== 'object') return false;
  const { pid, startTime, bootId } = identity as Partial<ProcessIdentity>;
  if (typeof pid !== 'number' || typeof startTime !== 'number' || typeof bootId !== 'string') return false;
  if (bootId !== currentBootId()) return false;
  const stat = readStat(pid);
  if (!stat || stat.startTime !== startTime) return false;
  // A zombie has exited already: it will never release what it holds.
  return stat.state !== 'Z' && stat.state !== 'X';
}

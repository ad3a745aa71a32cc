// Where to kill a command: its failpoints, found by running it once with `-v` (the host traces every tap it runs
// as `<hook> tap <name> (<owner>) <ms>ms`), or a random delay after its start. A tap passed n times (once per
// cell, say) gives 2n kill points: before the tap and after it (`.done`), at each pass (`name=kill@k`).

import type { SeededRandom } from './seeded-random';

export type KillPoint = { kind: 'failpoint'; spec: string; label: string } | { kind: 'delay'; ms: number; label: string };

const TRACE_RE = /kukeon:hooks (\S+) tap (.+?) \(([^)]+)\) [\d.]+ms/;

/** `tap.<hook>.<tap name>` -> how often the command passed it, from a `-v` trace. */
export function tapPassesOf(trace: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of trace.split('\n')) {
    const m = TRACE_RE.exec(line);
    if (!m || line.includes(' failed: ')) continue;
    const point = `tap.${m[1]}.${m[2]}`;
    out.set(point, (out.get(point) ?? 0) + 1);
  }
  return out;
}

/** Every failpoint kill of a command: before and after each tap, at every pass. */
export function failpointKills(passes: Map<string, number>): KillPoint[] {
  const out: KillPoint[] = [];
  for (const [point, n] of passes) {
    for (const name of [point, `${point}.done`]) {
      for (let k = 1; k <= n; k++) out.push({ kind: 'failpoint', spec: `${name}=kill@${k}`, label: `${name}@${k}` });
    }
  }
  return out;
}

/**
 * Hands out kill points per command: a share `delayShare` of random delays in [0, 0.9 x the command's duration),
 * the rest failpoints, each distinct tap point (before/after, a random pass) once before any repeats. With
 * `coverFirst` (the full run) a command gets failpoints only until each of its tap points was handed out once.
 */
export class KillPlan {
  private readonly queues = new Map<string, KillPoint[]>();

  constructor(
    private readonly rng: SeededRandom,
    private readonly points: Map<string, KillPoint[]>,
    private readonly durationsMs: Map<string, number>,
    private readonly delayShare = 0.25,
    private readonly coverFirst = false,
    /** Kill points handed out first, per command: the ones that found defects, kept in every run. */
    private readonly pinned = new Map<string, KillPoint[]>(),
  ) {}

  private readonly handedOut = new Map<string, number>();

  /** Distinct tap points (before/after) of `command`, whatever the pass. */
  distinct(command: string): string[] {
    return [...new Set((this.points.get(command) ?? []).map((p) => p.label.replace(/@\d+$/, '')))];
  }

  next(command: string): KillPoint {
    const first = this.pinned.get(command)?.shift();
    if (first) return first;
    const all = this.points.get(command) ?? [];
    const covering = this.coverFirst && (this.handedOut.get(command) ?? 0) < this.distinct(command).length;
    if (all.length === 0 || (!covering && this.rng.next() < this.delayShare)) {
      const ms = Math.floor(this.rng.next() * 0.9 * (this.durationsMs.get(command) ?? 1000));
      return { kind: 'delay', ms, label: `delay ${ms}ms` };
    }
    let queue = this.queues.get(command);
    if (!queue || queue.length === 0) {
      // one point per distinct tap point, at a random pass, in a random order
      const byName = new Map<string, KillPoint[]>();
      for (const p of all) {
        const name = p.label.replace(/@\d+$/, '');
        byName.set(name, [...(byName.get(name) ?? []), p]);
      }
      queue = this.rng.shuffle([...byName.values()].map((passes) => this.rng.pick(passes)));
      this.queues.set(command, queue);
    }
    this.handedOut.set(command, (this.handedOut.get(command) ?? 0) + 1);
    return queue.shift()!;
  }
}

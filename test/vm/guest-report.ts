// biome-ignore-all lint/suspicious/noExplicitAny: the guest prints JSON whose shape each assertion reads as it needs
// What a guest printed on its serial console as `KT <key> <value>` lines, read by the vm tests' assertions.

import * as assert from 'uvu/assert';
import type { GuestConsole } from './boot-guest';

/** The guest's `KT <key> <value>` lines: `step NAME`, `json NAME` and `pids.max`-like keys, last one wins. */
export class GuestReport {
  readonly values = new Map<string, string>();

  constructor(readonly console: GuestConsole) {
    for (const line of console.lines) {
      const m = /^KT ((?:step|json) \S+|\S+) ?(.*)$/.exec(line);
      if (m) this.values.set(m[1], m[2]);
    }
  }

  get(key: string): string {
    const v = this.values.get(key);
    assert.ok(v !== undefined, `the guest printed no "KT ${key}" line; its console:\n${this.tail()}`);
    return v!;
  }

  json(name: string): any {
    return JSON.parse(this.get(`json ${name}`));
  }

  /** `key value` pairs of a cgroup file printed on one line (memory.events, cpu.stat, ...). */
  counters(key: string): Record<string, number> {
    const words = this.get(key).trim().split(/\s+/);
    const out: Record<string, number> = {};
    for (let i = 0; i + 1 < words.length; i += 2) out[words[i]] = Number(words[i + 1]);
    return out;
  }

  /** `a=1 b=2` fields of a line. */
  fields(key: string): Record<string, string> {
    return Object.fromEntries(
      this.get(key)
        .split(/\s+/)
        .filter((w) => w.includes('='))
        .map((w) => w.split('=', 2) as [string, string]),
    );
  }

  tail(n = 60): string {
    return this.console.lines.slice(-n).join('\n');
  }
}

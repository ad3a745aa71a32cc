// A pod's network counters for PodSandboxStats: /proc/<pid>/net/dev of its root (the infra container), which shows
// the interfaces of the network namespace that process is in, the pod's own. The default interface is the one the
// cni plugin made (`eth0`), else the first that is not loopback.

import fs from 'node:fs';
import type { CriMessage } from './cri-records';

interface Counters {
  name: string;
  rxBytes: string;
  rxErrors: string;
  txBytes: string;
  txErrors: string;
}

/** The interfaces of a /proc/net/dev text, loopback left out. */
export function parseNetDev(text: string): Counters[] {
  const out: Counters[] = [];
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    // receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes packets errs ...
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (name === 'lo' || f.length < 11) continue;
    out.push({ name, rxBytes: f[0], rxErrors: f[2], txBytes: f[8], txErrors: f[10] });
  }
  return out;
}

const usage = (c: Counters): CriMessage => ({
  name: c.name,
  rx_bytes: { value: c.rxBytes },
  rx_errors: { value: c.rxErrors },
  tx_bytes: { value: c.txBytes },
  tx_errors: { value: c.txErrors },
});

/** The NetworkUsage of the pod whose root is `pid`; undefined when that process is gone. */
export function podNetworkUsage(pid: number, timestamp: string): CriMessage | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/net/dev`, 'utf8');
  } catch {
    return undefined;
  }
  const all = parseNetDev(text);
  const main = all.find((c) => c.name === 'eth0') ?? all[0];
  return { timestamp, ...(main ? { default_interface: usage(main) } : {}), interfaces: all.map(usage) };
}

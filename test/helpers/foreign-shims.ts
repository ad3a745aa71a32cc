// What in /run/containerd belongs to another containerd on this machine: containerd 1.6 puts every shim's socket
// (s/<hash>) and runc state (runc/<namespace>) there, whatever its own root, so a teardown that compares the host
// before and after must tell its own leftovers from a live neighbour's (another critest environment does not take
// the e2e lock). An entry is the neighbour's when one of its live shims (`-address` not ours) holds it.

import fs from 'node:fs';
import { liveProcesses } from '../../sdk/testkit/observe';

/** `s/<hash>` and `runc/<namespace>/` entries held by live shims whose containerd address is not `ours`. */
export function foreignShimEntries(ours: string): Set<string> {
  const out = new Set<string>();
  for (const { pid, argv } of liveProcesses()) {
    if (!(argv[0] ?? '').includes('containerd-shim')) continue;
    const address = argv[argv.indexOf('-address') + 1];
    if (argv.indexOf('-address') < 0 || address === ours) continue;
    const ns = argv[argv.indexOf('-namespace') + 1];
    if (argv.includes('-namespace') && ns) out.add(`runc/${ns}/`);
    try {
      const inodes = new Set(
        fs
          .readdirSync(`/proc/${pid}/fd`)
          .map((fd) => /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1])
          .filter(Boolean),
      );
      // the shim's own network namespace's table: its sockets are not in ours
      for (const line of fs.readFileSync(`/proc/${pid}/net/unix`, 'utf8').split('\n')) {
        const f = line.trim().split(/\s+/);
        const p = f[7];
        if (p?.startsWith('/run/containerd/s/') && inodes.has(f[6])) out.add(`s/${p.slice('/run/containerd/s/'.length)}`);
      }
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

// A container's capabilities: Docker's default set with `capabilities.add` / `drop` over it (Docker's
// TweakCapabilities: ALL in add = every capability but the dropped ones; ALL in drop = only the added ones), or
// every capability for a privileged container.

import { capabilityName } from '../../sdk';
import type { ContainerSpec } from '../../sdk';

/** Docker's (and containerd's) default capability set. */
export const DEFAULT_CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** `all`: every capability this host can grant (the bounding set of the process creating the container). */
export function capabilitySet(container: ContainerSpec | undefined, all: readonly string[]): string[] {
  if (container?.privileged) return [...all];
  const names = (list: string[] | undefined) => (list ?? []).map((n) => capabilityName(n)).filter((n): n is string => n !== undefined);
  const add = names(container?.capabilities?.add);
  const drop = names(container?.capabilities?.drop);
  let caps: string[];
  if (add.includes('ALL')) caps = all.filter((c) => !drop.includes(c));
  else if (drop.includes('ALL')) caps = add;
  else caps = [...DEFAULT_CAPS.filter((c) => !drop.includes(c)), ...add];
  return [...new Set(caps.filter((c) => c !== 'ALL'))];
}

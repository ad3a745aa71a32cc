// The security fields of one container beyond their JSON Schema: capability names Linux has, security options
// kukeon knows, tmpfs and device paths that cannot reach around the checks (no `..`, not `/`, `/proc`, ...).

import path from 'node:path';
import { SecurityOptError, capabilityName, parseSecurityOpts } from '../../../sdk';
import type { ContainerSpec } from '../../../sdk';

const RESERVED_TARGETS = ['/', '/proc', '/sys', '/dev'];

export function checkSecurityFields(c: ContainerSpec, field: string, invalid: (f: string, m: string) => never): void {
  for (const list of ['add', 'drop'] as const) {
    (c.capabilities?.[list] ?? []).forEach((name, i) => {
      if (!capabilityName(name)) invalid(`${field}.capabilities.${list}[${i}]`, `"${name}" is not a Linux capability`);
    });
  }
  try {
    parseSecurityOpts(c.securityOpts);
  } catch (err) {
    if (err instanceof SecurityOptError) invalid(`${field}.securityOpts[${err.index}]`, err.message);
    throw err;
  }
  const seen = new Set<string>();
  (c.tmpfs ?? []).forEach((p, i) => {
    const where = `${field}.tmpfs[${i}]`;
    if (p.split('/').includes('..') || p.includes('\0')) invalid(where, 'must be an absolute path without ".."');
    const target = path.posix.normalize(p).replace(/(.)\/$/, '$1');
    if (RESERVED_TARGETS.includes(target)) invalid(where, `cannot be ${target}`);
    if (seen.has(target)) invalid(where, `"${target}" is listed twice`);
    seen.add(target);
  });
  const devices = new Set<string>();
  (c.devices ?? []).forEach((d, i) => {
    const p = typeof d === 'string' ? d : d.path;
    const where = typeof d === 'string' ? `${field}.devices[${i}]` : `${field}.devices[${i}].path`;
    if (p.split('/').includes('..') || p.includes('\0')) invalid(where, 'must be an absolute path without ".."');
    const normal = path.posix.normalize(p);
    if (devices.has(normal)) invalid(where, `"${normal}" is listed twice`);
    devices.add(normal);
  });
}

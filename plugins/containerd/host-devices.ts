// Host device nodes for a container's spec: one named in `devices` (stat'd when the container is created: its type,
// major and minor go into linux.devices and a cgroup device rule), or all of /dev for a privileged one, as
// Docker's --privileged (runc's HostDevices: /dev/pts, /dev/shm, /dev/mqueue, /dev/fd and /dev/console left out).

import fs from 'node:fs';
import path from 'node:path';
import { KukeonError } from '../../sdk';
import type { DeviceMapping } from '../../sdk';

export interface OciDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

export interface OciDeviceRule {
  allow: boolean;
  type: 'c' | 'b';
  major: number;
  minor: number;
  access: string;
}

/** Linux's dev_t encoding (glibc's gnu_dev_major / gnu_dev_minor). */
function majorMinor(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

/** The device at `file` (symlinks followed), or undefined when it is not a character or block device. */
export function deviceAt(file: string, inContainer = file): OciDevice | undefined {
  const st = fs.statSync(file, { bigint: true });
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (!type) return undefined;
  return { path: inContainer, type, ...majorMinor(st.rdev), fileMode: Number(st.mode & 0o777n), uid: Number(st.uid), gid: Number(st.gid) };
}

/** A `devices` entry as the spec's device and its cgroup rule; `field` names it in errors. */
export function declaredDevice(entry: string | DeviceMapping, field: string): { device: OciDevice; rule: OciDeviceRule } {
  const p = typeof entry === 'string' ? entry : entry.path;
  const access = (typeof entry === 'string' ? undefined : entry.permissions) ?? 'rwm';
  let device: OciDevice | undefined;
  try {
    device = deviceAt(p);
  } catch (err) {
    throw new KukeonError(
      'KUKEON_E_INVALID',
      `${field}: ${p} cannot be read on this host (${(err as NodeJS.ErrnoException).code ?? err})`,
      {
        field,
        plugin: 'containerd',
      },
    );
  }
  if (!device)
    throw new KukeonError('KUKEON_E_INVALID', `${field}: ${p} is not a character or block device`, { field, plugin: 'containerd' });
  return { device, rule: { allow: true, type: device.type, major: device.major, minor: device.minor, access } };
}

const SKIPPED_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/** Every device node under /dev (Docker's --privileged). */
export function hostDevices(dir = '/dev'): OciDevice[] {
  const out: OciDevice[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIPPED_DIRS.has(e.name)) out.push(...hostDevices(p));
      continue;
    }
    if (p === '/dev/console' || !(e.isCharacterDevice() || e.isBlockDevice())) continue;
    try {
      const d = deviceAt(p);
      if (d) out.push(d);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

// The runtime's part of a container's OCI spec: process, mounts, namespaces and security. The cgroups slot adds
// cgroupsPath and resources through the same `ociSpec` waterfall; add-ons tap after both.

import fs from 'node:fs';
import path from 'node:path';
import { KukeonError, LINUX_CAPABILITIES, parseSecurityOpts } from '../../sdk';
import type { ContainerSpec, OciMount, OciNamespace, OciSpec } from '../../sdk';
import { type VolumeDirOf, ociVolumeMounts } from './volume-mounts';
import { capabilitySet } from './capability-set';
import type { ExecUser } from './exec-user';
import { declaredDevice, hostDevices } from './host-devices';
import type { OciDevice, OciDeviceRule } from './host-devices';
import { defaultSeccompProfile, seccompFilter } from './seccomp';
import type { SeccompProfile } from './seccomp';

/** The parts of an image config the process is built from. */
export interface ImageConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
}

export interface SpecInput {
  role: 'root' | 'workload';
  /** The declared container; undefined for a synthesized root. */
  container: ContainerSpec | undefined;
  image: ImageConfig | undefined;
  /** realm, space, stack, cell */
  cellPath: readonly string[];
  /** Host directory with the cell's generated hostname, hosts and resolv.conf. */
  etcDir: string;
  /** Root pid whose network, IPC and UTS namespaces a workload joins. */
  rootPid?: number;
  /** Synthesized root: the host's static pause binary, bind-mounted read-only. */
  pauseBinary?: string;
  /** Synthesized root, or a container without an image (the system realm's kukeond): its empty rootfs directory. */
  rootfsPath?: string;
  /** The cell runs on the host's network: no network namespace of its own (the root's is the host's). */
  hostNetwork?: boolean;
  /** Where a named volume's data lives (the container's `kind: volume` mounts need it). */
  volumeDir?: VolumeDirOf;
  /** The process's user, resolved from the image's /etc/passwd and /etc/group (exec-user); default numeric only. */
  user?: ExecUser;
  /** The profile `securityOpts: ["seccomp=<path>"]` names, read by the caller. */
  seccompProfile?: SeccompProfile;
}

export const PAUSE_PATH = '/.kukeon/pause';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const MASKED = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
];
const READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/**
 * Docker's --privileged: every capability this process's bounding set still has (as moby's GetAllCapabilities):
 * runc cannot grant one the host took away (a machine without CAP_SYS_RESOURCE, say) and fails the start.
 */
export function privilegedCaps(status = readProcStatus()): string[] {
  const bnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  if (!bnd) return [...LINUX_CAPABILITIES];
  const mask = BigInt(`0x${bnd}`);
  return LINUX_CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}

function readProcStatus(): string {
  try {
    return fs.readFileSync('/proc/self/status', 'utf8');
  } catch {
    return '';
  }
}

/** The caller's hard limit for open files: runc refuses rlimits above it (no CAP_SYS_RESOURCE here). */
export function hardNofile(): number {
  try {
    const line = fs
      .readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const hard = line?.trim().split(/\s{2,}/)[2];
    if (hard === 'unlimited') return 1048576;
    const n = Number(hard);
    if (Number.isFinite(n) && n > 0) return n;
  } catch {
    // not Linux: keep the default
  }
  return 1024;
}

/** Numeric `uid:gid` or `root` without the image's files; anything else must come resolved (`SpecInput.user`). */
function userOf(user: string | undefined, where: string): ExecUser {
  if (!user || user === 'root' || user === '0') return { uid: 0, gid: 0, additionalGids: [0] };
  const m = /^(\d+):(\d+)$/.exec(user);
  if (!m) throw new KukeonError('KUKEON_E_INTERNAL', `${where}: user "${user}" needs the image's /etc/passwd, which was not read`);
  return { uid: Number(m[1]), gid: Number(m[2]), additionalGids: [Number(m[2])] };
}

/** The process: command replaces the entrypoint and args the cmd (as Kubernetes does); image env, then kukeon's, then the user's. */
export function processArgs(container: ContainerSpec, image: ImageConfig | undefined): string[] {
  const args =
    container.command !== undefined
      ? [container.command, ...(container.args ?? [])]
      : [...(image?.Entrypoint ?? []), ...(container.args ?? image?.Cmd ?? [])];
  if (args.length === 0)
    throw new KukeonError('KUKEON_E_INVALID', `container ${container.id}: the image has no entrypoint or cmd, and no command is set`, {
      field: 'command',
    });
  return args;
}

/** `K=V` lists merged by name: a later list's value wins, in the place the name first had. */
export function mergeEnv(...lists: (readonly string[] | undefined | null)[]): string[] {
  const out = new Map<string, string>();
  for (const list of lists) for (const kv of list ?? []) out.set(kv.split('=')[0], kv);
  return [...out.values()];
}

function mounts(input: SpecInput): OciMount[] {
  const m: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/sys',
      type: 'sysfs',
      source: 'sysfs',
      options: ['nosuid', 'noexec', 'nodev', input.container?.privileged ? 'rw' : 'ro'],
    },
  ];
  for (const file of ['hostname', 'hosts', 'resolv.conf']) {
    m.push({
      destination: `/etc/${file}`,
      type: 'bind',
      source: `${input.etcDir}/${file}`,
      options: ['rbind', 'rprivate', input.role === 'root' && !input.container ? 'ro' : 'rw'],
    });
  }
  if (input.pauseBinary) m.push({ destination: PAUSE_PATH, type: 'bind', source: input.pauseBinary, options: ['rbind', 'rprivate', 'ro'] });
  m.push(...ociVolumeMounts(input.container?.volumes, input.cellPath[3], input.volumeDir));
  // Docker's --tmpfs: a fresh tmpfs, writable even on a read-only root, and nothing on it runs set-uid or as a device
  for (const t of input.container?.tmpfs ?? [])
    m.push({
      destination: path.posix.normalize(t).replace(/(.)\/+$/, '$1'),
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'nodev', 'noexec'],
    });
  return m;
}

/** The seccomp filter of a container: none for a privileged one or `seccomp=unconfined`. */
function seccompOf(input: SpecInput, caps: readonly string[], where: string): ReturnType<typeof seccompFilter> | undefined {
  if (input.container?.privileged) return undefined;
  const opts = parseSecurityOpts(input.container?.securityOpts);
  if (opts.seccomp === 'unconfined') return undefined;
  if (opts.seccomp === 'default') return seccompFilter(defaultSeccompProfile(), caps);
  if (!input.seccompProfile) throw new KukeonError('KUKEON_E_INTERNAL', `${where}: the seccomp profile ${opts.seccomp.path} was not read`);
  return seccompFilter(input.seccompProfile, caps);
}

/** `devices` (and every host device for a privileged container): the spec's devices and their cgroup rules. */
function devicesOf(container: ContainerSpec | undefined, where: string): { devices: OciDevice[]; rules: OciDeviceRule[] } {
  const devices = container?.privileged ? hostDevices() : [];
  const rules: OciDeviceRule[] = [];
  (container?.devices ?? []).forEach((entry, i) => {
    const { device, rule } = declaredDevice(entry, `${where}.devices[${i}]`);
    const at = devices.findIndex((d) => d.path === device.path);
    if (at >= 0) devices[at] = device;
    else devices.push(device);
    rules.push(rule);
  });
  return { devices, rules };
}

function namespaces(input: SpecInput): OciNamespace[] {
  // hostPID: no pid namespace of its own, so the container sees and signals the host's processes
  const pid: OciNamespace[] = input.container?.hostPID ? [] : [{ type: 'pid' }];
  if (input.role === 'root')
    return [...pid, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, ...(input.hostNetwork ? [] : [{ type: 'network' as const }])];
  if (!input.rootPid) throw new KukeonError('KUKEON_E_STEP', 'a workload needs the root container running first (no root pid)');
  const join = (type: 'network' | 'ipc' | 'uts', ns: string): OciNamespace => ({ type, path: `/proc/${input.rootPid}/ns/${ns}` });
  // hostNetwork: no network namespace at all, so the workload stays in the host's, as its root does
  return [...pid, { type: 'mount' }, ...(input.hostNetwork ? [] : [join('network', 'net')]), join('ipc', 'ipc'), join('uts', 'uts')];
}

export function runtimeSpec(input: SpecInput): OciSpec {
  const [realm, space, stack, cell] = input.cellPath;
  const synthesized = input.role === 'root' && !input.container;
  // No image: an empty rootfs directory (kukeon's own), with what runs bind-mounted into it (the system realm's kukeond)
  const emptyRootfs = synthesized || (input.container !== undefined && input.container.image === undefined);
  const privileged = input.container?.privileged === true;
  const id = input.container?.id ?? 'root';
  const where = `container ${id}`;
  const caps = capabilitySet(input.container, privilegedCaps());
  const noNewPrivileges = parseSecurityOpts(input.container?.securityOpts).noNewPrivileges ?? !privileged;
  const kukeonEnv = [
    `KUKEON_REALM=${realm}`,
    `KUKEON_SPACE=${space}`,
    `KUKEON_STACK=${stack}`,
    `KUKEON_CELL_NAME=${cell}`,
    `KUKEON_CONTAINER_ID=${id}`,
  ];
  const args = synthesized ? [PAUSE_PATH, '-P'] : processArgs(input.container!, input.image);
  // an attachable container runs on a terminal; TERM as Docker sets it for -t, unless the image or the user set one
  const terminal = !synthesized && input.container?.attachable === true && input.container.terminal !== false;
  const termEnv = terminal ? ['TERM=xterm'] : [];
  const env = synthesized ? [DEFAULT_PATH] : mergeEnv([DEFAULT_PATH, ...termEnv], input.image?.Env, kukeonEnv, input.container!.env);
  const nofile = Math.min(1024, hardNofile());
  const spec: OciSpec = {
    ociVersion: '1.0.2-dev',
    process: {
      terminal,
      ...(terminal ? { consoleSize: { height: 24, width: 80 } } : {}),
      user: synthesized ? { uid: 0, gid: 0 } : (input.user ?? userOf(input.container?.user ?? input.image?.User, where)),
      args,
      env,
      cwd: input.container?.workingDir ?? (input.image?.WorkingDir || '/'),
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: nofile, soft: nofile }],
      noNewPrivileges,
      oomScoreAdj: 0,
    },
    root: { path: emptyRootfs ? input.rootfsPath! : 'rootfs', readonly: emptyRootfs || input.container?.readOnlyRootFilesystem === true },
    hostname: cell,
    mounts: mounts(input),
    linux: {
      namespaces: namespaces(input),
      maskedPaths: privileged ? [] : MASKED,
      readonlyPaths: privileged ? [] : READONLY,
    },
  };
  const seccomp = seccompOf(input, caps, where);
  if (seccomp) spec.linux!.seccomp = seccomp;
  const { devices, rules } = devicesOf(input.container, where);
  if (devices.length) spec.linux!.devices = devices;
  // Docker's --privileged allows every device in the device cgroup; declared devices, each its own access
  if (privileged) spec.linux!.resources = { devices: [{ allow: true, access: 'rwm' }] };
  else if (rules.length) spec.linux!.resources = { devices: rules };
  if (input.role === 'workload') delete spec.hostname; // the UTS namespace is the root's
  return spec;
}

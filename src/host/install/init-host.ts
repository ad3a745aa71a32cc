// `kuke init`: sets a host up, in-process and idempotently (a second run changes nothing and says so): the socket's
// group, the run path, the socket directory, the cgroup root and the CNI directories, a containerd to use, the realm
// `default`, the system realm and kukeond running as its container (or a systemd unit), then waits for kukeond.

import fs from 'node:fs';
import path from 'node:path';
import { KukeonError, formatRef } from '../../../sdk';
import type { ApplyItem } from '../../../sdk';
import { prepareSocketDir, probeSocket } from '../../../sdk';
import { detectLayout } from '../../../plugins/cgroupv2/layout';
import { createHost } from '../host';
import type { Host } from '../host';
import { ensureGroup } from './group';
import { kukeondMounts } from './kukeond-mounts';
import {
  chooseContainerd,
  managedContainerdFiles,
  managedContainerdPid,
  managedKeeperPid,
  renderContainerdConfig,
  writtenByKukeon,
} from './managed-containerd';
import { addToInstallRecord } from './install-record';
import type { ManagedStart } from './containerd-unit';
import { CONTAINERD_UNIT_NAME, superviseManagedContainerd, unsupervisedWarning } from './containerd-unit';
import type { InstallOptions, InstallSettings } from './settings';
import { installSettings } from './settings';
import { KUKEOND_CELL, SYSTEM, defaultRealmText, systemRealmText } from './system-realm';
import { UNIT_DIR, UNIT_NAME, renderUnit, systemctl, systemdLoads } from './systemd-unit';
import { findExecutable, pingDaemon, waitForDaemon } from './wait-daemon';

export interface InitOptions extends InstallOptions {
  /** Wait until kukeond answers (default 30 s). */
  wait?: boolean;
  waitTimeoutMs?: number;
  /** Never start a kukeon-managed containerd. */
  noContainerd?: boolean;
  /** Install kukeond.service instead of the kukeond container. */
  systemd?: boolean;
  /** Where --systemd writes the unit (default /etc/systemd/system). */
  unitDir?: string;
}

export type InitAction = 'created' | 'updated' | 'unchanged' | 'started' | 'removed' | 'failed';

export interface InitReport {
  /** One line per item: what, and what init did to it. */
  items: { what: string; action: InitAction; detail?: string }[];
  changed: boolean;
}

export function requireRoot(verb: string): void {
  if (process.getuid && process.getuid() !== 0) throw new KukeonError('KUKEON_E_INSTALL', `kuke ${verb} must run as root`);
}

function ensureDir(dir: string, mode = 0o755): InitAction {
  if (fs.existsSync(dir)) return 'unchanged';
  fs.mkdirSync(dir, { recursive: true, mode });
  return 'created';
}

/** What kukeon keeps in the socket directory: a directory holding anything else is not kukeon's to change. */
/** Staged secret files (on a tmpfs): a directory of kukeon's in the socket directory, removed by uninstall. */
export const STAGED_SECRETS_DIR = 'secrets';
export const SOCKET_DIR_FILES = ['kukeond.sock', 'kukeond.pid', 'alive', 'containerd.pid', 'containerd-keeper.pid'];

/** The socket's directory `2750 root:<gid>` (kukeond would make it 0700 without the group). */
function ensureSocketDir(socket: string, gid: number): InitAction {
  const dir = path.dirname(socket);
  if (!fs.existsSync(dir)) {
    prepareSocketDir(socket, gid);
    return 'created';
  }
  const st = fs.statSync(dir);
  if (st.uid === 0 && st.gid === gid && (st.mode & 0o7777) === 0o2750) return 'unchanged';
  // a shared directory (/tmp, /run) must never get kukeon's owner and mode
  const foreign = fs.readdirSync(dir).filter((n) => !SOCKET_DIR_FILES.includes(n) && n !== STAGED_SECRETS_DIR);
  if (foreign.length || st.isSymbolicLink())
    throw new KukeonError(
      'KUKEON_E_INSTALL',
      `the socket directory ${dir} exists and holds other files (${foreign.slice(0, 5).join(', ')}); kukeon needs a directory of its own (2750 root:<group>) and never changes one it does not own`,
      { hint: 'point --socket into a new directory, for example /run/kukeon/kukeond.sock' },
    );
  fs.chownSync(dir, 0, gid);
  fs.chmodSync(dir, 0o2750);
  return 'updated';
}

/** The top of kukeon's cgroup tree in the cgroup2 mount (runc makes the v1 directories of a hybrid host itself). */
function ensureCgroupRoot(root: string): { dir?: string; action: InitAction } {
  const layout = detectLayout(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  if (!layout.unified) return { action: 'unchanged' };
  const dir = path.join(layout.unified, root);
  return { dir, action: ensureDir(dir) };
}

export async function initHost(options: InitOptions, say: (line: string) => void): Promise<InitReport> {
  requireRoot('init');
  const s = installSettings(options);
  const items: InitReport['items'] = [];
  const note = (what: string, action: InitAction, detail?: string) => {
    items.push({ what, action, detail });
    say(`${what}: ${action}${detail ? ` (${detail})` : ''}\n`);
  };

  // before anything is made: a kukeond of another run path on this socket would keep the socket from ours
  const other = fs.existsSync(s.socket) ? await pingDaemon(s.socket, 1500) : undefined;
  if (other?.answered && other.runPath && path.resolve(other.runPath) !== path.resolve(s.runPath))
    throw new KukeonError(
      'KUKEON_E_STATE',
      `a kukeond for another run path (${other.runPath}, pid ${other.pid}) answers on ${s.socket}; nothing was changed`,
      { hint: 'stop that daemon, or give this host its own --socket' },
    );
  const group = ensureGroup(s.group);
  note(`group ${s.group}`, group.created ? 'created' : 'unchanged');
  note(`run path ${s.runPath}`, ensureDir(s.runPath));
  const socketDir = ensureSocketDir(s.socket, group.gid);
  note(`socket directory ${path.dirname(s.socket)}`, socketDir, `2750 root:${s.group}`);
  addToInstallRecord(s.runPath, {
    createdGroup: group.created ? s.group : undefined,
    createdSocketDir: socketDir === 'created' ? path.dirname(s.socket) : undefined,
  });
  if (s.cgroupRoot !== undefined) {
    const cg = ensureCgroupRoot(s.cgroupRoot);
    if (cg.dir) note(`cgroup root ${cg.dir}`, cg.action);
  }
  if (s.cni) for (const dir of [s.cni.confDir, s.cni.cacheDir, s.cni.ipamDataDir]) note(`CNI directory ${dir}`, ensureDir(dir));

  const unitDir = options.unitDir ?? UNIT_DIR;
  // only a containerd this init started is this host's to stop at uninstall
  addToInstallRecord(s.runPath, { managedContainerdConfig: await ensureContainerd(s, options, unitDir, note, say) });

  const host = await createHost({
    runPath: s.runPath,
    configPath: options.configPath,
    flags: { '--containerd-socket': options.containerdSocket, '--socket': options.socket },
  });
  const failed: string[] = [];
  // kukeond runs one way or the other: the container and the unit would fight over the socket
  if (!options.systemd) removeUnit(unitDir, note);
  try {
    const record = (i: ApplyItem) => {
      note(formatRef(i.ref), i.action === 'failed' ? 'failed' : i.action, i.error ?? i.changes?.join(', '));
      if (i.action === 'failed') failed.push(`${formatRef(i.ref)}: ${i.error}`);
    };
    for (const i of (await host.controller.apply(defaultRealmText(), { source: 'kuke init' })).items) record(i);
    const mounts = options.systemd ? undefined : kukeondMounts(s);
    const system = await host.controller.apply(systemRealmText(s, mounts), { source: 'kuke init', forceSystem: true });
    for (const i of system.items) record(i);
    if (options.systemd && (await kukeondCellExists(host))) {
      await host.controller.delete(KUKEOND_CELL, { cascade: true, forceSystem: true });
      note(formatRef(KUKEOND_CELL), 'removed', 'kukeond runs under systemd now');
    }
  } finally {
    await host.close();
  }
  if (failed.length) throw new KukeonError('KUKEON_E_INSTALL', `kuke init could not apply: ${failed.join('; ')}`);

  const serving = options.systemd ? installUnit(s, unitDir, note) : true;

  const changed = items.some((i) => i.action !== 'unchanged');
  if (options.wait !== false && serving) {
    const timeoutMs = options.waitTimeoutMs ?? 30_000;
    const version = await waitForDaemon(s.socket, timeoutMs);
    say(`kukeond v${version} answers on ${s.socket}\n`);
  }
  say(changed ? 'kukeon is initialized\n' : 'kukeon was already initialized: nothing changed\n');
  return { items, changed };
}

/** Whether the system realm holds the kukeond cell (a get by name of an absent cell is NOT_FOUND, not empty). */
async function kukeondCellExists(host: Host): Promise<boolean> {
  try {
    return (await host.controller.get({ kind: 'Cell', scope: KUKEOND_CELL.path.slice(0, 3), name: SYSTEM.cell })).length > 0;
  } catch (err) {
    if (err instanceof KukeonError && err.code === 'KUKEON_E_NOT_FOUND') return false;
    throw err;
  }
}

/**
 * Uses the containerd answering on the socket; else starts a kukeon-managed one (unless --no-containerd): as
 * kukeon-containerd.service where systemd runs, else under the keeper with a warning that nothing starts it after a reboot.
 */
async function ensureContainerd(
  s: InstallSettings,
  options: InitOptions,
  unitDir: string,
  note: (what: string, action: InitAction, detail?: string) => void,
  say: (line: string) => void,
): Promise<string | undefined> {
  const answers = (await probeSocket(s.containerdSocket)) === 'live';
  const choice = chooseContainerd({
    socket: s.containerdSocket,
    answers,
    binary: findExecutable('containerd'),
    noContainerd: options.noContainerd === true,
  });
  const files = managedContainerdFiles(path.dirname(s.configPath), path.dirname(s.socket), s.runPath);
  if (choice.use === 'existing') {
    const managed = managedContainerdPid(files);
    const unit = path.join(unitDir, CONTAINERD_UNIT_NAME);
    const keeper = managedKeeperPid(files);
    const how = fs.existsSync(unit) ? `, systemd unit ${unit}` : keeper ? `, kept running by kukeon's keeper (pid ${keeper})` : '';
    note(
      `containerd ${s.containerdSocket}`,
      'unchanged',
      managed ? `kukeon-managed, pid ${managed}${how}` : 'running, not managed by kukeon',
    );
    return undefined;
  }
  if (choice.use === 'none')
    throw new KukeonError('KUKEON_E_UNAVAILABLE', `no containerd at ${s.containerdSocket}: ${choice.reason}`, {
      hint: 'start containerd (or drop --no-containerd to let kuke init run one), or point --containerd-socket at its socket',
    });
  const config = renderContainerdConfig(s.containerdSocket);
  if (fs.existsSync(files.config) && !writtenByKukeon(files.config))
    throw new KukeonError('KUKEON_E_INSTALL', `${files.config} exists and kuke init did not write it; kukeon never replaces it`, {
      hint: 'start that containerd yourself, or move the file away',
    });
  const existed = fs.existsSync(files.config) && fs.readFileSync(files.config, 'utf8') === config;
  if (!existed) {
    fs.mkdirSync(path.dirname(files.config), { recursive: true });
    fs.writeFileSync(files.config, config, { mode: 0o644 });
  }
  let started: ManagedStart;
  try {
    started = superviseManagedContainerd(choice.binary, files, unitDir);
  } catch (err) {
    throw new KukeonError('KUKEON_E_INSTALL', `the kukeon-managed containerd did not start: ${(err as Error).message}`);
  }
  if (started.how === 'unit') note(`systemd unit ${started.file}`, started.fileAction);
  const which = started.how === 'unit' ? CONTAINERD_UNIT_NAME : `pid ${started.pid}`;
  const deadline = Date.now() + 10_000;
  while ((await probeSocket(s.containerdSocket)) !== 'live') {
    if (Date.now() > deadline)
      throw new KukeonError(
        'KUKEON_E_UNAVAILABLE',
        `the kukeon-managed containerd (${which}) did not answer on ${s.containerdSocket} in 10 s; see ${
          started.how === 'unit' ? `journalctl -u ${CONTAINERD_UNIT_NAME}` : files.logFile
        }`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
  if (started.how === 'unit') {
    note(
      `containerd ${s.containerdSocket}`,
      'started',
      `kukeon-managed, systemd unit ${CONTAINERD_UNIT_NAME} (restarted after a crash, started at boot), config ${files.config}`,
    );
  } else {
    note(
      `containerd ${s.containerdSocket}`,
      'started',
      `kukeon-managed, pid ${started.pid}, kept running by kukeon's keeper (pid ${managedKeeperPid(files) ?? '?'}), config ${files.config}`,
    );
    say(unsupervisedWarning(choice.binary, files.config));
  }
  return files.config;
}

/** Stops and removes kukeond.service when `init` (without --systemd) runs kukeond as the container. */
function removeUnit(unitDir: string, note: (what: string, action: InitAction, detail?: string) => void): void {
  const file = path.join(unitDir, UNIT_NAME);
  if (!fs.existsSync(file)) return;
  if (systemdLoads(unitDir)) systemctl(['disable', '--now', UNIT_NAME]);
  fs.rmSync(file);
  if (systemdLoads(unitDir)) systemctl(['daemon-reload']);
  note(`systemd unit ${file}`, 'removed', 'kukeond runs as the system realm container now');
}

/** Writes the unit and starts it where systemd runs; false when nothing will start kukeond (no systemd). */
function installUnit(s: InstallSettings, unitDir: string, note: (what: string, action: InitAction, detail?: string) => void): boolean {
  const file = path.join(unitDir, UNIT_NAME);
  const text = renderUnit(s);
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  if (current !== text) {
    fs.mkdirSync(unitDir, { recursive: true });
    fs.writeFileSync(file, text, { mode: 0o644 });
  }
  note(`systemd unit ${file}`, current === undefined ? 'created' : current === text ? 'unchanged' : 'updated');
  if (!systemdLoads(unitDir)) {
    note('kukeond.service', 'unchanged', `systemd does not load units from ${unitDir} here: start kukeond yourself or boot with systemd`);
    return false;
  }
  // a second init with the unit unchanged, enabled and running changes nothing and says so
  if (
    current === text &&
    systemctl(['is-enabled', '--quiet', UNIT_NAME]) === undefined &&
    systemctl(['is-active', '--quiet', UNIT_NAME]) === undefined
  ) {
    note('kukeond.service', 'unchanged', 'enabled and running');
    return true;
  }
  // enable --now leaves a running kukeond on its old flags: a changed unit restarts it (its cells keep running)
  const updated = current !== undefined && current !== text;
  for (const args of [['daemon-reload'], ['enable', '--now', UNIT_NAME], ...(updated ? [['restart', UNIT_NAME]] : [])]) {
    const err = systemctl(args);
    if (err) throw new KukeonError('KUKEON_E_INSTALL', `systemctl ${args.join(' ')} failed: ${err}`);
  }
  note('kukeond.service', 'started', updated ? 'restarted with the changed unit' : undefined);
  return true;
}

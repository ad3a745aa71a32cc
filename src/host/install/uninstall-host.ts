// `kuke uninstall`: takes a host down in the order that leaves nothing behind: kukeond first (so nothing
// recreates what follows), every realm purged with cascade (the system realm last), the kukeon-managed containerd,
// then the run path, the socket directory, the cgroup root, kukeon's conflists and the group. What could not be
// removed is listed and the command fails, never reports success.

import fs from 'node:fs';
import path from 'node:path';
import { formatRef } from '../../../sdk';
import type { Ref } from '../../../sdk';
import { createHost } from '../host';
import { removeGroup } from './group';
import { CONTAINERD_UNIT_NAME, removeContainerdUnit } from './containerd-unit';
import { managedContainerdFiles, managedContainerdPid, managedKeeperPid, writtenByKukeon } from './managed-containerd';
import type { InstallOptions, InstallSettings } from './settings';
import { installSettings } from './settings';
import { KUKEOND_CELL, SYSTEM } from './system-realm';
import { UNIT_DIR, UNIT_NAME, systemctl, systemdLoads } from './systemd-unit';
import { SOCKET_DIR_FILES, STAGED_SECRETS_DIR, requireRoot } from './init-host';
import { unmountTmpfs } from '../secrets/staging-tmpfs';
import { readInstallRecord } from './install-record';
import type { InstallRecord } from './install-record';

export interface UninstallOptions extends InstallOptions {
  unitDir?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Returns what could not be removed (empty: the host is clean). */
export async function uninstallHost(options: UninstallOptions, say: (line: string) => void): Promise<string[]> {
  requireRoot('uninstall');
  const s = installSettings(options);
  const failures: string[] = [];
  const step = async (what: string, fn: () => unknown | Promise<unknown>) => {
    try {
      const r = await fn();
      say(`${what}: ${r === false ? 'not there' : 'removed'}\n`);
    } catch (err) {
      failures.push(`${what}: ${(err as Error).message}`);
      say(`${what}: FAILED (${(err as Error).message})\n`);
    }
  };

  const unit = path.join(options.unitDir ?? UNIT_DIR, UNIT_NAME);
  await step(`systemd unit ${unit}`, () => {
    if (!fs.existsSync(unit)) return false;
    if (systemdLoads(path.dirname(unit))) {
      const err = systemctl(['disable', '--now', UNIT_NAME]);
      if (err) throw new Error(`systemctl disable --now ${UNIT_NAME} failed: ${err}`);
    }
    fs.rmSync(unit);
    if (systemdLoads(path.dirname(unit))) systemctl(['daemon-reload']);
  });

  // read before the run path goes: only what init created (and recorded there) is removed
  const record = readInstallRecord(s.runPath);
  if (fs.existsSync(s.runPath)) await purgeRealms(s, options, step);
  // the unit first: systemd would start the containerd the next step stops again; both only when this host's init made them
  const containerdUnit = path.join(options.unitDir ?? UNIT_DIR, CONTAINERD_UNIT_NAME);
  await step(`systemd unit ${containerdUnit}`, () =>
    record.managedContainerdConfig ? removeContainerdUnit(options.unitDir ?? UNIT_DIR) : false,
  );
  await step('kukeon-managed containerd', () =>
    record.managedContainerdConfig ? stopManagedContainerd(s, record.managedContainerdConfig) : false,
  );
  await step(`run path ${s.runPath}`, () => removeTree(s.runPath));
  const staged = path.join(path.dirname(s.socket), STAGED_SECRETS_DIR);
  await step(`staged secrets ${staged}`, () => removeStagedSecrets(staged));
  await step(`socket directory ${path.dirname(s.socket)}`, () => removeSocketDir(path.dirname(s.socket), record));
  if (s.cgroupRoot !== undefined) await step(`cgroup root ${s.cgroupRoot}`, () => removeCgroupRoot(s.cgroupRoot!));
  if (s.cni) await step(`kukeon's conflists in ${s.cni.confDir}`, () => removeConflists(s.cni!.confDir));
  if (record.createdGroup === s.group) await step(`group ${s.group}`, () => removeGroup(s.group));
  else say(`group ${s.group}: left (kuke init did not create it)\n`);
  return failures;
}

/** kukeond first, then every realm with cascade, the system realm last. */
async function purgeRealms(
  s: InstallSettings,
  options: UninstallOptions,
  step: (what: string, fn: () => unknown) => Promise<void>,
): Promise<void> {
  const host = await createHost({
    runPath: s.runPath,
    configPath: options.configPath,
    flags: { '--containerd-socket': options.containerdSocket, '--socket': options.socket },
  });
  try {
    await step(`kukeond (${formatRef(KUKEOND_CELL)})`, async () => {
      if (!(await host.controller.get({ kind: 'Cell', scope: KUKEOND_CELL.path.slice(0, 3), name: SYSTEM.cell })).length) return false;
      await host.controller.stop(KUKEOND_CELL, { signal: 'SIGTERM', timeoutMs: 10_000 });
    });
    const realms = (await host.controller.get({ kind: 'Realm', scope: [], allRealms: true })).map((r) => r.metadata.name);
    const ordered = [...realms.filter((r) => r !== SYSTEM.realm), ...realms.filter((r) => r === SYSTEM.realm)];
    for (const realm of ordered) {
      const ref: Ref = { kind: 'Realm', path: [realm] };
      await step(formatRef(ref), () => host.controller.purge(ref, { cascade: true, forceSystem: true }));
    }
  } finally {
    await host.close();
  }
}

async function stopManagedContainerd(s: InstallSettings, config: string): Promise<boolean> {
  const files = { ...managedContainerdFiles(path.dirname(config), path.dirname(s.socket), s.runPath), config };
  // only a config kuke init wrote marks a containerd as kukeon's (a containerd.toml of another tool is left alone)
  if (!writtenByKukeon(files.config)) return false;
  // the keeper first, or it would start containerd again: it passes SIGTERM on and exits when containerd has
  const keeper = managedKeeperPid(files);
  if (keeper !== undefined) {
    process.kill(keeper, 'SIGTERM');
    const deadline = Date.now() + 15_000;
    while (managedKeeperPid(files) === keeper && Date.now() < deadline) await sleep(50);
    if (managedKeeperPid(files) === keeper) throw new Error(`the containerd keeper pid ${keeper} did not exit within 15 s of SIGTERM`);
  }
  const pid = managedContainerdPid(files);
  if (pid !== undefined) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (managedContainerdPid(files) === pid && Date.now() < deadline) await sleep(50);
    if (managedContainerdPid(files) === pid) throw new Error(`containerd pid ${pid} did not exit within 10 s of SIGTERM`);
  }
  for (const f of [files.config, files.pidFile, files.keeperPidFile]) fs.rmSync(f, { force: true });
  return true;
}

/** Mount points at or under `dir` (a tree with one is never removed recursively). */
function mountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p): p is string => !!p && (p === dir || p.startsWith(`${dir}/`)));
}

/**
 * kukeon's files in the socket directory, then the directory itself when init made it and nothing else is in it;
 * a directory kukeon did not make (or that holds other files) is never removed.
 */
function removeSocketDir(dir: string, record: InstallRecord): boolean {
  if (!fs.existsSync(dir)) return false;
  for (const f of SOCKET_DIR_FILES) fs.rmSync(path.join(dir, f), { force: true });
  if (record.createdSocketDir !== dir) return true;
  const left = fs.readdirSync(dir);
  if (left.length) throw new Error(`kept: it holds files kukeon did not make (${left.slice(0, 5).join(', ')})`);
  fs.rmdirSync(dir);
  return true;
}

/** The staged secrets: the tmpfs kukeon mounted for them (never another one), then the directory. */
function removeStagedSecrets(dir: string): boolean {
  if (!fs.existsSync(dir)) return false;
  unmountTmpfs(dir);
  fs.rmSync(dir, { recursive: true, force: true });
  return true;
}

function removeTree(dir: string): boolean {
  if (!fs.existsSync(dir)) return false;
  const mounted = mountsUnder(dir);
  if (mounted.length) throw new Error(`still mounted: ${mounted.join(', ')}`);
  fs.rmSync(dir, { recursive: true, force: true });
  return true;
}

/** rmdir of the root (and anything left empty below it) in every cgroup hierarchy; rmdir only, never a live cgroup. */
function removeCgroupRoot(root: string): boolean {
  let found = false;
  const busy: string[] = [];
  const rmdirTree = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmdirTree(path.join(dir, e.name));
    try {
      fs.rmdirSync(dir);
    } catch (err) {
      busy.push(`${dir} (${(err as NodeJS.ErrnoException).code})`);
    }
  };
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0 || !/^cgroup2? /.test(line.slice(sep + 3))) continue;
    const dir = path.join(line.split(' ')[4], root);
    if (!fs.existsSync(dir)) continue;
    found = true;
    rmdirTree(dir);
  }
  if (busy.length) throw new Error(`cgroups still in use: ${busy.join(', ')}`);
  return found;
}

/** Conflists whose network kukeon named (`kukeon.<realm>.<space>`); another tool's files are left alone. */
function removeConflists(confDir: string): boolean {
  let removed = false;
  let entries: string[];
  try {
    entries = fs.readdirSync(confDir);
  } catch {
    return false;
  }
  for (const name of entries.filter((n) => n.endsWith('.conflist'))) {
    const file = path.join(confDir, name);
    try {
      const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string };
      if (!parsed.name?.startsWith('kukeon.')) continue;
    } catch {
      continue;
    }
    fs.rmSync(file);
    removed = true;
  }
  return removed;
}

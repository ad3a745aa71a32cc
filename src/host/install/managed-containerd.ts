// A kukeon-managed containerd, for a machine where containerd is installed but not running (no service manager, or
// its service disabled), as k3s runs its own: its own config file in kukeon's config directory (CRI disabled, the
// standard root and state), kept running by the keeper (containerd-keeper.ts) where systemd does not run, its pid
// and the keeper's recorded beside kukeond's socket, stopped and its config removed by uninstall.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../../../sdk';

export const DEFAULT_CONTAINERD_SOCKET = '/run/containerd/containerd.sock';

/** The first line of every config kukeon writes: a containerd with another config file is never kukeon's. */
export const MANAGED_MARKER = '# Written by kuke init: a kukeon-managed containerd (kuke uninstall stops it and removes this file).';

/** Whether `config` is a file kuke init wrote (its first line is the marker). */
export function writtenByKukeon(config: string): boolean {
  try {
    return fs.readFileSync(config, 'utf8').startsWith(MANAGED_MARKER);
  } catch {
    return false;
  }
}

export type ContainerdChoice =
  | { use: 'existing'; socket: string }
  | { use: 'managed'; socket: string; binary: string }
  | { use: 'none'; socket: string; reason: string };

/** Which containerd init uses: the one answering on the socket, else a managed one when the binary is there and allowed. */
export function chooseContainerd(input: {
  socket: string;
  answers: boolean;
  binary: string | undefined;
  noContainerd: boolean;
}): ContainerdChoice {
  if (input.answers) return { use: 'existing', socket: input.socket };
  if (input.noContainerd) return { use: 'none', socket: input.socket, reason: 'nothing answers there and --no-containerd was given' };
  if (!input.binary) return { use: 'none', socket: input.socket, reason: 'nothing answers there and no containerd binary is installed' };
  return { use: 'managed', socket: input.socket, binary: input.binary };
}

export interface ManagedContainerdFiles {
  config: string;
  pidFile: string;
  /** The keeper's pid (no systemd): it restarts containerd after a crash. */
  keeperPidFile: string;
  logFile: string;
}

/** Where the managed containerd's files go: config in the config directory, pid beside kukeond's, log under the run path. */
export function managedContainerdFiles(configDir: string, socketDir: string, runPath: string): ManagedContainerdFiles {
  return {
    config: path.join(configDir, 'containerd.toml'),
    pidFile: path.join(socketDir, 'containerd.pid'),
    keeperPidFile: path.join(socketDir, 'containerd-keeper.pid'),
    logFile: path.join(runPath, 'run', 'containerd.log'),
  };
}

/** containerd's config: the standard root and state for the standard socket, else beside the socket (a test host). */
export function renderContainerdConfig(socket: string): string {
  const standard = socket === DEFAULT_CONTAINERD_SOCKET;
  const dir = path.dirname(socket);
  const q = (s: string) => JSON.stringify(s);
  return [
    MANAGED_MARKER,
    'version = 2',
    `root = ${q(standard ? '/var/lib/containerd' : path.join(dir, 'root'))}`,
    `state = ${q(standard ? '/run/containerd' : path.join(dir, 'state'))}`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '',
    '[grpc]',
    `  address = ${q(socket)}`,
    '',
    // beside another containerd (a test host), nothing of it may land in the standard places
    ...(standard
      ? []
      : [
          '[ttrpc]',
          `  address = ${q(`${socket}.ttrpc`)}`,
          '',
          '[plugins."io.containerd.internal.v1.opt"]',
          `  path = ${q(path.join(dir, 'opt'))}`,
          '',
        ]),
  ].join('\n');
}

const KEEPER = path.join(__dirname, 'containerd-keeper.js');

/**
 * Starts the keeper detached (its own session, output to the log file), which starts containerd and records its
 * pid; returns that pid once recorded. A keeper already running for this config is left to do its job.
 */
export function startManagedContainerd(binary: string, files: ManagedContainerdFiles): number {
  if (managedKeeperPid(files) === undefined) {
    fs.rmSync(files.pidFile, { force: true });
    fs.mkdirSync(path.dirname(files.logFile), { recursive: true });
    const log = fs.openSync(files.logFile, 'a');
    try {
      const keeper = spawn(process.execPath, [KEEPER, binary, files.config, files.pidFile], {
        detached: true,
        stdio: ['ignore', log, log],
      });
      keeper.unref();
      if (!keeper.pid) throw new Error(`the containerd keeper (${KEEPER}) did not start`);
      writeFileAtomicSync(files.keeperPidFile, `${keeper.pid}\n`, { mode: 0o644 });
    } finally {
      fs.closeSync(log);
    }
  }
  const deadline = Date.now() + 10_000;
  for (;;) {
    const pid = managedContainerdPid(files);
    if (pid !== undefined) return pid;
    if (Date.now() > deadline) throw new Error(`the containerd keeper started no containerd in 10 s; see ${files.logFile}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
}

/** The command line of `pid`, or undefined when it is gone. */
function cmdline(pid: number): string[] | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** containerd started with our config file: never another containerd that reuses a stale pid. */
function isManaged(pid: number, config: string): boolean {
  const argv = cmdline(pid);
  return !!argv && path.basename(argv[0] ?? '') === 'containerd' && argv[argv.indexOf('--config') + 1] === config;
}

/** The keeper's pid when it is still our keeper (a Node process running containerd-keeper.js with our config). */
export function managedKeeperPid(files: ManagedContainerdFiles): number | undefined {
  try {
    const pid = Number(fs.readFileSync(files.keeperPidFile, 'utf8').trim());
    const argv = pid > 0 ? cmdline(pid) : undefined;
    if (argv && path.basename(argv[1] ?? '') === path.basename(KEEPER) && argv[3] === files.config) return pid;
  } catch {
    // no pid file
  }
  return undefined;
}

/**
 * The managed containerd's pid: the one its pid file names when that is still our containerd, else any containerd
 * running with our config file (started again by hand or by a service manager after a reboot wiped the pid file).
 */
export function managedContainerdPid(files: ManagedContainerdFiles): number | undefined {
  if (!writtenByKukeon(files.config)) return undefined;
  try {
    const pid = Number(fs.readFileSync(files.pidFile, 'utf8').trim());
    if (pid > 0 && isManaged(pid, files.config)) return pid;
  } catch {
    // no pid file
  }
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (Number.isInteger(pid) && pid > 0 && isManaged(pid, files.config)) return pid;
  }
  return undefined;
}

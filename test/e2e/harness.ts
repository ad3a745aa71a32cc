// The end-to-end harness: a private containerd inside a network namespace the harness creates, every path kuke
// uses pointed into a temp dir, and a teardown that removes exactly what this harness (and its containerd)
// made, then compares the host with a snapshot taken before anything started.
//
// Safety: containerd, kuke and anything that may run CNI run inside the harness's netns, entered with
// `nsenter --net` (not `ip netns exec`, which remounts /sys and hides the cgroup mounts). Processes are ended
// by pid: containerd is our child; its shims are found by the harness socket on their command line. Only
// /run/containerd entries and cgroup directories that this harness's names or before-snapshot single out are
// removed, cgroups with rmdir only (which fails on anything still in use). A machine-wide lock serialises
// harnesses, so one suite's host snapshot never sees another's netns or shim sockets.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { alive, liveProcesses } from '../../sdk/testkit/observe';
import { diffHostSnapshot, takeHostSnapshot, type HostSnapshot } from './host-snapshot';
import { acquireMachineLock, machineLockTimeoutMs } from './machine-lock';
import { cgroupMounts, findBinary, unescapeMountField } from './requirements';

/** The repository root (this file runs from dist/test/e2e). */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const KUKE_BIN = path.join(REPO_ROOT, 'bin', 'kuke.js');
/** Debian's CNI plugin binaries (containernetworking-plugins). */
export const CNI_BIN = '/usr/lib/cni';

/** The cni plugin's table with its config, cache and IPAM directories under the harness's temp dir. */
export function tempCniTable(tmp: string): { confDir: string; cacheDir: string; ipamDataDir: string; binDirs: string[] } {
  return {
    confDir: path.join(tmp, 'cni', 'net.d'),
    cacheDir: path.join(tmp, 'cni', 'cache'),
    ipamDataDir: path.join(tmp, 'cni', 'ipam'),
    binDirs: [CNI_BIN],
  };
}
const RUN_CONTAINERD = '/run/containerd';
const RUN_NETNS = '/run/netns';
/** PATH for containerd and the commands the harness runs: containerd needs runc and the shim, which live in sbin and bin. */
const PATH_ENV = [
  ...new Set([
    ...(process.env.PATH ?? '').split(':').filter(Boolean),
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/sbin',
    '/usr/bin',
    '/sbin',
    '/bin',
  ]),
].join(':');

export interface RunResult {
  /** Exit code; -1 when the process died of a signal, timed out or did not start. */
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to stdin (stdin is closed either way). */
  input?: string | Buffer;
  /** Default 60 s; then the process is killed (SIGKILL, by its pid). */
  timeoutMs?: number;
  /** Extra environment; a value of undefined removes the variable. */
  env?: Record<string, string | undefined>;
  /** Working directory; default the harness temp dir. */
  cwd?: string;
}

/** Paths known once the harness has its temp dir, for building the plugin table. */
export interface E2EPaths {
  tmp: string;
  socket: string;
  runPath: string;
  netns: string;
  netnsPath: string;
  cgroupRoot: string;
}

export type PluginTable = Record<string, unknown>;

export interface E2EHarnessOptions {
  /** Shows up in the temp dir name and in messages. */
  name?: string;
  /**
   * Entries merged over the default plugin table (`store-yaml: {}`, `containerd: { socket }`); an entry whose
   * value is undefined removes a default. A function gets the harness paths (e.g. for CNI dirs under `tmp`).
   */
  plugins?: PluginTable | ((paths: E2EPaths) => PluginTable);
  /** How long to wait for another harness on this machine (default 5 min, env KUKEON_E2E_LOCK_TIMEOUT_MS). */
  lockTimeoutMs?: number;
  /** How long containerd may take to accept connections (default 10 s). */
  readyTimeoutMs?: number;
  /** TOML appended to containerd's config (e.g. a short restart monitor interval). */
  containerdConfigExtra?: string;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** True if `p` settles within `ms`; the timer is cleared either way, so it never holds the process open. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function within(dir: string, p: string): boolean {
  const rel = path.relative(dir, path.resolve(p));
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

function tail(file: string, max = 4000): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.length > max ? `...${text.slice(-max)}` : text;
  } catch (err) {
    return `<cannot read ${file}: ${(err as Error).message}>`;
  }
}

/** The parent's environment without anything that steers kukeon (KUKEON_*, DEBUG), plus `extra`. */
function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KUKEON_') && k !== 'DEBUG') env[k] = v;
  env.PATH = PATH_ENV;
  env.NO_COLOR = '1';
  env.FORCE_COLOR = '0';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs a command, collecting its output; never rejects. */
export function runCommand(cmd: string, args: readonly string[], opts: RunOptions & { env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? childEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      resolve({ code: -1, signal: null, stdout: '', stderr: (err as Error).message });
      return;
    }
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, signal: null, stdout, stderr: stderr + err.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) stderr += `\n<killed after ${opts.timeoutMs ?? 60_000} ms>`;
      resolve({ code: timedOut ? -1 : (code ?? -1), signal, stdout, stderr });
    });
    child.stdin!.on('error', () => undefined); // the child may exit before reading its input
    child.stdin!.end(opts.input ?? '');
  });
}

/** Pids of containerd shims started for `socket` (their command line carries `-address <socket>`). */
export function shimPids(socket: string): number[] {
  const forSocket = (argv: string[]) => {
    const i = argv.indexOf('-address');
    return path.basename(argv[0] ?? '').startsWith('containerd-shim') && i >= 0 && argv[i + 1] === socket;
  };
  return liveProcesses()
    .filter(({ argv }) => forSocket(argv))
    .map(({ pid }) => pid);
}

/** Mount points at or under `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const p = unescapeMountField(mp);
    if (p === dir || p.startsWith(`${dir}/`)) out.push(p);
  }
  return [...new Set(out)].sort((a, b) => b.length - a.length);
}

/** Removes `dir` and the directories below it, deepest first, with rmdir only. Returns what could not be removed. */
export function rmdirTree(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? [] : [`${dir}: ${(err as Error).message}`];
  }
  const failed: string[] = [];
  for (const e of entries) if (e.isDirectory()) failed.push(...rmdirTree(path.join(dir, e.name)));
  try {
    fs.rmdirSync(dir);
  } catch (err) {
    failed.push(`${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return failed;
}

// Every harness not yet stopped, for the exit safety net.
const live = new Set<E2EHarness>();
let safetyNetInstalled = false;
function installSafetyNet(): void {
  if (safetyNetInstalled) return;
  safetyNetInstalled = true;
  process.on('exit', () => {
    for (const h of live) h.emergencyStop();
  });
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    process.once(sig, () => {
      process.stderr.write(`[e2e] ${sig}: stopping ${live.size} harness(es)\n`);
      process.exit(code); // runs the 'exit' handler above
    });
  }
}

export class E2EHarness {
  /** Lines describing what teardown could not do; also returned by stop(). */
  private readonly problems: string[] = [];
  private stopPromise?: Promise<string[]>;
  private stopped = false;
  private containerdExited = false;
  private containerdExit: Promise<void>;

  private constructor(
    readonly name: string,
    /** The temp root: containerd's root/state/socket, the kukeon config and run path all live here. */
    readonly tmp: string,
    /** The network namespace (`kt-<6 hex>`), under /run/netns. */
    readonly netns: string,
    /** Top-level cgroup name reserved for this harness (`kukeon-test-<6 hex>`); teardown rmdirs it in every hierarchy. */
    readonly cgroupRoot: string,
    private readonly before: HostSnapshot,
    private readonly netnsDirExisted: boolean,
    private readonly releaseLock: () => Promise<void>,
    private child: ChildProcess,
  ) {
    this.containerdExit = this.watch(child);
  }

  /** Resolves when `child` (this harness's containerd) exits, and notes it. */
  private watch(child: ChildProcess): Promise<void> {
    this.containerdExited = false;
    return new Promise((resolve) => {
      const done = () => {
        if (this.child === child) this.containerdExited = true;
        resolve();
      };
      if (child.exitCode !== null || child.signalCode !== null) done();
      else child.once('exit', done);
    });
  }

  /**
   * SIGKILL of containerd by its pid, as a crash or a power cut would end it: its shims and tasks are left as they
   * are (the reboot test kills them itself). Resolves once it has exited.
   */
  async killContainerd(): Promise<void> {
    if (this.containerdExited) return;
    this.child.kill('SIGKILL');
    if (!(await settlesWithin(this.containerdExit, 5_000))) throw new Error(`containerd (pid ${this.child.pid}) survived SIGKILL`);
  }

  /** Starts containerd again after killContainerd (same config, netns and state); resolves once it accepts connections. */
  async startContainerd(timeoutMs = 10_000): Promise<void> {
    if (this.stopped) throw new Error(`harness ${this.name} is stopped`);
    if (!this.containerdExited) throw new Error('containerd is still running');
    this.child = spawnContainerd(this.netns, this.containerdConfig, this.containerdLog, this.tmp);
    this.containerdExit = this.watch(this.child);
    await this.waitReady(timeoutMs);
  }

  /**
   * Kills containerd by its pid (`signal`, SIGKILL by default: a crash) and starts it again with the same config
   * in the same netns; its shims, and so the containers, keep running. `whileDown` runs between the two. Resolves
   * once it accepts connections.
   */
  async restartContainerd(signal: NodeJS.Signals = 'SIGKILL', whileDown?: () => Promise<void>): Promise<void> {
    if (signal === 'SIGKILL') await this.killContainerd();
    else {
      this.child.kill(signal);
      await this.containerdExit;
    }
    await whileDown?.();
    await this.startContainerd();
  }

  get netnsPath(): string {
    return path.join(RUN_NETNS, this.netns);
  }
  /** containerd's gRPC socket. */
  get socket(): string {
    return path.join(this.tmp, 'containerd.sock');
  }
  get runPath(): string {
    return path.join(this.tmp, 'run');
  }
  /** The kukeon configuration file (`<tmp>/kukeon.yaml`). */
  get configFile(): string {
    return path.join(this.tmp, 'kukeon.yaml');
  }
  get containerdConfig(): string {
    return path.join(this.tmp, 'containerd.toml');
  }
  get containerdLog(): string {
    return path.join(this.tmp, 'containerd.log');
  }
  get containerdPid(): number {
    return this.child.pid!;
  }
  get paths(): E2EPaths {
    return {
      tmp: this.tmp,
      socket: this.socket,
      runPath: this.runPath,
      netns: this.netns,
      netnsPath: this.netnsPath,
      cgroupRoot: this.cgroupRoot,
    };
  }

  /** Takes the machine lock and a host snapshot, makes the netns, starts containerd in it and writes the kukeon config. */
  static async start(opts: E2EHarnessOptions = {}): Promise<E2EHarness> {
    const name = (opts.name ?? 'e2e').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 24) || 'e2e';
    const releaseLock = await acquireMachineLock(opts.lockTimeoutMs ?? machineLockTimeoutMs());
    const cleanups: Array<() => void> = [];
    let harness: E2EHarness | undefined;
    try {
      const before = takeHostSnapshot();
      const netns = `kt-${hex(3)}`;
      const netnsDirExisted = fs.existsSync(RUN_NETNS);
      const ip = requireBinary('ip');
      const add = spawnSync(ip, ['netns', 'add', netns], { encoding: 'utf8' });
      if (add.status !== 0) throw new Error(`ip netns add ${netns} failed: ${add.stderr || add.error?.message}`);
      cleanups.push(() => {
        spawnSync(ip, ['netns', 'del', netns]);
        if (!netnsDirExisted) restoreNetnsDir();
      });
      const lo = spawnSync(ip, ['-n', netns, 'link', 'set', 'lo', 'up'], { encoding: 'utf8' });
      if (lo.status !== 0) throw new Error(`ip -n ${netns} link set lo up failed: ${lo.stderr}`);

      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `kukeon-e2e-${name}-`));
      cleanups.push(() => fs.rmSync(tmp, { recursive: true, force: true }));
      const socket = path.join(tmp, 'containerd.sock');
      const toml = (s: string) => JSON.stringify(s);
      const config = [
        'version = 2',
        `root = ${toml(path.join(tmp, 'containerd', 'root'))}`,
        `state = ${toml(path.join(tmp, 'containerd', 'state'))}`,
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
        '',
        '[grpc]',
        `  address = ${toml(socket)}`,
        '',
        '[ttrpc]',
        `  address = ${toml(`${socket}.ttrpc`)}`,
        '',
        '[plugins."io.containerd.internal.v1.opt"]',
        `  path = ${toml(path.join(tmp, 'containerd', 'opt'))}`,
        '',
        opts.containerdConfigExtra ?? '',
      ].join('\n');
      const configFile = path.join(tmp, 'containerd.toml');
      fs.writeFileSync(configFile, config);

      const child = spawnContainerd(netns, configFile, path.join(tmp, 'containerd.log'), tmp);
      harness = new E2EHarness(name, tmp, netns, `kukeon-test-${hex(3)}`, before, netnsDirExisted, releaseLock, child);
      cleanups.length = 0; // the harness owns the netns, temp dir and lock now: stop() undoes them
      live.add(harness);
      installSafetyNet();
      try {
        if (!child.pid) throw new Error('containerd did not start (no pid)');
        await harness.waitReady(opts.readyTimeoutMs ?? 10_000);
        harness.writeConfig(opts.plugins);
      } catch (err) {
        const diffs = await harness.stop();
        throw new Error(`${(err as Error).message}${diffs.length ? `\nteardown: ${diffs.join('\n')}` : ''}`);
      }
      return harness;
    } catch (err) {
      for (const c of cleanups.reverse()) {
        try {
          c();
        } catch {
          // best effort
        }
      }
      if (!harness) await releaseLock().catch(() => undefined);
      throw err;
    }
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.containerdExited) {
        throw new Error(
          `containerd exited before accepting connections (${this.child.exitCode ?? this.child.signalCode}); log ${this.containerdLog}:\n${tail(this.containerdLog)}`,
        );
      }
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect(this.socket);
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
      if (ok) return;
      if (Date.now() >= deadline) {
        throw new Error(
          `containerd did not accept connections on ${this.socket} within ${timeoutMs} ms; log ${this.containerdLog}:\n${tail(this.containerdLog)}`,
        );
      }
      await sleep(20);
    }
  }

  /** The default plugin table with `plugins` merged over it. */
  pluginTable(plugins?: E2EHarnessOptions['plugins']): PluginTable {
    const extra = typeof plugins === 'function' ? plugins(this.paths) : (plugins ?? {});
    const table: PluginTable = { 'store-yaml': {}, containerd: { socket: this.socket } };
    for (const [k, v] of Object.entries(extra)) {
      if (v === undefined) delete table[k];
      else table[k] = v;
    }
    return table;
  }

  /** (Re)writes `<tmp>/kukeon.yaml` with the default plugin table and `plugins` merged over it; returns its path. */
  writeConfig(plugins?: E2EHarnessOptions['plugins']): string {
    fs.writeFileSync(this.configFile, YAML.stringify({ plugins: this.pluginTable(plugins) }));
    return this.configFile;
  }

  /** Environment for kuke: config, run path and containerd socket in the temp dir; no daemon. */
  env(): Record<string, string> {
    return {
      KUKEON_CONFIG: this.configFile,
      KUKEON_RUN_PATH: this.runPath,
      KUKEON_CONTAINERD_SOCKET: this.socket,
      KUKEON_NO_DAEMON: '1',
    };
  }

  /** Runs `cmd args` inside the harness netns (`nsenter --net`), with the harness PATH. */
  exec(cmd: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<RunResult> {
    if (this.stopped) return Promise.reject(new Error(`harness ${this.name} is stopped`));
    return runCommand(requireBinary('nsenter'), [`--net=${this.netnsPath}`, cmd, ...args], {
      ...opts,
      cwd: opts.cwd ?? this.tmp,
      env: childEnv(opts.env),
    });
  }

  /** `ctr -a <socket> ARGS` inside the netns (test code only: the product never runs ctr). */
  ctr(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return this.exec(requireBinary('ctr'), ['-a', this.socket, ...args], opts);
  }

  /**
   * Runs `kuke ARGS` inside the netns with env(). Refuses (rejects) unless KUKEON_CONFIG, KUKEON_RUN_PATH and
   * KUKEON_CONTAINERD_SOCKET, and any --config/--run-path/--containerd-socket argument, point into the temp dir.
   */
  async kuke(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    if (this.stopped) throw new Error(`harness ${this.name} is stopped`);
    const env = { ...this.env(), ...opts.env };
    const refuse = (why: string) => new Error(`refusing to run kuke: ${why} (must be inside ${this.tmp})`);
    const config = env.KUKEON_CONFIG;
    if (!config || !path.isAbsolute(config) || !within(this.tmp, config))
      throw refuse(`KUKEON_CONFIG=${config ?? '<unset>'} is not a test configuration`);
    if (!fs.existsSync(config)) throw refuse(`KUKEON_CONFIG=${config} does not exist`);
    for (const key of ['KUKEON_RUN_PATH', 'KUKEON_CONTAINERD_SOCKET'] as const) {
      const v = env[key];
      if (v !== undefined && !within(this.tmp, v)) throw refuse(`${key}=${v} is outside the test dir`);
    }
    const cwd = opts.cwd ?? this.tmp;
    for (const flag of ['--config', '--run-path', '--containerd-socket']) {
      args.forEach((a, i) => {
        const v = a === flag ? args[i + 1] : a.startsWith(`${flag}=`) ? a.slice(flag.length + 1) : undefined;
        if (v !== undefined && !within(this.tmp, path.resolve(cwd, v))) throw refuse(`${flag} ${v} is outside the test dir`);
      });
    }
    return this.exec(process.execPath, [KUKE_BIN, ...args], { ...opts, cwd, env });
  }

  /**
   * Kills and deletes every task of this containerd, stops it by pid, removes the netns (and /run/netns if the
   * harness made it), the /run/containerd entries and the cgroupRoot directories this run created, and the temp
   * dir. Returns the teardown problems and the differences from the starting host snapshot (empty when clean).
   * Idempotent: later calls return the same result.
   */
  stop(): Promise<string[]> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  private note(what: string, err: unknown): void {
    this.problems.push(`teardown ${what}: ${err instanceof Error ? err.message : String(err)}`);
  }

  private async doStop(): Promise<string[]> {
    this.stopped = true;
    try {
      if (!this.containerdExited) {
        try {
          await this.removeAllTasks();
        } catch (err) {
          this.note('tasks', err);
        }
        await this.stopContainerd();
      }
      await this.waitShims();
      this.cleanupHost();
      const after = takeHostSnapshot();
      return [...this.problems, ...diffHostSnapshot(this.before, after)];
    } finally {
      live.delete(this);
      await this.releaseLock().catch((err) => this.note('lock release', err));
    }
  }

  /** SIGKILL and delete every task in every namespace of this (private) containerd. */
  private async removeAllTasks(): Promise<void> {
    const ctr = requireBinary('ctr');
    const a = ['-a', this.socket];
    const opts = { timeoutMs: 15_000, env: childEnv() };
    const nss = await runCommand(ctr, [...a, 'namespaces', 'ls', '-q'], opts);
    if (nss.code !== 0) throw new Error(`ctr namespaces ls: ${nss.stderr.trim()}`);
    for (const ns of nss.stdout
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const tasks = await runCommand(ctr, [...a, '-n', ns, 'tasks', 'ls', '-q'], opts);
      if (tasks.code !== 0) throw new Error(`ctr -n ${ns} tasks ls: ${tasks.stderr.trim()}`);
      for (const id of tasks.stdout
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean)) {
        await runCommand(ctr, [...a, '-n', ns, 'tasks', 'kill', '-a', '-s', 'SIGKILL', id], opts);
        const del = await runCommand(ctr, [...a, '-n', ns, 'tasks', 'delete', '-f', id], opts);
        if (del.code !== 0 && !/not found/i.test(del.stderr)) this.note(`task ${ns}/${id}`, del.stderr.trim());
      }
    }
  }

  /** SIGTERM containerd by pid, up to 5 s, then SIGKILL. */
  private async stopContainerd(): Promise<void> {
    if (this.containerdExited) return;
    this.child.kill('SIGTERM');
    if (await settlesWithin(this.containerdExit, 5_000)) return;
    this.note('containerd', `pid ${this.child.pid} ignored SIGTERM for 5 s; SIGKILL`);
    this.child.kill('SIGKILL');
    if (!(await settlesWithin(this.containerdExit, 2_000))) this.note('containerd', `pid ${this.child.pid} still there after SIGKILL`);
  }

  /** Shims exit once their tasks are deleted; give them 3 s, then SIGKILL what is left by pid. */
  private async waitShims(): Promise<void> {
    const deadline = Date.now() + 3_000;
    let pids = shimPids(this.socket);
    while (pids.length && Date.now() < deadline) {
      await sleep(50);
      pids = shimPids(this.socket);
    }
    if (pids.length) {
      this.note('shims', `still running after 3 s, SIGKILL: ${pids.join(', ')}`);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    }
  }

  /** The host-side cleanup shared by stop() and the exit safety net; synchronous. */
  private cleanupHost(): void {
    const step = (what: string, fn: () => void) => {
      try {
        fn();
      } catch (err) {
        this.note(what, err);
      }
    };
    step('netns', () => {
      const r = spawnSync(requireBinary('ip'), ['netns', 'del', this.netns], { encoding: 'utf8' });
      if (r.status !== 0 && fs.existsSync(this.netnsPath)) throw new Error(`ip netns del ${this.netns}: ${r.stderr.trim()}`);
      if (!this.netnsDirExisted) restoreNetnsDir();
    });
    step('/run/containerd', () => this.cleanupRunContainerd());
    step('cgroups', () => {
      const failed = this.cleanupCgroups();
      if (failed.length) throw new Error(`could not rmdir ${failed.join('; ')}`);
    });
    step('temp dir', () => {
      // Unmount what containerd left mounted in the temp dir first: rm -r must never walk into a mount.
      for (const mp of mountsUnder(this.tmp)) spawnSync('umount', [mp]);
      const left = mountsUnder(this.tmp);
      if (left.length) throw new Error(`still mounted, not removed: ${left.join(', ')}`);
      fs.rmSync(this.tmp, { recursive: true, force: true });
    });
  }

  /** Removes runc/<ns>, s/<x> and fifo/<x> entries that were not there before; the directories too if we made them. */
  private cleanupRunContainerd(): void {
    const before = new Set(this.before.sections['/run/containerd'] ?? []);
    const existed = this.before.sections['/run/containerd'] !== null;
    for (const sub of ['runc', 's', 'fifo']) {
      const dir = path.join(RUN_CONTAINERD, sub);
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of entries) {
        const key = `${sub}/${e.isDirectory() ? `${e.name}/` : e.name}`;
        if (before.has(key) || before.has(`${sub}/${e.name}`) || before.has(`${sub}/${e.name}/`)) continue;
        fs.rmSync(path.join(dir, e.name), { recursive: true, force: true });
      }
      if (!before.has(`${sub}/`)) {
        try {
          fs.rmdirSync(dir);
        } catch {
          // not empty: someone else's entries; the snapshot diff will show it
        }
      }
    }
    if (!existed) {
      try {
        fs.rmdirSync(RUN_CONTAINERD);
      } catch {
        // not empty
      }
    }
  }

  /** rmdir `<mount>/<cgroupRoot>` (and `<mount>/<our cgroup>/<cgroupRoot>` for relative paths) in every hierarchy. */
  private cleanupCgroups(): string[] {
    const own = ownCgroups();
    const failed: string[] = [];
    for (const m of cgroupMounts()) {
      const candidates = new Set([path.join(m.mountPoint, this.cgroupRoot)]);
      const rel = m.fstype === 'cgroup2' ? own.get('') : m.controllers.map((c) => own.get(c)).find((p) => p !== undefined);
      if (rel !== undefined) candidates.add(path.join(m.mountPoint, rel, this.cgroupRoot));
      for (const dir of candidates) failed.push(...rmdirTree(dir));
    }
    return failed;
  }

  /** Synchronous last resort (process exit or signal): kill tasks, containerd and shims by pid, then clean up. */
  emergencyStop(): void {
    if (!live.has(this)) return;
    live.delete(this);
    this.stopped = true;
    const ctr = findBinary('ctr');
    if (!this.containerdExited && ctr) {
      const a = ['-a', this.socket];
      const ns = spawnSync(ctr, [...a, 'namespaces', 'ls', '-q'], { encoding: 'utf8', timeout: 3_000 });
      for (const n of (ns.stdout ?? '')
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean)) {
        const t = spawnSync(ctr, [...a, '-n', n, 'tasks', 'ls', '-q'], { encoding: 'utf8', timeout: 3_000 });
        for (const id of (t.stdout ?? '')
          .split('\n')
          .map((s) => s.trim())
          .filter(Boolean)) {
          spawnSync(ctr, [...a, '-n', n, 'tasks', 'delete', '-f', id], { timeout: 5_000 });
        }
      }
    }
    // The pid is still ours until Node reaps it, which cannot happen inside this synchronous handler.
    if (!this.containerdExited && this.child.pid) {
      try {
        process.kill(this.child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const deadline = Date.now() + 2_000;
      while (alive(this.child.pid) && Date.now() < deadline) sleepSync(20);
      if (alive(this.child.pid)) {
        try {
          process.kill(this.child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    const deadline = Date.now() + 1_000;
    while (shimPids(this.socket).length && Date.now() < deadline) sleepSync(20);
    for (const pid of shimPids(this.socket)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    this.cleanupHost();
    if (this.problems.length) process.stderr.write(`[e2e] emergency stop of ${this.name}:\n  ${this.problems.join('\n  ')}\n`);
    // The lock file names this process, which is exiting: the next harness recovers it.
  }
}

/** containerd inside the netns (`nsenter --net`), logging to `logFile`; detached and unref'd. */
function spawnContainerd(netns: string, configFile: string, logFile: string, cwd: string): ChildProcess {
  const logFd = fs.openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(requireBinary('nsenter'), [`--net=${path.join(RUN_NETNS, netns)}`, requireBinary('containerd'), '--config', configFile], {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env: childEnv(),
      cwd,
    });
  } finally {
    fs.closeSync(logFd);
  }
  child.on('error', () => undefined); // reported through the readiness wait
  child.unref(); // a forgotten stop() must not keep the test process alive; the exit net kills containerd
  return child;
}

function requireBinary(name: string): string {
  const p = findBinary(name);
  if (!p) throw new Error(`e2e harness: ${name} not found`);
  return p;
}

/** /proc/self/cgroup as controller -> path ('' for the cgroup2 line); name=systemd kept as is. */
function ownCgroups(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '') out.set('', m[2]);
    else for (const c of m[1].split(',')) out.set(c, m[2]);
  }
  return out;
}

/** Undoes what `ip netns add` did to a /run/netns that did not exist: its self bind mount and the directory. Only when empty. */
function restoreNetnsDir(): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(RUN_NETNS);
  } catch {
    return;
  }
  if (entries.length) return; // another namespace lives there now: leave it (the snapshot diff reports it)
  for (let i = 0; i < 4 && mountsUnder(RUN_NETNS).includes(RUN_NETNS); i++) spawnSync('umount', [RUN_NETNS]);
  if (mountsUnder(RUN_NETNS).length === 0) fs.rmdirSync(RUN_NETNS);
}

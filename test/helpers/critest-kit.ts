// The critest kit (/work/shared/critest: critest and crictl v1.26.1, offline stand-in images, its scripts) driven
// from a test or a benchmark: a work dir and a network namespace of our own, `prep.sh` and `up.sh` (a registry,
// the images, a namespace holder and a private containerd in it), kukeond started inside the holder with the
// api-cri plugin (or containerd's own CRI, the reference), critest through `run.sh`, and a teardown that always
// runs: kukeond stopped by its pid, `down.sh` with the same W and NS, kukeon's cgroup root rmdir'ed, and the host
// compared with a snapshot taken before anything started.
//
// Safety: everything runs inside the holder (`nsenter -t <holder> --mount --ipc --uts --net`), whose mount and IPC
// namespaces keep critest's bind mounts and SysV segments off the host; the machine-wide e2e lock is held from
// bring-up to teardown, so no other e2e suite's host snapshot sees ours.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { REPO_ROOT, type RunResult, rmdirTree, runCommand } from '../e2e/harness';
import { diffHostSnapshot, type HostSnapshot, takeHostSnapshot } from '../e2e/host-snapshot';
import { acquireMachineLock } from '../e2e/machine-lock';
import { cgroupMounts, type E2ERequirements, findBinary, unescapeMountField } from '../e2e/requirements';
import { type CritestReport, readCritestReport } from './critest-report';
import { type Daemon, startDaemon } from './daemon';
import { foreignShimEntries } from './foreign-shims';
import { waitFor } from './wait-for';

/** Whose CRI critest talks to: kukeond's api-cri plugin, or containerd's own CRI (the kit's reference). */
export type CritestTarget = 'kukeon' | 'containerd';

/** KUKEON_CRITEST_TARGET (kukeon unless it says containerd); undefined for any other value. */
export function critestTarget(): CritestTarget | undefined {
  const v = process.env.KUKEON_CRITEST_TARGET || 'kukeon';
  return v === 'kukeon' || v === 'containerd' ? v : undefined;
}

const KIT_FILES = [
  'prep.sh',
  'up.sh',
  'run.sh',
  'down.sh',
  'mkimages.sh',
  'in-holder.sh',
  'bin/critest',
  'bin/crictl',
  'bin/nnp',
  'bin/pgrep',
  'bin/fakenginx',
];
/** What the kit's scripts run (Debian: containerd, runc, docker-registry, catatonit, util-linux, iproute2, curl, jq, bc). */
const KIT_BINARIES = [
  'containerd',
  'containerd-shim-runc-v2',
  'ctr',
  'runc',
  'docker-registry',
  'catatonit',
  'nsenter',
  'unshare',
  'ip',
  'iptables',
  'curl',
  'jq',
  'bc',
  'ipcs',
  'dpkg-deb',
];
const CNI_PLUGINS = ['/usr/lib/cni/bridge', '/usr/lib/cni/host-local', '/usr/lib/cni/portmap', '/usr/lib/cni/loopback'];

/** The kit: KUKEON_CRITEST_DIR, else `<repo>/../shared/critest`, else /work/shared/critest; a reason when none is whole. */
export function locateCritestKit(): { dir?: string; reason?: string } {
  const incomplete = (dir: string) => KIT_FILES.filter((f) => !fs.existsSync(path.join(dir, f)));
  const explicit = process.env.KUKEON_CRITEST_DIR;
  if (explicit) {
    const missing = incomplete(explicit);
    return missing.length ? { reason: `KUKEON_CRITEST_DIR=${explicit} lacks ${missing.join(', ')}` } : { dir: path.resolve(explicit) };
  }
  const candidates = [path.resolve(REPO_ROOT, '..', 'shared', 'critest'), '/work/shared/critest'];
  for (const dir of candidates) if (fs.existsSync(dir) && !incomplete(dir).length) return { dir };
  return { reason: `no critest kit (set KUKEON_CRITEST_DIR; looked in ${candidates.join(', ')})` };
}

/** Whether the machine can run critest against `target`; every missing piece in `reason`. */
export function critestRequirements(target = critestTarget()): E2ERequirements {
  const missing: string[] = [];
  if (!target) missing.push(`KUKEON_CRITEST_TARGET=${process.env.KUKEON_CRITEST_TARGET} (want kukeon or containerd)`);
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) missing.push('needs root (uid 0)');
  const kit = locateCritestKit();
  if (kit.reason) missing.push(kit.reason);
  const bins = KIT_BINARIES.filter((b) => !findBinary(b));
  if (bins.length) missing.push(`missing binaries: ${bins.join(', ')}`);
  const cni = CNI_PLUGINS.filter((p) => !fs.existsSync(p));
  if (cni.length) missing.push(`missing CNI plugins: ${cni.join(', ')} (containernetworking-plugins)`);
  return missing.length ? { ok: false, reason: missing.join('; ') } : { ok: true };
}

const hex = (n: number) => randomBytes(n).toString('hex');
const SBIN_PATH = [
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
/** Where prep.sh's `apt-get download busybox` is kept between runs, so a bring-up needs no apt after the first. */
const DEB_CACHE = path.join(os.tmpdir(), 'kukeon-critest-cache');

/** Our environment without KUKEON_* and DEBUG, with sbin on PATH, plus `extra`. */
function scriptEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KUKEON_') && k !== 'DEBUG') env[k] = v;
  return { ...env, PATH: SBIN_PATH, NO_COLOR: '1', ...extra };
}

const tail = (s: string, n = 3000) => (s.length > n ? `...${s.slice(-n)}` : s);

/** Mount points at or under `dir` that this (the host's) mount namespace sees. */
function mountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => unescapeMountField(l.split(' ')[4] ?? ''))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
}

const live = new Set<CritestKit>();
let safetyNet = false;
/** On exit (or SIGINT/SIGTERM) a kit that was not torn down is, synchronously: kukeond SIGKILLed, down.sh run. */
function installSafetyNet(): void {
  if (safetyNet) return;
  safetyNet = true;
  process.on('exit', () => {
    for (const kit of live) kit.emergencyDown();
  });
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)
    process.once(sig, () => process.exit(code));
}

export interface CritestRun {
  report: CritestReport;
  /** Wall time of run.sh (critest inside the holder), ms. */
  wallMs: number;
  /** critest's exit code (1 when a spec failed). */
  code: number;
  /** critest's verbose output. */
  log: string;
}

export class CritestKit {
  /** How long prep.sh and up.sh took, ms. */
  upMs = 0;
  private daemon?: Daemon;
  /** kukeond's cgroup root (one directory name in every hierarchy), once startKukeond set it. */
  cgroupRoot?: string;
  private downPromise?: Promise<string[]>;

  private constructor(
    readonly target: CritestTarget,
    /** The kit's read-only directory. */
    readonly kitDir: string,
    /** The work dir (`W`): scripts, images, containerd, kukeond's files, critest's results in `run/`. */
    readonly w: string,
    /** Our network namespace (`NS`). */
    readonly ns: string,
    private readonly before: HostSnapshot,
    private readonly releaseLock: () => Promise<void>,
    /** The namespace holder's pid, once up.sh has started it. */
    public holder = 0,
  ) {}

  /** Takes the e2e lock, then prep.sh and up.sh (`CRI=none` for kukeon, `CRI=containerd` for the reference). */
  static async up(target: CritestTarget): Promise<CritestKit> {
    const { dir, reason } = locateCritestKit();
    if (!dir) throw new Error(reason);
    const releaseLock = await acquireMachineLock();
    const t0 = process.hrtime.bigint();
    let kit: CritestKit;
    try {
      const before = takeHostSnapshot();
      const w = fs.mkdtempSync(path.join(os.tmpdir(), 'kukeon-critest-'));
      kit = new CritestKit(target, dir, w, `kc-${hex(3)}`, before, releaseLock);
    } catch (err) {
      await releaseLock();
      throw err;
    }
    live.add(kit);
    installSafetyNet();
    try {
      kit.seedDebCache();
      await kit.script(path.join(dir, 'prep.sh'), [], {}, 300_000);
      kit.keepDebCache();
      await kit.script(path.join(kit.w, 'up.sh'), [], { CRI: target === 'kukeon' ? 'none' : 'containerd' }, 300_000);
      kit.holder = Number(fs.readFileSync(path.join(kit.w, 'holder.pid'), 'utf8').trim());
      kit.upMs = Number(process.hrtime.bigint() - t0) / 1e6;
    } catch (err) {
      const problems = await kit.down({ keep: true });
      throw new Error(`${(err as Error).message}${problems.length ? `\nteardown: ${problems.join('\n')}` : ''}`);
    }
    return kit;
  }

  /** containerd's socket (its CRI for the reference). */
  /** containerd's root (what ImageFsInfo names as the images' filesystem). */
  get containerdRoot(): string {
    return path.join(this.w, 'ctd', 'root');
  }

  get containerdSocket(): string {
    return path.join(this.w, 'ctd', 'containerd.sock');
  }
  /** The kit's CNI conflist dir (bridge crit0, 10.77.0.0/24, portmap): containerd's CRI uses it. */
  get cniConfDir(): string {
    return path.join(this.w, 'cni', 'net.d');
  }
  /** kukeond's files: config, run path, api-socket socket, CNI state. */
  get kukeonDir(): string {
    return path.join(this.w, 'kukeon');
  }
  /** The CRI socket critest and crictl use. */
  get criSocket(): string {
    return this.target === 'kukeon' ? path.join(this.w, 'cri.sock') : this.containerdSocket;
  }
  get endpoint(): string {
    return `unix://${this.criSocket}`;
  }
  /** The command prefix that enters the holder's namespaces. */
  get inHolder(): string[] {
    if (!this.holder) throw new Error('the critest kit is not up');
    return [findBinary('nsenter') ?? 'nsenter', '-t', String(this.holder), '--mount', '--ipc', '--uts', '--net'];
  }
  /** Environment for `kuke` through this kukeond (its socket, config and run path). */
  get kukeEnv(): Record<string, string> {
    const d = this.kukeonDir;
    return {
      KUKEON_SOCKET: path.join(d, 'kukeond.sock'),
      KUKEON_CONFIG: path.join(d, 'kukeon.yaml'),
      KUKEON_RUN_PATH: path.join(d, 'run'),
    };
  }
  get kukeondPid(): number | undefined {
    return this.daemon?.pid;
  }

  /**
   * Starts kukeond inside the holder: store-yaml, containerd (the kit's socket), cni (dirs under W), cgroupv2 (a
   * root of its own), api-socket and `api-cri: { socket: <W>/cri.sock, ...criConfig }`; resolves once the CRI
   * socket exists.
   */
  async startKukeond(criConfig: Record<string, unknown> = {}): Promise<Daemon> {
    if (this.target !== 'kukeon') throw new Error('startKukeond: the kit is up for containerd');
    const d = this.kukeonDir;
    this.cgroupRoot = `kukeon-critest-${hex(3)}`;
    const plugins = {
      'store-yaml': {},
      // the kit's registry serves critest's images under their upstream names, as containerd's CRI mirrors do
      containerd: {
        socket: this.containerdSocket,
        registryMirrors: { 'registry.k8s.io': 'http://127.0.0.1:5000', 'gcr.io': 'http://127.0.0.1:5000' },
      },
      cni: {
        confDir: path.join(d, 'cni', 'net.d'),
        cacheDir: path.join(d, 'cni', 'cache'),
        ipamDataDir: path.join(d, 'cni', 'ipam'),
        binDirs: ['/usr/lib/cni'],
      },
      cgroupv2: { root: this.cgroupRoot },
      'api-socket': { socket: this.kukeEnv.KUKEON_SOCKET },
      'api-cri': { socket: this.criSocket, ...criConfig },
    };
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(this.kukeEnv.KUKEON_CONFIG, YAML.stringify({ plugins }));
    this.daemon = await startDaemon({
      socket: this.kukeEnv.KUKEON_SOCKET,
      runPath: this.kukeEnv.KUKEON_RUN_PATH,
      config: this.kukeEnv.KUKEON_CONFIG,
      prefix: this.inHolder,
      env: { PATH: SBIN_PATH },
      readyTimeoutMs: 30_000,
    });
    const daemon = this.daemon;
    await waitFor('the api-cri socket', () => fs.existsSync(this.criSocket), 10_000, 20).catch((err) => {
      throw new Error(`${(err as Error).message} ${this.criSocket}; kukeond said:\n${tail(daemon.stderr())}`);
    });
    return daemon;
  }

  /** `crictl -r <endpoint> -i <endpoint> ARGS` inside the holder (exec and attach stream over its loopback). */
  crictl(args: readonly string[], timeoutMs = 60_000): Promise<RunResult> {
    const crictl = path.join(this.w, 'bin', 'crictl');
    return runCommand(
      this.inHolder[0],
      [...this.inHolder.slice(1), crictl, '-r', this.endpoint, '-i', this.endpoint, '-t', '30s', ...args],
      {
        env: scriptEnv({}),
        cwd: this.w,
        timeoutMs,
      },
    );
  }

  /** critest (run.sh NAME ARGS) against this target; its report is `<W>/run/NAME.json`. */
  async critest(name: string, args: readonly string[] = []): Promise<CritestRun> {
    const t0 = process.hrtime.bigint();
    const r = await runCommand(path.join(this.w, 'run.sh'), [name, ...args], {
      env: scriptEnv({ W: this.w, NS: this.ns, ENDPOINT: this.endpoint }),
      cwd: this.w,
      timeoutMs: 30 * 60_000,
    });
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const logFile = path.join(this.w, 'run', `${name}.log`);
    const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
    const json = path.join(this.w, 'run', `${name}.json`);
    if (!fs.existsSync(json)) throw new Error(`critest wrote no report ${json} (run.sh: ${r.stdout}${r.stderr}); its log:\n${tail(log)}`);
    const code = Number(/^rc=(\d+)/m.exec(r.stdout)?.[1] ?? r.code);
    return { report: readCritestReport(json), wallMs, code, log };
  }

  /**
   * Tears down what up() and startKukeond() made: kukeond (SIGTERM by pid, SIGKILL after 10 s), down.sh, kukeon's
   * cgroup root, W (kept with its logs when `keep`), the lock. Returns what it could not do and how the host differs
   * from before (empty when clean). Idempotent.
   */
  down(opts: { keep?: boolean } = {}): Promise<string[]> {
    this.downPromise ??= this.doDown(opts.keep === true);
    return this.downPromise;
  }

  private async doDown(keep: boolean): Promise<string[]> {
    const problems: string[] = [];
    try {
      if (this.daemon) {
        const daemon = this.daemon;
        const stopped = await Promise.race([daemon.stop(), new Promise((r) => setTimeout(r, 10_000, undefined))]);
        if (!stopped) {
          problems.push(`kukeond (pid ${daemon.pid}) ignored SIGTERM for 10 s: SIGKILL`);
          await daemon.kill();
        }
        fs.mkdirSync(path.join(this.w, 'run'), { recursive: true });
        fs.writeFileSync(path.join(this.w, 'run', 'kukeond.log'), daemon.stderr());
      }
      const r = await this.script(path.join(this.w, 'down.sh'), [], {}, 180_000).catch((err: Error) => {
        problems.push(`down.sh: ${err.message}`);
        return undefined;
      });
      for (const l of (r?.stdout ?? '').split('\n')) if (/^(WARN|killing leftover)/.test(l)) problems.push(`down.sh: ${l}`);
      const failed = this.removeCgroupRoot();
      if (failed.length) problems.push(`kukeon's cgroups not removable: ${failed.join('; ')}`);
      // Another critest environment on this machine (it takes no e2e lock) changes what we compare: down.sh rmdirs
      // every empty top-level k8s.io cgroup (containerd's CRI parent), theirs too, which runc makes again on demand;
      // their shims come and go in /run/containerd. Those are notes; a removal there is never ours to make.
      const diff = diffHostSnapshot(this.before, takeHostSnapshot());
      const foreign = foreignShimEntries(this.containerdSocket);
      for (const d of diff) {
        const entry = /^\/run\/containerd: ([+-]) (.+)$/.exec(d);
        if (/^cgroup \S+: - k8s\.io\/$/.test(d) || entry?.[1] === '-' || (entry && foreign.has(entry[2])))
          process.stderr.write(`[critest] note: another environment's (${d})\n`);
        else problems.push(d);
      }
      if (keep || problems.length) process.stderr.write(`[critest] kept ${this.w} (logs in run/)\n`);
      else if (!this.removeWorkDir()) problems.push(`still mounted, not removed: ${mountsUnder(this.w).join(', ')}`);
    } finally {
      live.delete(this);
      await this.releaseLock().catch((err) => problems.push(`lock release: ${(err as Error).message}`));
    }
    return problems;
  }

  /** Synchronous last resort at process exit: SIGKILL kukeond, down.sh. */
  emergencyDown(): void {
    if (!live.has(this)) return;
    live.delete(this);
    if (this.daemon && this.daemon.pid > 0) {
      try {
        process.kill(this.daemon.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    spawnSync(path.join(this.w, 'down.sh'), { env: scriptEnv({ W: this.w, NS: this.ns }), stdio: 'ignore', timeout: 60_000 });
    this.removeCgroupRoot();
    const removed = this.removeWorkDir();
    process.stderr.write(`[critest] emergency teardown of netns ${this.ns}${removed ? '' : `; kept ${this.w} (still mounted)`}\n`);
  }

  /** rmdir of kukeon's cgroup root in every hierarchy (after down.sh has ended its processes); what is left. */
  private removeCgroupRoot(): string[] {
    const root = this.cgroupRoot;
    return root ? cgroupMounts().flatMap((m) => rmdirTree(path.join(m.mountPoint, root))) : [];
  }

  /** Removes W unless something is mounted under it (rm -r must never walk into a mount); whether it did. */
  private removeWorkDir(): boolean {
    if (mountsUnder(this.w).length) return false;
    fs.rmSync(this.w, { recursive: true, force: true });
    return true;
  }

  /** Runs a kit script with W and NS; rejects with its output on a non-zero exit. Its output goes to run/<script>.out. */
  private async script(file: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<RunResult> {
    const r = await runCommand(file, args, { env: scriptEnv({ W: this.w, NS: this.ns, ...env }), cwd: this.w, timeoutMs });
    fs.mkdirSync(path.join(this.w, 'run'), { recursive: true });
    fs.writeFileSync(path.join(this.w, 'run', `${path.basename(file)}.out`), `${r.stdout}\n--- stderr\n${r.stderr}`);
    if (r.code !== 0) throw new Error(`${path.basename(file)} exited ${r.code}:\n${tail(r.stdout + r.stderr)}`);
    return r;
  }

  private seedDebCache(): void {
    const cached = fs.existsSync(DEB_CACHE) ? fs.readdirSync(DEB_CACHE).filter((f) => /^busybox_.*\.deb$/.test(f)) : [];
    if (!cached.length) return;
    fs.mkdirSync(path.join(this.w, 'debs'), { recursive: true });
    fs.copyFileSync(path.join(DEB_CACHE, cached[0]), path.join(this.w, 'debs', cached[0]));
  }

  private keepDebCache(): void {
    const debs = path.join(this.w, 'debs');
    const deb = fs.readdirSync(debs).find((f) => /^busybox_.*\.deb$/.test(f));
    if (!deb || fs.existsSync(path.join(DEB_CACHE, deb))) return;
    fs.mkdirSync(DEB_CACHE, { recursive: true });
    fs.copyFileSync(path.join(debs, deb), path.join(DEB_CACHE, deb));
  }
}

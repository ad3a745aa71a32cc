// Reliability: hostile input. Every case of the corpus (hostile-corpus.ts: generated from valid manifests with a
// fixed seed, the hand-written files of hostile/, and the large cases made at run time) is given to the real
// `kuke apply -f` (the built CLI as a child process) with the full backend set: the harness's private containerd,
// the cni plugin (conflists, cache and IPAM under the temp dir) and cgroupv2 (under the harness's cgroup root),
// on a tree applied first with running cells. Every case runs with every backend; cases run four at a time.
// Then the hand-written cases and a sample of the rest go through kukeond, with a `kuke get` beside each batch,
// and kukeond gets malformed gRPC requests and a client that opens 1,000 streams and never reads.
//
// For each case: exit 1, one line on stderr naming the document and field (or the reason for the whole file),
// no stack trace or engine error text, nothing on stdout; and the run path, the CNI directories, the cgroup tree
// and containerd's containers, tasks, images, snapshots and leases in kukeon's namespaces are unchanged (a hash of
// each, taken after every batch). The cases marked measureRss run with a preload that reports the kuke process's
// own peak RSS (getrusage, process.resourceUsage().maxRSS): at most 200 MB. Through kukeond they run alone, and
// the daemon's own growth is measured too: its peak RSS is reset (`/proc/PID/clear_refs` 5) before the case and
// read after it; the peak may exceed the RSS it started from by at most 200 MB.
//
// CI: every fixed case plus 15 random ones (about 200 in all); KUKEON_RELIABILITY=full adds 1,045 random ones.
// The seed is KUKEON_RELIABILITY_SEED (default 15). Ends with `reliability hostile: bad inputs N, rejected cleanly N, changed 0`.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { ContainerdClient } from '../../plugins/containerd/grpc/containerd-client';
import { encodeJson } from '../../plugins/api-socket/wire';
import { E2EHarness, tempCniTable } from '../e2e/harness';
import type { RunResult } from '../e2e/harness';
import { cgroupMounts, e2eSuite } from '../e2e/requirements';
import { buildBusyboxOciFile, BUSYBOX_IMAGE_REF } from '../helpers/busybox-oci';
import { startDaemon } from '../helpers/daemon';
import type { Daemon } from '../helpers/daemon';
import { procStatus } from '../helpers/proc-status';
import { REPO_ROOT, generatedCases, handWrittenCases, runtimeCases } from './hostile-corpus';
import type { HostileCase } from './hostile-corpus';

const FULL = process.env.KUKEON_RELIABILITY === 'full';
const SEED = Number(process.env.KUKEON_RELIABILITY_SEED || 15);
const RANDOM_CASES = FULL ? 1060 : 15;
const PARALLEL = 4;
const RSS_LIMIT_KB = 200 * 1024;
/** kukeond's own peak over the corpus, the malformed requests and 2,000 unread streams. */
const DAEMON_PEAK_LIMIT_KB = 512 * 1024;
const RSS_PRELOAD = path.join(__dirname, 'report-rss.js');

/** Engine or library text that must never reach a user. */
const INTERNAL = /ReferenceError|RangeError|TypeError|SyntaxError|Maximum call stack|KUKEON_E_INTERNAL|^\s+at /m;

interface Outcome {
  clean: boolean;
  problems: string[];
  rssKb?: number;
}

/** A `kB` field of /proc/PID/status (VmRSS, VmHWM). */
function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  return Number.parseInt(procStatus(pid)[field], 10);
}

/** Checks one run of one case (not the state: the batch's fingerprint does that). */
function judge(c: HostileCase, r: RunResult, rssKb: number | undefined): Outcome {
  const problems: string[] = [];
  const stderr = r.stderr.trim();
  if (r.code !== 1) problems.push(`exit ${r.code}${r.signal ? ` (${r.signal})` : ''}`);
  if (!/^Error: [^\n]+\[KUKEON_E_[A-Z_]+\]$/.test(stderr)) problems.push('stderr is not one "Error: ... [KUKEON_E_...]" line');
  if (INTERNAL.test(stderr)) problems.push('stderr shows internal error text');
  if (r.stdout.trim() !== '') problems.push(`stdout: ${r.stdout.trim().slice(0, 200)}`);
  for (const e of c.expect) if (!e.test(stderr)) problems.push(`stderr does not match ${e}`);
  if (c.measureRss) {
    if (rssKb === undefined) problems.push('peak RSS not reported');
    else if (rssKb > RSS_LIMIT_KB) problems.push(`peak RSS ${Math.round(rssKb / 1024)} MB > ${RSS_LIMIT_KB / 1024} MB`);
  }
  if (problems.length) problems.push(`stderr was: ${stderr.slice(0, 400)}`);
  return { clean: problems.length === 0, problems, rssKb };
}

/** A gRPC message as it travels: a compressed flag, a length (the real one unless told) and the bytes. */
function grpcFrame(payload: Buffer, opts: { compressed?: boolean; declaredLength?: number } = {}): Buffer {
  const head = Buffer.alloc(5);
  head[0] = opts.compressed ? 1 : 0;
  head.writeUInt32BE(opts.declaredLength ?? payload.length, 1);
  return Buffer.concat([head, payload]);
}

interface GrpcAnswer {
  status: number | undefined;
  message: string;
  kukeonCode?: string;
}

/** One raw kukeon.v1 call on an HTTP/2 session to the daemon's socket: no client library to smooth the request. */
function rawCall(session: http2.ClientHttp2Session, method: string, body: Buffer | undefined, timeoutMs = 60_000): Promise<GrpcAnswer> {
  return new Promise((resolve) => {
    const req = session.request({
      ':method': 'POST',
      ':path': `/kukeon.v1.Kukeon/${method}`,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const answer: GrpcAnswer = { status: undefined, message: '' };
    const take = (headers: http2.IncomingHttpHeaders) => {
      if (headers['grpc-status'] !== undefined) answer.status = Number(headers['grpc-status']);
      if (headers['grpc-message']) answer.message = decodeURIComponent(String(headers['grpc-message']));
      const e = headers['kukeon-error-bin'];
      if (e) {
        try {
          answer.kukeonCode = JSON.parse(Buffer.from(String(e), 'base64').toString('utf8')).code;
        } catch {
          answer.kukeonCode = '<unreadable>';
        }
      }
    };
    req.on('response', take);
    req.on('trailers', take);
    req.on('data', () => undefined);
    req.on('error', (err) => (answer.message ||= err.message));
    const timer = setTimeout(() => {
      answer.message = `no answer within ${timeoutMs} ms`;
      req.close();
    }, timeoutMs);
    req.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    req.end(body);
  });
}

/** A hash per tree: every entry's path, mode, size, mtime and content (directories by name and mode). */
function treeLines(root: string, filesToo: (rel: string) => boolean = () => true): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      const st = fs.lstatSync(p);
      if (e.isDirectory()) {
        out.push(`${r}/ ${st.mode.toString(8)}`);
        walk(p, r);
      } else if (filesToo(r)) {
        const content = e.isFile() ? createHash('sha256').update(fs.readFileSync(p)).digest('hex') : fs.readlinkSync(p);
        out.push(`${r} ${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${content}`);
      }
    }
  };
  walk(root, '');
  return out;
}

/** JSON with map keys sorted: containerd returns label maps in any order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object' && !Buffer.isBuffer(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'undefined';
}

/** Limit and membership files of the cgroup tree (the counters change by themselves). */
const CGROUP_FILES = /(^|\/)(cgroup\.subtree_control|cgroup\.procs|cpu\.max|cpu\.weight|memory\.max|memory\.high|pids\.max|io\.weight)$/;

e2eSuite('reliability hostile input', (test) => {
  let h: E2EHarness;
  let client: ContainerdClient;
  let daemon: Daemon | undefined;
  const totals = { bad: 0, clean: 0, changed: 0, daemonBad: 0, daemonClean: 0, grpc: 0, grpcClean: 0 };
  const peakRss: Record<string, number> = {};
  /** Through kukeond, per measured case: how far the daemon's peak RSS rose above its RSS before the case (kB). */
  const daemonGrowth: Record<string, [grewKb: number, fromKb: number]> = {};
  /** kukeond's peak before the last reset of VmHWM: the resets must not hide its peak over the whole run. */
  let earlierPeakKb = 0;
  const daemonPeakKb = () => Math.max(earlierPeakKb, procStatusKb(daemon!.pid, 'VmHWM'));
  const socket = () => path.join(h.tmp, 'd', 'kukeond.sock');

  /** The state a bad input must not change, section by section. */
  const fingerprint = async (): Promise<Record<string, string[]>> => {
    const sections: Record<string, string[]> = {
      // run/locks/ holds what live processes hold: kukeond's supervisor takes a cell's lock while it reconciles,
      // whatever the cases do (the crash suite checks that no dead process leaves one behind)
      'run path': treeLines(h.runPath).filter((l) => !l.startsWith('run/locks/')),
      'cni dirs': treeLines(path.join(h.tmp, 'cni')),
    };
    for (const m of cgroupMounts()) {
      const lines = treeLines(path.join(m.mountPoint, h.cgroupRoot), (rel) => CGROUP_FILES.test(rel));
      // content of the limit files, which sysfs reports with size 4096 and a fixed mtime
      sections[`cgroup ${m.mountPoint}`] = lines.map((l) => {
        const rel = l.split(' ')[0];
        return rel.endsWith('/') ? l : `${l} ${fs.readFileSync(path.join(m.mountPoint, h.cgroupRoot, rel), 'utf8').trim()}`;
      });
    }
    const ctd: string[] = [];
    for (const ns of (await client.namespaces.list())
      .map((n) => n.name)
      .filter((n) => n.startsWith('kukeon'))
      .sort()) {
      const sorted = (xs: unknown[]) => xs.map((x) => canonical(x)).sort();
      ctd.push(
        `namespace ${ns}`,
        ...sorted(await client.containers.list(ns)),
        ...sorted(await client.tasks.list(ns)),
        ...sorted(await client.images.list(ns)),
        ...sorted(await client.snapshots.list(ns, 'overlayfs')),
        ...sorted(await client.leases.list(ns)),
      );
    }
    sections.containerd = ctd;
    return sections;
  };
  const changes = (a: Record<string, string[]>, b: Record<string, string[]>): string[] => {
    const out: string[] = [];
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const before = new Set(a[k] ?? []);
      const after = new Set(b[k] ?? []);
      for (const l of after) if (!before.has(l)) out.push(`${k}: + ${l.slice(0, 200)}`);
      for (const l of before) if (!after.has(l)) out.push(`${k}: - ${l.slice(0, 200)}`);
    }
    return out;
  };

  /** Writes the case under the temp dir (its own name for a hand-written one, so errors name it) and returns the path. */
  const caseFile = (c: HostileCase, i: number): string => {
    const dir = path.join(h.tmp, 'cases', String(i));
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, c.name.startsWith('hand ') ? c.name.slice(5) : 'manifest.yaml');
    fs.writeFileSync(file, typeof c.content === 'function' ? c.content() : c.content);
    return file;
  };

  /** `kuke apply -f FILE` in the netns: in-process (the harness env) or through kukeond. */
  const apply = (file: string, viaDaemon: boolean, measure: boolean): Promise<RunResult> => {
    const env: Record<string, string | undefined> = viaDaemon
      ? { KUKEON_NO_DAEMON: undefined, KUKEON_RUN_PATH: undefined, KUKEON_SOCKET: socket() }
      : {};
    if (measure) env.NODE_OPTIONS = `--require ${RSS_PRELOAD}`;
    return h.kuke(['apply', '-f', file], { env, timeoutMs: 120_000 });
  };
  const rssOf = (r: RunResult): number | undefined => {
    const m = /^KUKE_MAXRSS_KB=(\d+)$/m.exec(r.stderr);
    r.stderr = r.stderr.replace(/^KUKE_MAXRSS_KB=\d+\n?/m, '');
    return m ? Number(m[1]) : undefined;
  };

  /** Runs the cases in batches; returns the failures. `beside` runs alongside each batch (a parallel get). */
  const runCorpus = async (cases: HostileCase[], viaDaemon: boolean, beside?: () => Promise<string | undefined>): Promise<string[]> => {
    const failures: string[] = [];
    let before = await fingerprint();
    const runOne = async (c: HostileCase, index: number): Promise<Outcome> => {
      const file = caseFile(c, index);
      const r = await apply(file, viaDaemon, !!c.measureRss);
      if (typeof c.content === 'function') fs.rmSync(file, { force: true });
      const rss = rssOf(r);
      if (rss !== undefined) peakRss[`${viaDaemon ? 'daemon ' : ''}${c.name}`] = rss;
      return judge(c, r, rss);
    };
    // through kukeond a measured case runs alone, so the daemon's peak during it is that case's
    const alone = (c: HostileCase) => viaDaemon && !!c.measureRss;
    const measuredAlone = async (c: HostileCase, index: number): Promise<Outcome> => {
      const pid = daemon!.pid;
      earlierPeakKb = daemonPeakKb();
      fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
      const from = procStatusKb(pid, 'VmRSS');
      const o = await runOne(c, index);
      const grew = procStatusKb(pid, 'VmHWM') - from;
      daemonGrowth[c.name] = [grew, from];
      if (grew <= RSS_LIMIT_KB) return o;
      return {
        ...o,
        clean: false,
        problems: [...o.problems, `kukeond's RSS grew ${Math.round(grew / 1024)} MB > ${RSS_LIMIT_KB / 1024} MB`],
      };
    };
    for (let i = 0; i < cases.length; i += PARALLEL) {
      const batch = cases.slice(i, i + PARALLEL);
      const [parallel, besideProblem] = await Promise.all([
        Promise.all(batch.map((c, k) => (alone(c) ? undefined : runOne(c, i + k)))),
        beside?.(),
      ]);
      const outcomes: Outcome[] = [];
      for (const [k, c] of batch.entries()) outcomes.push(parallel[k] ?? (await measuredAlone(c, i + k)));
      const after = await fingerprint();
      const changed = changes(before, after);
      if (changed.length) {
        totals.changed += batch.length;
        failures.push(`state changed by one of [${batch.map((c) => c.name).join(' | ')}]: ${changed.slice(0, 10).join('; ')}`);
        before = after;
      }
      if (besideProblem) failures.push(`beside batch ${i / PARALLEL + 1}: ${besideProblem}`);
      outcomes.forEach((o, k) => {
        if (viaDaemon) {
          totals.daemonBad++;
          if (o.clean && !changed.length) totals.daemonClean++;
        } else {
          totals.bad++;
          if (o.clean && !changed.length) totals.clean++;
        }
        if (!o.clean) failures.push(`${viaDaemon ? '[daemon] ' : ''}${batch[k].name}: ${o.problems.join('; ')}`);
      });
    }
    return failures;
  };

  const corpus = (): HostileCase[] => [...handWrittenCases(), ...runtimeCases(), ...generatedCases(SEED, RANDOM_CASES, BUSYBOX_IMAGE_REF)];

  test.before(async () => {
    h = await E2EHarness.start({
      name: 'hostile',
      plugins: ({ tmp, cgroupRoot }) => ({ cni: tempCniTable(tmp), cgroupv2: { root: cgroupRoot } }),
    });
    client = new ContainerdClient(h.socket);
    assert.is((await h.kuke(['create', 'realm', 'demo'])).code, 0);
    const load = await h.kuke(['image', 'load', await buildBusyboxOciFile(h.tmp), '--realm', 'demo']);
    assert.is(load.code, 0, load.stderr);
    // quickstart's tree with quiet workloads: the worker's loop would write its log and fork every 5 s
    const baseline = fs
      .readFileSync(path.join(REPO_ROOT, 'examples', 'quickstart.yaml'), 'utf8')
      .replaceAll('docker.io/library/busybox:latest', BUSYBOX_IMAGE_REF)
      .replace('"while true; do date; sleep 5; done"', `"trap 'exit 0' TERM; sleep 3600 & wait"`);
    assert.match(baseline, /sleep 3600/);
    const r = await h.kuke(['apply', '-f', '-', '--pull', 'never'], { input: baseline, timeoutMs: 120_000 });
    assert.is(r.code, 0, `baseline apply: ${r.stderr}`);
  });

  test.after(async () => {
    const rss = Object.entries(peakRss)
      .map(([k, v]) => `${k}: ${Math.round(v / 1024)} MB`)
      .join('; ');
    console.log(`  peak RSS of measured cases: ${rss || 'none measured'}`);
    const grown = Object.entries(daemonGrowth)
      .map(([k, [grew, from]]) => `${k}: +${Math.round(grew / 1024)} MB over ${Math.round(from / 1024)} MB`)
      .join('; ');
    console.log(`  kukeond's peak RSS during each measured case, above its RSS before it: ${grown || 'none measured'}`);
    console.log(
      `  through kukeond: bad inputs ${totals.daemonBad}, rejected cleanly ${totals.daemonClean}; malformed gRPC requests ${totals.grpc}, answered with an error ${totals.grpcClean}`,
    );
    console.log(
      `reliability hostile: bad inputs ${totals.bad + totals.daemonBad}, rejected cleanly ${totals.clean + totals.daemonClean}, changed ${totals.changed}`,
    );
    await daemon?.stop();
    client?.close();
    const diff = await h?.stop();
    assert.equal(diff, [], `the host changed: ${diff?.join('; ')}`);
  });

  test('in-process: every bad input exits 1 naming document and field, and changes nothing', async () => {
    const cases = corpus();
    assert.ok(cases.length >= 200, `${cases.length} cases`);
    const started = Date.now();
    const failures = await runCorpus(cases, false);
    console.log(`  in-process: ${cases.length} cases in ${Math.round((Date.now() - started) / 1000)} s`);
    assert.equal(failures.slice(0, 30), [], `${failures.length} failures`);
  });

  test('through kukeond: the same corpus is refused alike while a parallel get is served', async () => {
    daemon = await startDaemon({ socket: socket(), runPath: h.runPath, config: h.configFile, prefix: ['nsenter', `--net=${h.netnsPath}`] });
    peakRss['kukeond (VmHWM once serving)'] = procStatusKb(daemon.pid, 'VmHWM');
    const all = corpus();
    // every hand-written and run-time case, and every fourth generated one
    const cases = all.filter((c, i) => !c.name.startsWith('gen-') || i % 4 === 0);
    const get = async () => {
      const r = await h.kuke(['get', 'cells', '--realm', 'demo', '--space', 'web', '--stack', 'shop'], {
        env: { KUKEON_NO_DAEMON: undefined, KUKEON_RUN_PATH: undefined, KUKEON_SOCKET: socket() },
        timeoutMs: 30_000,
      });
      return r.code === 0 && /frontend/.test(r.stdout) ? undefined : `kuke get exited ${r.code}: ${r.stderr.trim()}`;
    };
    const started = Date.now();
    const failures = await runCorpus(cases, true, get);
    console.log(`  through kukeond: ${cases.length} cases in ${Math.round((Date.now() - started) / 1000)} s`);
    assert.equal(failures.slice(0, 30), [], `${failures.length} failures`);
    const hwm = daemonPeakKb();
    peakRss['kukeond (VmHWM after the corpus)'] = hwm;
  });
  test('kukeond: malformed gRPC requests are answered with an error, and 1,000 unread streams do not stop other clients', async () => {
    assert.ok(daemon, 'kukeond runs (started by the previous test)');
    const MiB = 1024 * 1024;
    // a session per request: an oversize message may end its connection (nghttp2's ENHANCE_YOUR_CALM)
    const connect = () => {
      const s = http2.connect('http://localhost', { createConnection: () => net.connect(socket()) });
      s.on('error', () => undefined);
      return s;
    };
    const json = (v: unknown) => grpcFrame(encodeJson(v));
    const requests: [string, string, Buffer | undefined][] = [
      ['not protobuf', 'Apply', grpcFrame(Buffer.from([0xff, 0xff, 0xff, 0x07, 0x01, 0x02]))],
      ['not JSON', 'Apply', grpcFrame(Buffer.from([0x0a, 0x03, 0x7b, 0x7b, 0x7b]))],
      ['a null request', 'Apply', json(null)],
      ['text a number', 'Apply', json({ text: 42 })],
      ['text a map', 'Apply', json({ text: { kind: 'Realm' } })],
      ['the request a string', 'Apply', json('kind: Realm\nmetadata: { name: x }\n')],
      ['a 20 MB text', 'Apply', json({ text: `kind: Realm\nmetadata: { name: x, labels: { a: ${'x'.repeat(20 * MiB)} } }\n` })],
      ['a 65 MiB message', 'Apply', grpcFrame(Buffer.alloc(65 * MiB, 0x20))],
      ['a length of 1 GiB and 10 bytes', 'Apply', grpcFrame(Buffer.alloc(10), { declaredLength: 1024 * MiB })],
      ['compressed without an encoding', 'Apply', grpcFrame(Buffer.from('garbage'), { compressed: true })],
      ['no message at all', 'Apply', undefined],
      ['kind a number', 'Get', json({ kind: 42, scope: [] })],
      ['scope not a list', 'Get', json({ kind: 'Cell', scope: 'demo/web/shop' })],
      ['an unknown kind', 'Get', json({ kind: 'Pod', scope: [] })],
      ['delete a realm named ..', 'Delete', json({ ref: { kind: 'Realm', path: ['..'] }, cascade: true, force: true })],
      [
        'delete a cell path with ..',
        'Delete',
        json({ ref: { kind: 'Cell', path: ['demo', 'web', 'shop', '../../../../tmp'] }, force: true }),
      ],
      ['purge a realm with a slash', 'Purge', json({ ref: { kind: 'Realm', path: ['demo/../demo'] }, cascade: true })],
      ['purge a path of numbers', 'Purge', json({ ref: { kind: 'Realm', path: [1] }, cascade: true })],
      ['start a ref without a path', 'Start', json({ ref: { kind: 'Cell' } })],
      ['stop with a negative timeout', 'Stop', json({ ref: { kind: 'Cell', path: ['demo', 'web', 'shop', 'ghost'] }, timeoutSeconds: -5 })],
      ['logs of a realm', 'Logs', json({ ref: { kind: 'Realm', path: ['demo'] }, follow: true })],
      ['deleteDocuments text a list', 'DeleteDocuments', json({ text: ['kind: Realm'] })],
      ['an unknown method', 'Nope', json({})],
    ];
    const before = await fingerprint();
    const problems: string[] = [];
    for (const [what, method, body] of requests) {
      const session = connect();
      const a = await rawCall(session, method, body);
      session.destroy();
      totals.grpc++;
      const refusedConnection = what === 'a 65 MiB message' && /ENHANCE_YOUR_CALM|RESOURCE_EXHAUSTED/.test(a.message);
      const ok =
        refusedConnection ||
        (typeof a.status === 'number' && a.status !== 0 && !/\n\s+at /.test(a.message) && a.kukeonCode !== 'KUKEON_E_INTERNAL');
      if (ok) totals.grpcClean++;
      else problems.push(`${what}: status ${a.status}, ${a.kukeonCode ?? 'no kukeon code'}: ${a.message.slice(0, 200)}`);
    }
    assert.equal(changes(before, await fingerprint()), [], 'malformed requests changed nothing');
    assert.equal(problems, [], 'every malformed request gets a coded error other than KUKEON_E_INTERNAL');

    // A client opens 1,000 watch streams and 1,000 apply streams it never finishes, and reads nothing.
    const greedy = connect();
    const streams: http2.ClientHttp2Stream[] = [];
    const greedyOpen = (n: number, method: string, body: Buffer, end: boolean) => {
      for (let i = 0; i < n; i++) {
        const s = greedy.request({
          ':method': 'POST',
          ':path': `/kukeon.v1.Kukeon/${method}`,
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        s.on('error', () => undefined);
        s.pause();
        if (end) s.end(body);
        else s.write(body);
        streams.push(s);
      }
    };
    const viaDaemon = { KUKEON_NO_DAEMON: undefined, KUKEON_RUN_PATH: undefined, KUKEON_SOCKET: socket() };
    greedyOpen(500, 'Watch', json({}), true);
    greedyOpen(500, 'Apply', grpcFrame(Buffer.from('partial'), { declaredLength: 100 }), false);
    const second = connect();
    for (let i = 0; i < 1000; i++) {
      const s = second.request({
        ':method': 'POST',
        ':path': '/kukeon.v1.Kukeon/Watch',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      s.on('error', () => undefined);
      s.pause();
      s.end(json({}));
      streams.push(s);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const started = Date.now();
    const get = await h.kuke(['get', 'cells', '--realm', 'demo', '--space', 'web', '--stack', 'shop'], {
      env: viaDaemon,
      timeoutMs: 30_000,
    });
    const getMs = Date.now() - started;
    assert.is(get.code, 0, `kuke get beside 2,000 unread streams: ${get.stderr}`);
    assert.match(get.stdout, /frontend/);
    // changes the watchers are told of (and never read): a realm made and purged through the daemon
    for (let i = 0; i < 3; i++) {
      const made = await h.kuke(['create', 'realm', `scratch${i}`], { env: viaDaemon, timeoutMs: 60_000 });
      assert.is(made.code, 0, made.stderr);
      const gone = await h.kuke(['purge', 'realm', `scratch${i}`, '--cascade'], { env: viaDaemon, timeoutMs: 60_000 });
      assert.is(gone.code, 0, gone.stderr);
    }
    for (const s of streams) s.close();
    greedy.destroy();
    second.destroy();
    const after = await h.kuke(['get', 'cells', '--realm', 'demo', '--space', 'web', '--stack', 'shop'], {
      env: viaDaemon,
      timeoutMs: 30_000,
    });
    assert.is(after.code, 0, after.stderr);
    const hwm = daemonPeakKb();
    peakRss['kukeond (VmHWM after the gRPC requests)'] = hwm;
    // measured 330-350 MB, most of it garbage V8 has not collected yet (VmRSS falls to about 165 MB once idle);
    // a leak per request or per stream would not stay under this
    assert.ok(hwm < DAEMON_PEAK_LIMIT_KB, `kukeond's peak RSS ${Math.round(hwm / 1024)} MB`);
    console.log(`  kuke get beside 2,000 unread streams answered in ${getMs} ms`);
  });
});

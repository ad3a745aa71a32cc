// The concurrency suite's workload and checks (issue #15), shared by the store-only run (concurrency.test.ts)
// and the run on a private containerd (concurrency-e2e.test.ts): 8 workers each run `kuke` after `kuke` (apply,
// delete, get of overlapping parts of one tree, from a fixed-seed PRNG) until the time is up; then the outcomes
// are classified, the tree on disk read, and the replay of every committed write compared with it.

import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import { tmpDir } from '../helpers/tmp';
import { type Committed, type TreeOp, replayTree } from './concurrency-replay';
import { SeededRandom } from './seeded-random';
import { idle } from '../e2e/idle';

/** What one `kuke` run returned (the CLI helpers' and the e2e harness's results both fit). */
export interface KukeResult {
  /** -1 when it was killed (it ran past the hang bound) or did not start. */
  code: number;
  stdout: string;
  stderr: string;
}

/** How a run differs from the store-only one. */
export interface WorkloadOptions {
  /** How long the workers run (default 15 s, 60 s with KUKEON_RELIABILITY=full). */
  durationMs?: number;
  /** The containers' image (default `busybox`: never pulled without a runtime). */
  image?: string;
  /** Whether realms are deleted too (not on containerd: a realm's images go with it and nothing could pull them again). */
  realmDeletes?: boolean;
  /** Further codes a verb may fail with on this backend set, each with why. */
  extraCodes?: Partial<Record<Verb, Record<string, string>>>;
  /** Past this a `kuke` is counted as hung (the runner kills it). */
  hangMs?: number;
  /** The tree before the workers start (fingerprints by path), made by the set-up. */
  initial?: [string, string][];
}

type Verb = 'apply' | 'delete' | 'get';

export const FULL = process.env.KUKEON_RELIABILITY === 'full';
export const DURATION_MS = FULL ? 60_000 : 15_000;
export const WORKERS = 8;
const SEED = 0x15c0ffee;
/** Short, so that waits do time out now and then and the BUSY path is exercised too. */
export const LOCK_TIMEOUT_MS = 3_000;
/** Past this a `kuke` is killed and counted as hung: an operation waits for a few locks, each at most the timeout. */
export const HANG_MS = 4 * LOCK_TIMEOUT_MS + 10_000;
/** Codes each verb may fail with when it loses a race, and why each is right. */
const EXPECTED_CODES: Record<Verb, Record<string, string>> = {
  apply: {
    KUKEON_E_BUSY: 'a lock was held past the timeout',
    KUKEON_E_PARENT_NOT_FOUND: 'another process deleted the parent after this apply saw it (a retry makes it again)',
  },
  delete: {
    KUKEON_E_BUSY: 'a lock was held past the timeout',
    KUKEON_E_NOT_FOUND: 'the resource is not there (never made, or deleted by another process)',
    KUKEON_E_HAS_CHILDREN: 'without --cascade and it has children, or a child was made while it was being deleted',
  },
  get: {
    KUKEON_E_BUSY: 'a lock was held past the timeout',
    KUKEON_E_NOT_FOUND: 'the scope is not there',
  },
};

/** The tally of each exercise, summed in the closing line (pushed before its asserts, so a failed run counts). */
export const totals: Tally[] = [];

const REALMS = ['ra', 'rb'];
const SPACES = ['s1', 's2'];
const STACK = 'k1';
const CELLS = ['c1', 'c2'];
const CONTAINERS = ['a', 'b', 'c'];
/** What each container runs (with the op that wrote it as `$0`): it ends on SIGTERM, so a delete need not wait for the kill. */
const SCRIPT = idle(600);

interface Planned {
  verb: 'apply' | 'delete' | 'get';
  args: string[];
  /** apply: the fingerprint each explicit document describes, by tree path. */
  wants?: Map<string, string>;
  /** apply of one Container document: the container it sets in its cell. */
  container?: { id: string; arg: string };
  manifest?: string;
  /** delete: the resource it names, as refs print (`stack/ra/s1/k1`). */
  target?: string;
}

/** One operation of worker `w`: an apply of part of a chain (parents named or implicit), a delete or a get. */
function plan(rand: () => number, id: string, dir: string, options: WorkloadOptions): Planned {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  // Mostly the first realm: the more operations meet on the same resources, the more races they run.
  const realm = rand() < 0.75 ? REALMS[0] : REALMS[1];
  const space = pick(SPACES);
  const r = rand();
  if (r < 0.1) {
    // One container of a cell, as a Container document: apply merges it into the stored cell.
    const cell = pick(CELLS);
    const c = pick(CONTAINERS);
    const doc =
      `apiVersion: v1beta1\nkind: Container\nmetadata: { name: ${c} }\nspec:\n  id: ${c}\n  realmId: ${realm}\n  spaceId: ${space}\n` +
      `  stackId: ${STACK}\n  cellId: ${cell}\n  image: "${options.image ?? 'busybox'}"\n  command: sh\n  args: ["-c", "${SCRIPT}", "${id}"]\n`;
    const file = path.join(dir, `${id}.yaml`);
    fs.writeFileSync(file, doc);
    return { verb: 'apply', args: ['apply', '-f', file, '-o', 'json'], manifest: doc, container: { id: c, arg: id } };
  }
  if (r < 0.5) {
    const docs: string[] = [];
    const wants = new Map<string, string>();
    const labels = `labels: { op: ${id} }`;
    if (rand() < 0.5) {
      docs.push(`apiVersion: v1beta1\nkind: Realm\nmetadata: { name: ${realm}, ${labels} }\n`);
      wants.set(realm, `op=${id}`);
    }
    if (rand() < 0.5) {
      docs.push(`apiVersion: v1beta1\nkind: Space\nmetadata: { name: ${space}, ${labels} }\nspec: { realmId: ${realm} }\n`);
      wants.set(`${realm}/${space}`, `op=${id}`);
    }
    if (rand() < 0.5) {
      docs.push(
        `apiVersion: v1beta1\nkind: Stack\nmetadata: { name: ${STACK}, ${labels} }\nspec: { realmId: ${realm}, spaceId: ${space} }\n`,
      );
      wants.set(`${realm}/${space}/${STACK}`, `op=${id}`);
    }
    const cells = rand() < 0.5 ? [pick(CELLS)] : CELLS;
    for (const cell of cells) {
      let ids = CONTAINERS.filter(() => rand() < 0.6);
      if (ids.length === 0) ids = [pick(CONTAINERS)];
      const containers = ids
        .map((c) => `    - { id: ${c}, image: "${options.image ?? 'busybox'}", command: sh, args: ["-c", "${SCRIPT}", "${id}"] }`)
        .join('\n');
      docs.push(
        `apiVersion: v1beta1\nkind: Cell\nmetadata: { name: ${cell}, ${labels} }\n` +
          `spec:\n  realmId: ${realm}\n  spaceId: ${space}\n  stackId: ${STACK}\n  containers:\n${containers}\n`,
      );
      wants.set(
        `${realm}/${space}/${STACK}/${cell}`,
        cellPrint(
          id,
          ids.map((c) => [c, id]),
        ),
      );
    }
    const manifest = docs.join('---\n');
    const file = path.join(dir, `${id}.yaml`);
    fs.writeFileSync(file, manifest);
    return { verb: 'apply', args: ['apply', '-f', file, '-o', 'json'], wants, manifest };
  }
  if (r < 0.8) {
    const level = rand();
    const cascade = rand() < 0.8 ? ['--cascade'] : [];
    const cell = pick(CELLS);
    const del = (target: string, args: string[]): Planned => ({ verb: 'delete', args: ['delete', ...args, '-o', 'json'], target });
    if (level < 0.45)
      return del(`cell/${realm}/${space}/${STACK}/${cell}`, ['cell', cell, '--realm', realm, '--space', space, '--stack', STACK]);
    if (level < 0.7) return del(`stack/${realm}/${space}/${STACK}`, ['stack', STACK, '--realm', realm, '--space', space, ...cascade]);
    if (level < 0.9) return del(`space/${realm}/${space}`, ['space', space, '--realm', realm, ...cascade]);
    if (options.realmDeletes === false) return del(`space/${realm}/${space}`, ['space', space, '--realm', realm, ...cascade]);
    return del(`realm/${realm}`, ['realm', realm, ...cascade]);
  }
  const g = rand();
  if (g < 0.5) return { verb: 'get', args: ['get', 'cells', '--realm', realm, '--space', space, '--stack', STACK, '-o', 'json'] };
  if (g < 0.75) return { verb: 'get', args: ['get', 'spaces', '--realm', realm, '-o', 'json'] };
  return { verb: 'get', args: ['get', 'realms', '-o', 'json'] };
}

/** A cell's fingerprint: its `op` label and each container's id and last argument (the op that wrote it). */
function cellPrint(op: string | undefined, containers: [string, string | undefined][]): string {
  const cs = [...containers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([c, arg]) => `${c}:${arg ?? ''}`);
  return `op=${op ?? ''};containers=${cs.join(',')}`;
}

interface Ran {
  id: string;
  planned: Planned;
  result: KukeResult;
  ms: number;
}

export interface Tally {
  operations: number;
  committed: number;
  busy: number;
  lost: number;
  unexpected: string[];
  hung: string[];
  maxMs: number;
  byCode: Record<string, number>;
  gets: number;
}

const codeOf = (stderr: string) => /\[(KUKEON_E_[A-Z_]+)\]/.exec(stderr)?.[1];

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Runs the workers until the deadline; each starts its next `kuke` when the last one ended. */
async function runWorkers(run: (args: string[]) => Promise<KukeResult>, dir: string, options: WorkloadOptions): Promise<Ran[]> {
  const deadline = Date.now() + (options.durationMs ?? DURATION_MS);
  const ran: Ran[] = [];
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, w) => {
      const seeded = new SeededRandom(SEED + w);
      const rand = () => seeded.next();
      for (let n = 0; Date.now() < deadline; n++) {
        const id = `w${w}-${n}`;
        const planned = plan(rand, id, dir, options);
        const started = Date.now();
        const result = await run(planned.args);
        ran.push({ id, planned, result, ms: Date.now() - started });
      }
    }),
  );
  return ran;
}

/** Turns the runs into the committed writes and the tally of outcomes. */
function account(ran: Ran[], options: WorkloadOptions): { writes: Committed[]; tally: Tally } {
  const tally: Tally = { operations: ran.length, committed: 0, busy: 0, lost: 0, unexpected: [], hung: [], maxMs: 0, byCode: {}, gets: 0 };
  const writes: Committed[] = [];
  for (const { id, planned, result, ms } of ran) {
    const note = (code: string | undefined, what: string) => {
      const c = code ?? 'none';
      tally.byCode[c] = (tally.byCode[c] ?? 0) + 1;
      if (c === 'KUKEON_E_BUSY') tally.busy += 1;
      if (!(c in EXPECTED_CODES[planned.verb]) && !(c in (options.extraCodes?.[planned.verb] ?? {}))) tally.unexpected.push(what);
    };
    tally.maxMs = Math.max(tally.maxMs, ms);
    const show = `${id} kuke ${planned.args.join(' ')} -> exit ${result.code}\n${result.stdout}${result.stderr}`;
    if (result.code === -1) {
      tally.hung.push(`${show} (after ${ms} ms)`);
      continue;
    }
    if (planned.verb === 'get') {
      tally.gets += 1;
      if (result.code === 0) {
        if (!Array.isArray(parseJson(result.stdout)) && !(parseJson(result.stdout) as { items?: unknown })?.items)
          tally.unexpected.push(`get printed no JSON: ${show}`);
      } else note(codeOf(result.stderr), show);
      continue;
    }
    const data = parseJson(result.stdout) as { items?: Record<string, unknown>[]; error?: { code: string; message: string } } | undefined;
    if (!data?.items) {
      // The whole operation failed before it wrote anything (a lock it never got, a delete of something absent).
      if (result.code === 0) tally.unexpected.push(`no JSON report: ${show}`);
      else note(codeOf(result.stderr), show);
      if (codeOf(result.stderr) === 'KUKEON_E_NOT_FOUND' && planned.target && !result.stderr.includes(`${planned.target} not found`))
        tally.unexpected.push(`a cascade failed on a child gone meanwhile: ${show}`);
      continue;
    }
    if (data.error) note(data.error.code, show);
    // Only the resource asked for may be missing: a child that another delete took first is no failure.
    if (data.error?.code === 'KUKEON_E_NOT_FOUND' && !data.error.message.startsWith(`${planned.target} `))
      tally.unexpected.push(`a cascade failed on a child gone meanwhile: ${show}`);
    for (const item of data.items) {
      const ref = String(item.ref);
      const treePath = ref.slice(ref.indexOf('/') + 1);
      if (item.action === 'failed')
        note(item.code as string | undefined, `${ref}: ${String(item.error)} [${String(item.code)}] in ${show}`);
      if (typeof item.commit !== 'number') continue;
      tally.committed += 1;
      // A failed item with a commit wrote its record before a later step failed (a cell whose start failed): replayed.
      if (planned.verb === 'delete') writes.push({ commit: item.commit, op: { type: 'remove', path: treePath }, by: id });
      else if (planned.container) {
        const cellPath = treePath.slice(0, treePath.lastIndexOf('/'));
        writes.push({ commit: item.commit, op: { type: 'container', path: cellPath, ...planned.container }, by: id });
      } else {
        const print = planned.wants?.get(treePath);
        const op: TreeOp =
          item.implicit || print === undefined
            ? { type: 'implicit', path: treePath, print: treePath.split('/').length === 4 ? cellPrint(undefined, []) : 'op=' }
            : { type: 'put', path: treePath, print };
        writes.push({ commit: item.commit, op, by: id });
      }
    }
  }
  return { writes, tally };
}

/** The fields of a stored document the fingerprints use. */
interface StoredDoc {
  metadata?: { labels?: Record<string, string> };
  spec?: { id?: string; args?: string[] };
}

/** The tree on disk as fingerprints by path; every YAML file must parse and every directory hold its document. */
function readTree(runPath: string): { tree: Map<string, string>; problems: string[] } {
  const tree = new Map<string, string>();
  const problems: string[] = [];
  const load = (file: string): StoredDoc | undefined => {
    try {
      return YAML.parse(fs.readFileSync(file, 'utf8')) as StoredDoc;
    } catch (e) {
      problems.push(`${file} does not parse: ${(e as Error).message}`);
      return undefined;
    }
  };
  const docFile = ['realm.yaml', 'space.yaml', 'stack.yaml', 'cell.yaml'];
  const walk = (dir: string, rel: string[]) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (rel.length === 0 && e.name === 'run') continue;
      if (e.name.startsWith('.')) {
        problems.push(`stray temp or tombstone ${path.join(dir, e.name)}`);
        continue;
      }
      if (!e.isDirectory()) continue;
      const depth = rel.length;
      const here = [...rel, e.name];
      const full = path.join(dir, e.name);
      if (depth === 4 && e.name === 'containers') continue;
      const doc = load(path.join(full, docFile[depth]));
      if (!fs.existsSync(path.join(full, docFile[depth]))) {
        problems.push(`${full} has no ${docFile[depth]}`);
        continue;
      }
      if (!doc) continue;
      if (depth < 3) {
        tree.set(here.join('/'), `op=${doc.metadata?.labels?.op ?? ''}`);
        walk(full, here);
      } else {
        const cdir = path.join(full, 'containers');
        const containers: [string, string | undefined][] = [];
        if (fs.existsSync(cdir))
          for (const f of fs.readdirSync(cdir)) {
            if (f.startsWith('.')) {
              problems.push(`stray temp ${path.join(cdir, f)}`);
              continue;
            }
            const c = load(path.join(cdir, f));
            if (c) containers.push([c.spec?.id ?? f, c.spec?.args?.at(-1)]);
          }
        tree.set(here.join('/'), cellPrint(doc.metadata?.labels?.op, containers));
      }
    }
  };
  if (fs.existsSync(runPath)) walk(runPath, []);
  return { tree, problems };
}

/** Runs the workload through `run`, then checks the tree at `runPath` against the replay; returns the tally. */
export async function exercise(
  label: string,
  run: (args: string[]) => Promise<KukeResult>,
  runPath: string,
  options: WorkloadOptions = {},
): Promise<void> {
  const dir = tmpDir('kukeon-concurrency-');
  const ran = await runWorkers(run, dir, options);
  // Every run's command, output and time, for a post-mortem: KUKEON_RELIABILITY_DUMP=DIR.
  const dump = process.env.KUKEON_RELIABILITY_DUMP;
  if (dump) fs.writeFileSync(path.join(dump, `concurrency-${label}.json`), JSON.stringify(ran, null, 1));
  const { writes, tally } = account(ran, options);
  const replay = replayTree(writes, options.initial);
  const { tree, problems } = readTree(runPath);
  const diffs: string[] = [...replay.lost];
  for (const [p, print] of replay.tree)
    if (tree.get(p) !== print) diffs.push(`${p}: replay says ${print}, disk has ${tree.get(p) ?? 'nothing'}`);
  for (const [p, print] of tree) if (!replay.tree.has(p)) diffs.push(`${p}: on disk (${print}), but no committed write explains it`);
  tally.lost = diffs.length;
  totals.push(tally);
  console.log(
    `[concurrency ${label}] ${tally.operations} operations (${tally.gets} gets) in ${options.durationMs ?? DURATION_MS} ms, ${writes.length} commits replayed, ` +
      `slowest ${tally.maxMs} ms; outcomes ${JSON.stringify(tally.byCode)}; final tree ${tree.size} resources`,
  );
  assert.equal(tally.hung, [], `${label}: kuke processes hung past ${options.hangMs ?? HANG_MS} ms`);
  assert.equal(tally.unexpected, [], `${label}: failures with codes no race explains`);
  assert.equal(problems, [], `${label}: files under the run path`);
  assert.equal(replay.duplicates, [], `${label}: two writes reported the same commit`);
  assert.equal(diffs, [], `${label}: the tree on disk is not the replay of the committed writes (lost updates)`);
  assert.ok(tally.committed > WORKERS, `${label}: only ${tally.committed} writes committed`);
}

/** The closing line of a suite file: the figures of every run of this process. */
export function printTotals(): void {
  const sum = (k: 'operations' | 'committed' | 'busy' | 'lost') => totals.reduce((n, t) => n + t[k], 0);
  console.log(
    `reliability concurrency: operations ${sum('operations')}, committed ${sum('committed')}, busy ${sum('busy')}, lost ${sum('lost')}`,
  );
}

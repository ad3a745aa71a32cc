// Black-box tests of every `kuke` verb: the compiled CLI is spawned (bin/kuke.js) with a configuration that loads
// only store-yaml and a temp --run-path, and its exit code, stdout, stderr and the files under the run path are
// checked. A spawn costs 0.3 to 0.7 s of CPU here, so independent commands run side by side and read-only checks
// share one applied run path.

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import { COMMAND_MODULES, commandsFor } from '../src/cli';
import { MANIFEST } from './helpers/hosts';
import { REPO_ROOT, kukeAsync, kukeEnv, listFiles, snapshot } from './helpers/kuke';
import type { KukeEnv, KukeResult } from './helpers/kuke';

const WP = ['--realm', 'main', '--space', 'blog', '--stack', 'wp'];
const DOCS = MANIFEST.split(/^---\n/m);
const VERSION = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version as string;

/** The seed's layout for MANIFEST, exactly. */
const MANIFEST_FILES = [
  'main/realm.yaml',
  'main/blog/space.yaml',
  'main/blog/wp/stack.yaml',
  'main/blog/wp/web/cell.yaml',
  'main/blog/wp/web/containers/nginx.yaml',
  'main/blog/wp/web/containers/sidecar.yaml',
  'main/blog/wp/db/cell.yaml',
  'main/blog/wp/db/containers/pg.yaml',
].sort();

const CREATED_LINES = [
  'realm/main created',
  'space/main/blog created',
  'stack/main/blog/wp created',
  'cell/main/blog/wp/web created',
  'cell/main/blog/wp/db created',
];

const lines = (text: string) => text.split('\n').filter((l) => l !== '');
const readYaml = (e: KukeEnv, rel: string) => YAML.parse(fs.readFileSync(path.join(e.runPath, rel), 'utf8'));
const exists = (e: KukeEnv, rel: string) => fs.existsSync(path.join(e.runPath, rel));
/** The top-level entries of the run path other than kukeon's own `run/`. */
const realmDirs = (e: KukeEnv) =>
  fs.existsSync(e.runPath)
    ? fs
        .readdirSync(e.runPath)
        .filter((n) => n !== 'run')
        .sort()
    : [];
/** Table rows split on the column gaps. */
const table = (text: string) => lines(text).map((l) => l.trim().split(/\s{2,}/));

function show(r: KukeResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

function ok(r: KukeResult, what = ''): KukeResult {
  assert.is(r.code, 0, `${what} should exit 0\n${show(r)}`);
  return r;
}

/** A failure: exit `code`, the KUKEON_E_* code (when given) and every one of `fragments` on stderr. */
function fails(r: KukeResult, code: 1 | 2, errorCode: string | undefined, fragments: string[] = [], what = ''): void {
  assert.is(r.code, code, `${what} should exit ${code}\n${show(r)}`);
  if (errorCode) assert.ok(r.stderr.includes(`[${errorCode}]`), `${what}: stderr should carry ${errorCode}\n${show(r)}`);
  for (const f of fragments) assert.ok(r.stderr.includes(f), `${what}: stderr should mention ${JSON.stringify(f)}\n${show(r)}`);
}

/** A run path with MANIFEST applied. */
async function applied(): Promise<KukeEnv> {
  const e = kukeEnv();
  const r = await e.runAsync(['apply', '-f', '-'], { input: MANIFEST });
  if (r.code !== 0) throw new Error(`setup apply failed\n${show(r)}`);
  return e;
}

// Run paths with MANIFEST applied, made side by side before the tests: a read-only one for `get`, and one each
// for the tests that change state.
const envs = {} as Record<'gets' | 'del' | 'purge' | 'life', KukeEnv>;

test.before(async () => {
  const names = ['gets', 'del', 'purge', 'life'] as const;
  const made = await Promise.all(names.map(() => applied()));
  for (const [i, n] of names.entries()) envs[n] = made[i];
});

// ---------------------------------------------------------------------------------------------------------------
// Usage, help, exit codes, version, schema

test('--help lists every verb; usage errors exit 2 on stderr; version and schema print', async () => {
  const e = kukeEnv();
  const [help, unknown, badOption, noKind, badKind, version, schemaCell] = await Promise.all([
    kukeAsync(['--help'], { env: e.env }),
    kukeAsync(['frobnicate'], { env: e.env }),
    e.runAsync(['get', 'realms', '--bogus']),
    e.runAsync(['get']),
    e.runAsync(['get', 'foo']),
    e.runAsync(['version', '--socket', '/nonexistent/kukeond.sock']),
    e.runAsync(['schema', 'cell']),
  ]);
  ok(help, '--help');
  for (const verb of [
    'apply',
    'get',
    'describe',
    'create realm',
    'create space',
    'create stack',
    'create cell',
    'delete',
    'purge',
    'start',
    'stop',
    'kill',
    'restart',
    'refresh',
    'plugins ls',
    'doctor',
    'schema',
    'version',
  ]) {
    assert.ok(help.stdout.includes(`kuke ${verb} `), `--help should list "kuke ${verb}"\n${help.stdout}`);
  }
  fails(unknown, 2, undefined, ['Command not found'], 'an unknown verb');
  assert.is(unknown.stdout, '', 'usage errors go to stderr only');
  fails(badOption, 2, undefined, ['--bogus'], 'an unknown option');
  assert.is(badOption.stdout, '');
  fails(noKind, 2, undefined, ['Not enough positional arguments'], '`get` with no kind');
  // a KukeonError with KUKEON_E_USAGE is the documented usage error: exit 2
  fails(badKind, 2, 'KUKEON_E_USAGE', ['unknown kind "foo"', 'realm, space, stack, cell, container'], '`get foo`');
  assert.is(badKind.stdout, '');
  assert.equal(realmDirs(e), [], 'usage errors write nothing');

  assert.is(
    ok(version, 'version').stdout,
    `Client: v${VERSION}\nDaemon: unreachable (/nonexistent/kukeond.sock)\n`,
    'version exits 0 without a daemon',
  );
  const schema = JSON.parse(ok(schemaCell, 'schema cell').stdout);
  assert.ok(schemaCell.stdout.includes('"title": "kukeon Cell"'), schemaCell.stdout.slice(0, 300));
  assert.is(schema.title, 'kukeon Cell');
  assert.ok(schema.properties.spec.properties.containers, 'the Cell schema describes spec.containers');
});

test("each command loads only when its words are in the arguments, and the table names exactly the paths' first words", () => {
  for (const m of COMMAND_MODULES) {
    const first = new Set(m.load().flatMap((c) => (c.paths ?? []).map((p) => p[0])));
    assert.equal([...first].sort(), [...m.words].sort(), `words of ${[...first].join(', ')}`);
  }
  const names = (argv: string[]) => commandsFor(argv).map((c) => c.name);
  assert.equal(names(['--config', 'x.yaml', 'get', 'realms']), ['GetCommand']);
  assert.equal(names(['image', 'ls']).length, 5);
  assert.is(
    names(['--help']).length,
    COMMAND_MODULES.reduce((n, m) => n + m.load().length, 0),
    'help and typos see every command',
  );
});

test('a mistyped verb next to a command word still gets suggestions from every command', async () => {
  const e = kukeEnv();
  const r = await e.runAsync(['gett', 'realm', 'p']);
  fails(r, 2, undefined, ['Command not found'], 'a typo');
  assert.ok(r.stderr.includes('kuke get') && r.stderr.includes('kuke apply'), r.stderr);
});

// ---------------------------------------------------------------------------------------------------------------
// apply

test('apply -f FILE writes exactly the seed layout: one YAML document with kind, metadata, spec and status per file', () => {
  const e = kukeEnv();
  const file = e.file('manifest.yaml', MANIFEST);
  const r = ok(e.run(['apply', '-f', file]), 'apply');
  assert.equal(lines(r.stdout), CREATED_LINES);
  assert.is(r.stderr, '');

  assert.equal(listFiles(e.runPath), MANIFEST_FILES);
  assert.equal(realmDirs(e), ['main'], 'nothing but the realm and run/ at the top of the run path');

  for (const rel of MANIFEST_FILES) {
    const doc = readYaml(e, rel);
    assert.is(doc.apiVersion, 'v1beta1', rel);
    for (const key of ['kind', 'metadata', 'spec', 'status']) assert.ok(doc[key] !== undefined, `${rel} has ${key}`);
    assert.type(doc.status.state, 'string', `${rel} has status.state`);
    assert.type(doc.status.createdAt, 'string', `${rel} has status.createdAt`);
  }
  const realm = readYaml(e, 'main/realm.yaml');
  assert.is(realm.kind, 'Realm');
  assert.is(realm.metadata.name, 'main');
  assert.is(realm.status.state, 'Ready');
  const space = readYaml(e, 'main/blog/space.yaml');
  assert.is(space.kind, 'Space');
  assert.is(space.spec.realmId, 'main');
  const stack = readYaml(e, 'main/blog/wp/stack.yaml');
  assert.is(stack.kind, 'Stack');
  assert.equal([stack.spec.realmId, stack.spec.spaceId], ['main', 'blog']);

  const web = readYaml(e, 'main/blog/wp/web/cell.yaml');
  assert.is(web.kind, 'Cell');
  assert.is(web.metadata.name, 'web');
  assert.equal(web.metadata.labels, { tier: 'front' });
  assert.equal([web.spec.realmId, web.spec.spaceId, web.spec.stackId], ['main', 'blog', 'wp']);
  assert.is(web.spec.containers, undefined, "cell.yaml holds the cell's own spec, not its containers");
  assert.is(web.status.state, 'Pending', 'no runtime: the cell is stored, not started');
  assert.is(readYaml(e, 'main/blog/wp/db/cell.yaml').spec.containers, undefined);

  const nginx = readYaml(e, 'main/blog/wp/web/containers/nginx.yaml');
  assert.is(nginx.kind, 'Container');
  assert.is(nginx.metadata.name, 'nginx');
  assert.is(nginx.spec.image, 'nginx:1.27');
  assert.equal(nginx.spec.args, ['-g', 'daemon off;']);
  assert.is(nginx.spec.cellId, 'web');
  assert.is(nginx.status.state, 'Pending');
  const sidecar = readYaml(e, 'main/blog/wp/web/containers/sidecar.yaml');
  assert.is(sidecar.kind, 'Container');
  assert.is(sidecar.spec.command, 'sleep');
  assert.equal(sidecar.spec.args, ['3600']);
  const pg = readYaml(e, 'main/blog/wp/db/containers/pg.yaml');
  assert.is(pg.kind, 'Container');
  assert.is(pg.spec.root, true);
  assert.is(pg.spec.image, 'postgres:16');
  assert.is(pg.spec.cellId, 'db');
  assert.is(String(pg.spec.resources.memory.max), '256Mi');

  // a second apply of the same manifest changes nothing, on screen or on disk
  const before = snapshot(e.runPath);
  const again = ok(e.run(['apply', '-f', file]), 're-apply');
  assert.equal(
    lines(again.stdout),
    CREATED_LINES.map((l) => l.replace(' created', ' unchanged')),
  );
  assert.equal(snapshot(e.runPath), before, 'an unchanged re-apply writes nothing');

  // a changed image updates that cell and its container file only
  const changed = MANIFEST.replace('image: "nginx:1.27"', 'image: "nginx:1.28"');
  const upd = ok(e.run(['apply', '-f', '-'], { input: changed }), 'apply of a changed image');
  assert.equal(lines(upd.stdout), [
    ...CREATED_LINES.slice(0, 3).map((l) => l.replace(' created', ' unchanged')),
    'cell/main/blog/wp/web updated',
    'cell/main/blog/wp/db unchanged',
  ]);
  assert.is(readYaml(e, 'main/blog/wp/web/containers/nginx.yaml').spec.image, 'nginx:1.28');
  assert.is(readYaml(e, 'main/blog/wp/web/containers/sidecar.yaml').spec.image, 'busybox');
  assert.is(
    snapshot(e.runPath)['main/blog/wp/db/containers/pg.yaml'],
    before['main/blog/wp/db/containers/pg.yaml'],
    'an unchanged cell is not rewritten',
  );
  assert.equal(listFiles(e.runPath), MANIFEST_FILES);
});

/** Set by the stdin test; `delete -f` reuses it. */
let stdinEnv: KukeEnv | undefined;

test('apply -f - reads stdin; missing parents are created and reported as (implicit parent)', async () => {
  const a = kukeEnv();
  const b = kukeEnv();
  const lone = `apiVersion: v1beta1
kind: Cell
metadata: { name: lone }
spec:
  realmId: r9
  spaceId: s9
  stackId: t9
  containers: [ { id: app, image: busybox } ]
`;
  const [fromStdin, implicit] = await Promise.all([
    a.runAsync(['apply', '-f', '-'], { input: MANIFEST }),
    b.runAsync(['apply', '-f', '-'], { input: lone }),
  ]);
  assert.equal(lines(ok(fromStdin, 'apply -f -').stdout), CREATED_LINES);
  assert.equal(listFiles(a.runPath), MANIFEST_FILES);
  stdinEnv = a;
  assert.equal(lines(ok(implicit, 'apply of a cell without parents').stdout), [
    'realm/r9 created (implicit parent)',
    'space/r9/s9 created (implicit parent)',
    'stack/r9/s9/t9 created (implicit parent)',
    'cell/r9/s9/t9/lone created',
  ]);
  assert.equal(listFiles(b.runPath), [
    'r9/realm.yaml',
    'r9/s9/space.yaml',
    'r9/s9/t9/lone/cell.yaml',
    'r9/s9/t9/lone/containers/app.yaml',
    'r9/s9/t9/stack.yaml',
  ]);
  assert.is(readYaml(b, 'r9/s9/t9/stack.yaml').kind, 'Stack');
});

test('apply --dry-run prints the plan and writes nothing', async () => {
  const fresh = kukeEnv();
  const existing = envs.gets;
  const before = snapshot(existing.runPath);
  const [plan, samePlan] = await Promise.all([
    fresh.runAsync(['apply', '--dry-run', '-f', fresh.file('m.yaml', MANIFEST)]),
    existing.runAsync(['apply', '--dry-run', '-f', '-'], { input: MANIFEST }),
  ]);
  assert.equal(lines(ok(plan, 'dry run').stdout), [
    'realm/main create',
    'space/main/blog create',
    'stack/main/blog/wp create',
    'cell/main/blog/wp/web create',
    'cell/main/blog/wp/db create',
    'dry run: nothing was written',
  ]);
  assert.equal(realmDirs(fresh), [], 'a dry run creates no realm directory');
  assert.equal(listFiles(fresh.runPath), []);

  assert.equal(snapshot(existing.runPath), before, 'a dry run on existing state writes nothing');
  // the plan of an unchanged manifest agrees with what apply does (apply reports every document unchanged)
  assert.equal(
    lines(ok(samePlan, 'dry run of the applied manifest').stdout),
    [...CREATED_LINES.map((l) => l.replace(' created', ' unchanged')), 'dry run: nothing was written'],
    `dry run of an unchanged manifest should plan no change\n${samePlan.stdout}`,
  );
});

// ---------------------------------------------------------------------------------------------------------------
// Validation: one bad document writes nothing

const cell = (name: string, containers: string, extra = '') =>
  `apiVersion: v1beta1\nkind: Cell\nmetadata: { name: ${JSON.stringify(name)} }\nspec:\n  realmId: main\n  spaceId: blog\n  stackId: wp\n${extra}  containers:\n${containers}`;

interface BadCase {
  what: string;
  /** The whole input. */
  input: string;
  code: string;
  /** Document number, kind, name and field (or other fragments) stderr must show. */
  mentions: string[];
}

const withBad = (bad: string) => `${MANIFEST}---\n${bad}`;
const LONG = 'a'.repeat(64);

const BAD_CASES: BadCase[] = [
  {
    what: 'a cell with an uppercase name',
    input: withBad(cell('Bad', '    - { id: app, image: busybox }\n')),
    code: 'KUKEON_E_INVALID_NAME',
    mentions: ['document 6', 'Cell', '"Bad"', 'metadata.name'],
  },
  {
    what: 'a container without image, in the middle of the input',
    input: [...DOCS.slice(0, 3), cell('noimage', '    - { id: app }\n'), ...DOCS.slice(3)].join('---\n'),
    code: 'KUKEON_E_INVALID',
    mentions: ['document 4', 'Cell', '"noimage"', 'spec.containers[0].image'],
  },
  {
    what: 'a volume mounted over /proc (by way of "..")',
    input: withBad(cell('vol', '    - { id: app, image: busybox, volumes: [ { kind: tmpfs, target: /data/../proc } ] }\n')),
    code: 'KUKEON_E_INVALID',
    mentions: ['document 6', 'Cell', '"vol"', 'spec.containers[0].volumes[0].target', '/proc'],
  },
  {
    what: 'an unsupported field on the second container',
    input: withBad(cell('priv', '    - { id: app, image: busybox }\n    - { id: side, image: busybox, hostCgroup: true }\n')),
    code: 'KUKEON_E_UNSUPPORTED_FIELD',
    mentions: ['document 6', '"priv"', 'spec.containers[1].hostCgroup'],
  },
  {
    what: 'a name with ".."',
    input: withBad(cell('a..b', '    - { id: app, image: busybox }\n')),
    code: 'KUKEON_E_INVALID_NAME',
    mentions: ['document 6', '"a..b"', 'metadata.name', '".."'],
  },
  {
    what: 'a name with "/"',
    input: withBad(cell('x/../../escape', '    - { id: app, image: busybox }\n')),
    code: 'KUKEON_E_INVALID_NAME',
    mentions: ['document 6', 'metadata.name', '"/"'],
  },
  {
    what: 'a 64-character name',
    input: withBad(cell(LONG, '    - { id: app, image: busybox }\n')),
    code: 'KUKEON_E_INVALID_NAME',
    mentions: ['document 6', 'metadata.name', '64 characters', '63'],
  },
  {
    what: 'the reserved realm name run',
    input: withBad('kind: Realm\nmetadata: { name: run }\n'),
    code: 'KUKEON_E_RESERVED_NAME',
    mentions: ['document 6', 'Realm', '"run"', 'metadata.name'],
  },
  {
    what: 'the system realm kukeon-system',
    input: withBad('kind: Realm\nmetadata: { name: kukeon-system }\n'),
    code: 'KUKEON_E_SYSTEM',
    mentions: ['document 6', 'Realm', '"kukeon-system"', 'metadata.name'],
  },
  {
    what: 'duplicate container ids',
    input: withBad(cell('dup', '    - { id: app, image: busybox }\n    - { id: app, image: alpine }\n')),
    code: 'KUKEON_E_INVALID',
    mentions: ['document 6', '"dup"', 'spec.containers[1].id', '"app"'],
  },
  {
    what: 'two root containers',
    input: withBad(cell('roots', '    - { id: a, image: busybox, root: true }\n    - { id: b, image: busybox, root: true }\n')),
    code: 'KUKEON_E_INVALID',
    mentions: ['document 6', '"roots"', 'spec.containers', 'root'],
  },
  {
    what: 'container id root on a container that is not the root',
    input: withBad(cell('fakeroot', '    - { id: a, image: busybox, root: true }\n    - { id: root, image: busybox }\n')),
    code: 'KUKEON_E_INVALID',
    mentions: ['document 6', '"fakeroot"', 'spec.containers[1].id', '"root"'],
  },
];

test('one bad document among good ones: exit 1, the error names document, kind, name and field, and nothing is written', async () => {
  const e = kukeEnv();
  // some state already there, so "nothing written" also covers changes to existing files
  ok(e.run(['create', 'realm', 'keep']), 'create realm keep');
  const before = snapshot(e.runPath);
  const results = await Promise.all(BAD_CASES.map((c) => e.runAsync(['apply', '-f', '-'], { input: c.input })));
  BAD_CASES.forEach((c, i) => {
    fails(results[i], 1, c.code, c.mentions, c.what);
    assert.ok(!/ (created|updated)$/m.test(results[i].stdout), `${c.what}: nothing may be reported written\n${show(results[i])}`);
  });
  assert.equal(snapshot(e.runPath), before, 'no bad input may write anything');
  assert.equal(realmDirs(e), ['keep']);

  // names on the command line are checked before any path is built from them; 63 characters is the limit
  const max = 'b'.repeat(63);
  const [flagDots, atMax] = await Promise.all([
    e.runAsync(['get', 'cells', '--realm', '..', '--space', 'x', '--stack', 'y']),
    e.runAsync(['create', 'realm', max]),
  ]);
  fails(flagDots, 1, 'KUKEON_E_INVALID_NAME', ['--realm'], 'get --realm ..');
  assert.is(ok(atMax, '63-character realm').stdout, `realm/${max} created\n`);
  assert.equal(realmDirs(e), [max, 'keep']);
});

// ---------------------------------------------------------------------------------------------------------------
// get

test('get prints tables, wide tables, YAML and JSON, filters by label and reads without writing', async () => {
  const e = envs.gets;
  const before = snapshot(e.runPath);
  const [cells, wide, webJson, webYaml, front, realms, webContainers, allContainers, missing] = await Promise.all([
    e.runAsync(['get', 'cells', ...WP]),
    e.runAsync(['get', 'cells', ...WP, '-o', 'wide']),
    e.runAsync(['get', 'cell', 'web', ...WP, '-o', 'json']),
    e.runAsync(['get', 'cell', 'web', ...WP, '-o', 'yaml']),
    e.runAsync(['get', 'ce', ...WP, '-l', 'tier=front', '-o', 'json']),
    e.runAsync(['get', 'realms']),
    e.runAsync(['get', 'containers', '--cell', 'web', ...WP]),
    e.runAsync(['get', 'co', ...WP, '-o', 'yaml', '--no-daemon']),
    e.runAsync(['get', 'cell', 'nope', ...WP]),
  ]);

  const t = table(ok(cells, 'get cells').stdout);
  assert.equal(t[0], ['NAME', 'REALM', 'SPACE', 'STACK', 'STATE', 'READY', 'RESTARTS', 'AGE']);
  assert.equal(
    t.slice(1).map((r) => r.slice(0, 7)),
    [
      ['db', 'main', 'blog', 'wp', 'Pending', '0/1', '0'],
      ['web', 'main', 'blog', 'wp', 'Pending', '0/2', '0'],
    ],
  );
  for (const row of t.slice(1)) assert.match(row[7], /^\d+[smhd]$/);

  const w = table(ok(wide, 'get cells -o wide').stdout);
  assert.equal(w[0], [
    'NAME',
    'REALM',
    'SPACE',
    'STACK',
    'STATE',
    'READY',
    'RESTARTS',
    'AGE',
    'CONTAINERS',
    'IP',
    'REASON',
    'CPU',
    'MEMORY',
    'PIDS',
  ]);
  assert.equal(
    w.slice(1).map((r) => [r[0], r[8]]),
    [
      ['db', '1'],
      ['web', '2'],
    ],
  );

  const web = JSON.parse(ok(webJson, 'get cell web -o json').stdout);
  assert.is(web.kind, 'Cell', 'a single name prints the document itself');
  assert.is(web.metadata.name, 'web');
  assert.equal(web.metadata.labels, { tier: 'front' });
  assert.equal(
    web.spec.containers.map((c: { id: string }) => c.id),
    ['nginx', 'sidecar'],
    'get reassembles the cell with its containers',
  );
  assert.equal(web.spec.containers[1], { id: 'sidecar', image: 'busybox', command: 'sleep', args: ['3600'] });
  assert.is(web.status.state, 'Pending');
  assert.equal(
    web.status.containerStatuses,
    [
      { name: 'nginx', state: 'Pending', restartCount: 0 },
      { name: 'sidecar', state: 'Pending', restartCount: 0 },
    ],
    "each container's status, in spec order",
  );
  assert.not.ok('containerStatuses' in readYaml(e, 'main/blog/wp/web/cell.yaml').status, 'never stored in the cell document');
  assert.equal(YAML.parse(ok(webYaml, 'get cell web -o yaml').stdout), web, 'YAML and JSON show the same document');

  const f = JSON.parse(ok(front, 'get ce -l tier=front -o json').stdout);
  assert.is(f.kind, 'List', 'a list is a List, even of one item');
  assert.equal(
    f.items.map((i: { kind: string; metadata: { name: string } }) => `${i.kind}/${i.metadata.name}`),
    ['Cell/web'],
  );

  const rt = table(ok(realms, 'get realms').stdout);
  assert.equal(rt[0], ['NAME', 'STATE', 'AGE']);
  assert.equal(
    rt.slice(1).map((r) => r.slice(0, 2)),
    [['main', 'Ready']],
  );

  const ct = table(ok(webContainers, 'get containers --cell web').stdout);
  assert.equal(ct[0], ['NAME', 'REALM', 'SPACE', 'STACK', 'CELL', 'STATE', 'REASON', 'RESTARTS', 'AGE']);
  assert.equal(
    ct.slice(1).map((r) => [r[0], r[4]]),
    [
      ['nginx', 'web'],
      ['sidecar', 'web'],
    ],
  );
  const all = YAML.parse(ok(allContainers, 'get co -o yaml').stdout);
  assert.is(all.kind, 'List');
  assert.equal(
    all.items.map((i: { kind: string; metadata: { name: string } }) => `${i.kind}/${i.metadata.name}`).sort(),
    ['Container/nginx', 'Container/pg', 'Container/sidecar'],
    'without --cell: every cell of the stack',
  );
  const pg = all.items.find((i: { metadata: { name: string } }) => i.metadata.name === 'pg');
  assert.equal([pg.spec.image, pg.spec.root, pg.spec.cellId], ['postgres:16', true, 'db']);

  fails(missing, 1, 'KUKEON_E_NOT_FOUND', ['cell/main/blog/wp/nope'], 'get of a missing cell');
  assert.is(missing.stdout, '');

  assert.equal(snapshot(e.runPath), before, 'get writes nothing (content and mtime unchanged)');
});

test('get and describe explain a container: READY n/m, RESTARTS summed, REASON with the exit, containerStatuses; describe in-process says no history', async () => {
  const e = await applied();
  // statuses as the supervisor leaves them (store only: written straight into the documents)
  const setStatus = (rel: string, status: object) => {
    const doc = readYaml(e, rel);
    fs.writeFileSync(path.join(e.runPath, rel), YAML.stringify({ ...doc, status: { ...doc.status, ...status } }));
  };
  const finished = '2026-12-06T10:00:03.000Z';
  setStatus('main/blog/wp/web/containers/nginx.yaml', {
    state: 'Exited',
    exitCode: 3,
    finishTime: finished,
    restartCount: 2,
    reason: 'Error',
  });
  setStatus('main/blog/wp/web/containers/sidecar.yaml', {
    state: 'Ready',
    pid: 4242,
    restartCount: 1,
    startTime: '2026-12-06T10:00:00.000Z',
  });
  setStatus('main/blog/wp/db/containers/pg.yaml', { state: 'Stopped', exitSignal: 'SIGKILL', reason: 'OOMKilled' });
  const [cells, containers, webJson, describeWeb, describePg, describeJson, describeMissing, describeBadKind] = await Promise.all([
    e.runAsync(['get', 'cells', ...WP]),
    e.runAsync(['get', 'containers', ...WP]),
    e.runAsync(['get', 'cell', 'web', ...WP, '-o', 'json']),
    e.runAsync(['describe', 'cell', 'web', ...WP]),
    e.runAsync(['describe', 'container', 'pg', '--cell', 'db', ...WP]),
    e.runAsync(['describe', 'ce', 'web', ...WP, '-o', 'json']),
    e.runAsync(['describe', 'cell', 'nope', ...WP]),
    e.runAsync(['describe', 'foo', 'web']),
  ]);
  assert.equal(
    table(ok(cells, 'get cells').stdout)
      .slice(1)
      .map((r) => [r[0], r[5], r[6]]),
    [
      ['db', '0/1', '0'],
      ['web', '1/2', '3'],
    ],
    'READY counts running containers of the declared ones; RESTARTS sums restartCount',
  );
  assert.equal(
    table(ok(containers, 'get containers').stdout)
      .slice(1)
      .map((r) => [r[0], r[5], r[6], r[7]]),
    [
      ['pg', 'Stopped', 'OOMKilled (SIGKILL)', '0'],
      ['nginx', 'Exited', 'Error (exit 3)', '2'],
      ['sidecar', 'Ready', '-', '1'],
    ],
  );
  assert.equal(JSON.parse(ok(webJson, 'get cell web -o json').stdout).status.containerStatuses, [
    { name: 'nginx', state: 'Exited', reason: 'Error', exitCode: 3, restartCount: 2, finishTime: finished },
    { name: 'sidecar', state: 'Ready', restartCount: 1, startTime: '2026-12-06T10:00:00.000Z' },
  ]);

  const d = ok(describeWeb, 'describe cell web').stdout;
  for (const line of [
    'Name:         web',
    'Kind:         Cell',
    'Path:         main/blog/wp/web',
    'Labels:       tier=front',
    'State:        Pending',
    '  nginx:',
    '    Image:          nginx:1.27',
    '    Command:        -g daemon off;',
    '    State:          Exited',
    '    Reason:         Error (exit 3)',
    `    Finished:       ${finished}`,
    '    Restarts:       2',
    '  sidecar:',
    '    Command:        sleep 3600',
    '    Restarts:       1',
    'Events:       not kept in-process: only the daemon keeps history (use kukeond: drop --no-daemon/--run-path)',
  ])
    assert.ok(
      d.split('\n').some((l) => l === line || l.startsWith(`${line} (`)), // times are followed by their age
      `describe shows ${JSON.stringify(line)}\n${d}`,
    );
  assert.not.match(d, /^Events:\s*<none>/m, 'in-process never claims that nothing happened');
  const pg = ok(describePg, 'describe container pg').stdout;
  assert.match(pg, /^Kind:\s+Container$/m);
  assert.match(pg, /^Reason:\s+OOMKilled$/m);
  assert.match(pg, /^ {2}resources:\n {4}memory:\n {6}max: 256Mi$/m);
  const j = JSON.parse(ok(describeJson, 'describe -o json').stdout);
  assert.is(j.doc.kind, 'Cell');
  assert.is(j.doc.status.containerStatuses.length, 2);
  assert.not.ok('events' in j, 'in-process: no events at all, not an empty list');
  fails(describeMissing, 1, 'KUKEON_E_NOT_FOUND', ['cell/main/blog/wp/nope'], 'describe of a missing cell');
  fails(describeBadKind, 2, 'KUKEON_E_USAGE', ['unknown kind "foo"'], 'describe of an unknown kind');
});

// ---------------------------------------------------------------------------------------------------------------
// create

test('create refuses a missing parent and names it; then creates realm, space, stack and a Pending cell in order', async () => {
  const e = kukeEnv();
  const [space, defaultCell] = await Promise.all([
    e.runAsync(['create', 'space', 'x', '--realm', 'nope']),
    e.runAsync(['create', 'cell', 'c1', '--image', 'busybox']),
  ]);
  fails(space, 1, 'KUKEON_E_PARENT_NOT_FOUND', ['realm/nope'], 'create space --realm nope');
  fails(defaultCell, 1, 'KUKEON_E_PARENT_NOT_FOUND', ['stack/default/default/default'], 'create cell: scope flags default to default');
  assert.equal(realmDirs(e), [], 'a refused create writes nothing');
  assert.equal(listFiles(e.runPath), []);

  assert.is(ok(e.run(['create', 'realm', 'a']), 'create realm').stdout, 'realm/a created\n');
  assert.is(ok(e.run(['create', 'space', 's', '--realm', 'a']), 'create space').stdout, 'space/a/s created\n');
  assert.is(ok(e.run(['create', 'stack', 't', '--realm', 'a', '--space', 's']), 'create stack').stdout, 'stack/a/s/t created\n');
  const cellArgs = [
    'create',
    'cell',
    'c1',
    '--image',
    'busybox',
    '--command',
    'sleep',
    '--realm',
    'a',
    '--space',
    's',
    '--stack',
    't',
    '--',
    '3600',
  ];
  assert.is(ok(e.run(cellArgs), 'create cell').stdout, 'cell/a/s/t/c1 created\n');

  assert.equal(listFiles(e.runPath), [
    'a/realm.yaml',
    'a/s/space.yaml',
    'a/s/t/c1/cell.yaml',
    'a/s/t/c1/containers/c1.yaml',
    'a/s/t/stack.yaml',
  ]);
  const stored = readYaml(e, 'a/s/t/c1/cell.yaml');
  assert.is(stored.kind, 'Cell');
  assert.is(stored.status.state, 'Pending', 'created stopped: create never starts');
  const c1 = readYaml(e, 'a/s/t/c1/containers/c1.yaml');
  assert.is(c1.kind, 'Container');
  assert.equal([c1.spec.id, c1.spec.image, c1.spec.command, c1.spec.args], ['c1', 'busybox', 'sleep', ['3600']]);

  const before = snapshot(e.runPath);
  const [again, other, missingSpace] = await Promise.all([
    e.runAsync(cellArgs),
    e.runAsync([
      'create',
      'cell',
      'c1',
      '--image',
      'busybox',
      '--command',
      'sleep',
      '--realm',
      'a',
      '--space',
      's',
      '--stack',
      't',
      '--',
      '60',
    ]),
    e.runAsync(['create', 'stack', 't2', '--realm', 'a', '--space', 'nope']),
  ]);
  assert.is(ok(again, 're-create cell').stdout, 'cell/a/s/t/c1 unchanged\n');
  fails(other, 1, 'KUKEON_E_EXISTS', ['cell/a/s/t/c1'], 'create of an existing cell with another spec');
  fails(missingSpace, 1, 'KUKEON_E_PARENT_NOT_FOUND', ['space/a/nope'], 'create stack in a missing space');
  assert.equal(snapshot(e.runPath), before, 'unchanged and refused creates write nothing');
});

// ---------------------------------------------------------------------------------------------------------------
// delete

test('delete: children need --cascade; a cell takes its containers; cascade removes the subtree; missing is NOT_FOUND', async () => {
  const e = envs.del;
  const before = snapshot(e.runPath);
  const [realm, space] = await Promise.all([
    e.runAsync(['delete', 'realm', 'main']),
    e.runAsync(['delete', 'space', 'blog', '--realm', 'main', '--force']),
  ]);
  fails(realm, 1, 'KUKEON_E_HAS_CHILDREN', ['realm/main', '1 space(s)', '--cascade'], 'delete realm with children');
  fails(space, 1, 'KUKEON_E_HAS_CHILDREN', ['space/main/blog', '1 stack(s)', '--cascade'], '--force never orphans children');
  assert.equal(snapshot(e.runPath), before, 'a refused delete removes nothing');

  assert.is(ok(e.run(['delete', 'cell', 'web', ...WP]), 'delete cell web').stdout, 'cell/main/blog/wp/web deleted\n');
  assert.ok(!exists(e, 'main/blog/wp/web'), 'the cell directory is gone, containers included');
  assert.equal(
    listFiles(e.runPath),
    MANIFEST_FILES.filter((f) => !f.includes('/web/')),
  );
  fails(e.run(['delete', 'cell', 'web', ...WP]), 1, 'KUKEON_E_NOT_FOUND', ['cell/main/blog/wp/web'], 'delete of a deleted cell');

  const cascade = ok(e.run(['delete', 'realm', 'main', '--cascade']), 'delete realm --cascade');
  assert.equal(
    lines(cascade.stdout),
    ['cell/main/blog/wp/db deleted', 'stack/main/blog/wp deleted', 'space/main/blog deleted', 'realm/main deleted'],
    'children before parents',
  );
  assert.equal(realmDirs(e), [], 'the whole subtree is gone');
  assert.equal(listFiles(e.runPath), []);
});

test('delete -f FILE removes what the manifest created, children first', async () => {
  const e = stdinEnv ?? (await applied());
  const out = lines(ok(e.run(['delete', '-f', e.file('m.yaml', MANIFEST)]), 'delete -f').stdout);
  assert.equal(out.slice(0, 2).sort(), ['cell/main/blog/wp/db deleted', 'cell/main/blog/wp/web deleted']);
  assert.equal(
    out.slice(2),
    ['stack/main/blog/wp deleted', 'space/main/blog deleted', 'realm/main deleted'],
    'cells, then stack, space, realm',
  );
  assert.equal(realmDirs(e), []);
  assert.equal(listFiles(e.runPath), []);
});

// ---------------------------------------------------------------------------------------------------------------
// purge

test('purge: succeeds when already gone, refuses children without --cascade, removes the subtree with it', async () => {
  const e = envs.purge;
  const before = snapshot(e.runPath);
  const [ghost, refused] = await Promise.all([e.runAsync(['purge', 'cell', 'x', '--no-daemon']), e.runAsync(['purge', 'realm', 'main'])]);
  ok(ghost, 'purge of a cell that does not exist');
  fails(refused, 1, 'KUKEON_E_HAS_CHILDREN', ['realm/main', '--cascade'], 'purge realm with children');
  assert.equal(snapshot(e.runPath), before, 'nothing removed, nothing created (no default scope)');

  const web = e.run(['purge', 'cell', 'web', ...WP]);
  assert.ok(!exists(e, 'main/blog/wp/web'), `purge cell removes the cell directory\n${show(web)}`);
  ok(web, 'purge of an existing cell');
  assert.is(web.stdout, 'cell/main/blog/wp/web purged\n');

  const all = e.run(['purge', 'realm', 'main', '--cascade']);
  assert.equal(realmDirs(e), [], `purge --cascade removes the subtree\n${show(all)}`);
  ok(all, 'purge realm main --cascade');
  assert.equal(lines(all.stdout), [
    'cell/main/blog/wp/db purged',
    'stack/main/blog/wp purged',
    'space/main/blog purged',
    'realm/main purged',
  ]);
});

test('the system realm: apply, create, delete and purge need --force-system; get realms lists it only with -A', async () => {
  const e = kukeEnv();
  const system =
    'kind: Realm\nmetadata: { name: kukeon-system }\n---\nkind: Stack\nmetadata: { name: kukeon }\nspec: { realmId: kukeon-system, spaceId: kukeon }\n';
  const refusedApply = e.run(['apply', '-f', '-'], { input: system });
  fails(refusedApply, 1, 'KUKEON_E_SYSTEM', ['document 1', 'metadata.name', '--force-system'], 'apply of the system realm');
  fails(e.run(['create', 'realm', 'kukeon-system']), 1, 'KUKEON_E_SYSTEM', ['--force-system'], 'create realm kukeon-system');
  assert.equal(realmDirs(e), [], 'nothing written by the refused apply and create');

  ok(e.run(['apply', '-f', '-', '--force-system'], { input: system }), 'apply --force-system');
  ok(e.run(['create', 'realm', 'main']), 'a user realm');
  assert.equal(realmDirs(e), ['kukeon-system', 'main']);
  assert.equal(
    table(ok(e.run(['get', 'realms'])).stdout)
      .slice(1)
      .map((r) => r[0]),
    ['main'],
    'get realms hides the system realm',
  );
  assert.equal(
    table(ok(e.run(['get', 'realms', '-A'])).stdout)
      .slice(1)
      .map((r) => r[0])
      .sort(),
    ['kukeon-system', 'main'],
    'get realms -A lists it',
  );
  assert.equal(
    table(ok(e.run(['get', 'stacks', '--realm', 'kukeon-system', '--space', 'kukeon'])).stdout)
      .slice(1)
      .map((r) => r[0]),
    ['kukeon'],
  );

  const before = snapshot(e.runPath);
  fails(
    e.run(['delete', 'realm', 'kukeon-system', '--cascade']),
    1,
    'KUKEON_E_SYSTEM',
    ['realm/kukeon-system', '--force-system'],
    'delete',
  );
  fails(
    e.run(['delete', 'stack', 'kukeon', '--realm', 'kukeon-system', '--space', 'kukeon']),
    1,
    'KUKEON_E_SYSTEM',
    ['stack/kukeon-system/kukeon/kukeon'],
    'delete of a stack in the system realm',
  );
  fails(e.run(['purge', 'realm', 'kukeon-system', '--cascade']), 1, 'KUKEON_E_SYSTEM', [], 'purge');
  fails(e.run(['delete', '-f', '-'], { input: system }), 1, 'KUKEON_E_SYSTEM', [], 'delete -f of system documents');
  assert.equal(snapshot(e.runPath), before, 'nothing removed by the refused deletes');

  ok(e.run(['purge', 'realm', 'kukeon-system', '--cascade', '--force-system']), 'purge --force-system');
  assert.equal(realmDirs(e), ['main']);
});

// ---------------------------------------------------------------------------------------------------------------
// start, stop, kill, restart, refresh (no runtime plugin)

test('start and restart need a runtime; stop and kill run without one and leave the cell Stopped; refresh inspects all', async () => {
  const e = envs.life;
  const [start, restart] = await Promise.all([e.runAsync(['start', 'web', ...WP]), e.runAsync(['restart', 'web', ...WP])]);
  fails(start, 1, 'KUKEON_E_NO_RUNTIME', ['cell/main/blog/wp/web'], 'start without runtime');
  fails(restart, 1, 'KUKEON_E_NO_RUNTIME', ['cell/main/blog/wp/web'], 'restart without runtime');
  assert.is(readYaml(e, 'main/blog/wp/web/cell.yaml').status.state, 'Pending', 'a refused start leaves the cell Pending');

  const [stop, kill] = await Promise.all([e.runAsync(['stop', 'web', ...WP, '--timeout', '1']), e.runAsync(['kill', 'db', ...WP])]);
  assert.is(ok(stop, 'stop').stdout, 'cell/main/blog/wp/web stopped\n');
  assert.is(ok(kill, 'kill').stdout, 'cell/main/blog/wp/db killed\n');
  assert.is(readYaml(e, 'main/blog/wp/web/cell.yaml').status.state, 'Stopped');
  assert.is(readYaml(e, 'main/blog/wp/db/cell.yaml').status.state, 'Stopped');

  assert.match(ok(e.run(['refresh']), 'refresh').stdout, /^Inspected 5 resource\(s\)\./);
  assert.equal(listFiles(e.runPath), MANIFEST_FILES, 'lifecycle verbs add no files outside run/');
});

// ---------------------------------------------------------------------------------------------------------------
// plugins, doctor, configuration

test('plugins ls and doctor report store-yaml; an invalid store-yaml setting fails every host command with KUKEON_E_NO_STORE', async () => {
  const e = kukeEnv();
  const bad = kukeEnv('plugins:\n  store-yaml: { bogus: 1 }\n');
  const notDir = e.file('not-a-dir', 'x');
  const failing = [['get', 'realms'], ['apply', '-f', '-'], ['plugins', 'ls'], ['doctor']];
  const [ls, doctor, broken, verbose, override, ...noStore] = await Promise.all([
    e.runAsync(['plugins', 'ls']),
    e.runAsync(['doctor']),
    kukeAsync(['doctor', '--run-path', notDir], { env: e.env }),
    e.runAsync(['get', 'realms', '-o', 'json', '-v']),
    bad.runAsync(['get', 'realms', '--config', e.configPath]),
    ...failing.map((c) => bad.runAsync(c, { input: MANIFEST })),
  ]);
  const t = table(ok(ls, 'plugins ls').stdout);
  assert.equal(t[0], ['NAME', 'VERSION', 'SLOT', 'STATUS', 'REASON']);
  assert.equal(t.slice(1), [['store-yaml', VERSION, 'store', 'ok']], 'exactly the configured plugins load');

  ok(doctor, 'doctor');
  for (const x of ['store-yaml', 'store.diagnose', 'store.run-path', 'store.stray-temps'])
    assert.ok(doctor.stdout.includes(x), `doctor shows ${x}\n${doctor.stdout}`);
  assert.is(lines(doctor.stdout).pop(), 'ok');
  assert.is(broken.code, 1, `doctor with a run path that is a file exits 1\n${show(broken)}`);
  assert.match(broken.stdout, /store\.run-path\s+error/);
  assert.is(lines(broken.stdout).pop(), 'problems found');

  assert.equal(JSON.parse(ok(verbose, 'get -v').stdout).items, [], '-v keeps stdout clean');
  assert.match(verbose.stderr, /kukeon:/, '-v traces on stderr');

  for (const [i, c] of failing.entries()) {
    fails(noStore[i], 1, 'KUKEON_E_NO_STORE', ['store-yaml', 'bogus'], `kuke ${c.join(' ')} with an invalid store setting`);
  }
  ok(override, '--config overrides KUKEON_CONFIG');
  assert.equal(realmDirs(bad), []);
  assert.equal(listFiles(bad.runPath), []);
});

test.run();

// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${CELL_NAME} in a bind source is the manifest's own placeholder, not a template
// Volumes without a runtime: every refused shape of a container's `volumes` and of a Volume document names its
// field; the host checks of bind sources (missing, in or around the run path, through a symlink); the OCI mounts
// they become; and the Volume kind through the CLI on a store-only host (apply, get, delete refused while
// mounted, cascade deletes by reclaimPolicy, implicit volumes, nothing written on bad input).

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import { ociVolumeMounts, prepareVolumeSources } from '../plugins/containerd/volume-mounts';
import { isKukeonError } from '../sdk';
import type { AnyDoc, CellDoc } from '../sdk';
import { checkBindSources } from '../src/host/validation/bind-sources';
import { validateDocument } from '../src/host/validation/validate-document';
import { validateVolumeDocument } from '../src/host/validation/validate-volume';
import { kukeEnv, snapshot } from './helpers/kuke';
import { tmpDir } from './helpers/tmp';

const cell = (volumes: unknown[], realm = 'main', name = 'c') => ({
  kind: 'Cell',
  metadata: { name },
  spec: { realmId: realm, spaceId: 's', stackId: 't', containers: [{ id: 'a', image: 'busybox', volumes }] },
});

function refusal(fn: () => unknown): { code?: string; field?: string; message?: string } {
  try {
    fn();
  } catch (err) {
    if (isKukeonError(err)) return { code: err.code, field: err.details.field, message: err.message };
    throw err;
  }
  return {};
}

const V = 'spec.containers[0].volumes';

test('every refused shape of a container volume names its field', () => {
  const cases: [unknown[], string, RegExp?][] = [
    [[{ source: 'data', target: '/d' }], `${V}[0].source`, /absolute/],
    [[{ target: '/d' }], `${V}[0].source`, /absolute/],
    [[{ source: '/srv/${HOME}', target: '/d' }], `${V}[0].source`, /no other variable/],
    [[{ source: '/srv', target: '/d', mode: '0700' }], `${V}[0].mode`, /ensure/],
    [[{ source: '/srv', target: '/d', sizeBytes: 10 }], `${V}[0].sizeBytes`, /not used by a bind/],
    [[{ source: '/srv', target: '/d', volumeRef: { name: 'v' } }], `${V}[0].volumeRef`, /not used by a bind/],
    [[{ kind: 'tmpfs', source: '/x', target: '/d' }], `${V}[0].source`, /not used by a tmpfs/],
    [[{ kind: 'tmpfs', target: '/d', ensure: true }], `${V}[0].ensure`, /not used by a tmpfs/],
    [[{ kind: 'tmpfs', target: '/d', sizeBytes: 0 }], `${V}[0].sizeBytes`],
    [[{ kind: 'tmpfs', target: '/d', sizeBytes: 1.5 }], `${V}[0].sizeBytes`],
    [[{ kind: 'tmpfs', target: '/d', mode: '999' }], `${V}[0].mode`, /octal/],
    [[{ kind: 'tmpfs', target: '/d', mode: 'rwx' }], `${V}[0].mode`, /octal/],
    [[{ kind: 'tmpfs', target: '/d', mode: 750 }], `${V}[0].mode`, /quote it/],
    [[{ kind: 'nfs', target: '/d' }], `${V}[0].kind`],
    [[{ kind: 'volume', target: '/d' }], `${V}[0].volumeRef`, /required/],
    [[{ kind: 'volume', target: '/d', volumeRef: { name: 'Bad_Name' } }], `${V}[0].volumeRef.name`],
    [[{ kind: 'volume', target: '/d', volumeRef: { name: 'v', stack: 't' } }], `${V}[0].volumeRef.space`, /required with/],
    [[{ kind: 'volume', target: '/d', volumeRef: { name: 'v', cell: 'c' } }], `${V}[0].volumeRef.cell`],
    [[{ kind: 'volume', target: '/d', source: 'v', ensure: true }], `${V}[0].ensure`, /not used by a volume/],
    [[{ kind: 'tmpfs', target: 'relative' }], `${V}[0].target`, /absolute/],
    [[{ kind: 'tmpfs' }], `${V}[0].target`],
    [[{ kind: 'tmpfs', target: '/' }], `${V}[0].target`, /may not be \//],
    [[{ kind: 'tmpfs', target: '/proc' }], `${V}[0].target`, /may not be \/proc/],
    [[{ kind: 'tmpfs', target: '/sys/' }], `${V}[0].target`, /may not be \/sys/],
    [[{ kind: 'tmpfs', target: '/dev' }], `${V}[0].target`, /may not be \/dev/],
    [[{ kind: 'tmpfs', target: '/data/../proc' }], `${V}[0].target`, /may not be \/proc/],
    [[{ kind: 'tmpfs', target: '/a/b/../../..' }], `${V}[0].target`, /may not be \//],
    [[{ kind: 'tmpfs', target: '/proc/sys' }], `${V}[0].target`, /under \/proc/],
    [[{ kind: 'tmpfs', target: '/sys/fs/cgroup' }], `${V}[0].target`, /under \/sys/],
    [[{ kind: 'tmpfs', target: '/x\0y' }], `${V}[0].target`, /absolute/],
    [
      [
        { kind: 'tmpfs', target: '/d' },
        { kind: 'tmpfs', target: '/d/' },
      ],
      `${V}[1].target`,
      /also the target of/,
    ],
  ];
  for (const [volumes, field, why] of cases) {
    const r = refusal(() => validateDocument(cell(volumes), 3));
    assert.is(r.code, 'KUKEON_E_INVALID', JSON.stringify(volumes));
    assert.is(r.field, field, JSON.stringify(volumes));
    if (why) assert.match(r.message!, why, JSON.stringify(volumes));
  }
  // a standalone Container document: the same checks under spec.volumes
  const container = {
    kind: 'Container',
    metadata: { name: 'a' },
    spec: { realmId: 'r', spaceId: 's', stackId: 't', cellId: 'c', image: 'x' },
  };
  assert.is(
    refusal(() => validateDocument({ ...container, spec: { ...container.spec, volumes: [{ kind: 'tmpfs', target: '/' }] } }, 1)).field,
    'spec.volumes[0].target',
  );
});

test('volumes are normalised: kind filled, paths cleaned, a volume named by source, its realm the cell one', () => {
  const doc = validateDocument(
    cell([
      { source: '/srv//data/./x/', target: '/var/lib/../data/' },
      { kind: '', source: '/srv/${CELL_NAME}', target: '/c', ensure: true, mode: '0750' },
      { kind: 'volume', source: 'cache', target: '/cache' },
      { kind: 'volume', volumeRef: { name: 'db', space: 's', stack: 't' }, target: '/db', readOnly: true },
      { kind: 'tmpfs', target: '/tmp', sizeBytes: 1024, mode: '700' },
    ]),
    1,
  ).doc as CellDoc;
  assert.equal(doc.spec.containers[0].volumes, [
    { kind: 'bind', source: '/srv/data/x', target: '/var/data' },
    { kind: 'bind', source: '/srv/${CELL_NAME}', target: '/c', ensure: true, mode: '0750' },
    { kind: 'volume', target: '/cache', volumeRef: { name: 'cache', realm: 'main' } },
    { kind: 'volume', volumeRef: { name: 'db', space: 's', stack: 't', realm: 'main' }, target: '/db', readOnly: true },
    { kind: 'tmpfs', target: '/tmp', sizeBytes: 1024, mode: '700' },
  ]);
  // the system realm's kukeond binds cgroupfs: the trees under /proc and /sys are open to it, / is not
  const system = { allowSystem: true };
  const sys = cell([{ source: '/sys/fs/cgroup', target: '/sys/fs/cgroup' }], 'kukeon-system');
  assert.equal(
    refusal(() => validateDocument(sys, 1, system)),
    {},
  );
  assert.is(refusal(() => validateDocument(cell([{ kind: 'tmpfs', target: '/' }], 'kukeon-system'), 1, system)).field, `${V}[0].target`);
});

test('volumes and secrets are reserved names for spaces, stacks and cells', () => {
  for (const name of ['volumes', 'secrets']) {
    for (const doc of [
      { kind: 'Space', metadata: { name }, spec: { realmId: 'r' } },
      { kind: 'Stack', metadata: { name }, spec: { realmId: 'r', spaceId: 's' } },
      { ...cell([], 'r', name), spec: { ...cell([], 'r').spec, containers: [{ id: 'a', image: 'x' }] } },
    ]) {
      const r = refusal(() => validateDocument(doc, 1));
      assert.equal([r.code, r.field], ['KUKEON_E_RESERVED_NAME', 'metadata.name'], `${doc.kind} ${name}`);
    }
  }
  assert.equal(
    refusal(() => validateDocument({ kind: 'Realm', metadata: { name: 'volumes' } }, 1)),
    {},
    'a realm may be called so',
  );
});

test('a Volume document: every refused shape names its field; reclaimPolicy defaults to Delete', () => {
  const cases: [Record<string, unknown>, string, string?][] = [
    [{ kind: 'Volume', metadata: { name: 'v' } }, 'metadata.realm'],
    [{ kind: 'Volume' }, 'metadata'],
    [{ kind: 'Volume', metadata: { name: 'V', realm: 'r' } }, 'metadata.name', 'KUKEON_E_INVALID_NAME'],
    [{ kind: 'Volume', metadata: { name: 'v', realm: 'r', stack: 't' } }, 'metadata.space'],
    [{ kind: 'Volume', metadata: { name: 'v', realm: 'r', space: '../x' } }, 'metadata.space', 'KUKEON_E_INVALID_NAME'],
    [{ kind: 'Volume', metadata: { name: 'v', realm: 'r', cell: 'c' } }, 'metadata.cell'],
    [{ kind: 'Volume', metadata: { name: 'v', realm: 'r' }, spec: { reclaimPolicy: 'Recycle' } }, 'spec.reclaimPolicy'],
    [{ kind: 'Volume', metadata: { name: 'v', realm: 'r' }, spec: { size: 1 } }, 'spec.size'],
    [{ kind: 'Volume', metadata: { name: 'v', realm: 'r' }, spec: [] }, 'spec'],
    [{ kind: 'Volume', metadata: { name: 'v', realm: 'r', labels: { 'a b': 'x' } } }, 'metadata.labels'],
    [{ kind: 'Volume', metadata: { name: 'v', realm: 'kukeon-system' } }, 'metadata.realm', 'KUKEON_E_SYSTEM'],
    [{ apiVersion: 'v1', kind: 'Volume', metadata: { name: 'v', realm: 'r' } }, 'apiVersion', 'KUKEON_E_API_VERSION'],
    [{ kind: 'Volume', metadata: { name: 'v', realm: 'r' }, extra: 1 }, 'extra'],
  ];
  for (const [doc, field, code = 'KUKEON_E_INVALID'] of cases) {
    const r = refusal(() => validateVolumeDocument(doc, 4));
    assert.equal([r.code, r.field], [code, field], JSON.stringify(doc));
  }
  const v = validateVolumeDocument({ kind: 'Volume', metadata: { name: 'v', realm: 'r', space: 's' }, spec: { reclaimPolicy: '' } }, 1);
  assert.equal(v.doc, {
    apiVersion: 'v1beta1',
    kind: 'Volume',
    metadata: { name: 'v', realm: 'r', space: 's' },
    spec: { reclaimPolicy: 'Delete' },
  });
  assert.equal(v.ref, { kind: 'Volume', path: ['r', 's', 'v'] });
});

test('bind sources on the host: missing without ensure, in the run path (or through a symlink into it), or around it are refused', () => {
  const dir = tmpDir();
  const run = path.join(dir, 'state');
  fs.mkdirSync(path.join(run, 'main'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'srv', 'web'), { recursive: true });
  fs.symlinkSync(path.join(run, 'main'), path.join(dir, 'link'));
  const check = (volumes: unknown[], realm = 'main') =>
    refusal(() =>
      checkBindSources([{ index: 2, doc: validateDocument(cell(volumes, realm, 'web'), 2, { allowSystem: true }).doc as AnyDoc }], run),
    );
  const src = (source: string, extra = {}) => [{ source, target: '/d', ...extra }];
  assert.equal(check(src(path.join(dir, 'srv'))), {});
  assert.equal(check(src(`${dir}/srv/\${CELL_NAME}`)), {}, 'CELL_NAME expands to the cell name before the check');
  assert.match(check(src(`${dir}/srv/\${CELL_NAME}x`)).message!, /does not exist.*ensure: true/);
  assert.equal(check(src(path.join(dir, 'new'), { ensure: true })), {});
  const inRun = check(src(path.join(run, 'main')));
  assert.equal([inRun.code, inRun.field], ['KUKEON_E_INVALID', `${V}[0].source`]);
  assert.match(inRun.message!, /under the run path/);
  assert.match(check(src(path.join(dir, 'link'))).message!, /under the run path/, 'a symlink into the run path');
  assert.match(check(src(`${dir}/srv/../state/main/x`, { ensure: true })).message!, /under the run path/, '".." is resolved first');
  assert.match(check(src(dir)).message!, /contains the run path/);
  assert.match(check(src('/')).message!, /contains the run path/);
  assert.equal(check(src(run), 'kukeon-system'), {}, "the system realm's kukeond mounts the run path");
});

test('volumes as OCI mounts; ensure makes the source with its exact mode; a missing volume directory is an error', () => {
  const dir = tmpDir();
  const volumeDir = (ref: { path: readonly string[] }) => path.join(dir, 'vols', ...ref.path);
  const volumes = [
    { kind: 'bind' as const, source: `${dir}/made/\${CELL_NAME}`, target: '/m', ensure: true, mode: '0710' },
    { kind: 'bind' as const, source: '/etc', target: '/e', readOnly: true },
    { kind: 'tmpfs' as const, target: '/t', sizeBytes: 65536, mode: '0700' },
    { kind: 'tmpfs' as const, target: '/u' },
    { kind: 'volume' as const, target: '/v', volumeRef: { name: 'db', realm: 'r', space: 's' }, readOnly: true },
  ];
  assert.equal(ociVolumeMounts(volumes, 'web', volumeDir), [
    { destination: '/m', type: 'bind', source: `${dir}/made/web`, options: ['rbind', 'rslave', 'rw'] },
    { destination: '/e', type: 'bind', source: '/etc', options: ['rbind', 'rslave', 'ro'] },
    { destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=700', 'size=65536', 'rw'] },
    { destination: '/u', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'rw'] },
    { destination: '/v', type: 'bind', source: path.join(dir, 'vols', 'r', 's', 'db'), options: ['rbind', 'rprivate', 'ro'] },
  ]);
  const missing = refusal(() => prepareVolumeSources(volumes, 'web', volumeDir));
  assert.is(missing.code, 'KUKEON_E_NOT_FOUND');
  assert.match(missing.message!, 'volume/r/s/db does not exist');
  fs.mkdirSync(path.join(dir, 'vols', 'r', 's', 'db'), { recursive: true });
  const umask = process.umask(0o077);
  try {
    prepareVolumeSources(volumes, 'web', volumeDir);
  } finally {
    process.umask(umask);
  }
  assert.is(fs.statSync(path.join(dir, 'made', 'web')).mode & 0o7777, 0o710, 'the mode asked for, whatever the umask');
  const absent = refusal(() => prepareVolumeSources([{ kind: 'bind', source: path.join(dir, 'gone'), target: '/g' }], 'web', volumeDir));
  assert.equal([absent.code, absent.field], ['KUKEON_E_NOT_FOUND', 'volumes[0].source']);
});

test('the Volume kind through the CLI: apply, implicit volumes, get, delete refused while mounted, cascade by reclaimPolicy', () => {
  const e = kukeEnv();
  const ok = (args: string[], input?: string) => {
    const r = e.run(args, { input });
    assert.is(r.code, 0, `kuke ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const manifest = `kind: Volume
metadata: { name: db, realm: main, space: blog }
spec: { reclaimPolicy: Retain }
---
kind: Cell
metadata: { name: web }
spec:
  realmId: main
  spaceId: blog
  stackId: wp
  containers:
    - id: app
      image: busybox
      volumes:
        - { kind: volume, volumeRef: { name: db, realm: main, space: blog }, target: /db }
        - { kind: volume, source: cache, target: /cache }
`;
  const dry = ok(['apply', '-f', '-', '--dry-run'], manifest);
  assert.match(dry, 'volume/main/blog/db create');
  assert.match(dry, 'volume/main/cache create: implicit volume');
  assert.not.ok(fs.existsSync(e.runPath), 'a dry run writes nothing');
  const out = ok(['apply', '-f', '-'], manifest);
  assert.equal(out.split('\n').filter(Boolean), [
    'realm/main created (implicit parent)',
    'space/main/blog created (implicit parent)',
    'stack/main/blog/wp created (implicit parent)',
    'volume/main/blog/db created',
    'volume/main/cache created (implicit volume)',
    'cell/main/blog/wp/web created',
  ]);
  assert.equal(YAML.parse(fs.readFileSync(path.join(e.runPath, 'main/blog/volumes/db.yaml'), 'utf8')).spec, { reclaimPolicy: 'Retain' });
  assert.ok(fs.statSync(path.join(e.runPath, 'main/volumes/cache')).isDirectory());
  assert.match(ok(['apply', '-f', '-'], manifest), 'volume/main/blog/db unchanged');

  const rows = ok(['get', 'volumes', '--realm', 'main']).trim().split('\n');
  assert.match(rows[1], /^cache\s+main\s+-\s+-\s+Delete\s+main\/blog\/wp\/web/);
  assert.match(rows[2], /^db\s+main\s+blog\s+-\s+Retain\s+main\/blog\/wp\/web/);
  assert.match(ok(['get', 'volumes', '--realm', 'main', '--space', 'blog']), /^NAME.*\ndb\s/);
  assert.is(e.run(['get', 'volume', 'db', '--realm', 'main']).code, 1, 'db is in the space, not the realm');
  assert.is(
    YAML.parse(ok(['get', 'volume', 'db', '--realm', 'main', '--space', 'blog', '-o', 'yaml'])).status.path,
    path.join(e.runPath, 'main/blog/volumes/db'),
  );

  const before = snapshot(e.runPath);
  const busy = e.run(['delete', 'volume', 'db', '--realm', 'main', '--space', 'blog']);
  assert.is(busy.code, 1);
  assert.match(busy.stderr, /volume\/main\/blog\/db is mounted by cell\(s\) main\/blog\/wp\/web.*KUKEON_E_IN_USE/);
  const bad = e.run(['apply', '-f', '-'], { input: manifest.replace('target: /cache', 'target: /proc') });
  assert.match(bad.stderr, 'spec.containers[0].volumes[1].target');
  assert.equal(snapshot(e.runPath), before, 'refusals write nothing');

  fs.writeFileSync(path.join(e.runPath, 'main/blog/volumes/db/row'), 'precious');
  ok(['delete', 'cell', 'web', '--realm', 'main', '--space', 'blog', '--stack', 'wp']);
  assert.match(e.run(['delete', 'space', 'blog', '--realm', 'main', '--cascade']).stdout, 'data kept at');
  const kept = path.join(e.runPath, 'run/retained-volumes/main/blog/volumes/db');
  assert.is(fs.readFileSync(path.join(kept, 'row'), 'utf8'), 'precious');
  const realm = e.run(['delete', 'realm', 'main']);
  assert.match(realm.stderr, /realm\/main has 1 volume\(s\): cache.*--cascade/);
  assert.match(ok(['delete', 'realm', 'main', '--cascade']), /volume\/main\/cache deleted\n/);
  assert.not.ok(fs.existsSync(path.join(e.runPath, 'main')));
  // applied again in its place, the Retain volume has its data back
  ok(['apply', '-f', '-'], manifest.split('---\n')[0]);
  assert.is(fs.readFileSync(path.join(e.runPath, 'main/blog/volumes/db/row'), 'utf8'), 'precious');
  assert.match(ok(['delete', '-f', '-'], manifest.split('---\n')[0]), 'volume/main/blog/db deleted (reclaimPolicy Retain: data kept at');

  // purge takes the realm's directory whatever mounts its volumes: a Retain volume's data is moved out first
  ok(['apply', '-f', '-'], manifest);
  fs.writeFileSync(path.join(e.runPath, 'main/blog/volumes/db/row'), 'again');
  const purged = ok(['purge', 'realm', 'main', '--cascade']);
  assert.match(purged, /volume\/main\/blog\/db purged \(reclaimPolicy Retain: data kept at (\S+)\)/);
  const where = /data kept at (\S+)\)/.exec(purged)![1];
  assert.is(fs.readFileSync(path.join(where, 'row'), 'utf8'), 'again');
  assert.not.ok(fs.existsSync(path.join(e.runPath, 'main')));
});

test.run();

// biome-ignore-all lint/suspicious/noExplicitAny: Plugin<any> is "a plugin of any config type"
// The cgroupv2 plugin on a fake cgroupfs (test/helpers/fake-cgroupfs.ts): the tree and its status paths, limits
// written with their controllers enabled on the way down, kernel refusals as coded errors, placement through the
// OCI spec, leaves-first removal of the cgroup2 and runc-made v1 directories, purge, stats and doctor.

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import { cgroupv2Plugin } from '../plugins/cgroupv2';
import { CgroupFs } from '../plugins/cgroupv2/cgroup-fs';
import { detectLayout } from '../plugins/cgroupv2/layout';
import { limitEntries } from '../plugins/cgroupv2/limits';
import { ociResources, weightToShares } from '../plugins/cgroupv2/oci-resources';
import { writeLimits } from '../plugins/cgroupv2/write-limits';
import { cpuSharesToWeight, isKukeonError } from '../sdk';
import type { KukeonError, OciSpec, Plugin } from '../sdk';
import { createHost } from '../src/host';
import type { Host } from '../src/host';
import storeYaml from '../plugins/store-yaml';
import { FakeCgroupfs } from './helpers/fake-cgroupfs';
import type { FakeCgroupfsOptions } from './helpers/fake-cgroupfs';
import { fakePlugin } from './helpers/hosts';
import { tmpDir } from './helpers/tmp';

const HYBRID_MOUNTINFO = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

/** A runtime stand-in that builds each container's OCI spec through the ociSpec hook, as containerd's does. */
function specRuntime(specs: Record<string, OciSpec>): Plugin<any> {
  return fakePlugin('spec-runtime', 'runtime', (host) => {
    const base = (): OciSpec => ({ ociVersion: '1.0.2-dev', linux: { resources: { devices: [{ allow: false, access: 'rwm' }] } } });
    host.hooks.cell.startRoot.tapPromise('spec-runtime', async (ctx) => {
      const root = ctx.containers.find((c) => c.metadata.name === ctx.rootId);
      specs[`${ctx.ref.path[3]}/root`] = await host.hooks.ociSpec.promise(base(), {
        cell: ctx,
        role: 'root',
        container: root,
        containerdId: 'r',
        rootPid: undefined,
      });
      ctx.status.root = { pid: 4242 };
    });
    host.hooks.start.for('Container').tapPromise('spec-runtime', async (ctx) => {
      specs[`${ctx.cell.ref.path[3]}/${ctx.doc.metadata.name}`] = await host.hooks.ociSpec.promise(base(), {
        cell: ctx.cell,
        role: 'workload',
        container: ctx.doc,
        containerdId: 'w',
        rootPid: 4242,
      });
      Object.assign(ctx.status, { state: 'Ready' });
    });
  });
}

interface Setup {
  cg: FakeCgroupfs;
  host: Host;
  run: string;
  specs: Record<string, OciSpec>;
}

async function setup(opts: FakeCgroupfsOptions = {}, table: Record<string, unknown> = {}): Promise<Setup> {
  const cg = new FakeCgroupfs(opts);
  const specs: Record<string, OciSpec> = {};
  const run = tmpDir();
  const plugin = cgroupv2Plugin({ sys: cg.sys, mountinfo: () => cg.mountinfo });
  const full = await createHost({
    runPath: run,
    env: {},
    lockTimeoutMs: 2000,
    plugins: [{ plugin: storeYaml }, { plugin: specRuntime(specs) }, { plugin, table }],
  });
  const st = full.plugins.find((p) => p.name === 'cgroupv2');
  assert.is(st?.state, 'ok', st?.reason);
  return { cg, host: full, run, specs };
}

const yamlAt = (run: string, rel: string) => YAML.parse(fs.readFileSync(path.join(run, rel), 'utf8'));

const levels = (res: { realm?: string; space?: string; stack?: string; cell?: string } = {}) => `apiVersion: v1beta1
kind: Realm
metadata: { name: main }
${res.realm ? `spec: { resources: ${res.realm} }` : ''}
---
apiVersion: v1beta1
kind: Space
metadata: { name: blog }
spec: { realmId: main${res.space ? `, resources: ${res.space}` : ''} }
---
apiVersion: v1beta1
kind: Stack
metadata: { name: wp }
spec: { realmId: main, spaceId: blog${res.stack ? `, resources: ${res.stack}` : ''} }
`;

const cell = (name: string, containers: string, resources?: string) => `apiVersion: v1beta1
kind: Cell
metadata: { name: ${name} }
spec:
  realmId: main
  spaceId: blog
  stackId: wp
${resources ? `  resources: ${resources}\n` : ''}  containers:
${containers}`;

async function refusal(p: Promise<unknown>): Promise<KukeonError> {
  try {
    await p;
  } catch (err) {
    if (isKukeonError(err)) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

test('layout: hybrid, pure v2 and v1-only mount tables; escaped mount points', () => {
  const hybrid = detectLayout(HYBRID_MOUNTINFO);
  assert.is(hybrid.kind, 'hybrid');
  assert.is(hybrid.unified, '/sys/fs/cgroup/unified');
  assert.equal(
    hybrid.v1.map((h) => h.controllers.join(',')),
    ['cpu', 'cpuacct', 'memory', 'blkio', 'pids', 'name=systemd'],
  );
  const v2 = detectLayout('30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n');
  assert.equal(v2, { kind: 'v2', unified: '/sys/fs/cgroup', v1: [] });
  const v1 = detectLayout(
    HYBRID_MOUNTINFO.split('\n')
      .filter((l) => !l.includes('cgroup2'))
      .join('\n'),
  );
  assert.is(v1.kind, 'v1');
  assert.is(v1.unified, undefined);
  assert.is(detectLayout('41 31 0:38 / /tmp/my\\040cg rw - cgroup2 cgroup2 rw\n').unified, '/tmp/my cg');
});

test('cpu.weight -> shares is the exact inverse of runc shares -> weight, over the whole range', () => {
  for (let w = 1; w <= 10000; w++) {
    const shares = weightToShares(w);
    assert.ok(shares >= 2 && shares <= 262144, `shares ${shares} for weight ${w}`);
    if (cpuSharesToWeight(shares) !== w) assert.unreachable(`weight ${w} -> shares ${shares} -> weight ${cpuSharesToWeight(shares)}`);
  }
  assert.is(weightToShares(1), 2);
  assert.is(weightToShares(10000), 262144);
});

test('container resources become OCI linux.resources; v2-only keys go to unified on pure v2 only', () => {
  const r = { cpu: { max: '20000 50000', weight: 100 }, memory: { max: 33554432, high: 16777216 }, pids: { max: 10 }, io: { weight: 50 } };
  assert.equal(ociResources(r, false), {
    cpu: { period: 50000, quota: 20000, shares: weightToShares(100) },
    memory: { limit: 33554432 },
    pids: { limit: 10 },
  });
  assert.equal(ociResources(r, true)!.unified, { 'memory.high': '16777216', 'io.weight': '50' });
  assert.equal(ociResources({ cpu: { max: 'max' } }, false), { cpu: { period: 100000 } }, 'max sets no quota');
  assert.is(ociResources({}, true), undefined);
});

test('pure v2: the tree, status paths, limits written with controllers enabled on the way down, containers placed', async () => {
  const { cg, host, run, specs } = await setup();
  const report = await host.controller.apply(
    levels({ realm: '{ cpu: { max: "50000 100000" } }', space: '{ memory: { max: 1Gi } }', stack: '{ pids: { max: 100 } }' }) +
      '---\n' +
      cell(
        'web',
        '    - { id: app, image: busybox, command: sleep, resources: { memory: { max: 64Mi, high: 32Mi }, cpu: { weight: 200 } } }\n',
        '{ io: { weight: 300 }, memory: { high: 512Mi } }',
      ),
  );
  assert.equal(
    report.items.filter((i) => i.action !== 'created'),
    [],
    JSON.stringify(report.items),
  );
  // limits at each level, in that level's own files
  assert.is(cg.read('unified/kukeon/main/cpu.max'), '50000 100000');
  assert.is(cg.read('unified/kukeon/main/blog/memory.max'), String(1024 ** 3));
  assert.is(cg.read('unified/kukeon/main/blog/wp/pids.max'), '100');
  assert.is(cg.read('unified/kukeon/main/blog/wp/web/io.weight'), '300');
  assert.is(cg.read('unified/kukeon/main/blog/wp/web/memory.high'), String(512 * 1024 ** 2));
  // each controller enabled from the mount down to the level's parent, and not below what needs it
  assert.equal(cg.read('unified/cgroup.subtree_control')!.split(' ').sort(), ['cpu', 'io', 'memory', 'pids']);
  assert.equal(cg.read('unified/kukeon/cgroup.subtree_control')!.split(' ').sort(), ['cpu', 'io', 'memory', 'pids']);
  assert.equal(cg.read('unified/kukeon/main/blog/wp/cgroup.subtree_control')!.split(' ').sort(), ['io', 'memory']);
  const enableRealmCpu = cg.writes.indexOf('unified/cgroup.subtree_control <- +cpu');
  const writeRealmCpu = cg.writes.indexOf('unified/kukeon/main/cpu.max <- 50000 100000');
  assert.ok(enableRealmCpu >= 0 && enableRealmCpu < writeRealmCpu, `enabled before written: ${cg.writes.join('; ')}`);
  // status paths are relative to the mount and persisted
  assert.is(yamlAt(run, 'main/realm.yaml').status.cgroupPath, '/kukeon/main');
  assert.is(yamlAt(run, 'main/blog/space.yaml').status.cgroupPath, '/kukeon/main/blog');
  assert.is(yamlAt(run, 'main/blog/wp/stack.yaml').status.cgroupPath, '/kukeon/main/blog/wp');
  assert.is(yamlAt(run, 'main/blog/wp/web/cell.yaml').status.cgroupPath, '/kukeon/main/blog/wp/web');
  assert.is(yamlAt(run, 'main/blog/wp/web/containers/app.yaml').status.cgroupPath, '/kukeon/main/blog/wp/web/app');
  // containers placed by absolute cgroupsPath; their limits for runc, the runtime's devices kept
  assert.is(specs['web/root'].linux!.cgroupsPath, '/kukeon/main/blog/wp/web/web_root');
  assert.equal(specs['web/root'].linux!.resources, { devices: [{ allow: false, access: 'rwm' }] }, 'the synthesized root has no limits');
  const app = specs['web/app'].linux!;
  assert.is(app.cgroupsPath, '/kukeon/main/blog/wp/web/app');
  assert.equal(app.resources, {
    devices: [{ allow: false, access: 'rwm' }],
    memory: { limit: 64 * 1024 ** 2 },
    cpu: { shares: weightToShares(200) },
    unified: { 'memory.high': String(32 * 1024 ** 2) },
  });
  await host.close();
});

test('a limit removed from the spec goes back to the default; an unchanged re-apply changes no file', async () => {
  const { cg, host } = await setup();
  await host.controller.apply(levels({ stack: '{ pids: { max: 100 }, cpu: { weight: 50 } }' }));
  assert.is(cg.read('unified/kukeon/main/blog/wp/cpu.weight'), '50');
  await host.controller.apply(levels({ stack: '{ pids: { max: 100 } }' }));
  assert.is(cg.read('unified/kukeon/main/blog/wp/cpu.weight'), '100');
  assert.is(cg.read('unified/kukeon/main/blog/wp/pids.max'), '100');
  // a running cell's own limits follow a re-apply too (its steps do not run again, its create taps do)
  const web = (pids: number) => cell('web', '    - { id: app, image: busybox }\n', `{ pids: { max: ${pids} } }`);
  await host.controller.apply(web(30));
  assert.is(cg.read('unified/kukeon/main/blog/wp/web/pids.max'), '30');
  const again = await host.controller.apply(web(40));
  assert.is(again.items.find((i) => i.ref.kind === 'Cell')!.action, 'updated');
  assert.is(cg.read('unified/kukeon/main/blog/wp/web/pids.max'), '40');
  await host.close();
});

test('hybrid: a level limit whose controller cgroup2 lacks is refused before anything is written, naming it and the layout', async () => {
  const { cg, host, run } = await setup({ controllers: ['hugetlb'], v1: [['cpu'], ['cpuacct'], ['memory'], ['pids'], ['name=systemd']] });
  const e = await refusal(host.controller.apply(levels({ stack: '{ cpu: { max: "20000 100000" } }' })));
  assert.is(e.code, 'KUKEON_E_CGROUP_CONTROLLER');
  assert.is(e.details.field, 'spec.resources.cpu.max');
  assert.match(e.message, /needs the cpu controller/);
  assert.match(e.message, /layout hybrid \(cgroup2 at .*unified offers: hugetlb\)/);
  assert.match(e.message, /bound to the cgroup v1 hierarchy .*\/cpu/);
  assert.not.match(e.message, /EACCES/);
  assert.not.ok(fs.existsSync(path.join(run, 'main')), 'nothing was stored');
  assert.equal(cg.dirs('unified'), ['unified'], 'no cgroup was made');
  assert.equal(cg.writes, []);
  // create (not apply) goes through the same hook
  const c = await refusal(
    host.controller.create({
      apiVersion: 'v1beta1',
      kind: 'Realm',
      metadata: { name: 'r2' },
      spec: { resources: { memory: { max: '1Gi' } } },
    } as never),
  );
  assert.is(c.code, 'KUKEON_E_CGROUP_CONTROLLER');
  assert.match(c.message, /memory controller/);
  await host.close();
});

test('hybrid: container memory.high and io.weight are refused with a coded error; memory.max reaches runc without unified keys', async () => {
  const { host, specs } = await setup({ controllers: ['hugetlb'], v1: [['cpu'], ['cpuacct'], ['memory'], ['pids']] });
  await host.controller.apply(levels());
  const high = await refusal(
    host.controller.apply(cell('web', '    - { id: app, image: busybox, resources: { memory: { high: 32Mi } } }\n')),
  );
  assert.is(high.code, 'KUKEON_E_CGROUP_HYBRID');
  assert.is(high.details.field, 'spec.containers[0].resources.memory.high');
  assert.match(high.describe(), /no cgroup v1 equivalent.*kuke doctor/);
  const io = await refusal(host.controller.apply(cell('web', '    - { id: app, image: busybox, resources: { io: { weight: 10 } } }\n')));
  assert.is(io.code, 'KUKEON_E_CGROUP_HYBRID');
  await host.controller.apply(
    cell(
      'web',
      '    - { id: app, image: busybox, resources: { memory: { max: 32Mi }, pids: { max: 20 }, cpu: { max: "25000 100000" } } }\n',
    ),
  );
  assert.equal(specs['web/app'].linux!.resources, {
    devices: [{ allow: false, access: 'rwm' }],
    memory: { limit: 32 * 1024 ** 2 },
    pids: { limit: 20 },
    cpu: { period: 100000, quota: 25000 },
  });
  await host.close();
});

test('kernel refusals while writing become coded errors that name the controller: ENOENT enabling, EACCES writing, EBUSY on a busy cgroup', () => {
  const cg = new FakeCgroupfs({ controllers: ['cpu'] });
  const v2 = new CgroupFs(cg.unified, cg.sys);
  v2.ensure('kukeon/a');
  const enoent = (() => {
    try {
      writeLimits(v2, 'kukeon/a', limitEntries({ memory: { max: 1024 } }));
    } catch (err) {
      return err as KukeonError;
    }
  })();
  assert.is(enoent?.code, 'KUKEON_E_CGROUP_CONTROLLER');
  assert.match(
    enoent!.message,
    /cannot enable memory in .*unified\/cgroup\.subtree_control: the memory controller is not available there \(ENOENT\)/,
  );
  writeLimits(v2, 'kukeon/a', limitEntries({ cpu: { weight: 10 } }));
  assert.is(cg.read('unified/kukeon/a/cpu.weight'), '10');
  fs.rmSync(path.join(cg.unified, 'kukeon/a/cpu.max')); // a kernel without CFS bandwidth control has no cpu.max
  const eacces = (() => {
    try {
      writeLimits(v2, 'kukeon/a', limitEntries({ cpu: { max: '1000 10000' } }));
    } catch (err) {
      return err as KukeonError;
    }
  })();
  assert.is(eacces?.code, 'KUKEON_E_CGROUP_CONTROLLER');
  assert.is(eacces!.details.field, 'spec.resources.cpu.max');
  assert.match(eacces!.message, /cpu controller is not available there \(EACCES\)/);
  cg.addProcess(path.join(cg.unified, 'kukeon/a'), 77);
  v2.ensure('kukeon/a/b');
  const ebusy = (() => {
    try {
      writeLimits(v2, 'kukeon/a/b', limitEntries({ cpu: { weight: 5 } }));
    } catch (err) {
      return err as KukeonError;
    }
  })();
  assert.is(ebusy?.code, 'KUKEON_E_CGROUP_CONTROLLER');
  assert.match(ebusy!.message, /holds processes of its own.*EBUSY/);
});

test('delete removes leaves first in cgroup2 and in the v1 hierarchies runc filled, the root last; purge kills what is left', async () => {
  const v1 = [['cpu'], ['memory'], ['name=systemd']];
  const { cg, host } = await setup({ controllers: ['hugetlb'], v1 });
  await host.controller.apply(
    `${levels()}---\n${cell('web', '    - { id: app, image: busybox }\n')}---\n${cell('db', '    - { id: pg, image: busybox }\n')}`,
  );
  assert.equal(cg.dirs('unified/kukeon'), [
    'unified/kukeon',
    'unified/kukeon/main',
    'unified/kukeon/main/blog',
    'unified/kukeon/main/blog/wp',
    'unified/kukeon/main/blog/wp/db',
    'unified/kukeon/main/blog/wp/web',
  ]);
  // what runc's v1 driver leaves after its task is deleted: the cell's (and its parents') directories in every v1 hierarchy
  // (and a root leaf runc failed to remove, below the cell's own directory: only leaves-first removal gets through)
  for (const m of cg.v1Mounts) fs.mkdirSync(path.join(m.mountPoint, 'kukeon/main/blog/wp/web/web_root'), { recursive: true });
  cg.sys.mkdir(path.join(cg.unified, 'kukeon/main/blog/wp/web/web_root'));
  for (const m of cg.v1Mounts) fs.mkdirSync(path.join(m.mountPoint, 'kukeon/main/blog/wp/db'), { recursive: true });
  await host.controller.delete({ kind: 'Cell', path: ['main', 'blog', 'wp', 'web'] });
  assert.not.ok(cg.exists('unified/kukeon/main/blog/wp/web'));
  for (const m of cg.v1Mounts)
    assert.not.ok(fs.existsSync(path.join(m.mountPoint, 'kukeon/main/blog/wp/web')), `${m.mountPoint}: web removed`);
  assert.ok(cg.exists('unified/kukeon/main/blog/wp/db'), 'the other cell is untouched');

  // a process still exiting (a killed task's child, its pid namespace going down) is waited for, not an error
  await host.controller.apply(`${levels()}---\n${cell('web', '    - { id: app, image: busybox }\n')}`);
  cg.addProcess(path.join(cg.unified, 'kukeon/main/blog/wp/web'), 499);
  setTimeout(() => cg.exit(499), 300);
  await host.controller.delete({ kind: 'Cell', path: ['main', 'blog', 'wp', 'web'] });
  assert.not.ok(cg.exists('unified/kukeon/main/blog/wp/web'), 'removed once its last process had gone');

  // a process left in db (cgroup2) and one only in a v1 directory: delete refuses and names purge, purge kills both
  cg.addProcess(path.join(cg.unified, 'kukeon/main/blog/wp/db'), 501);
  cg.addProcess(path.join(cg.v1Mounts[1].mountPoint, 'kukeon/main/blog/wp/db'), 502);
  const busy = await refusal(host.controller.delete({ kind: 'Realm', path: ['main'] }, { cascade: true }));
  assert.is(busy.code, 'KUKEON_E_STEP');
  assert.match(busy.message, /processes are still inside \(kuke purge kills them\)/);
  await host.controller.purge({ kind: 'Realm', path: ['main'] }, { cascade: true });
  assert.equal(cg.killed.sort(), [501, 502]);
  assert.ok(cg.writes.includes('unified/kukeon/main/blog/wp/db/cgroup.kill <- 1'), 'cgroup.kill where the kernel has it');
  assert.not.ok(
    cg.writes.some((w) => w.includes('cgroup.freeze')),
    'no freeze needed',
  );
  assert.equal(cg.dirs('unified'), ['unified'], 'the whole tree is gone, the root included');
  for (const m of cg.v1Mounts)
    assert.equal(
      fs.readdirSync(m.mountPoint).filter((f) => f !== 'cgroup.procs'),
      [],
      `${m.mountPoint} is clean`,
    );
  // purge again: nothing left, still a success
  await host.controller.purge({ kind: 'Realm', path: ['main'] }, { cascade: true });
  await host.close();
});

test('purge without cgroup.kill freezes, kills each process and thaws', async () => {
  const { cg, host } = await setup({ kill: false });
  await host.controller.apply(levels());
  cg.addProcess(path.join(cg.unified, 'kukeon/main/blog/wp'), 900);
  await host.controller.purge({ kind: 'Stack', path: ['main', 'blog', 'wp'] });
  assert.equal(cg.killed, [900]);
  assert.ok(cg.writes.includes('unified/kukeon/main/blog/wp/cgroup.freeze <- 1'));
  assert.not.ok(cg.exists('unified/kukeon/main/blog/wp'));
  assert.ok(cg.exists('unified/kukeon/main/blog'), 'purge of a stack leaves its space');
  await host.close();
});

test('a failed create takes back the cgroups it made', async () => {
  const cg = new FakeCgroupfs();
  const breaker = fakePlugin('breaker', undefined, (h) => {
    h.hooks.create.for('Space').tapPromise({ name: 'breaker', stage: 50 }, async () => {
      throw new Error('later tap broke');
    });
  });
  const host = await createHost({
    runPath: tmpDir(),
    env: {},
    plugins: [{ plugin: storeYaml }, { plugin: cgroupv2Plugin({ sys: cg.sys, mountinfo: () => cg.mountinfo }) }, { plugin: breaker }],
  });
  const report = await host.controller.apply(levels());
  assert.is(report.items.find((i) => i.ref.kind === 'Space')!.action, 'failed');
  assert.ok(cg.exists('unified/kukeon/main'), 'the realm, which was created, keeps its cgroup');
  assert.not.ok(cg.exists('unified/kukeon/main/blog'), 'the failed space does not');
  await host.close();
});

test('stats: cgroup2 files where present, else the v1 hierarchies; none for a cgroup that does not exist', async () => {
  const { cg, host } = await setup({ controllers: ['hugetlb'], v1: [['cpuacct'], ['memory'], ['pids']] });
  await host.controller.apply(`${levels()}---\n${cell('web', '    - { id: app, image: busybox }\n    - { id: idle, image: busybox }\n')}`);
  fs.writeFileSync(path.join(cg.unified, 'kukeon/main/blog/wp/web/cpu.stat'), 'usage_usec 1500000\nuser_usec 1\nsystem_usec 2\n');
  const v1 = (m: number, rel: string, file: string, value: string) => {
    fs.mkdirSync(path.join(cg.v1Mounts[m].mountPoint, rel), { recursive: true });
    fs.writeFileSync(path.join(cg.v1Mounts[m].mountPoint, rel, file), `${value}\n`);
  };
  v1(1, 'kukeon/main/blog/wp/web', 'memory.usage_in_bytes', '4194304');
  v1(2, 'kukeon/main/blog/wp/web', 'pids.current', '3');
  v1(0, 'kukeon/main/blog/wp/web/app', 'cpuacct.usage', '2500000000');
  v1(1, 'kukeon/main/blog/wp/web/app', 'memory.usage_in_bytes', '1048576');
  const [web] = await host.controller.get({ kind: 'Cell', scope: ['main', 'blog', 'wp'], name: 'web' });
  assert.equal((web.status as { stats?: unknown }).stats, { cpuUsageUsec: 1500000, memoryCurrent: 4194304, pidsCurrent: 3 });
  const containers = await host.controller.get({ kind: 'Container', scope: ['main', 'blog', 'wp', 'web'] });
  const byId = Object.fromEntries(containers.map((c) => [c.metadata.name, (c.status as { stats?: unknown }).stats]));
  assert.equal(byId.app, { cpuUsageUsec: 2500000, memoryCurrent: 1048576 });
  assert.is(byId.idle, undefined, 'no cgroup, no stats');
  await host.close();
});

test('doctor: the hybrid layout, the mount, offered and delegated controllers, a remedy for each missing one', async () => {
  const { host } = await setup({ controllers: ['hugetlb'], v1: [['cpu'], ['memory'], ['pids'], ['blkio']] });
  const report = await host.controller.doctor();
  const f = Object.fromEntries(report.findings.filter((x) => x.service === 'cgroups.diagnose').map((x) => [x.check, x]));
  assert.is(f.layout.status, 'warn');
  assert.match(f.layout.detail, /^hybrid: cgroup2 at .*unified beside cgroup v1 hierarchies cpu/);
  assert.match(f.controllers.detail, /offers: hugetlb; delegated to its children \(cgroup\.subtree_control\): none/);
  for (const c of ['cpu', 'memory', 'pids', 'io']) {
    assert.is(f[`controller ${c}`].status, 'warn', c);
    assert.match(f[`controller ${c}`].remedy!, /systemd\.unified_cgroup_hierarchy=1/);
  }
  assert.match(f['controller memory'].detail, /runc enforces memory\.max through the v1 hierarchy .*\/memory/);
  assert.match(f['container limits'].detail, /KUKEON_E_CGROUP_HYBRID/);
  assert.ok(report.ok, 'warnings only');
  const pure = await setup({ controllers: ['cpu', 'memory', 'pids'], subtreeControl: ['cpu'] });
  const p = Object.fromEntries((await pure.host.controller.doctor()).findings.map((x) => [x.check, x]));
  assert.is(p.layout.status, 'ok');
  assert.match(p['controller cpu'].detail, /in cgroup2 \(delegated\)/);
  assert.match(p['controller memory'].detail, /not delegated yet/);
  assert.match(p['controller io'].remedy!, /CONFIG_BLK_CGROUP/);
  await host.close();
  await pure.host.close();
});

test('config: root names the top directory; apply skips without a cgroup2 mount', async () => {
  const { cg, host, run } = await setup({}, { root: 'kukeon-test-abc' });
  await host.controller.apply(levels());
  assert.ok(cg.exists('unified/kukeon-test-abc/main/blog/wp'));
  assert.is(yamlAt(run, 'main/blog/wp/stack.yaml').status.cgroupPath, '/kukeon-test-abc/main/blog/wp');
  await host.close();
  const v1only = cgroupv2Plugin({
    mountinfo: () =>
      HYBRID_MOUNTINFO.split('\n')
        .filter((l) => !l.includes('cgroup2'))
        .join('\n'),
  });
  const h2 = await createHost({ runPath: tmpDir(), env: {}, plugins: [{ plugin: storeYaml }, { plugin: v1only }] });
  const st = h2.plugins.find((p) => p.name === 'cgroupv2')!;
  assert.is(st.state, 'skip');
  assert.match(st.reason!, /no cgroup2 mount/);
  const bad = await createHost({
    runPath: tmpDir(),
    env: {},
    plugins: [{ plugin: storeYaml }, { plugin: v1only, table: { root: '../etc' } }],
  });
  assert.is(bad.plugins.find((p) => p.name === 'cgroupv2')!.state, 'error', 'a root that is not one directory name is a config error');
  await h2.close();
  await bad.close();
});

test.run();

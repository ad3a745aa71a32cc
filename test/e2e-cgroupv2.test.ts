// End to end: the cgroupv2 plugin with containerd on a private containerd (the harness's), under the harness's
// test-only cgroup root. The tree and its status paths, containers placed by absolute cgroupsPath, a memory
// limit enforced by runc (its v1 driver on a hybrid host), refusals, stats, doctor, and delete and purge
// leaving no directory in any hierarchy (runc's v1 ones included); the host snapshot check closes the suite.

import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import { detectLayout, v1HierarchyOf } from '../plugins/cgroupv2/layout';
import { ContainerdClient } from '../plugins/containerd/grpc/containerd-client';
import { E2EHarness, rmdirTree } from './e2e/harness';
import { e2eSuite } from './e2e/requirements';
import { buildBusyboxOciFile } from './helpers/busybox-oci';
import { ociSchemaDir, ociSpecValidator } from './helpers/oci-schema';
import { waitFor } from './helpers/wait-for';

const IMAGE = 'docker.io/kukeon/busybox:test';
const SCOPE = ['--realm', 'main', '--space', 'blog', '--stack', 'wp'];

const cell = (name: string, containers: string) => `apiVersion: v1beta1
kind: Cell
metadata: { name: ${name} }
spec:
  realmId: main
  spaceId: blog
  stackId: wp
  containers:
${containers}`;
/** A workload that ends on SIGTERM at once (a shell as pid 1 would otherwise ignore it until stop's timeout). */
const SLEEPER = 'trap "exit 0" TERM; sleep 300 & wait';
const sh = (id: string, script: string, extra = '') =>
  `    - { id: ${id}, image: "${IMAGE}", command: sh, args: ["-c", ${JSON.stringify(script)}]${extra} }\n`;

e2eSuite('cgroupv2 with containerd', (test) => {
  const layout = detectLayout(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  const unified = layout.unified!;
  let h: E2EHarness;
  let root: string;

  const ok = async (args: string[], input?: string) => {
    const r = await h.kuke(args, { input, timeoutMs: 60_000 });
    assert.is(r.code, 0, `kuke ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const yamlOf = (rel: string) => YAML.parse(fs.readFileSync(path.join(h.runPath, rel), 'utf8'));
  /** `<mount>/<root>/<rel>` in every hierarchy that has it: cgroup2 and each v1 one. */
  const everywhere = (rel: string) =>
    [unified, ...layout.v1.map((m) => m.mountPoint)].map((m) => path.join(m, root, rel)).filter((p) => fs.existsSync(p));
  const cgroupLines = (pid: number) => fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').filter(Boolean);

  test.before(async () => {
    h = await E2EHarness.start({ name: 'cgroupv2', plugins: (p) => ({ cgroupv2: { root: p.cgroupRoot } }) });
    root = h.cgroupRoot;
    await ok(['create', 'realm', 'main']);
    await ok(['image', 'load', await buildBusyboxOciFile(h.tmp), '--realm', 'main']);
  });

  test.after(async () => {
    const diff = await h?.stop();
    assert.equal(diff, [], `the host changed: ${diff?.join('; ')}`);
  });

  test('realm, space, stack and cell cgroups at the tree paths, status.cgroupPath persisted, containers under <cell>_root and <container>', async () => {
    await ok(['apply', '-f', '-'], cell('web', sh('a', SLEEPER)));
    for (const rel of ['main', 'main/blog', 'main/blog/wp', 'main/blog/wp/web'])
      assert.ok(fs.existsSync(path.join(unified, root, rel)), `${unified}/${root}/${rel}`);
    assert.is(yamlOf('main/realm.yaml').status.cgroupPath, `/${root}/main`);
    assert.is(yamlOf('main/blog/space.yaml').status.cgroupPath, `/${root}/main/blog`);
    assert.is(yamlOf('main/blog/wp/stack.yaml').status.cgroupPath, `/${root}/main/blog/wp`);
    const st = yamlOf('main/blog/wp/web/cell.yaml').status;
    assert.is(st.cgroupPath, `/${root}/main/blog/wp/web`);
    const a = yamlOf('main/blog/wp/web/containers/a.yaml').status;
    assert.is(a.cgroupPath, `/${root}/main/blog/wp/web/a`);
    // the kernel's view: the cgroup2 line and, on a hybrid host, every v1 line at the same absolute path
    const rootLines = cgroupLines(st.root.pid);
    assert.ok(rootLines.includes(`0::/${root}/main/blog/wp/web/web_root`), rootLines.join(' | '));
    const aLines = cgroupLines(a.pid);
    assert.ok(aLines.includes(`0::/${root}/main/blog/wp/web/a`), aLines.join(' | '));
    if (layout.kind === 'hybrid')
      assert.ok(
        aLines.some((l) => /^\d+:memory:/.test(l) && l.endsWith(`:/${root}/main/blog/wp/web/a`)),
        aLines.join(' | '),
      );
    // stats: live from the cgroups (memory and pids from the v1 hierarchies on a hybrid host)
    const got = JSON.parse(await ok(['get', 'container', 'a', '--cell', 'web', ...SCOPE, '-o', 'json']));
    assert.ok(got.status.stats.pidsCurrent >= 1, JSON.stringify(got.status.stats));
    assert.ok(got.status.stats.memoryCurrent > 0, JSON.stringify(got.status.stats));
    assert.type(got.status.stats.cpuUsageUsec, 'number');
    const wide = (await ok(['get', 'cells', ...SCOPE, '-o', 'wide']))
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/));
    const cols = wide[0];
    const row = wide.find((r) => r[0] === 'web')!;
    assert.match(row[cols.indexOf('CPU')], /^\d+\.\d\ds$/);
    assert.match(row[cols.indexOf('MEMORY')], /^\d+(\.\d)?(Ki|Mi|Gi)?$/);
    assert.ok(Number(row[cols.indexOf('PIDS')]) >= 2, `root and a: ${row.join(' ')}`);
    // stats are live readings, not state: a refresh with nothing else changed writes nothing
    await ok(['refresh']);
    const cellFile = path.join(h.runPath, 'main/blog/wp/web/cell.yaml');
    const before = fs.statSync(cellFile).mtimeMs;
    assert.match(await ok(['refresh']), /Updated 0\./);
    assert.is(fs.statSync(cellFile).mtimeMs, before);
  });

  test('memory.max reaches runc: the limit is in the memory cgroup and a container that exceeds it is OOM-killed (137)', async () => {
    await ok(['apply', '-f', '-'], cell('hog', sh('hog', 'exec tail /dev/zero', ', resources: { memory: { max: 32Mi } }')));
    const exited = async () => JSON.parse(await ok(['get', 'container', 'hog', '--cell', 'hog', ...SCOPE, '-o', 'json'])).status;
    await waitFor('hog to be killed', async () => (await exited()).state === 'Exited', 15_000);
    assert.is((await exited()).exitCode, 137);
    // what runc was given: the absolute path and the limit, in a spec the OCI schema accepts
    const client = new ContainerdClient(h.socket);
    try {
      const c = await client.containers.get('kukeon-main', 'blog_wp_hog_hog');
      const spec = JSON.parse(Buffer.from(c.spec!.value as Uint8Array).toString('utf8'));
      assert.is(spec.linux.cgroupsPath, `/${root}/main/blog/wp/hog/hog`);
      assert.is(spec.linux.resources.memory.limit, 32 * 1024 * 1024);
      const dir = ociSchemaDir();
      if (dir) assert.equal(ociSpecValidator(dir)(spec), []);
    } finally {
      client.close();
    }
    // the task is stopped but not deleted yet, so runc's cgroup is still there to read
    const mem = v1HierarchyOf(layout, 'memory');
    if (mem) {
      const dir = path.join(mem.mountPoint, root, 'main/blog/wp/hog/hog');
      assert.is(fs.readFileSync(path.join(dir, 'memory.limit_in_bytes'), 'utf8').trim(), String(32 * 1024 * 1024));
      assert.match(fs.readFileSync(path.join(dir, 'memory.oom_control'), 'utf8'), /oom_kill [1-9]/);
    } else {
      const dir = path.join(unified, root, 'main/blog/wp/hog/hog');
      assert.is(fs.readFileSync(path.join(dir, 'memory.max'), 'utf8').trim(), String(32 * 1024 * 1024));
      assert.match(fs.readFileSync(path.join(dir, 'memory.events'), 'utf8'), /oom_kill [1-9]/);
    }
  });

  /** A container's memory limit, cpu quota and pids limit as its cgroups hold them (runc's v1 files on a hybrid host). */
  const limitsOf = (rel: string) => {
    const read = (controller: string, v1File: string, v2File: string) => {
      const h = v1HierarchyOf(layout, controller);
      const file = h ? path.join(h.mountPoint, root, rel, v1File) : path.join(unified, root, rel, v2File);
      return fs.readFileSync(file, 'utf8').trim();
    };
    return {
      memory: read('memory', 'memory.limit_in_bytes', 'memory.max'),
      cpu: read('cpu', 'cpu.cfs_quota_us', 'cpu.max'),
      pids: read('pids', 'pids.max', 'pids.max'),
    };
  };
  const MiB = 1024 * 1024;

  test('an apply that changes only resources updates the running container in place; a limit taken out is lifted', async () => {
    const tuned = (extra: string) => cell('tune', sh('t', SLEEPER, extra));
    const pidOf = () => yamlOf('main/blog/wp/tune/containers/t.yaml').status.pid as number;
    await ok(['apply', '-f', '-'], tuned(', resources: { memory: { max: 64Mi }, pids: { max: 40 } }'));
    const first = pidOf();
    const set = limitsOf('main/blog/wp/tune/t');
    assert.is(set.memory, String(64 * MiB));
    assert.is(set.pids, '40');

    const applied = JSON.parse(
      await ok(
        ['apply', '-f', '-', '-o', 'json'],
        tuned(', resources: { memory: { max: 48Mi }, cpu: { max: "50000 100000" }, pids: { max: 30 } }'),
      ),
    );
    assert.ok(
      JSON.stringify(applied).includes('container t resources updated in place'),
      `the apply says what it did: ${JSON.stringify(applied)}`,
    );
    assert.is(pidOf(), first, 'the same process: nothing was recreated');
    assert.ok(fs.existsSync(`/proc/${first}`));
    const cpuWanted = v1HierarchyOf(layout, 'cpu') ? '50000' : '50000 100000';
    assert.equal(limitsOf('main/blog/wp/tune/t'), { memory: String(48 * MiB), cpu: cpuWanted, pids: '30' });
    // containerd's record holds the new spec too, so the next start of the task gets the same limits
    const client = new ContainerdClient(h.socket);
    try {
      const c = await client.containers.get('kukeon-main', 'blog_wp_tune_t');
      const spec = JSON.parse(Buffer.from(c.spec!.value as Uint8Array).toString('utf8'));
      assert.is(spec.linux.resources.memory.limit, 48 * MiB);
      assert.is(spec.linux.resources.pids.limit, 30);
    } finally {
      client.close();
    }
    assert.is(yamlOf('main/blog/wp/tune/containers/t.yaml').spec.resources.memory.max, '48Mi', 'the record says so too');

    await ok(['apply', '-f', '-'], tuned(''));
    assert.is(pidOf(), first);
    const lifted = limitsOf('main/blog/wp/tune/t');
    assert.ok(/^(max|9223372036854\d+)$/.test(lifted.memory), `memory lifted: ${lifted.memory}`);
    assert.ok(/^(max( \d+)?|-1)$/.test(lifted.cpu), `cpu quota lifted: ${lifted.cpu}`);
    assert.is(lifted.pids, 'max');

    if (v1HierarchyOf(layout, 'memory')) {
      // cgroup v1 refuses a memory limit below what the cgroup uses (EBUSY; cgroup v2 would OOM-kill instead)
      const refused = await h.kuke(['apply', '-f', '-'], { input: tuned(', resources: { memory: { max: 4096 } }') });
      assert.is(refused.code, 1, refused.stdout);
      assert.match(refused.stderr, /containers\.t\.resources: the new limits were refused: .*memory limit.*\[KUKEON_E_STEP\]/);
      assert.is(pidOf(), first, 'still running');
      assert.is(yamlOf('main/blog/wp/tune/containers/t.yaml').spec.resources, undefined, 'the record is as it was');
      assert.ok(/^9223372036854\d+$/.test(limitsOf('main/blog/wp/tune/t').memory));
    }

    // any other change recreates the container
    await ok(['apply', '-f', '-'], tuned(', env: ["X=1"]'));
    assert.is.not(pidOf(), first);
    await ok(['delete', 'cell', 'tune', ...SCOPE]);
  });

  test("cgroupParent puts the cell's cgroup under a parent it names (a kubelet's pod cgroup), and cannot change", async () => {
    const parent = `/${root}/kubepods/pod-1234`;
    const parented = (p: string) => cell('kp', sh('c', SLEEPER)).replace('  stackId: wp\n', `  stackId: wp\n  cgroupParent: ${p}\n`);
    const bad = await h.kuke(['apply', '-f', '-'], { input: parented(`/${root}/../escape`) });
    assert.is(bad.code, 1);
    assert.match(bad.stderr, /spec\.cgroupParent/);
    assert.not.ok(fs.existsSync(path.join(h.runPath, 'main/blog/wp/kp')), 'not stored');

    await ok(['apply', '-f', '-'], parented(parent));
    const here = `${parent.slice(root.length + 2)}/main_blog_wp_kp`;
    const st = yamlOf('main/blog/wp/kp/cell.yaml').status;
    assert.is(st.cgroupPath, `${parent}/main_blog_wp_kp`);
    const c = yamlOf('main/blog/wp/kp/containers/c.yaml').status;
    assert.is(c.cgroupPath, `${parent}/main_blog_wp_kp/c`);
    assert.ok(cgroupLines(c.pid).includes(`0::${parent}/main_blog_wp_kp/c`), cgroupLines(c.pid).join(' | '));
    assert.ok(cgroupLines(st.root.pid).includes(`0::${parent}/main_blog_wp_kp/kp_root`));
    assert.not.ok(fs.existsSync(path.join(unified, root, 'main/blog/wp/kp')), 'nothing under the stack');
    const stats = JSON.parse(await ok(['get', 'container', 'c', '--cell', 'kp', ...SCOPE, '-o', 'json'])).status.stats;
    assert.ok(stats.pidsCurrent >= 1, JSON.stringify(stats));

    const moved = await h.kuke(['apply', '-f', '-'], { input: parented(`/${root}/kubepods/pod-5678`) });
    assert.is(moved.code, 1);
    assert.match(moved.stderr, /spec\.cgroupParent cannot change/);
    assert.is(yamlOf('main/blog/wp/kp/containers/c.yaml').status.pid, c.pid, 'left running as it was');

    await ok(['delete', 'cell', 'kp', ...SCOPE]);
    assert.equal(everywhere(here), [], 'its cgroups are gone from every hierarchy');
    assert.ok(everywhere(parent.slice(root.length + 2)).length > 0, "the parent is the kubelet's: it stays");
    // what a kubelet does with its pod cgroup once the pod is gone
    for (const dir of everywhere('kubepods')) assert.equal(rmdirTree(dir), []);
  });

  test('limits this host cannot honour are refused before anything is written; doctor explains the layout', async () => {
    const doctor = JSON.parse((await h.kuke(['doctor', '-o', 'json'])).stdout);
    const f = Object.fromEntries(
      doctor.findings.filter((x: { service: string }) => x.service === 'cgroups.diagnose').map((x: { check: string }) => [x.check, x]),
    );
    assert.match(f.layout.detail, new RegExp(`^${layout.kind}: cgroup2 at ${unified}`));
    assert.match(f.controllers.detail, new RegExp(`${unified} offers: `));
    const offered = fs.readFileSync(path.join(unified, 'cgroup.controllers'), 'utf8').split(/\s+/);
    if (offered.includes('cpu')) return; // a host whose cgroup2 has cpu accepts what follows
    assert.match(f['controller cpu'].remedy, /systemd\.unified_cgroup_hierarchy=1/);
    const stack = `apiVersion: v1beta1\nkind: Stack\nmetadata: { name: capped }\nspec: { realmId: main, spaceId: blog, resources: { cpu: { max: "50000 100000" } } }\n`;
    const r = await h.kuke(['apply', '-f', '-'], { input: stack });
    assert.is(r.code, 1);
    assert.match(
      r.stderr,
      /spec\.resources\.cpu\.max needs the cpu controller.*layout (hybrid|v2) \(cgroup2 at .* offers: .*\).*\[KUKEON_E_CGROUP_CONTROLLER\]/,
    );
    assert.not.ok(fs.existsSync(path.join(h.runPath, 'main/blog/capped')), 'not stored');
    assert.equal(everywhere('main/blog/capped'), [], 'no cgroup made');
    if (layout.kind !== 'hybrid') return;
    assert.match(f['container limits'].detail, /KUKEON_E_CGROUP_HYBRID/);
    const high = await h.kuke(['apply', '-f', '-'], { input: cell('soft', sh('x', 'true', ', resources: { memory: { high: 16Mi } }')) });
    assert.is(high.code, 1);
    assert.match(high.stderr, /spec\.containers\[0\]\.resources\.memory\.high.*no cgroup v1 equivalent.*\[KUKEON_E_CGROUP_HYBRID\]/);
    assert.not.ok(fs.existsSync(path.join(h.runPath, 'main/blog/wp/soft')));
  });

  test('delete cell removes its directories in cgroup2 and in every v1 hierarchy runc filled', async () => {
    assert.ok(everywhere('main/blog/wp/web').length > (layout.kind === 'hybrid' ? 1 : 0), 'runc made the v1 directories too');
    await ok(['delete', 'cell', 'web', ...SCOPE]);
    assert.equal(everywhere('main/blog/wp/web'), []);
    assert.ok(everywhere('main/blog/wp/hog').length > 0, 'the other cell keeps its cgroups');
  });

  test('purge realm kills what is left, removes every directory of the tree in every hierarchy, and runs again cleanly', async () => {
    await ok(['apply', '-f', '-'], cell('busy', sh('b', SLEEPER)));
    const pid = yamlOf('main/blog/wp/busy/containers/b.yaml').status.pid;
    assert.ok(fs.existsSync(`/proc/${pid}`));
    await ok(['purge', 'realm', 'main', '--cascade']);
    assert.equal(everywhere(''), [], `nothing of ${root} is left in any hierarchy`);
    await waitFor(
      'the workload to be gone',
      () => !fs.existsSync(`/proc/${pid}`) || /^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8')),
      15_000,
    );
    await ok(['purge', 'realm', 'main', '--cascade']);
  });
});

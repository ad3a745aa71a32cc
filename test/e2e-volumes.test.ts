// End to end of volumes on a private containerd: a named volume shared by two cells and outliving one of them,
// reclaimPolicy on a realm's cascade delete (through kukeond), a read-only bind, a bind source `ensure` makes with
// its mode, a tmpfs with a size limit; bad input changes nothing on disk. What a container sees is read from its
// own output (`kuke log`), what the host keeps from the files under the run path.

import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import { ContainerdClient } from '../plugins/containerd/grpc/containerd-client';
import { E2EHarness, type RunResult } from './e2e/harness';
import { idle } from './e2e/idle';
import { e2eSuite } from './e2e/requirements';
import { buildBusyboxOciFile } from './helpers/busybox-oci';
import { type Daemon, startDaemon } from './helpers/daemon';
import { ociSchemaDir, ociSpecValidator } from './helpers/oci-schema';
import { waitFor } from './helpers/wait-for';

const IMAGE = 'docker.io/kukeon/busybox:test';
const SCOPE = ['--realm', 'main', '--space', 'vol', '--stack', 'st'];

function cell(name: string, script: string, volumes: string, realm = 'main'): string {
  return `apiVersion: v1beta1
kind: Cell
metadata: { name: ${name} }
spec:
  realmId: ${realm}
  spaceId: vol
  stackId: st
  containers:
    - id: app
      image: "${IMAGE}"
      command: sh
      args: ["-c", ${JSON.stringify(script)}]
      volumes:
${volumes}`;
}

/** Every file and directory under `dir`, relative, sorted (what "nothing changed on disk" compares). */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (path.relative(dir, p).startsWith('run/')) continue; // locks and the store's generation
      out.push(path.relative(dir, p));
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

e2eSuite('volumes on containerd', (test) => {
  let h: E2EHarness;
  let client: ContainerdClient;
  let daemon: Daemon | undefined;
  let archive: string;
  const socket = () => path.join(h.tmp, 'd', 'kukeond.sock');

  const inProcess = (args: string[], input?: string): Promise<RunResult> => h.kuke(args, { input, timeoutMs: 120_000 });
  const viaDaemon = (args: string[], input?: string): Promise<RunResult> =>
    h.kuke(args, { input, timeoutMs: 120_000, env: { KUKEON_NO_DAEMON: undefined, KUKEON_RUN_PATH: undefined, KUKEON_SOCKET: socket() } });
  const ok = async (args: string[], input?: string, via = inProcess) => {
    const r = await via(args, input);
    assert.is(r.code, 0, `kuke ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const log = async (name: string, scope = SCOPE, via = inProcess) => (await via(['log', name, ...scope])).stdout;
  const waitLog = (name: string, text: string, scope = SCOPE, via = inProcess) =>
    waitFor(`"${text}" in ${name}'s log`, async () => (await log(name, scope, via)).includes(text), 20_000);

  test.before(async () => {
    h = await E2EHarness.start({ name: 'volumes' });
    client = new ContainerdClient(h.socket);
    archive = await buildBusyboxOciFile(h.tmp);
    await ok(['create', 'realm', 'main']);
    await ok(['image', 'load', archive, '--realm', 'main']);
  });

  test.after(async () => {
    await daemon?.stop();
    client?.close();
    const diff = await h?.stop();
    assert.equal(diff, [], `the host changed: ${diff?.join('; ')}`);
  });

  test('a named volume: two cells see each other writes; it is refused for delete while mounted and outlives a deleted cell', async () => {
    const mount = '        - { kind: volume, source: shared, target: /v }\n';
    const out = await ok(
      ['apply', '-f', '-'],
      cell('writer', `echo from-writer > /v/w; until [ -f /v/r ]; do sleep 0.1; done; echo writer-sees-$(cat /v/r); ${idle()}`, mount),
    );
    assert.match(out, 'volume/main/shared created (implicit volume)');
    await ok(
      ['apply', '-f', '-'],
      cell('reader', `until [ -f /v/w ]; do sleep 0.1; done; echo reader-sees-$(cat /v/w); echo from-reader > /v/r; ${idle()}`, mount),
    );
    await waitLog('reader', 'reader-sees-from-writer');
    await waitLog('writer', 'writer-sees-from-reader');
    const data = path.join(h.runPath, 'main', 'volumes', 'shared');
    assert.is(fs.readFileSync(path.join(data, 'w'), 'utf8'), 'from-writer\n', 'the data is in <realm dir>/volumes/<name>/');
    assert.ok(fs.existsSync(path.join(h.runPath, 'main', 'volumes', 'shared.yaml')));

    const busy = await inProcess(['delete', 'volume', 'shared', '--realm', 'main']);
    assert.is(busy.code, 1);
    assert.match(busy.stderr, 'KUKEON_E_IN_USE');
    assert.match(busy.stderr, 'main/vol/st/reader');
    assert.match(busy.stderr, 'main/vol/st/writer');

    await ok(['delete', 'cell', 'writer', ...SCOPE]);
    assert.is(fs.readFileSync(path.join(data, 'w'), 'utf8'), 'from-writer\n', 'the data outlives the cell');
    const listed = YAML.parse(await ok(['get', 'volume', 'shared', '--realm', 'main', '-o', 'yaml']));
    assert.equal(listed.status.mountedBy, ['main/vol/st/reader']);
    assert.is(listed.status.path, data);

    // a re-apply of the deleted cell finds what it wrote, and what the other cell wrote
    await ok(['apply', '-f', '-'], cell('writer', `echo again-$(cat /v/w)-$(cat /v/r); ${idle()}`, mount));
    await waitLog('writer', 'again-from-writer-from-reader');

    await ok(['delete', 'cell', 'writer', ...SCOPE]);
    await ok(['delete', 'cell', 'reader', ...SCOPE]);
    assert.match(await ok(['delete', 'volume', 'shared', '--realm', 'main']), 'volume/main/shared deleted');
    assert.not.ok(fs.existsSync(data), 'reclaimPolicy Delete: the data went with it');
  });

  test("copy-up, as Docker's: an empty volume takes the image directory's entries and mode; one with data is left alone", async () => {
    const mounts = '        - { kind: volume, source: cu-usr, target: /usr }\n        - { kind: volume, source: cu-tmp, target: /tmp }\n';
    const script = `echo applets=$(ls /usr/bin | wc -l); env true && touch /tmp/by-nobody && echo wrote; ${idle()}`;
    await ok(['apply', '-f', '-'], cell('cu', script, mounts).replace('      command: sh', '      user: nobody\n      command: sh'));
    await waitLog('cu', 'wrote');
    assert.not.match(await log('cu'), 'applets=0', "the image's /usr was copied into the volume");
    const data = (v: string) => path.join(h.runPath, 'main', 'volumes', v);
    assert.equal(fs.readdirSync(data('cu-usr')).sort(), ['bin', 'sbin']);
    assert.is(fs.readlinkSync(path.join(data('cu-usr'), 'bin', 'env')), '../../bin/busybox', 'symlinks stay symlinks');
    assert.is(fs.statSync(data('cu-tmp')).mode & 0o7777, 0o1777, "the volume took /tmp's mode, so nobody could write");
    assert.is(fs.statSync(path.join(data('cu-tmp'), 'by-nobody')).uid, 65534);
    // a volume that holds data is never copied into again
    fs.rmSync(path.join(data('cu-usr'), 'sbin'), { recursive: true });
    await ok(['delete', 'cell', 'cu', ...SCOPE]);
    await ok(['apply', '-f', '-'], cell('cu', `echo usr=$(ls /usr); ${idle()}`, mounts));
    await waitLog('cu', 'usr=bin');
    assert.equal(fs.readdirSync(data('cu-usr')), ['bin']);
    await ok(['delete', 'cell', 'cu', ...SCOPE]);
    for (const v of ['cu-usr', 'cu-tmp']) await ok(['delete', 'volume', v, '--realm', 'main']);
  });

  test("through kukeond: Retain keeps the data after the realm's cascade delete and says where; Delete removes it", async () => {
    daemon = await startDaemon({ socket: socket(), runPath: h.runPath, config: h.configFile });
    await ok(['create', 'realm', 'keep'], undefined, viaDaemon);
    await ok(['image', 'load', archive, '--realm', 'keep'], undefined, viaDaemon);
    const volumes = `apiVersion: v1beta1
kind: Volume
metadata: { name: db, realm: keep, space: vol }
spec: { reclaimPolicy: Retain }
---
kind: Volume
metadata: { name: tmp, realm: keep }
---
`;
    const mounts =
      '        - { kind: volume, volumeRef: { name: db, realm: keep, space: vol }, target: /db }\n' +
      '        - { kind: volume, volumeRef: { name: tmp, realm: keep }, target: /tmp/t }\n';
    const scope = ['--realm', 'keep', '--space', 'vol', '--stack', 'st'];
    const out = await ok(
      ['apply', '-f', '-'],
      volumes + cell('pg', `echo precious > /db/row; echo scratch > /tmp/t/x; echo written; ${idle()}`, mounts, 'keep'),
      viaDaemon,
    );
    assert.match(out, 'volume/keep/vol/db created');
    assert.match(out, 'volume/keep/tmp created');
    await waitLog('pg', 'written', scope, viaDaemon);
    const listed = await ok(['get', 'volumes', '--realm', 'keep'], undefined, viaDaemon);
    assert.match(listed, /db\s+keep\s+vol\s+-\s+Retain\s+keep\/vol\/st\/pg/);
    assert.match(listed, /tmp\s+keep\s+-\s+-\s+Delete\s+keep\/vol\/st\/pg/);
    assert.match(await ok(['get', 'volumes', '-A'], undefined, viaDaemon), /db\s+keep/);

    const busy = await viaDaemon(['delete', 'volume', 'db', '--realm', 'keep', '--space', 'vol']);
    assert.is(busy.code, 1);
    assert.match(busy.stderr, /mounted by cell\(s\) keep\/vol\/st\/pg.*KUKEON_E_IN_USE/);
    const refused = await viaDaemon(['delete', 'realm', 'keep']);
    assert.is(refused.code, 1, 'a realm with children (and volumes) needs --cascade');
    const deleted = await ok(['delete', 'realm', 'keep', '--cascade'], undefined, viaDaemon);
    const kept = /volume\/keep\/vol\/db deleted \(reclaimPolicy Retain: data kept at (\S+)\)/.exec(deleted)?.[1];
    assert.ok(kept, `the output says where the data is: ${deleted}`);
    assert.match(deleted, /volume\/keep\/tmp deleted\n/);
    assert.is(fs.readFileSync(path.join(kept!, 'row'), 'utf8'), 'precious\n');
    assert.not.ok(fs.existsSync(path.join(h.runPath, 'keep')), 'the realm is gone');
    assert.not.ok(fs.existsSync(path.join(h.runPath, 'run', 'retained-volumes', 'keep', 'volumes', 'tmp')), 'Delete kept nothing');

    // the same volume made again in the same place finds its data (in-process this time)
    await daemon.stop();
    daemon = undefined;
    await ok(['apply', '-f', '-'], volumes.split('---\n')[0]);
    assert.is(fs.readFileSync(path.join(h.runPath, 'keep', 'vol', 'volumes', 'db', 'row'), 'utf8'), 'precious\n');
    assert.not.ok(fs.existsSync(kept!));
    await ok(['delete', 'realm', 'keep', '--cascade']);
  });

  test('a read-only bind refuses writes; ensure makes a missing source with its mode (CELL_NAME expanded); tmpfs has its size', async () => {
    const ro = path.join(h.tmp, 'ro-src');
    fs.mkdirSync(ro);
    fs.writeFileSync(path.join(ro, 'conf'), 'config-line\n');
    const made = path.join(h.tmp, 'made');
    const script = [
      'cat /ro/conf',
      'echo x > /ro/new 2>/dev/null && echo ro-wrote || echo ro-refused',
      'echo hi > /ens/f && echo ens-wrote',
      'dd if=/dev/zero of=/scratch/fill bs=1024 count=2048 2>/dev/null && echo tmpfs-unbounded || echo tmpfs-full',
      'echo tmpfs-used-$(du -k /scratch/fill | cut -f1)',
      'echo tmpfs-mode-$(stat -c %a /scratch)',
      idle(),
    ].join('; ');
    const mounts =
      `        - { source: ${ro}, target: /ro, readOnly: true }\n` +
      `        - { kind: bind, source: "${made}/\${CELL_NAME}/data", target: /ens, ensure: true, mode: "0750" }\n` +
      '        - { kind: tmpfs, target: /scratch, sizeBytes: 1048576, mode: "0700" }\n';
    await ok(['apply', '-f', '-'], cell('mounts', script, mounts));
    await waitLog('mounts', 'tmpfs-mode-');
    const out = await log('mounts');
    assert.match(out, 'config-line');
    assert.match(out, 'ro-refused');
    assert.not.match(out, 'ro-wrote');
    assert.not.ok(fs.existsSync(path.join(ro, 'new')));
    assert.match(out, 'ens-wrote');
    const ensured = path.join(made, 'mounts', 'data');
    assert.is(fs.statSync(ensured).mode & 0o7777, 0o750, 'ensure made the source with the mode asked for');
    assert.is(fs.readFileSync(path.join(ensured, 'f'), 'utf8'), 'hi\n');
    assert.match(out, 'tmpfs-full');
    const used = Number(/tmpfs-used-(\d+)/.exec(out)?.[1]);
    assert.ok(used > 900 && used <= 1024, `the tmpfs stops at its 1 MiB (the file has ${used} KiB)`);
    assert.match(out, 'tmpfs-mode-700');
    await ok(['delete', 'cell', 'mounts', ...SCOPE]);
  });

  test('bad volumes are refused with their field and change nothing on disk', async () => {
    const before = tree(h.runPath);
    const cases: [string, string, RegExp][] = [
      [`        - { source: ${path.join(h.tmp, 'absent')}, target: /x }\n`, 'spec.containers[0].volumes[0].source', /does not exist/],
      [`        - { source: ${h.runPath}/main, target: /x }\n`, 'spec.containers[0].volumes[0].source', /under the run path/],
      [`        - { source: ${h.tmp}/ro-src/../.., target: /x }\n`, 'spec.containers[0].volumes[0].source', /contains the run path/],
      ['        - { kind: tmpfs, target: /x/../sys }\n', 'spec.containers[0].volumes[0].target', /may not be \/sys/],
      [
        '        - { kind: volume, volumeRef: { name: fresh }, target: /a }\n        - { kind: tmpfs, target: / }\n',
        'spec.containers[0].volumes[1].target',
        /may not be \//,
      ],
    ];
    for (const [mounts, field, why] of cases) {
      const r = await inProcess(['apply', '-f', '-'], cell('bad', 'true', mounts, 'fresh'));
      assert.is(r.code, 1, mounts);
      assert.match(r.stderr, 'document 1 (Cell "bad")');
      assert.match(r.stderr, field);
      assert.match(r.stderr, why);
    }
    assert.equal(tree(h.runPath), before, 'no realm, volume or cell was written');
  });

  test('every spec kukeon generated for these mounts validates against the OCI runtime-spec schema', async () => {
    const dir = ociSchemaDir();
    if (!dir) {
      if (process.env.KUKEON_E2E === 'required')
        assert.unreachable("KUKEON_OCI_SCHEMA_DIR is not set (.ci/run extracts Debian's golang-github-opencontainers-specs-dev)");
      console.log('SKIP OCI schema check: KUKEON_OCI_SCHEMA_DIR is not set');
      return;
    }
    const validate = ociSpecValidator(dir);
    await ok(
      ['apply', '-f', '-'],
      cell(
        'schema',
        idle(),
        `        - { kind: volume, source: s, target: /v, readOnly: true }\n        - { kind: tmpfs, target: /t, sizeBytes: 4096 }\n        - { source: ${h.tmp}/ro-src, target: /h }\n`,
      ),
    );
    const containers = await client.containers.list('kukeon-main', ['labels."kukeon.io/cell"==schema']);
    assert.ok(containers.length >= 2, `root and workload (${containers.length})`);
    for (const c of containers) {
      const spec = JSON.parse(Buffer.from(c.spec!.value as Uint8Array).toString('utf8'));
      assert.equal(validate(spec), [], `${c.id}: ${validate(spec).join('; ')}`);
    }
    const workload = containers
      .map((c) => JSON.parse(Buffer.from(c.spec!.value as Uint8Array).toString('utf8')))
      .find((s) => s.process.args[0] === 'sh');
    const dest = (d: string) => workload.mounts.find((m: { destination: string }) => m.destination === d);
    assert.equal(dest('/t').options, ['nosuid', 'nodev', 'mode=1777', 'size=4096', 'rw']);
    assert.ok(dest('/v').options.includes('ro'));
    await ok(['delete', 'cell', 'schema', ...SCOPE]);
    await ok(['delete', 'volume', 's', '--realm', 'main']);
  });
});

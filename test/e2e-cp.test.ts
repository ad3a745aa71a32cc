// kuke cp on the private containerd with the busybox image, in-process and through kukeond: a directory with
// modes 0755/0640/0600/0750/0700, owners, a symlink (relative and absolute) and nested directories goes into a
// running cell and back; a single file goes into an existing directory and to a new name, both ways; a tar
// stream goes out on stdout and in from stdin; a missing path is a clear error with exit code 1 and writes
// nothing; a stopped cell is refused with what to do. What landed in the container is read with `ctr tasks exec` (not through kuke), so the copy is not
// checked by itself.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import * as assert from 'uvu/assert';
import { E2EHarness, KUKE_BIN } from './e2e/harness';
import { idle } from './e2e/idle';
import type { RunResult } from './e2e/harness';
import { e2eSuite } from './e2e/requirements';
import { BUSYBOX_IMAGE_REF, buildBusyboxOciFile } from './helpers/busybox-oci';
import type { Daemon } from './helpers/daemon';
import { startDaemon } from './helpers/daemon';
import { writeTar } from './helpers/tar-writer';

const cellManifest = (realm: string) => `apiVersion: v1beta1
kind: Cell
metadata: { name: box }
spec:
  realmId: ${realm}
  spaceId: blog
  stackId: wp
  containers:
    - { id: app, image: "${BUSYBOX_IMAGE_REF}", command: sh, args: ["-c", "${idle(600)}"] }
`;

/** The command exited 0; else the failure says what it printed. */
function ok(r: RunResult, what: string): RunResult {
  assert.is(r.code, 0, `${what} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r;
}

/** The tree the round trips copy: every mode the issue names, owners, links and nesting. */
function makeTree(dir: string): void {
  fs.mkdirSync(path.join(dir, 'sub', 'deeper'), { recursive: true });
  const files: [string, string, number, number, number][] = [
    ['run.sh', '#!/bin/sh\necho hi\n', 0o755, 0, 0],
    ['shared.txt', 'group may read\n', 0o640, 1234, 2345],
    ['secret', 'only me\n', 0o600, 4321, 5432],
    ['sub/deeper/leaf', 'leaf\n', 0o644, 0, 0],
  ];
  for (const [rel, text, mode, uid, gid] of files) {
    fs.writeFileSync(path.join(dir, rel), text);
    fs.chmodSync(path.join(dir, rel), mode);
    fs.chownSync(path.join(dir, rel), uid, gid);
  }
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(path.join(dir, 'sub'), 0o750);
  fs.chownSync(path.join(dir, 'sub'), 1234, 2345);
  fs.chmodSync(path.join(dir, 'sub', 'deeper'), 0o700);
  fs.symlinkSync('../run.sh', path.join(dir, 'sub', 'link'));
  fs.symlinkSync('/etc/hostname', path.join(dir, 'abs-link'));
}

/** `stat -c '%n %a %u:%g'` of the tree as the container sees it (a symlink's own owner is the container tar's). */
const TREE_IN_CONTAINER = [
  '. 755 0:0',
  './abs-link -> /etc/hostname',
  './run.sh 755 0:0',
  './secret 600 4321:5432',
  './shared.txt 640 1234:2345',
  './sub 750 1234:2345',
  './sub/deeper 700 0:0',
  './sub/deeper/leaf 644 0:0',
  './sub/link -> ../run.sh',
];

/** Each path's type, mode, owner, and content or target (symlinks without owner: busybox's tar gives them none). */
function describeTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    const abs = path.join(dir, rel);
    const st = fs.lstatSync(abs);
    if (st.isSymbolicLink()) out[rel] = `link -> ${fs.readlinkSync(abs)}`;
    else if (st.isDirectory()) {
      out[rel || '.'] = `dir ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      for (const name of fs.readdirSync(abs).sort()) walk(path.join(rel, name));
    } else out[rel] = `file ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${fs.readFileSync(abs, 'utf8').trim()}`;
  };
  walk('');
  return out;
}

/** The entries of a tar: name, mode, owner (or link target). */
async function tarListing(archive: Buffer): Promise<string[]> {
  const names: string[] = [];
  const parser = new Parser({
    onReadEntry: (e: ReadEntry) => {
      names.push(e.type === 'SymbolicLink' ? `${e.path} -> ${e.linkpath}` : `${e.path} ${(e.mode ?? 0).toString(8)} ${e.uid}:${e.gid}`);
      e.resume();
    },
  });
  await new Promise<void>((resolve, reject) => {
    parser.on('error', reject);
    parser.on('end', () => resolve());
    parser.end(archive);
  });
  return names.sort();
}

e2eSuite('kuke cp on containerd, in-process and through kukeond', (test) => {
  let h: E2EHarness;
  let archive: string;
  let daemon: Daemon | undefined;
  const daemonSocket = () => path.join(h.tmp, 'd', 'kukeond.sock');
  const inProcess = (args: string[], input?: string | Buffer) => h.kuke(args, { input, timeoutMs: 120_000 });
  const viaDaemon = (args: string[], input?: string | Buffer) =>
    h.kuke(args, {
      input,
      timeoutMs: 120_000,
      env: { KUKEON_NO_DAEMON: undefined, KUKEON_RUN_PATH: undefined, KUKEON_SOCKET: daemonSocket() },
    });

  /** A shell script in the cell's container, run by ctr (containerd's own client, not kuke). */
  const inContainer = async (realm: string, script: string): Promise<string> => {
    const r = await h.ctr([
      '-n',
      `kukeon-${realm}`,
      'tasks',
      'exec',
      '--exec-id',
      `t${randomBytes(3).toString('hex')}`,
      'blog_wp_box_app',
      'sh',
      '-c',
      script,
    ]);
    assert.is(r.code, 0, `ctr exec ${script}: ${r.stderr}`);
    return r.stdout;
  };
  const statTree = (realm: string, dir: string) =>
    inContainer(
      realm,
      `cd ${dir} && find . | sort | while read -r f; do if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"; else stat -c '%n %a %u:%g' "$f"; fi; done`,
    );

  /** The whole scenario through one transport, in its own realm. */
  const scenario = async (run: typeof inProcess, realm: string, env: Record<string, string | undefined> = {}) => {
    const S = ['--realm', realm, '--space', 'blog', '--stack', 'wp'];
    const local = path.join(h.tmp, `local-${realm}`);
    fs.mkdirSync(local);
    makeTree(path.join(local, 'tree'));
    ok(await run(['create', 'realm', realm]), 'create realm');
    ok(await run(['image', 'load', archive, '--realm', realm]), 'image load');
    ok(await run(['apply', '-f', '-'], cellManifest(realm)), 'apply');

    // a directory in: into an existing directory under its own name, and to a new name
    ok(await run(['cp', path.join(local, 'tree'), 'box:/tmp', ...S]), 'cp tree box:/tmp');
    assert.equal((await statTree(realm, '/tmp/tree')).trim().split('\n'), TREE_IN_CONTAINER);
    ok(await run(['cp', path.join(local, 'tree'), 'box:/tmp/copy', ...S]), 'cp tree box:/tmp/copy');
    assert.equal((await statTree(realm, '/tmp/copy')).trim().split('\n'), TREE_IN_CONTAINER);

    // and out: to a new name, and into an existing directory
    ok(await run(['cp', 'box:/tmp/copy', path.join(local, 'back'), ...S]), 'cp box:/tmp/copy back');
    assert.equal(describeTree(path.join(local, 'back')), describeTree(path.join(local, 'tree')));
    fs.mkdirSync(path.join(local, 'into'));
    ok(await run(['cp', 'box:/tmp/tree/', path.join(local, 'into'), ...S]), 'cp box:/tmp/tree/ into');
    assert.equal(describeTree(path.join(local, 'into', 'tree')), describeTree(path.join(local, 'tree')));

    // a single file: into an existing directory and to a new name, both ways
    fs.writeFileSync(path.join(local, 'note.txt'), 'hello\n');
    fs.chmodSync(path.join(local, 'note.txt'), 0o604);
    ok(await run(['cp', path.join(local, 'note.txt'), 'box:/etc/', ...S]), 'cp note.txt box:/etc/');
    ok(await run(['cp', path.join(local, 'note.txt'), 'box:etc/renamed.conf', ...S]), 'cp note.txt box:etc/renamed.conf');
    assert.is(await inContainer(realm, 'stat -c "%a %s" /etc/note.txt /etc/renamed.conf; cat /etc/renamed.conf'), '604 6\n604 6\nhello\n');
    fs.mkdirSync(path.join(local, 'out'));
    ok(await run(['cp', 'box:/etc/renamed.conf', path.join(local, 'out'), ...S]), 'cp box:/etc/renamed.conf out');
    ok(await run(['cp', 'box:/etc/note.txt', path.join(local, 'out', 'new-name.txt'), ...S]), 'cp box:/etc/note.txt out/new-name.txt');
    assert.equal(fs.readdirSync(path.join(local, 'out')).sort(), ['new-name.txt', 'renamed.conf']);
    for (const f of ['new-name.txt', 'renamed.conf']) {
      assert.is(fs.readFileSync(path.join(local, 'out', f), 'utf8'), 'hello\n');
      assert.is(fs.statSync(path.join(local, 'out', f)).mode & 0o7777, 0o604);
    }

    // a missing path: a clear error, exit code 1, nothing written on either side
    const missing = await run(['cp', 'box:/no/such', path.join(local, 'missing'), ...S]);
    assert.is(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, `cell/${realm}/blog/wp/box:/no/such: no such file or directory in the container [KUKEON_E_NOT_FOUND]`);
    assert.not.ok(fs.existsSync(path.join(local, 'missing')));
    const noParent = await run(['cp', path.join(local, 'note.txt'), 'box:/no/such/file', ...S]);
    assert.is(noParent.code, 1, noParent.stderr);
    assert.match(noParent.stderr, 'no such directory /no/such in the container [KUKEON_E_NOT_FOUND]');
    const noSource = await run(['cp', path.join(local, 'nothing-here'), 'box:/tmp', ...S]);
    assert.is(noSource.code, 1, noSource.stderr);
    assert.match(noSource.stderr, 'nothing-here: no such file or directory [KUKEON_E_NOT_FOUND]');

    // - : the tree as a tar on stdout (ASCII only, so the harness's text stdout is the bytes), and a tar from stdin
    const out = ok(await run(['cp', 'box:/tmp/tree', '-', ...S]), 'cp box:/tmp/tree -');
    assert.equal(await tarListing(Buffer.from(out.stdout, 'utf8')), [
      'tree/ 755 0:0',
      'tree/abs-link -> /etc/hostname',
      'tree/run.sh 755 0:0',
      'tree/secret 600 4321:5432',
      'tree/shared.txt 640 1234:2345',
      'tree/sub/ 750 1234:2345',
      'tree/sub/deeper/ 700 0:0',
      'tree/sub/deeper/leaf 644 0:0',
      'tree/sub/link -> ../run.sh',
    ]);
    const input = writeTar([
      { name: 'in/', type: 'directory', mode: 0o711 },
      { name: 'in/b.txt', data: 'bee\n', mode: 0o640, uid: 77, gid: 88 },
    ]);
    ok(await run(['cp', '-', 'box:/tmp', ...S], input), 'cp - box:/tmp');
    assert.is(
      await inContainer(realm, 'stat -c "%n %a %u:%g" /tmp/in /tmp/in/b.txt; cat /tmp/in/b.txt'),
      '/tmp/in 711 0:0\n/tmp/in/b.txt 640 77:88\nbee\n',
    );

    // 64 MiB out to a reader that starts late: all of it arrives (the session does not end with output held back)
    const sum = (await inContainer(realm, 'dd if=/dev/urandom of=/tmp/big bs=1M count=64 2>/dev/null && sha256sum /tmp/big')).split(' ')[0];
    const kuke = `${process.execPath} ${KUKE_BIN} cp box:/tmp/big - ${S.join(' ')}`;
    const piped = await h.exec('bash', ['-c', `set -o pipefail; ${kuke} | (sleep 4; cat) | tar -xOf - big | sha256sum`], {
      env: { ...h.env(), ...env },
      timeoutMs: 120_000,
    });
    assert.is(piped.code, 0, piped.stderr);
    assert.is(piped.stdout.split(' ')[0], sum, `the 64 MiB file arrived whole through a slow reader: ${piped.stderr}`);

    // a stopped cell: the copy runs in the container, so it says to start it
    ok(await run(['stop', 'box', ...S, '--timeout', '0']), 'stop box');
    const stopped = await run(['cp', 'box:/etc/hostname', path.join(local, 'hostname'), ...S]);
    assert.is(stopped.code, 1, stopped.stderr);
    assert.match(stopped.stderr, /is not running.*start the cell first.*\[KUKEON_E_STATE\]/);
    assert.not.ok(fs.existsSync(path.join(local, 'hostname')));
  };

  test.before(async () => {
    h = await E2EHarness.start({ name: 'cp' });
    archive = await buildBusyboxOciFile(h.tmp);
  });

  test.after(async () => {
    await daemon?.kill();
    const diff = await h?.stop();
    assert.equal(diff, [], `the host changed: ${diff?.join('; ')}`);
  });

  test('in-process: a directory, single files and tar streams in and out, owners and modes kept; a missing path fails clearly', async () => {
    await scenario(inProcess, 'cpa');
  });

  test('through kukeond: the same', async () => {
    daemon = await startDaemon({ socket: daemonSocket(), runPath: path.join(h.tmp, 'daemon-state'), config: h.configFile });
    await scenario(viaDaemon, 'cpd', { KUKEON_NO_DAEMON: undefined, KUKEON_RUN_PATH: undefined, KUKEON_SOCKET: daemonSocket() });
  });
});

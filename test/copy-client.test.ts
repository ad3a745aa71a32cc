// kuke cp's client logic (src/cli/copy): docker cp's path rules, the rebase of tar entries, and whole copies in
// both directions against a stand-in container: a chroot holding Debian's static busybox (its sh and tar, the
// ones the e2e busybox image has), entered by a fake ControllerApi.exec as the runtime's exec would run the
// command. The real exec, in-process and through kukeond, is covered by test/e2e-cp.test.ts. A hostile archive
// from the "container" must not write outside the local destination.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { list } from 'tar';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ControllerApi, ExecRequest, ExecResult, SessionIO } from '../sdk';
import { KukeonError } from '../sdk';
import { parseCopyArg } from '../src/cli/copy/copy-arg';
import { cellPath, localPath } from '../src/cli/copy/copy-path';
import { copyFromCell } from '../src/cli/copy/copy-from-cell';
import { copyToCell } from '../src/cli/copy/copy-to-cell';
import { entryName, rebaseName, topName } from '../src/cli/copy/tar-names';
import { tmpDir } from './helpers/tmp';
import { writeTar } from './helpers/tar-writer';

const BUSYBOX = '/bin/busybox';
const CHROOT = '/usr/sbin/chroot';
const DASH = '/bin/dash';
const canChroot = process.getuid?.() === 0 && fs.existsSync(BUSYBOX) && fs.existsSync(CHROOT) && fs.existsSync(DASH);
const skip = (name: string) => console.log(`  SKIP ${name}: needs root (chroot), ${BUSYBOX} and ${DASH}`);

const ref = { kind: 'Cell' as const, path: ['default', 'default', 'default', 'web'] };
const target = { ref };

/** A container root: busybox's sh and tar, or (without tar) Debian's dash and the libraries it loads. */
function containerRoot(withTar = true): string {
  const root = tmpDir('kukeon-cp-root-');
  fs.mkdirSync(path.join(root, 'bin'));
  if (withTar) {
    fs.copyFileSync(BUSYBOX, path.join(root, 'bin', 'busybox'));
    fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
    for (const applet of ['sh', 'tar']) fs.symlinkSync('busybox', path.join(root, 'bin', applet));
  } else {
    // busybox's sh runs its own tar applet even without a link to it: an image without tar needs another shell
    fs.copyFileSync(DASH, path.join(root, 'bin', 'sh'));
    fs.chmodSync(path.join(root, 'bin', 'sh'), 0o755);
    for (const lib of execFileSync('ldd', [DASH], { encoding: 'utf8' }).matchAll(/(\/\S+\.so[.\d]*)/g)) {
      fs.mkdirSync(path.join(root, path.dirname(lib[1])), { recursive: true });
      fs.copyFileSync(lib[1], path.join(root, lib[1]));
    }
  }
  // every container has /dev/null (the OCI runtime makes it)
  fs.mkdirSync(path.join(root, 'dev'));
  execFileSync('mknod', ['-m', '666', path.join(root, 'dev', 'null'), 'c', '1', '3']);
  return root;
}

/** A ControllerApi whose exec runs the command in `root` (chroot, uid 0), relaying stdio as the session API does. */
function fakeApi(root: string, image = 'docker.io/kukeon/busybox:test', calls: ExecRequest[] = []): ControllerApi {
  const exec = (req: ExecRequest, io: SessionIO, opts?: { signal?: AbortSignal }): Promise<ExecResult> => {
    calls.push(req);
    assert.is(req.user, '0', 'kuke cp runs as root in the container');
    const child = spawn(CHROOT, [root, ...req.command], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: '/bin' } });
    const onAbort = () => child.kill('SIGKILL');
    opts?.signal?.addEventListener('abort', onAbort);
    child.stdin.on('error', () => undefined);
    if (req.stdin && io.input) {
      void (async () => {
        for await (const item of io.input as AsyncIterable<{ stdin?: Uint8Array; eof?: true }>) {
          if (item.stdin && !child.stdin.write(item.stdin)) await new Promise((r) => child.stdin.once('drain', r));
          if (item.eof) child.stdin.end();
        }
      })();
    } else child.stdin.end();
    const relay = (stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr') =>
      (async () => {
        for await (const data of stream) await io.output({ stream: name, data: data as Buffer });
      })();
    const relayed = Promise.all([relay(child.stdout, 'stdout'), relay(child.stderr, 'stderr')]);
    return new Promise((resolve) =>
      child.on('close', async (code, signal) => {
        await relayed.catch(() => undefined);
        opts?.signal?.removeEventListener('abort', onAbort);
        resolve(signal ? { exitCode: 137, signal } : { exitCode: code ?? 1 });
      }),
    );
  };
  const get = async () => [
    { apiVersion: 'v1beta1', kind: 'Cell', metadata: { name: 'web' }, spec: { containers: [{ id: 'app', image }] } },
  ];
  return { exec, get } as unknown as ControllerApi;
}

/** A tree with the modes (0664 and 04755 too), owners, a symlink (relative and absolute) and nested directories the round trips check. */
function makeTree(dir: string): void {
  fs.mkdirSync(path.join(dir, 'sub', 'deeper'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'run.sh'), '#!/bin/sh\necho hi\n');
  fs.writeFileSync(path.join(dir, 'shared.txt'), 'group may read\n');
  fs.writeFileSync(path.join(dir, 'sub', 'secret'), 'only me\n');
  fs.writeFileSync(path.join(dir, 'sub', 'deeper', 'leaf'), 'leaf\n');
  fs.writeFileSync(path.join(dir, 'team.txt'), 'the group writes\n');
  fs.writeFileSync(path.join(dir, 'sub', 'tool'), 'setuid\n');
  fs.symlinkSync('../run.sh', path.join(dir, 'sub', 'link'));
  fs.linkSync(path.join(dir, 'shared.txt'), path.join(dir, 'sub', 'hard'));
  fs.utimesSync(path.join(dir, 'sub', 'deeper', 'leaf'), 978307200, 978307200);
  fs.symlinkSync('/etc/hostname', path.join(dir, 'abs-link'));
  fs.chmodSync(path.join(dir, 'run.sh'), 0o755);
  fs.chmodSync(path.join(dir, 'shared.txt'), 0o640);
  fs.chmodSync(path.join(dir, 'sub', 'secret'), 0o600);
  fs.chmodSync(path.join(dir, 'sub', 'deeper'), 0o750);
  fs.chownSync(path.join(dir, 'shared.txt'), 1234, 2345);
  fs.chownSync(path.join(dir, 'sub', 'secret'), 4321, 5432);
  fs.chownSync(path.join(dir, 'sub', 'tool'), 1234, 2345);
  // modes a umask would change, and setuid (cleared by a chown)
  fs.chmodSync(path.join(dir, 'team.txt'), 0o664);
  fs.chmodSync(path.join(dir, 'sub', 'tool'), 0o4755);
  fs.lchownSync(path.join(dir, 'sub', 'link'), 1234, 2345);
}

/** What the round trips compare: each path's type, mode, owner, and content or target; a file's mtime and hard links. */
function describeTree(dir: string, linkOwners = true): Record<string, string> {
  const out: Record<string, string> = {};
  const inodes = new Map<number, string>();
  const walk = (rel: string) => {
    const abs = path.join(dir, rel);
    const st = fs.lstatSync(abs);
    const owner = `${st.uid}:${st.gid}`;
    if (st.isSymbolicLink()) out[rel] = `link -> ${fs.readlinkSync(abs)}${linkOwners ? ` ${owner}` : ''}`;
    else if (st.isDirectory()) {
      out[rel || '.'] = `dir ${(st.mode & 0o7777).toString(8)} ${owner}`;
      for (const name of fs.readdirSync(abs).sort()) walk(path.join(rel, name));
    } else {
      const first = inodes.get(st.ino) ?? rel;
      inodes.set(st.ino, first);
      const mtime = Math.floor(st.mtimeMs / 1000);
      out[rel] =
        `file ${(st.mode & 0o7777).toString(8)} ${owner} ${fs.readFileSync(abs, 'utf8').trim()} mtime ${mtime}${first === rel ? '' : ` = ${first}`}`;
    }
  };
  walk('');
  return out;
}

async function rejects(p: Promise<unknown>, code: string, pattern: RegExp): Promise<KukeonError> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, KukeonError);
    assert.is((err as KukeonError).code, code, (err as Error).message);
    assert.match((err as Error).message, pattern);
    return err as KukeonError;
  }
  throw new Error(`expected ${code}`);
}

test('arguments: CELL:PATH, a local path (with a colon when it starts with / or .), and - for a tar stream', () => {
  assert.equal(parseCopyArg('web:/etc/nginx'), { kind: 'cell', cell: 'web', path: '/etc/nginx' });
  assert.equal(parseCopyArg('web:'), { kind: 'cell', cell: 'web', path: '' });
  assert.equal(parseCopyArg('notes.txt'), { kind: 'local', path: 'notes.txt' });
  assert.equal(parseCopyArg('./a:b'), { kind: 'local', path: './a:b' });
  assert.equal(parseCopyArg('/tmp/a:b'), { kind: 'local', path: '/tmp/a:b' });
  assert.equal(parseCopyArg('-'), { kind: 'stream' });
});

test("paths: a trailing / asserts a directory, /. copies its content, a cell's relative path starts at its root", () => {
  assert.equal(cellPath('etc/nginx'), {
    given: 'etc/nginx',
    clean: '/etc/nginx',
    assertDir: false,
    contents: false,
    base: 'nginx',
    dir: '/etc',
  });
  assert.equal(cellPath('/etc/nginx/'), {
    given: '/etc/nginx/',
    clean: '/etc/nginx',
    assertDir: true,
    contents: false,
    base: 'nginx',
    dir: '/etc',
  });
  assert.equal(cellPath('/etc/nginx/.'), {
    given: '/etc/nginx/.',
    clean: '/etc/nginx',
    assertDir: true,
    contents: true,
    base: 'nginx',
    dir: '/etc',
  });
  assert.equal(cellPath('/'), { given: '/', clean: '/', assertDir: true, contents: true, base: '.', dir: '/' });
  assert.equal(cellPath('/a/../b'), { given: '/a/../b', clean: '/b', assertDir: false, contents: false, base: 'b', dir: '/' });
  assert.equal(localPath('out/', '/home/u'), {
    given: 'out/',
    clean: '/home/u/out',
    assertDir: true,
    contents: false,
    base: 'out',
    dir: '/home/u',
  });
  assert.equal(localPath('.', '/home/u'), { given: '.', clean: '/home/u', assertDir: true, contents: true, base: 'u', dir: '/home' });
});

test('entry names: the top name is replaced, entries outside it are refused', () => {
  assert.is(entryName('./a/b/'), 'a/b');
  assert.is(entryName('./'), '');
  assert.is(topName('./'), '.');
  assert.is(topName('conf/'), 'conf');
  assert.is(rebaseName('conf', 'conf', 'new'), 'new');
  assert.is(rebaseName('conf/a/b', 'conf', 'new'), 'new/a/b');
  assert.is(rebaseName('conf/a', 'conf', undefined), 'conf/a');
  assert.is(rebaseName('confx/a', 'conf', 'new'), undefined);
  assert.is(rebaseName('other', 'conf', 'new'), undefined);
  assert.is(rebaseName('', '.', 'new'), 'new');
  assert.is(rebaseName('a/b', '.', 'new'), 'new/a/b');
  assert.is(rebaseName('a/b', '.', undefined), 'a/b');
  assert.is(rebaseName('', '.', undefined), '');
});

test('a directory round trip: modes 0755/0640/0600/0750, owners, symlinks (relative and absolute) and nesting, both ways', async () => {
  if (!canChroot) return skip('round trip');
  const root = containerRoot();
  const api = fakeApi(root);
  const local = tmpDir('kukeon-cp-local-');
  makeTree(path.join(local, 'tree'));
  const want = describeTree(path.join(local, 'tree'));
  fs.mkdirSync(path.join(root, 'data'));

  // into an existing directory: under its own name. Busybox's tar does not give a symlink its owner (GNU tar
  // does): the container's side is compared without them, and gets them by hand for the way back.
  await copyToCell(api, target, { kind: 'local', path: localPath(path.join(local, 'tree')) }, cellPath('/data'));
  assert.equal(describeTree(path.join(root, 'data', 'tree'), false), describeTree(path.join(local, 'tree'), false));
  // to a new name
  await copyToCell(api, target, { kind: 'local', path: localPath(path.join(local, 'tree')) }, cellPath('data/renamed'));
  assert.equal(describeTree(path.join(root, 'data', 'renamed'), false), describeTree(path.join(local, 'tree'), false));
  for (const dir of ['tree', 'renamed']) fs.lchownSync(path.join(root, 'data', dir, 'sub', 'link'), 1234, 2345);

  // and back: to a new name, and into an existing directory
  await copyFromCell(api, target, cellPath('/data/renamed'), { kind: 'local', path: localPath(path.join(local, 'back')) });
  assert.equal(describeTree(path.join(local, 'back')), want);
  fs.mkdirSync(path.join(local, 'into'));
  await copyFromCell(api, target, cellPath('/data/tree/'), { kind: 'local', path: localPath(path.join(local, 'into')) });
  assert.equal(describeTree(path.join(local, 'into', 'tree')), want);
});

test("/. copies a directory's content; the destination directory keeps its own mode", async () => {
  if (!canChroot) return skip('content copy');
  const root = containerRoot();
  const api = fakeApi(root);
  const local = tmpDir('kukeon-cp-local-');
  makeTree(path.join(local, 'tree'));
  fs.mkdirSync(path.join(root, 'srv'), { mode: 0o711 });
  fs.chmodSync(path.join(root, 'srv'), 0o711);
  await copyToCell(api, target, { kind: 'local', path: localPath(`${path.join(local, 'tree')}/.`) }, cellPath('/srv'));
  assert.equal(fs.readdirSync(path.join(root, 'srv')).sort(), ['abs-link', 'run.sh', 'shared.txt', 'sub', 'team.txt']);
  assert.is(fs.statSync(path.join(root, 'srv')).mode & 0o7777, 0o711);

  fs.mkdirSync(path.join(local, 'dest'));
  fs.chmodSync(path.join(local, 'dest'), 0o700);
  await copyFromCell(api, target, cellPath('/srv/.'), { kind: 'local', path: localPath(path.join(local, 'dest')) });
  assert.equal(fs.readdirSync(path.join(local, 'dest')).sort(), ['abs-link', 'run.sh', 'shared.txt', 'sub', 'team.txt']);
  assert.is(fs.statSync(path.join(local, 'dest')).mode & 0o7777, 0o700);
  assert.is(fs.readFileSync(path.join(local, 'dest', 'sub', 'deeper', 'leaf'), 'utf8'), 'leaf\n');
});

test('a single file: into an existing directory, to a new name, over a file; both ways', async () => {
  if (!canChroot) return skip('single file');
  const root = containerRoot();
  const api = fakeApi(root);
  const local = tmpDir('kukeon-cp-local-');
  fs.writeFileSync(path.join(local, 'note.txt'), 'hello\n', { mode: 0o604 });
  fs.chmodSync(path.join(local, 'note.txt'), 0o604);
  fs.mkdirSync(path.join(root, 'etc'));
  await copyToCell(api, target, { kind: 'local', path: localPath(path.join(local, 'note.txt')) }, cellPath('/etc/'));
  assert.is(fs.readFileSync(path.join(root, 'etc', 'note.txt'), 'utf8'), 'hello\n');
  assert.is(fs.statSync(path.join(root, 'etc', 'note.txt')).mode & 0o7777, 0o604);
  await copyToCell(api, target, { kind: 'local', path: localPath(path.join(local, 'note.txt')) }, cellPath('/etc/other.conf'));
  assert.is(fs.readFileSync(path.join(root, 'etc', 'other.conf'), 'utf8'), 'hello\n');
  fs.writeFileSync(path.join(local, 'note.txt'), 'changed\n');
  await copyToCell(api, target, { kind: 'local', path: localPath(path.join(local, 'note.txt')) }, cellPath('/etc/other.conf'));
  assert.is(fs.readFileSync(path.join(root, 'etc', 'other.conf'), 'utf8'), 'changed\n');

  await copyFromCell(api, target, cellPath('/etc/other.conf'), { kind: 'local', path: localPath(local) });
  assert.is(fs.readFileSync(path.join(local, 'other.conf'), 'utf8'), 'changed\n');
  await copyFromCell(api, target, cellPath('/etc/note.txt'), { kind: 'local', path: localPath(path.join(local, 'renamed.txt')) });
  assert.is(fs.readFileSync(path.join(local, 'renamed.txt'), 'utf8'), 'hello\n');
  assert.is(fs.statSync(path.join(local, 'renamed.txt')).mode & 0o7777, 0o604);
  await copyFromCell(api, target, cellPath('/etc/note.txt'), { kind: 'local', path: localPath(path.join(local, 'note.txt')) });
  assert.is(fs.readFileSync(path.join(local, 'note.txt'), 'utf8'), 'hello\n');
});

test("docker's error conditions, each before anything is written", async () => {
  if (!canChroot) return skip('error conditions');
  const root = containerRoot();
  const api = fakeApi(root);
  const local = tmpDir('kukeon-cp-local-');
  fs.mkdirSync(path.join(root, 'dir'));
  fs.writeFileSync(path.join(root, 'file'), 'x');
  fs.writeFileSync(path.join(local, 'file'), 'local');
  fs.mkdirSync(path.join(local, 'dir'));
  const before = describeTree(local);
  const beforeRoot = describeTree(root);
  const to = (p: string) => ({ kind: 'local' as const, path: localPath(path.join(local, p)) });

  await rejects(
    copyFromCell(api, target, cellPath('/missing'), to('out')),
    'KUKEON_E_NOT_FOUND',
    /cell\/default\/default\/default\/web:\/missing: no such file or directory in the container/,
  );
  await rejects(copyFromCell(api, target, cellPath('/file/'), to('out')), 'KUKEON_E_COPY', /\/file\/: not a directory/);
  await rejects(copyFromCell(api, target, cellPath('/dir'), to('file')), 'KUKEON_E_COPY', /cannot copy a directory to a file/);
  await rejects(copyFromCell(api, target, cellPath('/file'), to('nodir/')), 'KUKEON_E_NOT_FOUND', /no such directory/);
  await rejects(copyFromCell(api, target, cellPath('/file'), to('no/such/parent')), 'KUKEON_E_NOT_FOUND', /no such directory/);
  await rejects(copyToCell(api, target, to('missing'), cellPath('/dir')), 'KUKEON_E_NOT_FOUND', /missing: no such file or directory/);
  await rejects(copyToCell(api, target, to('dir'), cellPath('/file')), 'KUKEON_E_COPY', /cannot copy a directory to a file/);
  await rejects(copyToCell(api, target, to('file'), cellPath('/nodir/')), 'KUKEON_E_NOT_FOUND', /no such directory/);
  await rejects(
    copyToCell(api, target, to('file'), cellPath('/no/such/parent')),
    'KUKEON_E_NOT_FOUND',
    /no such directory \/no\/such in the container/,
  );
  await rejects(copyToCell(api, target, to('file'), cellPath('/file/')), 'KUKEON_E_COPY', /not a directory in the container/);
  await rejects(
    copyToCell(api, target, { kind: 'stream', read: (async function* () {})() }, cellPath('/file')),
    'KUKEON_E_COPY',
    /unpacked into a directory/,
  );
  assert.equal(describeTree(local), before);
  assert.equal(describeTree(root), beforeRoot);
});

test('device nodes and FIFOs in a copy out are skipped and reported, not a failed copy', async () => {
  if (!canChroot) return skip('fifo');
  const root = containerRoot();
  fs.mkdirSync(path.join(root, 'run', 'app'), { recursive: true });
  fs.writeFileSync(path.join(root, 'run', 'app', 'pid'), '1\n');
  execFileSync('mkfifo', [path.join(root, 'run', 'app', 'ctl')]);
  const local = tmpDir('kukeon-cp-local-');
  const result = await copyFromCell(fakeApi(root), target, cellPath('/run/app'), {
    kind: 'local',
    path: localPath(path.join(local, 'app')),
  });
  assert.equal(result.unsupported, ['app/ctl']);
  assert.equal(fs.readdirSync(path.join(local, 'app')), ['pid']);
});

test('--container reaches every session of a copy, both ways; each runs as root', async () => {
  if (!canChroot) return skip('container');
  const root = containerRoot();
  const calls: ExecRequest[] = [];
  const api = fakeApi(root, undefined, calls);
  const local = tmpDir('kukeon-cp-local-');
  fs.writeFileSync(path.join(local, 'f'), 'x');
  const side = { ref, container: 'side' };
  await copyToCell(api, side, { kind: 'local', path: localPath(path.join(local, 'f')) }, cellPath('/f'));
  await copyFromCell(api, side, cellPath('/f'), { kind: 'local', path: localPath(path.join(local, 'g')) });
  assert.equal(
    calls.map((c) => [c.container, c.user, c.ref]),
    [
      ['side', '0', ref],
      ['side', '0', ref],
      ['side', '0', ref],
    ],
  );
  assert.is(fs.readFileSync(path.join(local, 'g'), 'utf8'), 'x');
});

test('an image without tar: the error names the container, the image and what kuke cp needs', async () => {
  if (!canChroot) return skip('no tar');
  const api = fakeApi(containerRoot(false), 'docker.io/library/distroless:1');
  const local = tmpDir('kukeon-cp-local-');
  const err = await rejects(
    copyFromCell(api, target, cellPath('/etc'), { kind: 'local', path: localPath(local) }),
    'KUKEON_E_COPY',
    /has no tar/,
  );
  assert.match(err.message, 'container app (image docker.io/library/distroless:1) has no tar');
  assert.match(err.message, 'kuke cp runs /bin/sh and tar inside the container');
  await rejects(
    copyToCell(api, target, { kind: 'local', path: localPath(local) }, cellPath('/tmp')),
    'KUKEON_E_COPY',
    /\(image docker.io\/library\/distroless:1\) has no tar/,
  );
});

test('- streams: the path as a tar on stdout, and a tar from stdin into a directory', async () => {
  if (!canChroot) return skip('streams');
  const root = containerRoot();
  const api = fakeApi(root);
  const local = tmpDir('kukeon-cp-local-');
  makeTree(path.join(root, 'data', 'tree'));
  const chunks: Buffer[] = [];
  await copyFromCell(api, target, cellPath('/data/tree'), { kind: 'stream', write: (c) => void chunks.push(Buffer.from(c)) });
  const names: string[] = [];
  fs.writeFileSync(path.join(local, 'out.tar'), Buffer.concat(chunks));
  await list({ file: path.join(local, 'out.tar'), onReadEntry: (e) => void names.push(e.path) });
  assert.equal(names.sort(), [
    'tree/',
    'tree/abs-link',
    'tree/run.sh',
    'tree/shared.txt',
    'tree/sub/',
    'tree/sub/deeper/',
    'tree/sub/deeper/leaf',
    'tree/sub/hard',
    'tree/sub/link',
    'tree/sub/secret',
    'tree/sub/tool',
    'tree/team.txt',
  ]);

  // a consumer that fails ends the session, and its error is the one reported
  let calls = 0;
  const failing = () => {
    calls++;
    throw new KukeonError('KUKEON_E_COPY', 'stdout: no space left');
  };
  await rejects(copyFromCell(api, target, cellPath('/data/tree'), { kind: 'stream', write: failing }), 'KUKEON_E_COPY', /no space left/);
  assert.is(calls, 1);

  fs.mkdirSync(path.join(root, 'in'));
  const archive = writeTar([
    { name: 'a/', type: 'directory', mode: 0o755 },
    { name: 'a/b.txt', data: 'bee\n', mode: 0o640, uid: 77, gid: 88 },
  ]);
  await copyToCell(
    api,
    target,
    {
      kind: 'stream',
      read: (async function* () {
        yield archive;
      })(),
    },
    cellPath('/in'),
  );
  const st = fs.statSync(path.join(root, 'in', 'a', 'b.txt'));
  assert.equal([st.mode & 0o7777, st.uid, st.gid], [0o640, 77, 88]);
});

/** A fake container that answers every exec with this archive on stdout. */
function hostileApi(archive: Buffer): ControllerApi {
  return {
    exec: async (_req: ExecRequest, io: SessionIO) => {
      await io.output({ stream: 'stdout', data: archive });
      return { exitCode: 0 };
    },
  } as unknown as ControllerApi;
}

test('a hostile archive from the container writes nothing outside the local destination', async () => {
  const base = tmpDir('kukeon-cp-hostile-');
  const outside = path.join(base, 'outside');
  const dest = path.join(base, 'dest');
  fs.mkdirSync(outside);
  fs.mkdirSync(dest);
  fs.chmodSync(outside, 0o750);
  const outsideMode = 0o750;
  const archive = writeTar([
    { name: 'x/', type: 'directory', mode: 0o755 },
    { name: 'x/ok.txt', data: 'fine\n', mode: 0o644 },
    { name: 'x/../../outside/dotdot', data: 'escaped\n' },
    { name: '/abs-evil', data: 'escaped\n' },
    { name: 'other/evil', data: 'not under the copied path\n' },
    { name: 'x/link', type: 'symlink', linkname: outside },
    { name: 'x/link/through', data: 'through a symlink\n' },
    { name: 'x/up', type: 'symlink', linkname: '../../outside' },
    { name: 'x/up/through', data: 'through a symlink\n' },
    { name: 'x/link', type: 'file', data: 'replaced\n', mode: 0o777 },
  ]);
  const api = hostileApi(archive);
  let failure: unknown;
  try {
    await copyFromCell(api, target, cellPath('/x'), { kind: 'local', path: localPath(dest) });
  } catch (err) {
    failure = err;
  }
  assert.equal(fs.readdirSync(outside), [], 'nothing lands outside');
  assert.equal(fs.readdirSync(base).sort(), ['dest', 'outside']);
  assert.equal(fs.readdirSync(path.join(dest)).sort(), ['x']);
  assert.is(fs.readFileSync(path.join(dest, 'x', 'ok.txt'), 'utf8'), 'fine\n');
  // the entries through a symlink were refused and said so
  assert.instance(failure, KukeonError);
  assert.match((failure as Error).message, /not written/);
  // a later entry replaced the symlink with a file: its mode is set on the file, never through a link
  assert.is(fs.lstatSync(path.join(dest, 'x', 'link')).isFile(), true);
  assert.is(fs.statSync(outside).mode & 0o7777, outsideMode, 'the mode of what a link pointed to is untouched');
  // a symlink pointing out is kept as a symlink (as docker cp does), not followed
  assert.is(fs.readlinkSync(path.join(dest, 'x', 'up')), '../../outside');

  // an archive whose first entry climbs out is refused before anything is written
  const dest2 = path.join(base, 'dest2');
  fs.mkdirSync(dest2);
  await rejects(
    copyFromCell(hostileApi(writeTar([{ name: '../evil', data: 'x' }])), target, cellPath('/evil'), {
      kind: 'local',
      path: localPath(dest2),
    }),
    'KUKEON_E_COPY',
    /first entry is "..\/evil"/,
  );
  assert.equal(fs.readdirSync(dest2), []);
  assert.equal(fs.readdirSync(outside), []);
});

test('an archive cut short (the session ended before all of it came) is an error, not a short copy', async () => {
  const whole = writeTar([
    { name: 'x/', type: 'directory', mode: 0o755 },
    { name: 'x/a', data: 'a'.repeat(2000), mode: 0o644 },
    { name: 'x/b', data: 'b', mode: 0o644 },
  ]);
  // at a header boundary (after x/ and x/a: 512 + 512 + 2048), and in the middle of x/a's content
  for (const cut of [3072, 1500]) {
    const api = hostileApi(whole.subarray(0, cut));
    const dest = tmpDir('kukeon-cp-cut-');
    await rejects(
      copyFromCell(api, target, cellPath('/x'), { kind: 'local', path: localPath(dest) }),
      'KUKEON_E_COPY',
      /ended before its end|not written/,
    );
    await rejects(
      copyFromCell(api, target, cellPath('/x'), { kind: 'stream', write: () => undefined }),
      'KUKEON_E_COPY',
      /ended before its end/,
    );
  }
  const dest = tmpDir('kukeon-cp-cut-');
  await copyFromCell(hostileApi(whole), target, cellPath('/x'), { kind: 'local', path: localPath(dest) });
  await copyFromCell(hostileApi(whole), target, cellPath('/x'), { kind: 'stream', write: () => undefined });
  assert.is(fs.readFileSync(path.join(dest, 'x', 'b'), 'utf8'), 'b');
});

test.run();

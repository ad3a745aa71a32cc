// Docker's copy-up of an image directory into an empty named volume: the layers replayed with whiteouts,
// owners, modes, times, symlinks and hard links kept, and nothing written through a symlink or for a
// directory the image does not have as one.

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { imageDirTree } from '../plugins/containerd/image-dir-tree';
import type { TarEntryType, TarStreamEntry } from '../plugins/containerd/image/tar-reader';
import { copyUp, isEmptyDir } from '../plugins/containerd/volume-copy-up';
import { tmpDir } from './helpers/tmp';

type Spec = [name: string, type: TarEntryType, extra?: { mode?: number; uid?: number; gid?: number; data?: string; link?: string }];

function entry([name, type, x = {}]: Spec): TarStreamEntry {
  const data = Buffer.from(x.data ?? '');
  return {
    name,
    type,
    size: data.length,
    mode: x.mode ?? (type === 'directory' ? 0o755 : 0o644),
    uid: x.uid ?? 0,
    gid: x.gid ?? 0,
    mtime: 1_700_000_000,
    linkname: x.link ?? '',
    async *body() {
      yield data;
    },
    buffer: async () => data,
  };
}

async function* layers(...ls: Spec[][]): AsyncGenerator<AsyncIterable<TarStreamEntry>> {
  for (const l of ls)
    yield (async function* () {
      for (const s of l) yield entry(s);
    })();
}

const BASE: Spec[] = [
  ['var', 'directory'],
  ['var/lib', 'directory'],
  ['var/lib/db', 'directory', { mode: 0o700, uid: 999, gid: 998 }],
  ['var/lib/db/conf', 'file', { mode: 0o640, uid: 999, gid: 998, data: 'listen=*\n' }],
  ['var/lib/db/old', 'file', { data: 'gone later' }],
  ['var/lib/db/sub', 'directory', { mode: 0o750, uid: 999, gid: 998 }],
  ['var/lib/db/sub/x', 'file', { data: 'x' }],
  ['var/lib/db/link', 'symlink', { link: 'conf' }],
  ['var/lib/db/hard', 'hardlink', { link: 'var/lib/db/conf' }],
  ['var/lib/other', 'file', { data: 'not copied' }],
];

test('the directory as the layers leave it: whiteouts, owners, modes, times, symlinks, hard links', async () => {
  const tree = await imageDirTree(
    layers(BASE, [
      ['var/lib/db/.wh.old', 'file'],
      ['var/lib/db/new', 'file', { data: 'n' }],
    ]),
    '/var/lib/db',
    1 << 20,
  );
  assert.ok('nodes' in tree, JSON.stringify(tree));
  if (!('nodes' in tree)) return;
  assert.equal([...tree.nodes.keys()].sort(), ['conf', 'hard', 'link', 'new', 'sub', 'sub/x']);
  const dest = path.join(tmpDir(), 'vol');
  fs.mkdirSync(dest);
  assert.ok(isEmptyDir(dest));
  assert.is(copyUp(tree, dest), 6);
  const st = (p: string) => fs.lstatSync(path.join(dest, p));
  assert.equal(
    [st('.').mode & 0o7777, st('.').uid, st('.').gid],
    [0o700, 999, 998],
    "the volume takes the image directory's owner and mode",
  );
  assert.equal([st('conf').mode & 0o7777, st('conf').uid, st('conf').gid], [0o640, 999, 998]);
  assert.is(fs.readFileSync(path.join(dest, 'conf'), 'utf8'), 'listen=*\n');
  assert.equal([st('sub').mode & 0o7777, st('sub').uid], [0o750, 999]);
  assert.is(fs.readlinkSync(path.join(dest, 'link')), 'conf');
  assert.is(st('hard').ino, st('conf').ino, 'a hard link stays one');
  assert.is(st('conf').mtimeMs, 1_700_000_000_000);
  assert.is(st('.').mtimeMs, 1_700_000_000_000, 'times set last');
  assert.not.ok(fs.existsSync(path.join(dest, 'old')), 'whited out above');
  assert.not.ok(isEmptyDir(dest));
});

test('an opaque directory hides what lower layers put in it', async () => {
  const tree = await imageDirTree(
    layers(BASE, [
      ['var/lib/db/.wh..wh..opq', 'file'],
      ['var/lib/db/only', 'file'],
    ]),
    '/var/lib/db',
    1 << 20,
  );
  assert.equal('nodes' in tree && [...tree.nodes.keys()], ['only']);
  // the whole directory whited out above: it is not in the image any more
  assert.equal(await imageDirTree(layers(BASE, [['var/lib/.wh.db', 'file']]), '/var/lib/db', 1 << 20), {
    missing: 'the image has no /var/lib/db',
  });
});

test('not copied: a missing directory, a file, a symlinked ancestor, more than the size bound', async () => {
  assert.equal(await imageDirTree(layers(BASE), '/srv/data', 1 << 20), { missing: 'the image has no /srv/data' });
  assert.equal(await imageDirTree(layers(BASE), '/var/lib/other', 1 << 20), {
    missing: '/var/lib/other is a file in the image, not a directory',
  });
  const linked: Spec[] = [
    ['var', 'symlink', { link: '/etc' }],
    ['var/lib/db/x', 'file'],
  ];
  assert.equal(await imageDirTree(layers(linked), '/var/lib/db', 1 << 20), { missing: '/var is a symlink in the image, not a directory' });
  assert.equal(await imageDirTree(layers(BASE), '/var/lib/db', 4), { missing: '/var/lib/db holds more than 4 bytes' });
});

test('a directory only implied by entries below it is a root-owned 0755 directory', async () => {
  const tree = await imageDirTree(layers([['opt/app/data/seed', 'file', { data: 's' }]]), '/opt/app/data', 1 << 20);
  assert.ok('root' in tree && tree.root.mode === 0o755 && [...tree.nodes.keys()].join() === 'seed');
});

test('nothing is written through a symlink, and what another copy made first stays', async () => {
  const outside = tmpDir();
  const dest = path.join(tmpDir(), 'vol');
  fs.mkdirSync(dest);
  fs.writeFileSync(path.join(dest, 'mine'), 'first');
  const node = (type: TarEntryType, extra: { linkname?: string; data?: Buffer } = {}) => ({
    type,
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtime: 1,
    linkname: '',
    ...extra,
  });
  const nodes = new Map([
    ['a', node('symlink', { linkname: outside })],
    ['a/b', node('file', { data: Buffer.from('escaped') })],
    ['mine', node('file', { data: Buffer.from('second') })],
  ]);
  copyUp({ nodes, root: node('directory') }, dest);
  assert.equal(fs.readdirSync(outside), [], 'nothing written through the symlink');
  assert.is(fs.readFileSync(path.join(dest, 'mine'), 'utf8'), 'first');
});

test('a hard link that sorts before its file is still made, and the copy lands whole or not at all', async () => {
  const layer: Spec[] = [
    ['data', 'directory', { mode: 0o700 }],
    ['data/a-link', 'hardlink', { link: 'data/z/file' }],
    ['data/z', 'directory'],
    ['data/z/file', 'file', { data: 'x' }],
  ];
  const tree = await imageDirTree(layers(layer), '/data', 1 << 20);
  assert.ok('nodes' in tree);
  if (!('nodes' in tree)) return;
  const dest = path.join(tmpDir(), 'vol');
  fs.mkdirSync(dest);
  assert.is(copyUp(tree, dest), 3);
  assert.is(fs.statSync(path.join(dest, 'a-link')).ino, fs.statSync(path.join(dest, 'z', 'file')).ino);
  assert.equal(fs.readdirSync(path.dirname(dest)), ['vol'], 'the private copy beside the volume is gone');
});

test.run();

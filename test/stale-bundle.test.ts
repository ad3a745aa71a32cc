// The bundle containerd 1.6 keeps for a task it died creating (moby/moby#50040): removed only when it is stale,
// shim-less and has nothing mounted, entry by entry.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { removeStaleBundle } from '../plugins/containerd/stale-bundle';
import { tmpDir } from './helpers/tmp';

const NS = 'kukeon-r7';
const ID = 'sp0_app_c2_w0';
const LATER = Date.now() + 60_000;
/** A containerd started after the bundle was made (the one that made it died). */
const STARTED = Date.now() + 30_000;

/** A bundle as containerd's NewBundle leaves it before the shim starts: config.json, log FIFO, rootfs, work link. */
function bundle(extra: string[] = []): { dir: string; message: string } {
  const dir = path.join(tmpDir(), 'state', 'io.containerd.runtime.v2.task', NS, ID);
  fs.mkdirSync(path.join(dir, 'rootfs'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), '{}');
  execFileSync('mkfifo', [path.join(dir, 'log')]);
  const work = path.join(path.dirname(dir), '..', 'work-target');
  fs.mkdirSync(work, { recursive: true });
  fs.symlinkSync(work, path.join(dir, 'work'));
  for (const f of extra) fs.writeFileSync(path.join(dir, f), 'x');
  return { dir, message: `UNKNOWN: failed to start shim: mkdir ${dir}: file exists` };
}

test('a stale, shim-less bundle is removed; the work directory its link points to is not', () => {
  const { dir, message } = bundle();
  const work = fs.realpathSync(path.join(dir, 'work'));
  assert.equal(removeStaleBundle(message, NS, ID, STARTED, LATER), { removed: dir });
  assert.not.ok(fs.existsSync(dir));
  assert.ok(fs.existsSync(work), 'the link was removed, not what it points to');
});

test('a recent bundle (a create may be under way) is left', () => {
  const { dir, message } = bundle();
  const r = removeStaleBundle(message, NS, ID, STARTED);
  assert.match((r as { left: string }).left, /recent/);
  assert.ok(fs.existsSync(path.join(dir, 'config.json')));
});

test('a bundle whose shim started, or whose rootfs holds anything, is left', () => {
  for (const f of ['address', 'shim.pid', 'init.pid']) {
    const { dir, message } = bundle([f]);
    assert.match((removeStaleBundle(message, NS, ID, STARTED, LATER) as { left: string }).left, /shim was started/);
    assert.ok(fs.existsSync(dir));
  }
  const { dir, message } = bundle();
  fs.writeFileSync(path.join(dir, 'rootfs', 'bin'), '');
  assert.match((removeStaleBundle(message, NS, ID, STARTED, LATER) as { left: string }).left, /not empty/);
  assert.ok(fs.existsSync(path.join(dir, 'config.json')));
});

test("only containerd's task directory of this very namespace and id, from this very error", () => {
  const { dir, message } = bundle();
  assert.match((removeStaleBundle(message, NS, 'other', STARTED, LATER) as { left: string }).left, /not the task state directory/);
  assert.match((removeStaleBundle(message, 'kukeon-x', ID, STARTED, LATER) as { left: string }).left, /not the task state directory/);
  assert.equal(removeStaleBundle('UNKNOWN: some other failure', NS, ID, STARTED, LATER), { left: 'not a bundle left over' });
  const elsewhere = path.join(tmpDir(), NS, ID);
  fs.mkdirSync(elsewhere, { recursive: true });
  const r = removeStaleBundle(`failed to start shim: mkdir ${elsewhere}: file exists`, NS, ID, STARTED, LATER);
  assert.match((r as { left: string }).left, /not the task state directory/);
  assert.ok(fs.existsSync(elsewhere) && fs.existsSync(dir));
});

test('a bundle already gone counts as removed', () => {
  const { dir, message } = bundle();
  fs.rmSync(dir, { recursive: true });
  assert.equal(removeStaleBundle(message, NS, ID, STARTED, LATER), { removed: dir });
});

test('a bundle made since the running containerd started is left (a create of it may be under way)', () => {
  const { dir, message } = bundle();
  const before = Date.now() - 60_000;
  assert.match((removeStaleBundle(message, NS, ID, before, LATER) as { left: string }).left, /not older than the running containerd/);
  assert.match((removeStaleBundle(message, NS, ID, undefined, LATER) as { left: string }).left, /not older than the running containerd/);
  assert.ok(fs.existsSync(path.join(dir, 'config.json')));
});

test('a bundle holding a directory other than an empty rootfs is left whole', () => {
  const { dir, message } = bundle();
  fs.mkdirSync(path.join(dir, 'extra'));
  assert.match((removeStaleBundle(message, NS, ID, STARTED, LATER) as { left: string }).left, /holds a directory extra/);
  assert.equal(fs.readdirSync(dir).sort(), ['config.json', 'extra', 'log', 'rootfs', 'work']);
});

test.run();

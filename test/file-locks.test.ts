import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileLocks } from '../src/host/file-locks';
import { isAlive, processIdentity, type ProcessIdentity } from '../src/host/process-identity';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kukeon-locks-'));
let n = 0;
/** A fresh lock directory (not yet created: FileLocks must mkdir -p it) per test. */
const lockDir = () => path.join(tmp, `t${++n}`, 'run', 'locks');

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function rejectsWith(p: Promise<unknown>, code: string): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (e) {
    assert.is((e as { code?: string }).code, code, String(e));
    return e as Error;
  }
  assert.unreachable(`expected a rejection with ${code}`);
  throw new Error('unreachable');
}

/** The identity of a process that has exited (spawned, observed, killed, reaped). */
async function deadIdentity(): Promise<ProcessIdentity> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const id = processIdentity(child.pid!);
  child.kill('SIGKILL');
  await exited;
  assert.ok(id, 'identity read while the child ran');
  return id!;
}

function writeHolder(file: string, holder: object): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ ...holder, acquiredAt: new Date().toISOString() }));
}

test('processIdentity and isAlive: this process is alive, malformed identities are not', () => {
  const me = processIdentity();
  assert.ok(me);
  assert.is(me!.pid, process.pid);
  assert.ok(Number.isSafeInteger(me!.startTime) && me!.startTime > 0);
  assert.ok(isAlive(me));
  assert.not.ok(isAlive({ ...me!, startTime: me!.startTime + 1 }));
  assert.not.ok(isAlive({ ...me!, bootId: 'another-boot' }));
  assert.not.ok(isAlive(undefined));
  assert.not.ok(isAlive({ pid: process.pid }));
  assert.not.ok(isAlive('garbage'));
});

test('processIdentity parses a stat line whose comm holds spaces and parens', async () => {
  // comm is the executable's name: a symlink to node called `a) (b c` puts ") (" and spaces inside it.
  const link = path.join(tmp, 'a) (b c');
  fs.symlinkSync(process.execPath, link);
  const child = spawn(link, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await new Promise((r) => setTimeout(r, 100)); // let exec finish so comm is the link's name
    const stat = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    assert.ok(stat.includes('(a) (b c)'), stat);
    const id = processIdentity(child.pid!);
    assert.ok(id);
    // Started after us and no later than now: a naive split would pick a small unrelated field instead.
    assert.ok(id!.startTime >= processIdentity()!.startTime, `startTime ${id!.startTime}`);
    assert.ok(isAlive(id));
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
});

test('mutual exclusion in one process: a second holder waits, then fails with KUKEON_E_BUSY', async () => {
  const dir = lockDir();
  const locks = new FileLocks(dir);
  await locks.with('store', async () => {
    assert.ok(fs.existsSync(path.join(dir, 'store.lock')));
    const started = Date.now();
    const err = await rejectsWith(
      locks.with('store', async () => 'never', { timeoutMs: 150 }),
      'KUKEON_E_BUSY',
    );
    assert.ok(Date.now() - started >= 140, 'it waited for the timeout');
    assert.match(err.message, /"store"/);
    assert.match(err.message, new RegExp(`pid ${process.pid}\\b`));
  });
  assert.not.ok(fs.existsSync(path.join(dir, 'store.lock')), 'released');
  assert.is(await locks.with('store', async () => 42), 42);
});

test('a waiter gets the lock once the holder releases it, and bodies never overlap', async () => {
  const locks = new FileLocks(lockDir());
  const events: string[] = [];
  const body = (tag: string) => async () => {
    events.push(`${tag}:in`);
    await new Promise((r) => setTimeout(r, 30));
    events.push(`${tag}:out`);
  };
  await Promise.all([locks.with('x', body('a')), locks.with('x', body('b')), locks.with('x', body('c'))]);
  for (let i = 0; i < events.length; i += 2) {
    assert.is(events[i].split(':')[0], events[i + 1].split(':')[0], events.join(' '));
  }
});

test('in-process waiters queue on a mutex: no overlap, first come first served, no polling delay', async () => {
  const dir = lockDir();
  const locks = new FileLocks(dir);
  const order: number[] = [];
  let inside = 0;
  let most = 0;
  const body = (i: number) => async () => {
    most = Math.max(most, ++inside);
    // the file lock is still taken (other processes on the run path rely on it)
    assert.ok(fs.existsSync(path.join(dir, 'q.lock')));
    order.push(i);
    await new Promise((r) => setImmediate(r));
    inside--;
    return i;
  };
  await locks.with('q', async () => undefined); // create the lock directory first
  const started = Date.now();
  const n = 200;
  const results = await Promise.all(Array.from({ length: n }, (_, i) => locks.with('q', body(i))));
  const took = Date.now() - started;
  assert.equal(
    results,
    Array.from({ length: n }, (_, i) => i),
  );
  assert.is(most, 1);
  assert.equal(
    order,
    Array.from({ length: n }, (_, i) => i),
    'granted in arrival order',
  );
  // Polling would cost 2-50 ms per handoff (seconds here); the queue hands over as soon as the holder releases.
  assert.ok(took < 4000, `${n} handoffs took ${took} ms`);
  assert.not.ok(fs.existsSync(path.join(dir, 'q.lock')), 'released');
});

test('an in-process waiter that times out leaves the queue; the rest still get the lock in order', async () => {
  const locks = new FileLocks(lockDir());
  const order: string[] = [];
  let release!: () => void;
  const held = locks.with('t', () => new Promise<void>((r) => (release = r)));
  await new Promise((r) => setTimeout(r, 10));
  const late = rejectsWith(
    locks.with('t', async () => order.push('never'), { timeoutMs: 50 }),
    'KUKEON_E_BUSY',
  );
  const b = locks.with('t', async () => order.push('b'));
  const err = await late;
  assert.match(err.message, new RegExp(`"t".*pid ${process.pid}\\b`));
  const c = locks.with('t', async () => order.push('c'));
  release();
  await Promise.all([held, b, c]);
  assert.equal(order, ['b', 'c']);
});

test('different names do not wait for each other in-process', async () => {
  const locks = new FileLocks(lockDir());
  let release!: () => void;
  const held = locks.with('one', () => new Promise<void>((r) => (release = r)));
  await new Promise((r) => setTimeout(r, 10));
  assert.is(await locks.with('two', async () => 2, { timeoutMs: 10_000 }), 2);
  release();
  await held;
});

test('fn errors propagate and the lock is released', async () => {
  const dir = lockDir();
  const locks = new FileLocks(dir);
  await rejectsWith(
    locks.with('e', async () => {
      throw Object.assign(new Error('boom'), { code: 'X_BOOM' });
    }),
    'X_BOOM',
  );
  assert.not.ok(fs.existsSync(path.join(dir, 'e.lock')));
});

test('a lock left by a dead process is recovered quickly', async () => {
  const dir = lockDir();
  const locks = new FileLocks(dir);
  const dead = await deadIdentity();
  assert.not.ok(isAlive(dead));
  assert.is(processIdentity(dead.pid), undefined);
  writeHolder(locks.lockPath('store'), dead);
  const started = Date.now();
  assert.is(await locks.with('store', async () => 'mine', { timeoutMs: 5000 }), 'mine');
  assert.ok(Date.now() - started < 2500, `took ${Date.now() - started} ms (the wait would be 5 s)`);
  assert.not.ok(fs.existsSync(locks.lockPath('store')));
  assert.not.ok(fs.existsSync(`${locks.lockPath('store')}.steal`), 'guard released');
});

test("the first use of the lock directory recovers every dead holder's lock, not only the one asked for", async () => {
  const dir = lockDir();
  const locks = new FileLocks(dir);
  const dead = await deadIdentity();
  const me = processIdentity()!;
  // a lock of a resource nobody asks for again (removed while its holder was killed), and its recovery guard
  writeHolder(locks.lockPath('res.stack.r.s.gone'), dead);
  writeHolder(`${locks.lockPath('res.cell.r.s.t.x')}.steal`, dead);
  writeHolder(locks.lockPath('held'), me);
  assert.is(await locks.with('store', async () => 'mine'), 'mine');
  assert.equal(fs.readdirSync(dir), [path.basename(locks.lockPath('held'))], 'a live holder keeps its lock');
});

test('many waiters recovering the same dead lock at once still hold it one at a time', async () => {
  const locks = new FileLocks(lockDir());
  const dead = await deadIdentity();
  let inside = 0;
  let most = 0;
  const body = async () => {
    most = Math.max(most, ++inside);
    await new Promise((r) => setTimeout(r, 5));
    inside--;
  };
  for (let round = 0; round < 10; round++) {
    writeHolder(locks.lockPath('store'), dead);
    await Promise.all(Array.from({ length: 6 }, () => locks.with('store', body, { timeoutMs: 5000 })));
  }
  assert.is(most, 1);
});

test('a recoverer whose view is stale does not remove the lock a faster recoverer took', async () => {
  // The race the guard closes, replayed deterministically: we saw a dead holder, but by the time we hold the
  // guard someone else has recovered and re-taken the lock.
  const locks = new FileLocks(lockDir());
  const file = locks.lockPath('store');
  const dead = await deadIdentity();
  writeHolder(file, dead);
  const staleText = fs.readFileSync(file, 'utf8');
  const live = JSON.stringify({ ...processIdentity(process.ppid)!, acquiredAt: 'now', token: 'faster' });
  fs.unlinkSync(file);
  fs.writeFileSync(file, live);
  const recover = (locks as unknown as { recover(f: string, s: object): Promise<boolean> }).recover.bind(locks);
  await recover(file, { text: staleText, holder: dead, mtimeMs: Date.now() });
  assert.is(fs.readFileSync(file, 'utf8'), live);
  assert.not.ok(fs.existsSync(`${file}.steal`));
});

test('a lock from another boot is recovered', async () => {
  const locks = new FileLocks(lockDir());
  writeHolder(locks.lockPath('store'), { ...processIdentity()!, bootId: '00000000-0000-0000-0000-000000000000' });
  assert.is(await locks.with('store', async () => 1, { timeoutMs: 10_000 }), 1);
});

test('a lock naming a live pid with another start time (a reused pid) is recovered', async () => {
  const locks = new FileLocks(lockDir());
  const parent = processIdentity(process.ppid)!;
  assert.ok(isAlive(parent));
  writeHolder(locks.lockPath('store'), { ...parent, startTime: parent.startTime + 1 });
  assert.is(await locks.with('store', async () => 1, { timeoutMs: 10_000 }), 1);
});

test('a lock held by a live process is not recovered', async () => {
  const locks = new FileLocks(lockDir());
  writeHolder(locks.lockPath('store'), processIdentity(process.ppid)!);
  const err = await rejectsWith(
    locks.with('store', async () => 1, { timeoutMs: 100 }),
    'KUKEON_E_BUSY',
  );
  assert.match(err.message, new RegExp(`pid ${process.ppid}\\b`));
  assert.ok(fs.existsSync(locks.lockPath('store')));
});

test('unparseable lock files: waited on while fresh, recovered once older than 5 s', async () => {
  const locks = new FileLocks(lockDir());
  const file = locks.lockPath('store');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '{"pid": 12');
  await rejectsWith(
    locks.with('store', async () => 1, { timeoutMs: 100 }),
    'KUKEON_E_BUSY',
  );
  const old = new Date(Date.now() - 10_000);
  fs.utimesSync(file, old, old);
  assert.is(await locks.with('store', async () => 2, { timeoutMs: 10_000 }), 2);
});

test('a guard left by a dead recoverer does not block recovery', async () => {
  const locks = new FileLocks(lockDir());
  const dead = await deadIdentity();
  writeHolder(locks.lockPath('store'), dead);
  writeHolder(`${locks.lockPath('store')}.steal`, dead);
  assert.is(await locks.with('store', async () => 3, { timeoutMs: 10_000 }), 3);
  assert.not.ok(fs.existsSync(`${locks.lockPath('store')}.steal`));
});

test('release does not delete a lock that someone else took meanwhile', async () => {
  const locks = new FileLocks(lockDir());
  const file = locks.lockPath('store');
  const other = JSON.stringify({ ...processIdentity(process.ppid)!, acquiredAt: 'x', token: 'theirs' });
  await locks.with('store', async () => {
    fs.unlinkSync(file);
    fs.writeFileSync(file, other);
  });
  assert.is(fs.readFileSync(file, 'utf8'), other);
});

test('lock names: plain names map to <name>.lock, anything else to a hashed name', async () => {
  const dir = lockDir();
  const locks = new FileLocks(dir);
  assert.is(locks.lockPath('cell.main-1_x'), path.join(dir, 'cell.main-1_x.lock'));
  const hashed = path.basename(locks.lockPath('cell/main/blog/wp/web'));
  assert.match(hashed, /^h-[0-9a-f]{32}\.lock$/);
  assert.is.not(hashed, path.basename(locks.lockPath('cell/main/blog/wp/api')));
  assert.match(path.basename(locks.lockPath('a'.repeat(181))), /^h-[0-9a-f]{32}\.lock$/);
  assert.match(path.basename(locks.lockPath('Store')), /^h-/);
  await locks.with('cell/main/../../etc', async () => {
    assert.equal(fs.readdirSync(dir).filter((f) => !f.startsWith('.')).length, 1);
  });
  assert.equal(fs.readdirSync(dir), [], 'no files left behind');
});

test('a lock directory that cannot be created fails with KUKEON_E_LOCK naming the path', async () => {
  const file = path.join(tmp, 'not-a-dir');
  fs.writeFileSync(file, '');
  const locks = new FileLocks(path.join(file, 'locks'));
  const err = await rejectsWith(
    locks.with('store', async () => 1),
    'KUKEON_E_LOCK',
  );
  assert.ok(err.message.includes(file), err.message);
});

test.run();

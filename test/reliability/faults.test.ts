// Reliability: exhausted resources and failing backends (issue #15). Each fault is tried on a real backend
// (a full or read-only tmpfs, a low fd limit, a stale lock, CNI plugins that fail, hang or print garbage,
// containerd killed or slowed down, a registry that drops a layer) and must end with a clear, coded error,
// nothing half-made, a retry that converges once the fault is gone, and nothing of another realm touched.
// CI runs a fixed sample; KUKEON_RELIABILITY=full tries every free-space level and more fd limits.
// The last line is `reliability faults: faults N, survived N`.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { processIdentity } from '../../src/host/process-identity';
import { KUKE_BIN, runCommand } from '../e2e/harness';
import { findBinary } from '../e2e/requirements';
import { STORE_ONLY_CONFIG, childEnv } from '../helpers/kuke';
import { tmpDir } from '../helpers/tmp';
import { assertClearFailure, assertOk, assertTree, type CommandOutcome } from './fault-checks';
import { treeManifest, docCount, type TreeShape } from './fault-manifests';
import { fault } from './fault-tally';
import { PrivateTmpfs } from './private-tmpfs';
import { auditRunPath, treeDigest } from './run-path-audit';

const FULL = process.env.KUKEON_RELIABILITY === 'full';

/** A suite that needs root and util-linux (unshare, nsenter, prlimit): skipped, or failed under KUKEON_E2E=required. */
function rootSuite(name: string, define: (test: Test) => void): void {
  const missing = [
    ...(process.getuid?.() === 0 ? [] : ['needs root']),
    ...['unshare', 'nsenter', 'prlimit', 'mount'].filter((b) => !findBinary(b)).map((b) => `missing ${b}`),
  ];
  const s = suite(name);
  if (!missing.length) define(s);
  else if (process.env.KUKEON_E2E === 'required')
    s('requirements', () => {
      throw new Error(`${name}: ${missing.join('; ')}`);
    });
  else {
    console.log(`SKIP ${name}: ${missing.join('; ')}`);
    s.skip(name);
  }
  s.run();
}

/** `kuke ARGS` in-process on a store-only config, under `prefix` (nsenter, prlimit) when given. */
function kuke(
  args: string[],
  o: { runPath: string; config: string; prefix?: string[]; input?: string; env?: Record<string, string> },
): Promise<CommandOutcome> {
  const [cmd, ...rest] = [...(o.prefix ?? []), process.execPath, KUKE_BIN, ...args, '--config', o.config, '--run-path', o.runPath];
  return runCommand(cmd, rest, { input: o.input, env: childEnv(o.env), timeoutMs: 60_000 });
}

const KEEP: TreeShape = { spaces: 1, cells: 2, containers: 1 };
const FAULTED: TreeShape = { spaces: 2, cells: 3, containers: 2 };

rootSuite('reliability faults: run path', (test) => {
  let tmp = '';
  let config = '';
  test.before(() => {
    tmp = tmpDir('kukeon-faults-');
    config = path.join(tmp, 'kukeon.yaml');
    fs.writeFileSync(config, STORE_ONLY_CONFIG);
  });

  // A full filesystem at every write of an apply: with 0, 1, 2, ... pages free the apply runs out of space at
  // the lock, the store generation, the first document, a status update, a container's document, ...
  const levels = FULL ? docCount(FAULTED) + 8 : 10;
  for (let free = 0; free < levels; free++) {
    fault(test, `ENOSPC: apply with ${free} free pages fails clearly, leaves nothing torn or half-made, converges once freed`, async () => {
      const t = await PrivateTmpfs.start(path.join(tmp, `full-${free}`), 512);
      try {
        const runPath = path.join(t.dir, 'run');
        const run = (args: string[], input?: string) => kuke(args, { runPath, config, prefix: t.prefix(), input });
        assertOk('apply keep', await run(['apply', '-f', '-'], treeManifest('keep', KEEP)));
        const keep = treeDigest(t.host('run/keep'));
        t.fill(free);
        const manifest = treeManifest('faulted', FAULTED);
        const r = await run(['apply', '-f', '-'], manifest);
        if (free < docCount(FAULTED) || r.code !== 0)
          assertClearFailure('apply on a full disk', r, [/ENOSPC/, new RegExp(`${runPath}/\\S+`)]);
        assert.equal(auditRunPath(t.host('run')), [], 'nothing torn or half-made');
        assert.equal(treeDigest(t.host('run/keep')), keep, 'realm keep is untouched');
        // get still answers on a full disk
        assertOk('get on a full disk', await run(['get', 'realms']));
        t.free();
        assertOk('re-apply after space is freed', await run(['apply', '-f', '-'], manifest));
        assertTree(t.host('run'), 'faulted', FAULTED, 'Pending');
        const again = await run(['apply', '-f', '-'], manifest);
        assertOk('a third apply', again);
        assert.not.match(again.stdout, /created|updated|failed/, `the retry converged: nothing left to do\n${again.stdout}`);
        assert.equal(auditRunPath(t.host('run')), []);
        assert.equal(treeDigest(t.host('run/keep')), keep, 'realm keep is untouched');
      } finally {
        await t.stop();
      }
    });
  }

  fault(
    test,
    'read-only run path: apply and delete fail clearly naming the path, nothing changes, get works; rw again converges',
    async () => {
      const t = await PrivateTmpfs.start(path.join(tmp, 'ro'), 1024);
      try {
        const runPath = path.join(t.dir, 'run');
        const run = (args: string[], input?: string) => kuke(args, { runPath, config, prefix: t.prefix(), input });
        assertOk('apply keep', await run(['apply', '-f', '-'], treeManifest('keep', KEEP)));
        assertOk('apply faulted', await run(['apply', '-f', '-'], treeManifest('faulted', FAULTED)));
        const before = treeDigest(t.host('run'));
        t.remount('ro');
        const changed = treeManifest('faulted', { ...FAULTED, label: 'two' });
        assertClearFailure('apply on a read-only run path', await run(['apply', '-f', '-'], changed), [/EROFS/, new RegExp(runPath)]);
        assertClearFailure(
          'delete on a read-only run path',
          await run(['delete', 'cell', 'c0', '--realm', 'faulted', '--space', 'sp0', '--stack', 'app']),
          [/EROFS/, new RegExp(runPath)],
        );
        const newRealm = await run(['apply', '-f', '-'], treeManifest('fresh', KEEP));
        assertClearFailure('apply of a new realm on a read-only run path', newRealm, [/EROFS/]);
        assert.equal(treeDigest(t.host('run')), before, 'nothing changed');
        const got = await run(['get', 'cells', '--realm', 'faulted', '--space', 'sp1', '--stack', 'app', '-o', 'json']);
        assertOk('get on a read-only run path', got);
        assert.is(JSON.parse(got.stdout).items.length, FAULTED.cells);
        t.remount('rw');
        assertOk('apply once writable', await run(['apply', '-f', '-'], changed));
        assertOk('delete once writable', await run(['delete', 'cell', 'c0', '--realm', 'faulted', '--space', 'sp0', '--stack', 'app']));
        assertOk('apply again', await run(['apply', '-f', '-'], changed));
        assertTree(t.host('run'), 'faulted', FAULTED, 'Pending');
        assert.equal(auditRunPath(t.host('run')), []);
      } finally {
        await t.stop();
      }
    },
  );

  // Node needs about 20 descriptors to start; a limit just above that runs out while apply reads and writes.
  const fdLimits = FULL ? [24, 26, 28, 30, 32, 36, 40, 48, 64] : [26, 30, 36, 48];
  for (const limit of fdLimits) {
    fault(
      test,
      `fd limit ${limit}: apply and get fail clearly (EMFILE) or succeed, nothing half-made; without the limit it converges`,
      async () => {
        const runPath = path.join(tmp, `fd-${limit}`);
        const shape: TreeShape = { spaces: 3, cells: 6, containers: 2 };
        const plain = (args: string[], input?: string) => kuke(args, { runPath, config, input });
        assertOk('apply keep', await plain(['apply', '-f', '-'], treeManifest('keep', KEEP)));
        const keep = treeDigest(path.join(runPath, 'keep'));
        const limited = (args: string[], input?: string) =>
          kuke(args, { runPath, config, input, prefix: ['prlimit', `--nofile=${limit}:${limit}`, '--'] });
        const manifest = treeManifest('faulted', shape);
        for (const args of [
          ['apply', '-f', '-'],
          ['get', 'cells', '-A'],
          ['delete', 'realm', 'faulted', '--cascade'],
          ['apply', '-f', '-'],
        ]) {
          const r = await limited(args, manifest);
          if (r.code !== 0) assertClearFailure(`${args.join(' ')} with nofile=${limit}`, r, [/EMFILE|too many open files/i]);
          assert.equal(auditRunPath(runPath), [], `nothing torn or half-made after ${args.join(' ')}`);
          assert.equal(treeDigest(path.join(runPath, 'keep')), keep, 'realm keep is untouched');
        }
        assertOk('apply without the limit', await plain(['apply', '-f', '-'], manifest));
        assertTree(runPath, 'faulted', shape, 'Pending');
        assert.equal(auditRunPath(runPath), []);
      },
    );
  }

  fault(
    test,
    'a lock file of a pid now used by another process (other start time) is taken over at once; a live holder is not',
    async () => {
      const runPath = path.join(tmp, 'stale-lock');
      const run = (args: string[], input?: string, env?: Record<string, string>) => kuke(args, { runPath, config, input, env });
      assertOk('apply keep', await run(['apply', '-f', '-'], treeManifest('keep', KEEP)));
      // An unrelated live process plays the pid's new owner.
      const other = spawn('sleep', ['60'], { stdio: 'ignore' });
      try {
        const id = processIdentity(other.pid!)!;
        assert.ok(id, 'the stand-in process is visible in /proc');
        const locks = path.join(runPath, 'run', 'locks');
        const holder = (startTime: number) =>
          `${JSON.stringify({ ...id, startTime, acquiredAt: new Date().toISOString(), token: 'feedfacefeedface' })}\n`;
        // The same pid, another start time: the process that took the lock is gone, its pid reused.
        for (const name of ['store.lock', 'res.realm.faulted.lock', 'res.realm.keep.lock'])
          fs.writeFileSync(path.join(locks, name), holder(id.startTime - 1));
        const t0 = Date.now();
        const r = await run(['apply', '-f', '-'], treeManifest('faulted', KEEP), { KUKEON_LOCK_TIMEOUT_MS: '8000' });
        assertOk('apply through stale locks', r);
        assert.ok(Date.now() - t0 < 5000, `the stale locks were taken over at once (${Date.now() - t0} ms)`);
        assertTree(runPath, 'faulted', KEEP, 'Pending');
        // The very process (same start time) still holds it: BUSY within the timeout, naming the holder, nothing written.
        const before = treeDigest(runPath);
        fs.writeFileSync(path.join(locks, 'store.lock'), holder(id.startTime));
        const t1 = Date.now();
        const busy = await run(['apply', '-f', '-'], treeManifest('faulted', { ...KEEP, label: 'x' }), { KUKEON_LOCK_TIMEOUT_MS: '1500' });
        assertClearFailure('apply against a live holder', busy, [/KUKEON_E_BUSY/, new RegExp(`pid ${id.pid}`)]);
        assert.ok(Date.now() - t1 < 10_000, 'BUSY came within the lock timeout');
        const after = treeDigest(runPath);
        delete after['run/locks/store.lock'];
        delete before['run/locks/store.lock'];
        assert.equal(after, before, 'nothing written while the lock was held');
      } finally {
        other.kill('SIGKILL');
      }
      // Its holder gone for good: the next apply goes through.
      await new Promise((r) => setTimeout(r, 100));
      assertOk('apply once the holder exited', await run(['apply', '-f', '-'], treeManifest('faulted', { ...KEEP, label: 'x' })));
      assert.equal(auditRunPath(runPath), []);
    },
  );
});

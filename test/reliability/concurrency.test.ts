// Reliability under concurrency (issue #15): 8 `kuke` processes at a time apply, delete and get overlapping
// parts of one tree (2 realms x 2 spaces x 1 stack x 2 cells of up to 3 containers) for 15 s (60 s with
// KUKEON_RELIABILITY=full), first in-process (each `kuke` its own process on one run path, store-only), then
// through one kukeond. The operations come from a fixed-seed PRNG per worker.
//
// Asserted: no `kuke` runs past the hang bound (a deadlock would); every failure is an expected code (BUSY, or a
// race the operation lost and reports: NOT_FOUND, HAS_CHILDREN, PARENT_NOT_FOUND); every YAML file parses and no
// directory lacks its document; and no lost update: replaying every committed write (each apply item and each
// removal reports the store revision that committed it) in commit order gives exactly the tree on disk.

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startDaemon } from '../helpers/daemon';
import { STORE_ONLY_CONFIG, kukeAsync, kukeEnv } from '../helpers/kuke';
import { tmpDir } from '../helpers/tmp';
import { HANG_MS, LOCK_TIMEOUT_MS, exercise, printTotals } from './concurrency-workload';

test('in-process: 8 kuke processes on one run path lose no update and never hang', async () => {
  const e = kukeEnv(STORE_ONLY_CONFIG);
  const env = { KUKEON_LOCK_TIMEOUT_MS: String(LOCK_TIMEOUT_MS) };
  await exercise('in-process', (args) => e.runAsync(args, { env, timeoutMs: HANG_MS }), e.runPath);
});

test('through kukeond: 8 kuke clients of one daemon lose no update and never hang', async () => {
  const dir = tmpDir('kukeon-concurrency-daemon-');
  const socket = path.join(dir, 'sock', 'kukeond.sock');
  const runPath = path.join(dir, 'state');
  const config = path.join(dir, 'kukeon.yaml');
  fs.writeFileSync(config, STORE_ONLY_CONFIG);
  const daemon = await startDaemon({ socket, runPath, config, env: { KUKEON_LOCK_TIMEOUT_MS: String(LOCK_TIMEOUT_MS) } });
  try {
    await exercise('daemon', (args) => kukeAsync(args, { env: { KUKEON_SOCKET: socket }, timeoutMs: HANG_MS }), runPath);
  } finally {
    const { code, signal } = await daemon.stop();
    assert.is(code ?? signal, 0, `kukeond exits cleanly after the run:\n${daemon.stderr()}`);
  }
});

test.after(printTotals);

test.run();

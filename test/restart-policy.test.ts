import assert from 'node:assert/strict';
import { test } from 'uvu';
import {
  MAX_BACKOFF_MS,
  exhausted,
  nextDelayMs,
  policyOf,
  restartsAfterExit,
  startsWithDaemon,
} from '../src/host/supervision/restart-policy';

test('defaults: never, 5 retries, 100 ms', () => {
  assert.deepEqual(policyOf({}), { policy: 'never', maxRetries: 5, backoffMs: 100 });
  assert.deepEqual(policyOf({ restartPolicy: 'on-failure', restartMaxRetries: 2, restartBackoffSeconds: 0.25 }), {
    policy: 'on-failure',
    maxRetries: 2,
    backoffMs: 250,
  });
});

test('after an exit: always and unless-stopped restart, never does not, a user stop never does', () => {
  const exit = { exitCode: 0, byUser: false, restartCount: 0 };
  assert.equal(restartsAfterExit(policyOf({ restartPolicy: 'always' }), exit), true);
  assert.equal(restartsAfterExit(policyOf({ restartPolicy: 'unless-stopped' }), exit), true);
  assert.equal(restartsAfterExit(policyOf({ restartPolicy: 'never' }), { ...exit, exitCode: 1 }), false);
  assert.equal(restartsAfterExit(policyOf({ restartPolicy: 'always' }), { ...exit, byUser: true }), false);
});

test('on-failure: only non-zero exits, up to the cap', () => {
  const p = policyOf({ restartPolicy: 'on-failure', restartMaxRetries: 2 });
  assert.equal(restartsAfterExit(p, { exitCode: 0, byUser: false, restartCount: 0 }), false);
  assert.equal(restartsAfterExit(p, { exitCode: 3, byUser: false, restartCount: 1 }), true);
  assert.equal(restartsAfterExit(p, { exitCode: 3, byUser: false, restartCount: 2 }), false);
  assert.equal(exhausted(p, { exitCode: 3, restartCount: 2 }), true);
  assert.equal(exhausted(p, { exitCode: 0, restartCount: 2 }), false);
});

test('daemon start: always even after a user stop, unless-stopped not after one', () => {
  assert.equal(startsWithDaemon(policyOf({ restartPolicy: 'always' }), { stoppedByUser: true }), true);
  assert.equal(startsWithDaemon(policyOf({ restartPolicy: 'unless-stopped' }), { stoppedByUser: true }), false);
  assert.equal(startsWithDaemon(policyOf({ restartPolicy: 'unless-stopped' }), {}), true);
  assert.equal(startsWithDaemon(policyOf({}), {}), false);
  const onFailure = policyOf({ restartPolicy: 'on-failure', restartMaxRetries: 2 });
  assert.equal(startsWithDaemon(onFailure, { exitCode: 1, restartCount: 1 }), true);
  assert.equal(startsWithDaemon(onFailure, { exitCode: 1, restartCount: 2 }), false);
  assert.equal(startsWithDaemon(onFailure, { exitCode: 0 }), false);
});

test('backoff doubles to 60 s and resets after 10 s of running', () => {
  const p = policyOf({ restartPolicy: 'always' });
  let d = nextDelayMs(p, undefined, 0);
  assert.equal(d, 100);
  d = nextDelayMs(p, d, 50);
  assert.equal(d, 200);
  for (let i = 0; i < 20; i++) d = nextDelayMs(p, d, 50);
  assert.equal(d, MAX_BACKOFF_MS);
  assert.equal(nextDelayMs(p, d, 10_000), 100);
});

test.run();

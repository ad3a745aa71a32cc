import assert from 'node:assert/strict';
import { test } from 'uvu';
import { cellStateOf, exitRecorded, readExit, signalName } from '../src/host/supervision/exit-facts';

test('an exit status reads as Completed, Error, Killed (128 + signal) or OOMKilled', () => {
  assert.deepEqual(readExit(0), { exitCode: 0, reason: 'Completed', text: 'exited with code 0' });
  assert.deepEqual(readExit(3), { exitCode: 3, reason: 'Error', text: 'exited with code 3' });
  assert.deepEqual(readExit(137), { exitCode: 137, exitSignal: 'SIGKILL', reason: 'Killed', text: 'killed by SIGKILL' });
  assert.deepEqual(readExit(143), { exitCode: 143, exitSignal: 'SIGTERM', reason: 'Killed', text: 'killed by SIGTERM' });
  assert.deepEqual(readExit(137, true), { exitCode: 137, exitSignal: 'SIGKILL', reason: 'OOMKilled', text: 'killed by the OOM killer' });
  // 128 itself, and past the last signal number, are plain exit codes
  assert.equal(readExit(128).reason, 'Error');
  assert.equal(readExit(255).reason, 'Error');
  assert.equal(readExit(255).exitSignal, undefined);
  assert.equal(signalName(9), 'SIGKILL');
  assert.equal(signalName(0), undefined);
});

test('an exit counts as recorded once the supervisor wrote its reason, or a restart is pending', () => {
  assert.equal(exitRecorded({ state: 'Ready' }), false);
  assert.equal(exitRecorded({ state: 'Ready', reason: 'Completed' }), false, 'a running container: any exit is new');
  assert.equal(exitRecorded({ state: 'Exited', exitCode: 3 }), false, 'a status read from the task (verify, refresh) only');
  assert.equal(exitRecorded({ state: 'Exited', exitCode: 3, reason: 'Error' }), true);
  assert.equal(exitRecorded({ state: 'Failed', reason: 'Error' }), true);
  assert.equal(exitRecorded({ state: 'Exited', nextRestartAt: '2026-01-01T00:00:00.000Z' }), true);
  assert.equal(exitRecorded({ state: 'Exited', reason: 'ImagePullFailed' }), false);
});

test('the cell state from its workloads: Failed > Degraded > Exited (all) > Ready', () => {
  const due = '2026-01-01T00:00:00.000Z';
  assert.deepEqual(cellStateOf({ a: { state: 'Ready' }, b: { state: 'Exited' } }), {
    state: 'Ready',
    reason: undefined,
    message: undefined,
  });
  assert.deepEqual(cellStateOf({ a: { state: 'Exited' }, b: { state: 'Exited' } }), {
    state: 'Exited',
    reason: undefined,
    message: undefined,
  });
  assert.deepEqual(cellStateOf({}), { state: 'Ready', reason: undefined, message: undefined }, 'a cell of its root alone');
  assert.deepEqual(cellStateOf({ a: { state: 'Exited', nextRestartAt: due }, b: { state: 'Ready' } }), {
    state: 'Degraded',
    reason: 'CrashLoopBackOff',
    message: `container a restarts at ${due}`,
  });
  assert.deepEqual(
    cellStateOf({
      a: { state: 'Exited', nextRestartAt: due },
      b: { state: 'Failed', reason: 'Error', message: 'exited with code 3; gave up' },
    }),
    { state: 'Failed', reason: 'Error', message: 'container b: exited with code 3; gave up' },
  );
});

test.run();

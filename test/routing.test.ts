import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { routeCommand } from '../src/cli/routing';

test('in-process when --no-daemon, KUKEON_NO_DAEMON=true, or an explicit --run-path', () => {
  assert.equal(routeCommand({ noDaemon: true }), { mode: 'in-process', reason: '--no-daemon' });
  assert.equal(routeCommand({ env: 'true' }), { mode: 'in-process', reason: 'KUKEON_NO_DAEMON' });
  assert.equal(routeCommand({ env: 'TRUE' }).mode, 'in-process');
  assert.equal(routeCommand({ env: '1' }).mode, 'in-process');
  assert.equal(routeCommand({ runPathExplicit: true }), { mode: 'in-process', reason: '--run-path' });
});

test('through the daemon otherwise: no silent fallback', () => {
  assert.equal(routeCommand({ env: 'false' }), { mode: 'daemon', reason: 'default' });
  assert.equal(routeCommand({ env: '' }).mode, 'daemon');
  assert.equal(routeCommand({}).mode, 'daemon');
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { routeCommand } from '../src/cli/routing';

test('in-process when --no-daemon, KUKEON_NO_DAEMON=true, or an explicit --run-path', () => {
  assert.equal(routeCommand({ noDaemon: true, daemonAvailable: true }), { mode: 'in-process', reason: '--no-daemon' });
  assert.equal(routeCommand({ env: 'true', daemonAvailable: true }), { mode: 'in-process', reason: 'KUKEON_NO_DAEMON' });
  assert.equal(routeCommand({ env: 'TRUE', daemonAvailable: true }).mode, 'in-process');
  assert.equal(routeCommand({ runPathExplicit: true, daemonAvailable: true }), { mode: 'in-process', reason: '--run-path' });
});

test('through the daemon otherwise, once a daemon client exists; in-process until then', () => {
  assert.equal(routeCommand({ env: 'false', daemonAvailable: true }), { mode: 'daemon', reason: 'default' });
  assert.equal(routeCommand({ daemonAvailable: true }).mode, 'daemon');
  assert.equal(routeCommand({ daemonAvailable: false }).mode, 'in-process');
});

test.run();

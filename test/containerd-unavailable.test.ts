// An unreachable containerd (its socket path exists, nothing answers) is reported as KUKEON_E_UNAVAILABLE naming
// the socket, not as a failed lifecycle step.

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import containerd from '../plugins/containerd';
import storeYaml from '../plugins/store-yaml';
import { isKukeonError } from '../sdk';
import { createHost } from '../src/host';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kukeon-unavailable-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('creating a realm against a dead containerd socket fails with KUKEON_E_UNAVAILABLE naming the socket', async () => {
  // A socket file whose listener is gone: connect() is refused.
  const socket = path.join(tmp, 'containerd.sock');
  const server = net.createServer().listen(socket);
  await new Promise((r) => server.once('listening', r));
  await new Promise((r) => server.close(r));
  fs.writeFileSync(socket, ''); // close() unlinked it: leave a path that exists but refuses connections
  const host = await createHost({
    runPath: path.join(tmp, 'run'),
    env: {},
    plugins: [{ plugin: storeYaml }, { plugin: containerd, table: { socket } }],
  });
  try {
    assert.is(host.plugins.find((p) => p.name === 'containerd')?.state, 'ok');
    const err = await host.controller.create({ apiVersion: 'v1beta1', kind: 'Realm', metadata: { name: 'main' }, spec: {} } as never).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isKukeonError(err), String(err));
    if (!isKukeonError(err)) return;
    assert.is(err.code, 'KUKEON_E_UNAVAILABLE', err.message);
    assert.match(err.message, socket);
    assert.is(err.details.plugin, 'containerd');
  } finally {
    await host.close();
  }
});

test.run();

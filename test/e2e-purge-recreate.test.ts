// What a long-lived process (the daemon) must not keep stale: one host, in this process, purges a realm with a
// running cell and re-creates it, twice. Each time the realm's containerd namespace must be made again (labelled
// as kukeon's, so the next purge removes it), the image loaded again and the cell running again.

import fs from 'node:fs';
import * as assert from 'uvu/assert';
import { ContainerdClient } from '../plugins/containerd/grpc/containerd-client';
import containerd from '../plugins/containerd';
import storeYaml from '../plugins/store-yaml';
import type { CellDoc, ContainerDoc } from '../sdk';
import { type Host, createHost } from '../src/host';
import { E2EHarness } from './e2e/harness';
import { e2eSuite } from './e2e/requirements';
import { BUSYBOX_IMAGE_REF, buildBusyboxOciFile } from './helpers/busybox-oci';

const NS = 'kukeon-main';
const REALM = { kind: 'Realm' as const, path: ['main'] };

const MANIFEST = `apiVersion: v1beta1
kind: Realm
metadata: { name: main }
---
apiVersion: v1beta1
kind: Space
metadata: { name: blog }
spec: { realmId: main }
---
apiVersion: v1beta1
kind: Stack
metadata: { name: wp }
spec: { realmId: main, spaceId: blog }
---
apiVersion: v1beta1
kind: Cell
metadata: { name: web }
spec:
  realmId: main
  spaceId: blog
  stackId: wp
  containers:
    - { id: a, image: "${BUSYBOX_IMAGE_REF}", command: sh, args: ["-c", "exec sleep 300"] }
`;

e2eSuite('purge and re-create a realm in one long-lived host', (test) => {
  let h: E2EHarness;
  let host: Host;
  let client: ContainerdClient;
  let archive: string;

  test.before(async () => {
    h = await E2EHarness.start({ name: 'purge-recreate' });
    client = new ContainerdClient(h.socket);
    archive = await buildBusyboxOciFile(h.tmp);
    host = await createHost({
      runPath: h.runPath,
      env: {},
      plugins: [{ plugin: storeYaml }, { plugin: containerd, table: { socket: h.socket } }],
    });
    const rt = host.plugins.find((p) => p.name === 'containerd');
    assert.is(rt?.state, 'ok', rt?.reason);
  });

  test.after(async () => {
    await host?.controller.purge(REALM, { cascade: true }).catch(() => undefined);
    await host?.close();
    client?.close();
    const diff = await h?.stop();
    assert.equal(diff, [], `the host changed: ${diff?.join('; ')}`);
  });

  const managedNamespace = async () => {
    const ns = await client.namespaces.get(NS).catch(() => undefined);
    return ns?.labels?.['kukeon.io/managed'];
  };

  for (const round of [1, 2, 3]) {
    test(`round ${round}: create the realm, load the image, run a cell${round > 1 ? ' (after a purge)' : ''}`, async () => {
      await host.controller.create({ apiVersion: 'v1beta1', kind: 'Realm', metadata: { name: 'main' }, spec: {} } as never);
      assert.is(await managedNamespace(), 'true', 'the realm namespace exists and is labelled as kukeon-managed');
      const loaded = await host.controller.loadImage('main', fs.createReadStream(archive));
      assert.equal(
        loaded.map((i) => i.name),
        [BUSYBOX_IMAGE_REF],
      );
      const report = await host.controller.apply(MANIFEST);
      assert.ok(
        report.items.every((i) => !i.error),
        JSON.stringify(report.items),
      );
      const [cell] = (await host.controller.get({ kind: 'Cell', scope: ['main', 'blog', 'wp'], name: 'web' })) as CellDoc[];
      assert.is(cell?.status?.state, 'Ready', JSON.stringify(cell?.status));
      const [a] = (await host.controller.get({ kind: 'Container', scope: ['main', 'blog', 'wp', 'web'], name: 'a' })) as ContainerDoc[];
      const pid = a?.status?.pid;
      assert.ok(pid && fs.existsSync(`/proc/${pid}`), `container a runs (pid ${pid})`);
      const tasks = await client.tasks.list(NS);
      assert.ok(
        tasks.some((t) => t.pid === pid && t.status === 'RUNNING'),
        `containerd runs the task: ${JSON.stringify(tasks)}`,
      );

      // Purge the realm with everything under it: processes, containerd objects, images and the namespace.
      await host.controller.purge(REALM, { cascade: true });
      assert.equal(await client.tasks.list(NS).catch(() => []), [], 'no task is left in the namespace');
      assert.is(await managedNamespace(), undefined, 'purge removed the namespace');
      assert.equal(await host.controller.get({ kind: 'Realm', scope: [] }), []);
    });
  }
});

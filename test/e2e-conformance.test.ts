// The conformance kit's cell suites against the built-in runtime plugin on a real containerd (the e2e harness:
// a private containerd in its own network namespace). The kit drives `kuke` through the harness, adds its
// probe plugin to the configuration by module path, injects failures and crashes between the cell's start
// steps, and judges containerd by what is left on the machine; afterwards containerd itself is asked whether
// anything of the suite's realm is left, and the harness checks the host is as it was. Deliberately wrong add-ons
// (test/fixtures), each loaded next to containerd and breaking one property, prove the cases can fail: the kit
// must report the broken case by name, with why, and pass a neighbouring one.

import * as assert from 'uvu/assert';
import { ContainerdClient } from '../plugins/containerd/grpc/containerd-client';
import path from 'node:path';
import { RUNTIME_CASES, formatReport, runRuntimeConformance, runtimeConformanceTests } from '../sdk/testkit';
import { markerPids } from '../sdk/testkit/observe';
import type { CellConformanceOptions } from '../sdk/testkit';
import { E2EHarness } from './e2e/harness';
import { e2eSuite } from './e2e/requirements';
import { BUSYBOX_IMAGE_REF, buildBusyboxOciFile } from './helpers/busybox-oci';

const REALM = 'conformance';
const fixture = (name: string) => path.resolve(__dirname, '../../test/fixtures', name);
const OUT_OF_ORDER = fixture('undo-out-of-order');

e2eSuite('runtime conformance (containerd)', (test) => {
  let h: E2EHarness;
  let archive: string;

  test.before(async () => {
    h = await E2EHarness.start({ name: 'conformance' });
    archive = await buildBusyboxOciFile(h.tmp);
  });

  test.after(async () => {
    const diff = await h?.stop();
    assert.equal(diff, [], `the host changed: ${diff?.join('; ')}`);
  });

  const options = (): CellConformanceOptions => ({
    plugin: 'containerd',
    driver: {
      // The harness's default plugin table (store-yaml, containerd on its socket) plus the kit's probe.
      configure: (extra) => void h.writeConfig(extra),
      kuke: (args, o) => h.kuke(args, { ...o, timeoutMs: 120_000 }),
    },
    image: BUSYBOX_IMAGE_REF,
    imageArchive: archive,
    workDir: h.tmp,
    realm: REALM,
  });
  runtimeConformanceTests(test, options, 'containerd: ');

  test('the suite ran every runtime case', () => {
    assert.is(RUNTIME_CASES.length, 16);
  });

  test("an add-on whose undo stops the root before the runtime's own undo fails the undo case, saying why", async () => {
    const base = options();
    const report = await runRuntimeConformance({
      ...base,
      realm: `${REALM}-bad`,
      driver: { ...base.driver, configure: (extra) => void h.writeConfig({ ...extra, [OUT_OF_ORDER]: {} }) },
      only: ['undo after a failure after verify'],
    });
    assert.equal(
      report.cases.map((c) => [c.name, c.ok]),
      [['undo after a failure after verify', false]],
    );
    assert.match(report.cases[0].error!, /undo order: when the host unwound startRoot, the root \(pid \d+\) was already stopped/);
    h.writeConfig({});
  });

  /** The kit, with a deliberately wrong add-on next to containerd, running only the `only` cases. */
  const withAddOn = (addOn: Record<string, unknown>, only: string[]) => {
    const base = options();
    return runRuntimeConformance({
      ...base,
      realm: `${REALM}-bad`,
      driver: { ...base.driver, configure: (extra) => void h.writeConfig({ ...extra, ...addOn }) },
      only,
    }).finally(() => h.writeConfig({}));
  };

  test('an add-on whose create fails on an existing cell fails the create-idempotence case, saying why, and passes delete', async () => {
    const report = await withAddOn({ [fixture('create-not-idempotent')]: {} }, ['create is idempotent', 'delete is idempotent']);
    assert.equal(
      report.cases.map((c) => [c.name, c.ok]),
      [
        ['create is idempotent', false],
        ['delete is idempotent', true],
      ],
      formatReport(report),
    );
    assert.match(
      report.cases[0].error!,
      /a re-apply with a new label \(the create taps run again on the existing cell\): exit 1: .*EEXIST/,
    );
  });

  test('an add-on whose purge fails when its part is already gone fails the delete-idempotence case, saying why, and passes parts-gone', async () => {
    const report = await withAddOn({ [fixture('purge-not-idempotent')]: {} }, [
      'delete is idempotent',
      'delete when parts are already gone',
    ]);
    assert.equal(
      report.cases.map((c) => [c.name, c.ok]),
      [
        ['delete is idempotent', false],
        ['delete when parts are already gone', true],
      ],
      formatReport(report),
    );
    assert.match(report.cases[0].error!, /purge cell idem-delete \(kuke purge cell idem-delete .*\) failed, exit 1: .*ENOENT/);
  });

  test('an add-on whose stop needs the root alive fails the parts-gone case, saying why, and passes delete', async () => {
    const report = await withAddOn({ [fixture('detach-needs-root')]: {} }, ['delete is idempotent', 'delete when parts are already gone']);
    assert.equal(
      report.cases.map((c) => [c.name, c.ok]),
      [
        ['delete is idempotent', true],
        ['delete when parts are already gone', false],
      ],
      formatReport(report),
    );
    assert.match(
      report.cases[1].error!,
      /delete cell parts-gone \(kuke delete cell parts-gone .*\) failed, exit 1: .*detachNetwork: .*ENOENT/,
    );
  });

  test("an add-on that leaves a helper in the cell's network namespace when a crash lost its status fails that crash case only", async () => {
    const marker = `${8_000_000 + Math.floor(Math.random() * 999_999)}`;
    let left: number[] = [];
    const report = await withAddOn({ [fixture('sidecar-not-swept')]: { marker } }, [
      'purge after a crash after attachNetwork',
      'purge after a crash after startWorkloads',
    ]).finally(() => {
      // The residue is a real process: the test ends it.
      left = markerPids(marker);
      for (const pid of left) process.kill(pid, 'SIGKILL');
    });
    assert.equal(
      report.cases.map((c) => [c.name, c.ok]),
      [
        ['purge after a crash after attachNetwork', false],
        ['purge after a crash after startWorkloads', true],
      ],
      formatReport(report),
    );
    assert.match(
      report.cases[0].error!,
      new RegExp(
        `after a crash after attachNetwork and a purge, processes still in the cell's network namespace net:\\[\\d+\\]: got \\[ '\\d+ sleep ${marker}' \\]`,
      ),
    );
    assert.is(left.length, 1, 'the helper the purge left behind, killed by the test');
  });

  test('containerd holds nothing of the suite afterwards: no container, task, snapshot or namespace', async () => {
    const client = new ContainerdClient(h.socket);
    try {
      const namespaces = (await client.namespaces.list()).map((n) => n.name);
      for (const realm of [REALM, `${REALM}-bad`]) {
        assert.not.ok(namespaces.includes(`kukeon-${realm}`), `namespace kukeon-${realm} is left: ${namespaces.join(', ')}`);
        for (const ns of namespaces) {
          assert.equal(
            await client.containers.list(ns, [`labels."kukeon.io/realm"==${realm}`]),
            [],
            `containers of realm ${realm} in ${ns}`,
          );
        }
      }
    } finally {
      client.close();
    }
  });
});

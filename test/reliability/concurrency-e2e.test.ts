// The concurrency suite (concurrency.test.ts) on the full backend set: a private containerd with the CNI and
// cgroupv2 plugins, 8 in-process `kuke` processes at a time for 10 s (40 s with KUKEON_RELIABILITY=full). Every
// cell really starts (busybox `sleep`), so a phase holds its lock far longer than in the store-only run. Realms
// are made by the set-up (with the image loaded) and never deleted. Afterwards `purge realm --cascade` of both
// must leave the host as it was (the harness compares).

import * as assert from 'uvu/assert';
import { E2EHarness, tempCniTable } from '../e2e/harness';
import { e2eSuite } from '../e2e/requirements';
import { BUSYBOX_IMAGE_REF, buildBusyboxOciFile } from '../helpers/busybox-oci';
import { FULL, exercise, printTotals } from './concurrency-workload';

const REALMS = ['ra', 'rb'];
const HANG_MS = 120_000;

e2eSuite('reliability concurrency on containerd, CNI and cgroups', (test) => {
  let h: E2EHarness | undefined;

  test.after(async () => {
    if (h) {
      for (const realm of REALMS) {
        const r = await h.kuke(['purge', 'realm', realm, '--cascade'], { timeoutMs: 180_000 });
        assert.is(r.code, 0, `purge realm ${realm}: ${r.stderr}`);
      }
      const diff = await h.stop();
      assert.equal(diff, [], `the host changed: ${diff.join('; ')}`);
    }
    printTotals();
  });

  test('8 kuke processes on one run path with every backend lose no update and never hang', async () => {
    try {
      h = await E2EHarness.start({
        name: 'concurrency',
        plugins: ({ tmp, cgroupRoot }) => ({ cni: tempCniTable(tmp), cgroupv2: { root: cgroupRoot } }),
      });
    } catch (err) {
      console.error(`set-up failed: ${(err as Error).stack}`); // uvu shows no reason for some errors: say it here
      throw err;
    }
    const harness = h;
    const archive = await buildBusyboxOciFile(harness.tmp);
    for (const realm of REALMS) {
      for (const args of [
        ['create', 'realm', realm],
        ['image', 'load', archive, '--realm', realm],
      ]) {
        const r = await harness.kuke(args, { timeoutMs: 120_000 });
        assert.is(r.code, 0, `kuke ${args.join(' ')}: ${r.stderr}`);
      }
    }
    // The product's default lock timeout: a cell's start holds its lock for seconds here.
    const env = { KUKEON_LOCK_TIMEOUT_MS: '10000', KUKEON_PULL: 'never' };
    await exercise('containerd', (args) => harness.kuke(args, { env, timeoutMs: HANG_MS }), harness.runPath, {
      durationMs: FULL ? 40_000 : 10_000,
      image: BUSYBOX_IMAGE_REF,
      realmDeletes: false,
      hangMs: HANG_MS,
      initial: REALMS.map((realm) => [realm, 'op=']),
      extraCodes: {
        apply: { KUKEON_E_NOT_FOUND: 'another process deleted the cell between its create and its start (the delete came later)' },
      },
    });
  });
});

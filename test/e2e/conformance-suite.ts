// One e2e harness per slot suite of the conformance kit: the plugin under test with its real peers (store-yaml,
// containerd on the harness's private containerd), the kit's probe added to the configuration by module path.

import * as assert from 'uvu/assert';
import type { CellConformanceOptions, TestFn } from '../../sdk/testkit';
import { E2EHarness } from './harness';
import type { E2EHarnessOptions } from './harness';
import { e2eSuite } from './requirements';
import { BUSYBOX_IMAGE_REF, buildBusyboxOciFile } from '../helpers/busybox-oci';

type Register = (test: TestFn, options: () => CellConformanceOptions, prefix: string) => void;

export function slotSuite(
  name: string,
  plugin: string,
  plugins: E2EHarnessOptions['plugins'],
  register: Register,
  before?: () => void,
): void {
  e2eSuite(name, (test) => {
    let h: E2EHarness;
    let archive: string;

    test.before(async () => {
      before?.();
      h = await E2EHarness.start({ name: `conformance-${plugin}`, plugins });
      archive = await buildBusyboxOciFile(h.tmp);
    });

    test.after(async () => {
      const diff = await h?.stop();
      assert.equal(diff ?? [], [], `the host changed: ${diff?.join('; ')}`);
    });

    const options = (): CellConformanceOptions => ({
      plugin,
      driver: {
        // The harness's plugin table for this slot plus the kit's probe.
        configure: (extra) =>
          void h.writeConfig(typeof plugins === 'function' ? (p) => ({ ...plugins(p), ...extra }) : { ...plugins, ...extra }),
        kuke: (args, o) => h.kuke(args, { ...o, timeoutMs: 120_000 }),
      },
      image: BUSYBOX_IMAGE_REF,
      imageArchive: archive,
      workDir: h.tmp,
    });
    register(test, options, `${plugin}: `);
  });
}

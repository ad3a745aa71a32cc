// The conformance kit's network suite against the built-in cni plugin, with its real peers, on its own e2e
// harness: kuke runs inside the harness's network namespace (bridges and veths land there), with the CNI
// directories in the harness temp dir.

import fs from 'node:fs';
import path from 'node:path';
import { networkConformanceTests } from '../sdk/testkit';
import { slotSuite } from './e2e/conformance-suite';
import { CNI_BIN, tempCniTable } from './e2e/harness';

slotSuite(
  'network conformance (cni)',
  'cni',
  ({ tmp }) => ({
    cni: tempCniTable(tmp),
  }),
  networkConformanceTests,
  () => {
    const missing = ['bridge', 'host-local', 'portmap'].filter((b) => !fs.existsSync(path.join(CNI_BIN, b)));
    if (missing.length)
      throw new Error(`CNI plugins missing in ${CNI_BIN}: ${missing.join(', ')} (apt-get install containernetworking-plugins)`);
  },
);

// The conformance kit's cgroups suite against the built-in cgroupv2 plugin, with its real peers, on its own e2e
// harness, under the harness's own cgroup root.

import { cgroupsConformanceTests } from '../sdk/testkit';
import { slotSuite } from './e2e/conformance-suite';

slotSuite('cgroups conformance (cgroupv2)', 'cgroupv2', (p) => ({ cgroupv2: { root: p.cgroupRoot } }), cgroupsConformanceTests);

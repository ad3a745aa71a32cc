// kukeon/sdk/testkit: the conformance kit. Given a plugin for a slot, it runs that slot's contract through the
// lifecycle against real peers (kukeon's own host, locks and controller; a real containerd for the cell
// suites) and reports each case by name. Plugin authors run it from their own tests:
//
//   const { storeConformanceTests } = require('kukeon/sdk/testkit');
//   storeConformanceTests(test, { plugin: require.resolve('./') });   // uvu, node:test or mocha's `it`
//
// or call runStoreConformance(...) and read `cases` ({ name, ok, error? }).

export { STORE_CASES, runStoreConformance, storeConformanceTests } from './store';
export type { StoreCase, StoreConformanceOptions } from './store';
export {
  CELL_CASES,
  CGROUPS_CASES,
  NETWORK_CASES,
  RUNTIME_CASES,
  cgroupsConformanceTests,
  networkConformanceTests,
  runCgroupsConformance,
  runNetworkConformance,
  runRuntimeConformance,
  runtimeConformanceTests,
} from './cells';
export type { CellCase, CellConformanceOptions, CellDriver, KukeResult } from './cells';
export { ConformanceFailure, assertConformance, conformanceTests, formatReport } from './report';
export type { ConformanceCase, ConformanceReport, TestFn } from './report';
export { PROBE_NAME } from './probe-plugin';
export type { ProbeEvent } from './probe-plugin';

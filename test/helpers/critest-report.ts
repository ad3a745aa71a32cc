// critest's ginkgo JSON report (`-ginkgo.json-report`), reduced to what a suite asserts and prints: every `It`
// spec by its full text (`<container texts joined by " > "> :: <leaf text>`), its state and first failure line;
// and failures of the suite's set-up nodes (a failed BeforeSuite fails every spec without naming one).

import fs from 'node:fs';

export interface CritestSpec {
  /** `<ContainerHierarchyTexts joined by " > "> :: <LeafNodeText>`, the key of test/fixtures/critest-expected.txt. */
  name: string;
  /** ginkgo's state: passed, failed, skipped, pending, panicked, interrupted, aborted, timedout. */
  state: string;
  runTimeMs: number;
  /** The first line of the failure message, for a spec that did not pass. */
  message?: string;
}

export interface CritestReport {
  specs: CritestSpec[];
  passed: number;
  /** Specs neither passed nor skipped/pending (failed, panicked, timed out ...). */
  failed: number;
  skipped: number;
  total: number;
  /** ginkgo's own run time of the suite, ms. */
  runTimeMs: number;
  /** Non-`It` nodes (BeforeSuite, AfterSuite ...) that did not pass, as `<node type>: <first message line>`. */
  setupFailures: string[];
  /** `critest: N passed, M failed, K skipped (of T)` */
  summary: string;
}

interface GinkgoSpecReport {
  LeafNodeType: string;
  LeafNodeText?: string;
  ContainerHierarchyTexts?: string[] | null;
  State: string;
  RunTime?: number;
  Failure?: { Message?: string };
}

const firstLine = (s: string | undefined) =>
  (s ?? '')
    .split('\n')
    .map((l) => l.trim())
    .find(Boolean);

export function specName(containers: readonly string[] | null | undefined, leaf: string): string {
  return `${(containers ?? []).join(' > ')} :: ${leaf}`;
}

/** Reads `file` (a ginkgo v2 JSON report of one suite). */
export function readCritestReport(file: string): CritestReport {
  const suites = JSON.parse(fs.readFileSync(file, 'utf8')) as { RunTime?: number; SpecReports?: GinkgoSpecReport[] | null }[];
  const suite = suites[0];
  if (!suite) throw new Error(`${file}: no suite in the report`);
  const specs: CritestSpec[] = [];
  const setupFailures: string[] = [];
  for (const r of suite.SpecReports ?? []) {
    if (r.LeafNodeType !== 'It') {
      if (r.State !== 'passed') setupFailures.push(`${r.LeafNodeType}: ${r.State}: ${firstLine(r.Failure?.Message) ?? ''}`);
      continue;
    }
    const spec: CritestSpec = {
      name: specName(r.ContainerHierarchyTexts, r.LeafNodeText ?? ''),
      state: r.State,
      runTimeMs: (r.RunTime ?? 0) / 1e6,
    };
    if (r.State !== 'passed') spec.message = firstLine(r.Failure?.Message);
    specs.push(spec);
  }
  const passed = specs.filter((s) => s.state === 'passed').length;
  const skipped = specs.filter((s) => s.state === 'skipped' || s.state === 'pending').length;
  const failed = specs.length - passed - skipped;
  return {
    specs,
    passed,
    failed,
    skipped,
    total: specs.length,
    runTimeMs: (suite.RunTime ?? 0) / 1e6,
    setupFailures,
    summary: `critest: ${passed} passed, ${failed} failed, ${skipped} skipped (of ${specs.length})`,
  };
}

// Conformance reports: every case runs, each is reported by name with its failure message, and a helper turns a
// report into one test per case for uvu (or any runner whose `test(name, fn)` takes an async function).

import { isDeepStrictEqual, inspect } from 'node:util';
import type { Slot } from '../plugin';

export interface ConformanceCase {
  /** The case, as listed in the slot's case list (`STORE_CASES`, `RUNTIME_CASES`, ...). */
  name: string;
  ok: boolean;
  /** Why it failed: what was expected and what the plugin did. */
  error?: string;
  ms: number;
}

export interface ConformanceReport {
  slot: Slot;
  /** The plugin under test (its name, or the module specifier when it did not load). */
  plugin: string;
  cases: ConformanceCase[];
  /** True when every case passed. */
  ok: boolean;
}

/** A failed expectation inside a case. */
export class ConformanceFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceFailure';
  }
}

export function fail(message: string): never {
  throw new ConformanceFailure(message);
}

export function show(v: unknown): string {
  return inspect(v, { depth: 6, breakLength: Infinity, compact: true });
}

export function expect(condition: unknown, message: string): asserts condition {
  if (!condition) fail(message);
}

export function expectEqual<T>(actual: unknown, expected: T, what: string): asserts actual is T {
  if (!isDeepStrictEqual(actual, expected)) fail(`${what}: got ${show(actual)}, want ${show(expected)}`);
}

/** Awaits `p` and expects a rejection with the KUKEON_E_* `code`. */
export async function expectRejects(p: Promise<unknown>, code: string, what: string): Promise<void> {
  let result: unknown;
  try {
    result = await p;
  } catch (e) {
    const got = (e as { code?: unknown })?.code;
    if (got !== code) fail(`${what}: rejected with ${got === undefined ? show((e as Error)?.message ?? e) : got}, want ${code}`);
    return;
  }
  fail(`${what}: resolved (${show(result)}), want a rejection with ${code}`);
}

/** Runs one case, timing it; anything thrown becomes the case's error. */
export async function runCase(name: string, fn: () => Promise<void>): Promise<ConformanceCase> {
  const started = Date.now();
  try {
    await fn();
    return { name, ok: true, ms: Date.now() - started };
  } catch (e) {
    const error =
      e instanceof ConformanceFailure
        ? e.message
        : `threw ${e instanceof Error ? `${(e as { code?: string }).code ? `[${(e as { code?: string }).code}] ` : ''}${e.message}` : show(e)}`;
    return { name, ok: false, error, ms: Date.now() - started };
  }
}

/** One line per case: `ok   <name>` or `FAIL <name>: <error>`. */
export function formatReport(report: ConformanceReport): string {
  const lines = report.cases.map(
    (c) => `${c.ok ? 'ok  ' : 'FAIL'} ${report.slot} conformance of ${report.plugin}: ${c.name} (${c.ms} ms)${c.ok ? '' : `: ${c.error}`}`,
  );
  return `${lines.join('\n')}\n`;
}

/** Throws one error naming every failed case, or returns the report when all passed. */
export function assertConformance(report: ConformanceReport): ConformanceReport {
  const failed = report.cases.filter((c) => !c.ok);
  if (failed.length) {
    throw new ConformanceFailure(
      `${report.slot} conformance of ${report.plugin}: ${failed.length} case(s) failed:\n${failed.map((c) => `  ${c.name}: ${c.error}`).join('\n')}`,
    );
  }
  return report;
}

/** The shape of uvu's `test` (and node:test's, mocha's `it`): a name and an async body. */
export type TestFn = (name: string, fn: () => Promise<void>) => unknown;

/**
 * Registers one test per case name on `test`. The suite runs once, when the first of these tests runs, and each
 * test then fails with its own case's message (`<slot> conformance: <case>: <why>`). With
 * KUKEON_CONFORMANCE_VERBOSE=1 the whole report (with each case's time) is printed once it is in.
 */
export function conformanceTests(test: TestFn, names: readonly string[], run: () => Promise<ConformanceReport>, prefix = ''): void {
  let report: Promise<ConformanceReport> | undefined;
  for (const name of names) {
    test(`${prefix}${name}`, async () => {
      const r = await (report ??= run().then((done) => {
        if (process.env.KUKEON_CONFORMANCE_VERBOSE) process.stdout.write(`\n${formatReport(done)}`);
        return done;
      }));
      const c = r.cases.find((x) => x.name === name);
      if (!c) throw new ConformanceFailure(`${r.slot} conformance of ${r.plugin}: case "${name}" did not run`);
      if (!c.ok) throw new ConformanceFailure(`${r.slot} conformance of ${r.plugin}: ${c.name}: ${c.error}`);
    });
  }
}

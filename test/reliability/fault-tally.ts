// The figures of the faults suite: each fault tried, and whether everything asked of it held (a clear, coded
// error; nothing half-made; a retry after the fault converges; nothing of another realm touched). Printed as one
// plain line when the test process exits, after uvu's totals.

import type { Test } from 'uvu';

const tally = { faults: 0, survived: 0, failed: [] as string[] };
let printing = false;

/** Registers `name` on `test` as one fault: it counts as survived when `fn` completes without a failed assertion. */
export function fault(test: Test, name: string, fn: () => Promise<void>): void {
  // KUKEON_FAULTS_GREP=<regex> tries only the faults it matches (while working on one).
  if (process.env.KUKEON_FAULTS_GREP && !new RegExp(process.env.KUKEON_FAULTS_GREP).test(name)) return;
  if (!printing) {
    printing = true;
    process.on('exit', () => {
      const failed = tally.failed.length ? ` (not survived: ${tally.failed.join('; ')})` : '';
      console.log(`reliability faults: faults ${tally.faults}, survived ${tally.survived}${failed}`);
    });
  }
  test(name, async () => {
    tally.faults++;
    try {
      await fn();
      tally.survived++;
    } catch (e) {
      tally.failed.push(name);
      throw e;
    }
  });
}

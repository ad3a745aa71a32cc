// The machine-wide e2e lock: suites that start containerd, make namespaces or run CNI plugins take it, so two
// of them (in one run, or two sessions on one machine) never change the host at the same time.

import * as os from 'node:os';
import * as path from 'node:path';
import { FileLocks } from '../../src/host/file-locks';

export const E2E_LOCK_DIR = path.join(os.tmpdir(), 'kukeon-e2e-locks');

/** How long a suite waits for another's lock: KUKEON_E2E_LOCK_TIMEOUT_MS, else 5 minutes. */
export function machineLockTimeoutMs(): number {
  return Number(process.env.KUKEON_E2E_LOCK_TIMEOUT_MS) || 5 * 60_000;
}

/** Waits for the lock; resolves with its release. */
export async function acquireMachineLock(timeoutMs = machineLockTimeoutMs()): Promise<() => Promise<void>> {
  const locks = new FileLocks(E2E_LOCK_DIR, { timeoutMs });
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let acquired!: () => void;
  const got = new Promise<void>((r) => (acquired = r));
  const done = locks.with(
    'host',
    async () => {
      acquired();
      await held;
    },
    { timeoutMs },
  );
  await Promise.race([got, done]);
  return async () => {
    release();
    await done;
  };
}

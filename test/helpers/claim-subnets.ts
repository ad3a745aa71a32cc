// Run as its own process by the cni tests: claims `count` subnets from one registry (owners `<prefix>/s<i>`),
// through the same cross-process file locks kukeon uses, as fast as it can; prints the subnets as JSON.
// Like the lifecycle, each space is recorded in a "store" (a file in <store-dir>) before its claim, and the
// claim's store view lists that directory: other processes' spaces appear in it while this one runs.
//   node dist/test/helpers/claim-subnets.js <registry-file> <lock-dir> <store-dir> <prefix> <count> <start-at-ms>

import fs from 'node:fs';
import path from 'node:path';
import { FileLocks } from '../../src/host/file-locks';
import { SpaceRegistry } from '../../plugins/cni/space-registry';

async function main(): Promise<void> {
  const [file, lockDir, storeDir, prefix, count, startAt] = process.argv.slice(2);
  const registry = new SpaceRegistry(file, new FileLocks(lockDir, { timeoutMs: 30_000 }));
  const store = async () => ({ claims: [], existing: new Set(fs.readdirSync(storeDir).map((n) => n.replace('_', '/'))) });
  // Both processes start claiming at the same moment, so their claims really interleave.
  await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
  const got: string[] = [];
  for (let i = 0; i < Number(count); i++) {
    fs.writeFileSync(path.join(storeDir, `${prefix}_s${i}`), '');
    got.push(
      await registry.claim({
        owner: `${prefix}/s${i}`,
        conflistPath: `/conf/${prefix}-s${i}.conflist`,
        pool: '10.90.0.0/16',
        store,
        routes: [],
      }),
    );
  }
  process.stdout.write(JSON.stringify(got));
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});

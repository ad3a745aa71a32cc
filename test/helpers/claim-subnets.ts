// Run as its own process by the cni tests: claims `count` subnets from one registry (owners `<prefix>/<i>`),
// through the same cross-process file locks kukeon uses, as fast as it can; prints the subnets as JSON.
//   node dist/test/helpers/claim-subnets.js <registry-file> <lock-dir> <prefix> <count> <start-at-ms>

import { FileLocks } from '../../src/host/file-locks';
import { SpaceRegistry } from '../../plugins/cni/space-registry';

async function main(): Promise<void> {
  const [file, lockDir, prefix, count, startAt] = process.argv.slice(2);
  const registry = new SpaceRegistry(file, new FileLocks(lockDir, { timeoutMs: 30_000 }));
  // Both processes start claiming at the same moment, so their claims really interleave.
  await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
  const got: string[] = [];
  for (let i = 0; i < Number(count); i++) {
    got.push(await registry.claim({ owner: `${prefix}/s${i}`, conflistPath: `/conf/${prefix}-s${i}.conflist`, pool: '10.90.0.0/16', stored: [], routes: [] }));
  }
  process.stdout.write(JSON.stringify(got));
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});

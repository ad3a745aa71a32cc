// `npm run bench`: every benchmark in sequence, each in its own process (bench/cell-start.ts, bench/daemon.ts,
// then bench/critest.ts). `--quick` passes through (cell-start gets `--runs 3`); the exit code is the worst of them.

import { spawnSync } from 'node:child_process';
import path from 'node:path';

const quick = process.argv.includes('--quick');
const runs: [string, string[]][] = [
  ['cell-start.js', quick ? ['--runs', '3'] : []],
  ['daemon.js', quick ? ['--quick'] : []],
  ['critest.js', quick ? ['--quick'] : []],
];
let code = 0;
for (const [file, args] of runs) {
  const r = spawnSync(process.execPath, [path.join(__dirname, file), ...args], { stdio: 'inherit' });
  code = Math.max(code, r.status ?? 1);
}
process.exit(code);

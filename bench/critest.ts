// Benchmark: critest (cri-tools v1.26.1, through the kit in /work/shared/critest: test/helpers/critest-kit.ts)
// against containerd's own CRI and against kukeond's api-cri plugin, in the same run, each with its own bring-up
// and teardown. Prints both critest wall times, pass counts and the ratio kukeon/containerd; it never passes or
// fails on a time (it exits non-zero only when a run could not happen or left something on the host). Run as root:
// `npx tsc -p tsconfig.json && node dist/bench/critest.js [--quick] [--focus REGEX]`
//   --focus REGEX  critest -ginkgo.focus for both runs; --quick focuses on the basic PodSandbox and container operations.

import { e2eRequirements } from '../test/e2e/requirements';
import { CritestKit, type CritestRun, type CritestTarget, critestRequirements } from '../test/helpers/critest-kit';

/** The basic PodSandbox and container operations (15 specs, a few seconds of critest). */
const QUICK_FOCUS = 'basic operations on (PodSandbox|container)';
const argv = process.argv.slice(2);
const focusArg = argv.indexOf('--focus');
const focus = focusArg >= 0 ? argv[focusArg + 1] : argv.includes('--quick') ? QUICK_FOCUS : undefined;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const progress = (m: string) => process.stderr.write(`[bench] ${m}\n`);

interface Measured {
  run: CritestRun;
  upMs: number;
}

/** One bring-up, critest, teardown; undefined (with the reason printed) when it could not run. */
async function measure(target: CritestTarget): Promise<Measured | undefined> {
  const req = critestRequirements(target);
  const reason = req.reason;
  if (reason) {
    console.log(`critest ${target}: skipped (${reason})`);
    return undefined;
  }
  progress(`${target}: bring-up`);
  const kit = await CritestKit.up(target);
  let ok = false;
  try {
    if (target === 'kukeon') await kit.startKukeond({ imageFsMountpoint: kit.containerdRoot });
    progress(`${target}: critest${focus ? ` (focus ${focus})` : ''}`);
    const run = await kit.critest(`bench-${target}`, focus ? [`-ginkgo.focus=${focus}`] : []);
    ok = true;
    return { run, upMs: kit.upMs };
  } finally {
    const problems = await kit.down({ keep: !ok });
    if (problems.length) {
      console.log(`critest ${target}: teardown left: ${problems.join('; ')}`);
      process.exitCode = 1;
    }
  }
}

async function main(): Promise<void> {
  const req = e2eRequirements();
  if (!req.ok) {
    console.log(`bench needs what the e2e tests need: ${req.reason}`);
    process.exit(1);
  }
  const peer = await measure('containerd');
  const kukeon = await measure('kukeon');
  const counts = (m: Measured | undefined) => {
    if (!m) return 'n/a';
    const r = m.run.report;
    return `${r.passed} passed, ${r.failed} failed of ${r.total - r.skipped} run (bring-up ${s(m.upMs)})`;
  };
  console.log(`\ncritest${focus ? ` (focus ${focus})` : ''}, one run each, same machine`);
  console.log(`critest specs: kukeon ${counts(kukeon)}; containerd ${counts(peer)}`);
  for (const [name, m] of [
    ['kukeon', kukeon],
    ['containerd', peer],
  ] as const)
    for (const f of m?.run.report.specs.filter((x) => x.state !== 'passed' && x.state !== 'skipped') ?? [])
      console.log(`  ${name} ${f.state}: ${f.name}: ${(f.message ?? '').split('\n')[0].slice(0, 160)}`);
  const k = kukeon?.run.wallMs;
  const p = peer?.run.wallMs;
  console.log(
    `critest wall: kukeon ${k === undefined ? 'n/a' : s(k)}, containerd ${p === undefined ? 'n/a' : s(p)}, ratio ${k !== undefined && p !== undefined ? (k / p).toFixed(2) : 'n/a'}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

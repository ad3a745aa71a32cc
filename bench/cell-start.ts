// Benchmark: kukeon against ctr on the same private containerd, in one run. Prints medians and ratios; it never
// passes or fails on a time. Run as root: `npm run bench` (after `npm ci`), optional `--runs N` (default 10).
//   single: `kuke apply` of a one-container cell to running (pause root + workload) vs the ctr equivalent
//           (two `ctr run -d`, the second joining the first's network namespace);
//   twenty: one `kuke apply` of 20 such cells vs 20 ctr pairs in sequence.
// `--network` loads the cni plugin (dirs in the harness temp dir, plugins from /usr/lib/cni): each kukeon cell is
// attached to its space's network, and each ctr pair gets a direct bridge plugin ADD on its root's namespace.
// Runs alternate kukeon and ctr; cleanup between runs is not timed.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { E2EHarness } from '../test/e2e/harness';
import { e2eRequirements } from '../test/e2e/requirements';
import { buildBusyboxOciFile } from '../test/helpers/busybox-oci';
import { ctrPeer } from './ctr-peer';

const IMAGE = 'docker.io/kukeon/busybox:test';
const CTR_NS = 'ctr-bench';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

function cells(n: number, run: number): string {
  const docs: string[] = [];
  for (let i = 0; i < n; i++) {
    docs.push(`apiVersion: v1beta1
kind: Cell
metadata: { name: c${run}-${i} }
spec:
  realmId: bench
  spaceId: s
  stackId: t
  containers:
    - { id: w, image: "${IMAGE}", command: sleep, args: ["300"] }`);
  }
  return docs.join('\n---\n');
}

async function main(): Promise<void> {
  const req = e2eRequirements();
  if (!req.ok) {
    console.log(`bench needs what the e2e tests need: ${req.reason}`);
    process.exit(1);
  }
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 10;
  const network = process.argv.includes('--network');
  const cniBin = '/usr/lib/cni';
  const h = await E2EHarness.start({
    name: 'bench',
    plugins: network
      ? ({ tmp }) => ({
          cni: {
            confDir: path.join(tmp, 'cni', 'net.d'),
            cacheDir: path.join(tmp, 'cni', 'cache'),
            ipamDataDir: path.join(tmp, 'cni', 'ipam'),
            binDirs: [cniBin],
          },
        })
      : undefined,
  });
  try {
    const archive = await buildBusyboxOciFile(h.tmp);
    const kuke = async (args: string[], input?: string) => {
      const r = await h.kuke(args, { input, timeoutMs: 300_000 });
      if (r.code !== 0) throw new Error(`kuke ${args.join(' ')}: ${r.stderr}`);
    };
    const peer = ctrPeer(h, CTR_NS, IMAGE);
    const ctr = peer.ctr;
    await kuke(['apply', '-f', '-'], 'kind: Realm\nmetadata: { name: bench }\n');
    await kuke(['image', 'load', archive, '--realm', 'bench']);
    ctr(['images', 'import', archive]);

    // The ctr side of --network: the bridge plugin alone, run as a runtime would, on the root's namespace.
    const ctrIpam = path.join(h.tmp, 'ctr-ipam');
    const bridgeConf = JSON.stringify({
      cniVersion: '1.0.0',
      name: 'ctr-bench',
      type: 'bridge',
      bridge: 'ctrbench0',
      isGateway: true,
      ipMasq: false,
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.91.0.0/24' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: ctrIpam },
    });
    const bridgeAdd = (id: string, pid: string) =>
      execFileSync('nsenter', [`--net=/run/netns/${h.netns}`, path.join(cniBin, 'bridge')], {
        input: bridgeConf,
        env: {
          ...process.env,
          CNI_COMMAND: 'ADD',
          CNI_CONTAINERID: id,
          CNI_NETNS: `/proc/${pid}/ns/net`,
          CNI_IFNAME: 'eth0',
          CNI_PATH: cniBin,
        },
      });
    const ctrPair = (id: string) => peer.pair(id, network ? (pid) => bridgeAdd(id, pid) : undefined);
    const ctrCleanup = () => {
      peer.cleanup();
      // the veths went with the roots' namespaces; the leases are dropped wholesale (a /24 would run out)
      fs.rmSync(ctrIpam, { recursive: true, force: true });
    };
    // purge kills (as the ctr cleanup does with SIGKILL): sleep as PID 1 ignores delete's SIGTERM until its timeout
    const kukeCleanup = () => kuke(['purge', 'space', 's', '--realm', 'bench', '--cascade']);

    const nodeStart: number[] = [];
    const single = { kuke: [] as number[], ctr: [] as number[] };
    const twenty = { kuke: [] as number[], ctr: [] as number[] };
    for (let run = 0; run < runs; run++) {
      let t0 = process.hrtime.bigint();
      execFileSync(process.execPath, ['-e', '0']);
      nodeStart.push(ms(t0));

      t0 = process.hrtime.bigint();
      await kuke(['apply', '-f', '-'], cells(1, run));
      single.kuke.push(ms(t0));
      await kukeCleanup();
      t0 = process.hrtime.bigint();
      ctrPair(`p${run}`);
      single.ctr.push(ms(t0));
      ctrCleanup();

      t0 = process.hrtime.bigint();
      await kuke(['apply', '-f', '-'], cells(20, run));
      twenty.kuke.push(ms(t0));
      await kukeCleanup();
      t0 = process.hrtime.bigint();
      for (let i = 0; i < 20; i++) ctrPair(`q${run}-${i}`);
      twenty.ctr.push(ms(t0));
      ctrCleanup();
      process.stderr.write(
        `run ${run + 1}/${runs}: single kuke ${single.kuke[run].toFixed(0)} ms, ctr ${single.ctr[run].toFixed(0)} ms; twenty kuke ${twenty.kuke[run].toFixed(0)} ms, ctr ${twenty.ctr[run].toFixed(0)} ms\n`,
      );
    }
    const node = median(nodeStart);
    const line = (label: string, k: number, c: number) =>
      console.log(
        `${label.padEnd(40)} kukeon ${k.toFixed(0).padStart(6)} ms   ctr ${c.toFixed(0).padStart(6)} ms   ratio ${(k / c).toFixed(2)}`,
      );
    console.log(
      `\nmedians of ${runs} alternating runs (containerd ${execFileSync('containerd', ['--version'], { encoding: 'utf8' }).trim().split(' ')[2]}, runc, same private containerd${network ? '; network: kukeon with the cni plugin, ctr + bridge plugin ADD' : ''})`,
    );
    console.log(`node start (node -e 0)                   ${node.toFixed(0)} ms`);
    line('one cell to running', median(single.kuke), median(single.ctr));
    line('one cell, node start subtracted', median(single.kuke) - node, median(single.ctr));
    line('20 cells to running', median(twenty.kuke), median(twenty.ctr));
  } finally {
    const diff = await h.stop();
    if (diff.length) console.log(`host changed: ${diff.join('; ')}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

// The conformance probe: an add-on plugin the cell suites load next to the plugin under test, by module path,
// from the configuration file (as any third-party plugin). At the end of every cell start step (stage 1000, after
// every other tap) it records what it sees, hits failpoint `conformance.after.<step>` (KUKEON_FAILPOINTS injects
// a failure or a kill between two steps), and returns an undo that records what it sees when the host unwinds.
// The suites read its log and judge the plugin under test; the probe itself never decides anything.

import fs from 'node:fs';
import { CELL_START_STEPS, definePlugin, failpoint } from '..';
import type { CellContext, CellStartStep } from '..';
import { alive, cgroupDir, interfacesOf } from './observe';

export interface ProbeEvent {
  event: 'done' | 'undo';
  step: CellStartStep;
  /** The cell's path, `/`-joined. */
  cell: string;
  /** The kuke process that ran the step. */
  pid: number;
  root?: number;
  rootAlive: boolean;
  /** Workload container id -> pid, and whether each is alive. */
  workloads: Record<string, number | undefined>;
  workloadsAlive: Record<string, boolean>;
  ip?: string;
  /** Interfaces in the root's network namespace (undefined once the root is gone). */
  interfaces?: string[];
  cgroupPath?: string;
  cgroupExists?: boolean;
}

export const PROBE_NAME = 'conformance-probe';

function observe(event: ProbeEvent['event'], step: CellStartStep, ctx: CellContext): ProbeEvent {
  const root = ctx.status.root?.pid;
  const workloads: Record<string, number | undefined> = {};
  const workloadsAlive: Record<string, boolean> = {};
  for (const c of ctx.containers) {
    if (c.metadata.name === ctx.rootId) continue;
    const pid = ctx.status.containers[c.metadata.name]?.pid;
    workloads[c.metadata.name] = pid;
    workloadsAlive[c.metadata.name] = alive(pid);
  }
  const dir = cgroupDir(ctx.status.cgroupPath);
  return {
    event,
    step,
    cell: ctx.ref.path.join('/'),
    pid: process.pid,
    root,
    rootAlive: alive(root),
    workloads,
    workloadsAlive,
    ip: ctx.status.ip,
    interfaces: alive(root) ? interfacesOf(root) : undefined,
    cgroupPath: ctx.status.cgroupPath,
    cgroupExists: dir ? fs.existsSync(dir) : undefined,
  };
}

export default definePlugin<{ log: string }>({
  name: PROBE_NAME,
  version: '1.0.0',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['log'],
    properties: { log: { type: 'string', description: 'JSON-lines file the probe appends to' } },
  },
  apply(host, config) {
    const record = (e: ProbeEvent) => fs.appendFileSync(config.log, `${JSON.stringify(e)}\n`);
    for (const step of CELL_START_STEPS) {
      host.hooks.cell[step].tapPromise({ name: PROBE_NAME, stage: 1000 }, async (ctx) => {
        record(observe('done', step, ctx));
        failpoint(`conformance.after.${step}`);
        return () => record(observe('undo', step, ctx));
      });
    }
  },
});

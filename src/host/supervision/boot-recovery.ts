// kukeond's start-up pass, before it serves and before anything supervises: after a reboot it converges every
// realm, space and stack (cgroups, networks) and marks each cell whose tasks are gone `Stopped` with reason
// `Reboot`; after a reboot or a plain daemon restart it then starts the cells that do not run and whose
// containers' restart policies say so (startsWithDaemon). Cells that still run are never touched. Nothing is
// marked when the tasks could not be listed: the pass reports it as skipped and must run again.

import { formatRef, isKukeonError, toKukeonError } from '../../../sdk';
import type { CellDoc, ContainerDoc, ContainerStatus, PluginStatus, Ref, StoreService, TaskService, TaskSummary } from '../../../sdk';
import type { Lifecycle } from '../controller/lifecycle';
import { KILL } from '../controller/lifecycle';
import { mapLimit } from '../controller/map-limit';
import { HostOperationScope } from '../operation-scope';
import { convergeTree } from './converge-tree';
import { policyOf, startsWithDaemon } from './restart-policy';

/** How many cells are started at once. */
const START_CONCURRENCY = 4;
/** States that say a cell runs (an `Exited` cell's root still ran): with its tasks gone, the record is wrong. */
const CLAIMS_RUNNING = new Set(['Ready', 'Degraded', 'Unknown', 'Exited', 'Pending']);
/** States of a container that ran until its task vanished (an `Exited` one had ended before, with its own reason). */
const WAS_RUNNING = new Set(['Ready', 'Degraded', 'Unknown', 'Pending']);
/** The exit code a container whose task vanished unseen counts as (Docker's 255): `on-failure` brings it back. */
const VANISHED_EXIT = 255;

export interface BootRecoveryDeps {
  store: StoreService;
  lifecycle: Lifecycle;
  /** `runtime.tasks`; undefined when no runtime plugin is loaded. */
  tasks: Pick<TaskService, 'list'> | undefined;
  plugins: readonly PluginStatus[];
}

export interface BootRecoveryReport {
  rebooted: boolean;
  /** Set when cells were not looked at (the runtime does not answer): nothing was marked or started. */
  skipped?: string;
  /** Realms, spaces and stacks converged (after a reboot). */
  converged: number;
  /** Cells found without tasks and marked Stopped. */
  stopped: string[];
  /** Cells started by their containers' restart policies. */
  started: string[];
  /** What went wrong, one line each; the rest of the pass went on. */
  failures: string[];
}

interface FoundCell {
  ref: Ref;
  cell: CellDoc;
  containers: ContainerDoc[];
  running: boolean;
  /** Exit codes of the cell's tasks that stopped but still exist (a plain daemon restart), by runtime id. */
  exits: Map<string, number>;
}

const cellName = (ref: Ref) => ref.path.join('/');

export async function recoverAtStart(d: BootRecoveryDeps, rebooted: boolean): Promise<BootRecoveryReport> {
  const report: BootRecoveryReport = { rebooted, converged: 0, stopped: [], started: [], failures: [] };
  if (!d.tasks) {
    const rt = d.plugins.find((p) => p.slot === 'runtime');
    report.skipped = rt
      ? `the runtime plugin ${rt.name} is ${rt.state}${rt.reason ? ` (${rt.reason})` : ''}`
      : 'no runtime plugin is configured';
    return report;
  }
  // Every realm's tasks first: if the runtime does not answer, nothing may be marked or converged.
  let cells: FoundCell[];
  try {
    cells = await findCells(d, d.tasks, report);
  } catch (err) {
    if (isKukeonError(err) && err.code === 'KUKEON_E_UNAVAILABLE') {
      report.skipped = err.message;
      return report;
    }
    throw err;
  }
  if (rebooted) {
    const tree = await convergeTree(d.store, d.lifecycle);
    report.converged = tree.converged;
    report.failures.push(...tree.failures);
  }
  const vanished = new Map<string, Set<string>>();
  for (const c of cells) {
    if (c.running || !CLAIMS_RUNNING.has(c.cell.status?.state ?? 'Pending') || !c.cell.status?.root) continue;
    vanished.set(cellName(c.ref), await markStopped(d, c, rebooted, report));
  }
  const toStart = cells.filter((c) => !c.running && c.cell.status?.root && startsByPolicy(c, vanished.get(cellName(c.ref))));
  await mapLimit(toStart, START_CONCURRENCY, async (c) => {
    try {
      await d.lifecycle.start(c.ref, { scope: HostOperationScope.start() });
      await patchContainers(d.store, c, () => ({ reason: undefined, message: undefined, stoppedByUser: undefined }));
      report.started.push(cellName(c.ref));
    } catch (err) {
      report.failures.push(`starting ${formatRef(c.ref)}: ${toKukeonError(err).message}`);
    }
  });
  report.started.sort();
  return report;
}

/** Every stored cell with whether its root's task runs; a realm whose tasks cannot be listed is reported and skipped. */
async function findCells(d: BootRecoveryDeps, tasks: Pick<TaskService, 'list'>, report: BootRecoveryReport): Promise<FoundCell[]> {
  const out: FoundCell[] = [];
  for (const realm of await d.store.list('Realm', [])) {
    const name = realm.metadata.name;
    let live: TaskSummary[];
    try {
      live = await tasks.list(name);
    } catch (err) {
      if (isKukeonError(err) && err.code === 'KUKEON_E_UNAVAILABLE') throw err;
      report.failures.push(`realm/${name}: cannot list its tasks, its cells were left as they are: ${toKukeonError(err).message}`);
      continue;
    }
    const runningIds = new Set(live.filter((t) => t.running).map((t) => t.containerdId));
    const exits = new Map(live.filter((t) => !t.running && t.exitCode !== undefined).map((t) => [t.containerdId, t.exitCode!]));
    for (const space of await d.store.list('Space', [name]))
      for (const stack of await d.store.list('Stack', [name, space.metadata.name]))
        for (const cell of await d.store.list('Cell', [name, space.metadata.name, stack.metadata.name])) {
          const ref: Ref = { kind: 'Cell', path: [name, space.metadata.name, stack.metadata.name, cell.metadata.name] };
          const loaded = await d.lifecycle.loadCell(ref, cell);
          if (!loaded) continue;
          const rootId = loaded.cell.status?.root?.containerdId;
          out.push({ ref, ...loaded, running: !!rootId && runningIds.has(rootId), exits });
        }
  }
  return out;
}

/**
 * A cell whose record says it runs but whose root has no task: its stop phase runs (dead tasks deleted, the
 * network's lease released, pids cleared), then the cell and the containers that were running get the reason.
 * Returns the ids of those containers (their tasks vanished without an exit anyone saw).
 */
async function markStopped(d: BootRecoveryDeps, c: FoundCell, rebooted: boolean, report: BootRecoveryReport): Promise<Set<string>> {
  const wasRunning = new Set(c.containers.filter((k) => WAS_RUNNING.has(k.status?.state ?? 'Pending')).map((k) => k.metadata.name));
  const mark = rebooted
    ? { reason: 'Reboot', message: 'the host restarted; its tasks are gone' }
    : { reason: undefined, message: 'its tasks were gone when kukeond started' };
  try {
    await d.lifecycle.stop(c.ref, { scope: HostOperationScope.start(), stop: KILL });
    await d.store.update({ kind: 'Cell', path: c.ref.path }, (cur) =>
      cur ? ({ ...cur, status: { ...cur.status, ...mark } } as CellDoc) : undefined,
    );
    await patchContainers(d.store, c, (id) => {
      if (!wasRunning.has(id)) return undefined;
      const code = exitOf(c, id);
      return code === undefined ? mark : { ...mark, exitCode: code };
    });
    report.stopped.push(cellName(c.ref));
  } catch (err) {
    report.failures.push(`marking ${formatRef(c.ref)} stopped: ${toKukeonError(err).message}`);
  }
  return wasRunning;
}

/** The exit code of container `id`'s stopped task, when the runtime still had it. */
function exitOf(c: FoundCell, id: string): number | undefined {
  const runtimeId = c.containers.find((k) => k.metadata.name === id)?.status?.containerdId;
  return runtimeId === undefined ? undefined : c.exits.get(runtimeId);
}

/**
 * Whether any container's policy starts the cell. A container that ran until kukeond came back exited with its
 * stopped task's code when the runtime still has the task; one whose task vanished counts as failed (exit 255).
 */
function startsByPolicy(c: FoundCell, vanished: Set<string> | undefined): boolean {
  return c.containers.some((k) => {
    const status: ContainerStatus = k.status ?? {};
    const seen = vanished?.has(k.metadata.name)
      ? { ...status, exitCode: exitOf(c, k.metadata.name) ?? status.exitCode ?? VANISHED_EXIT }
      : status;
    return startsWithDaemon(policyOf(k.spec), seen);
  });
}

/** Merges `fields(id)` into each container's stored status (none when it returns undefined). */
async function patchContainers(
  store: StoreService,
  c: FoundCell,
  fields: (id: string) => Partial<ContainerStatus> | undefined,
): Promise<void> {
  for (const k of c.containers) {
    const f = fields(k.metadata.name);
    if (!f) continue;
    await store.update({ kind: 'Container', path: [...c.ref.path, k.metadata.name] }, (cur) =>
      cur ? ({ ...cur, status: { ...cur.status, ...f } } as ContainerDoc) : undefined,
    );
  }
}

/** One line for the daemon's log. */
export function describeRecovery(r: BootRecoveryReport): string {
  const why = r.rebooted ? 'after a reboot' : 'after a daemon restart';
  if (r.skipped) return `start-up pass ${why} skipped: ${r.skipped}; cells were left as they are (the next start retries)`;
  const parts = [
    ...(r.rebooted ? [`converged ${r.converged} realm(s)/space(s)/stack(s)`] : []),
    `${r.stopped.length} cell(s) without tasks marked Stopped${r.rebooted ? ' (Reboot)' : ''}${r.stopped.length ? `: ${r.stopped.join(', ')}` : ''}`,
    `${r.started.length} started by their restart policy${r.started.length ? `: ${r.started.join(', ')}` : ''}`,
  ];
  const failed = r.failures.length ? `; ${r.failures.length} problem(s): ${r.failures.join('; ')}` : '';
  return `start-up pass ${why}: ${parts.join('; ')}${failed}`;
}

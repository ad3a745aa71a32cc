// `kuke status`: the daemon (ping and versions, probed by the caller), then each backend through its plugin's
// status and diagnose service (the same findings `kuke doctor` prints), then state parity between YAML and containerd.

import type { Diagnosis, PluginStatus, Slot } from '../../../sdk';
import type { Host } from '../host';
import { KUKEOND_CELL as SYSTEM_CELL } from '../install/system-realm';
import { DaemonUnit } from '../system/daemon-unit';
import { checkParity } from './parity';
import type { StoredCell } from './parity';
import { reportOf } from './status-line';
import type { StatusLevel, StatusLine, StatusReport, StatusSection } from './status-line';

/** What the caller learned by pinging kukeond's socket. */
export type DaemonProbe =
  | { socket: string; answered: true; version: string; pid?: number; runPath?: string }
  | { socket: string; answered: false; error: string };

const LEVEL: Record<Diagnosis['status'], StatusLevel> = { ok: 'OK', warn: 'WARN', error: 'FAIL' };

/** The backends `status` reports on: their slot, their diagnose service and what a missing plugin means. */
const BACKENDS: { section: StatusSection; slot: Slot; service: string; missing: StatusLevel }[] = [
  { section: 'containerd', slot: 'runtime', service: 'runtime.diagnose', missing: 'FAIL' },
  { section: 'cgroups', slot: 'cgroups', service: 'cgroups.diagnose', missing: 'WARN' },
  { section: 'cni', slot: 'network', service: 'network.diagnose', missing: 'WARN' },
  { section: 'store', slot: 'store', service: 'store.diagnose', missing: 'FAIL' },
];

export async function hostStatus(host: Host, daemon: DaemonProbe): Promise<StatusReport> {
  const lines: StatusLine[] = [...(await daemonLines(host, daemon))];
  const doctor = await host.controller.doctor();
  for (const b of BACKENDS) lines.push(...backendLines(b, doctor.plugins, doctor.findings));
  lines.push(...(await parityLines(host)));
  return reportOf(lines);
}

async function daemonLines(host: Host, d: DaemonProbe): Promise<StatusLine[]> {
  const system = await host.state.get(SYSTEM_CELL).catch(() => undefined);
  const cell = SYSTEM_CELL.path.join('/');
  if (!d.answered) {
    return [
      {
        section: 'daemon',
        check: 'ping',
        status: 'FAIL',
        detail: `kukeond does not answer on ${d.socket}: ${d.error}`,
        remedy: new DaemonUnit().installed()
          ? 'kuke daemon start, which runs systemctl start kukeond.service (journalctl -u kukeond.service says why it stopped)'
          : system
            ? 'kuke daemon start (kuke daemon logs says why it stopped)'
            : `kuke init (there is no system cell ${cell})`,
      },
    ];
  }
  const out: StatusLine[] = [
    { section: 'daemon', check: 'ping', status: 'OK', detail: `kukeond answers on ${d.socket}${d.pid ? ` (pid ${d.pid})` : ''}` },
    d.version === host.version
      ? { section: 'daemon', check: 'version', status: 'OK', detail: `client and daemon v${host.version}` }
      : {
          section: 'daemon',
          check: 'version',
          status: 'WARN',
          detail: `client v${host.version}, daemon v${d.version}`,
          remedy: 'kuke daemon restart (after an upgrade the daemon still runs the old version)',
        },
  ];
  if (d.runPath && d.runPath !== host.paths.runPath)
    out.push({
      section: 'daemon',
      check: 'run path',
      status: 'WARN',
      detail: `kukeond serves ${d.runPath}; this status read ${host.paths.runPath}`,
      remedy: 'pass the same --run-path (or KUKEON_RUN_PATH) as the daemon',
    });
  return out;
}

function backendLines(
  b: (typeof BACKENDS)[number],
  plugins: readonly PluginStatus[],
  findings: readonly (Diagnosis & { service: string })[],
): StatusLine[] {
  const plugin = plugins.find((p) => p.slot === b.slot);
  if (!plugin)
    return [
      {
        section: b.section,
        check: 'plugin',
        status: b.missing,
        detail: `no ${b.slot} plugin is configured`,
        remedy: 'see kuke plugins ls',
      },
    ];
  const out: StatusLine[] = [];
  if (plugin.state !== 'ok')
    out.push({
      section: b.section,
      check: 'plugin',
      status: 'FAIL',
      detail: `plugin ${plugin.name} did not load (${plugin.state})${plugin.reason ? `: ${plugin.reason}` : ''}`,
    });
  for (const f of findings.filter((x) => x.service === b.service))
    out.push({ section: b.section, check: f.check, status: LEVEL[f.status], detail: f.detail, ...(f.remedy ? { remedy: f.remedy } : {}) });
  return out;
}

async function parityLines(host: Host): Promise<StatusLine[]> {
  const tasks = host.services.get('runtime.tasks');
  if (!tasks)
    return [
      { section: 'parity', check: 'tasks', status: 'WARN', detail: 'not checked: no runtime plugin lists tasks (see containerd above)' },
    ];
  try {
    const [cells, list] = await Promise.all([storedCells(host), tasks.inventory()]);
    return checkParity(cells, list);
  } catch (err) {
    return [
      { section: 'parity', check: 'tasks', status: 'FAIL', detail: `cannot compare the YAML with the runtime: ${(err as Error).message}` },
    ];
  }
}

/** Every cell in the store with its containers. */
async function storedCells(host: Host): Promise<StoredCell[]> {
  const out: StoredCell[] = [];
  for (const realm of await host.state.list('Realm', []))
    for (const space of await host.state.list('Space', [realm.metadata.name]))
      for (const stack of await host.state.list('Stack', [realm.metadata.name, space.metadata.name])) {
        const scope = [realm.metadata.name, space.metadata.name, stack.metadata.name];
        for (const cell of await host.state.list('Cell', scope))
          out.push({ cell, containers: await host.state.list('Container', [...scope, cell.metadata.name]) });
      }
  return out;
}

// State parity between the YAML and containerd: every Ready cell has its tasks (its root running, each workload
// the YAML calls Ready with a task), and every task in kukeon's namespaces has its YAML. Pure: the caller reads both.

import { formatRef } from '../../../sdk';
import type { CellDoc, ContainerDoc, RuntimeTask } from '../../../sdk';
import type { StatusLine } from './status-line';

export interface StoredCell {
  cell: CellDoc;
  containers: ContainerDoc[];
}

const REFRESH = 'kuke refresh records what really runs; kuke start CELL (or kuke restart CELL) runs it again';
const STRAY = 'kuke purge cell NAME removes what a cell left behind; a task kukeon did not make: ctr -n NS task kill/rm';

export function checkParity(cells: readonly StoredCell[], tasks: readonly RuntimeTask[]): StatusLine[] {
  const out: StatusLine[] = [];
  const byContainerdId = new Map<string, RuntimeTask[]>();
  for (const t of tasks) byContainerdId.set(t.id, [...(byContainerdId.get(t.id) ?? []), t]);
  // Container ids are unique per namespace only: prefer the task whose labels name this cell.
  const taskOf = (cellPath: readonly string[], id: string) => {
    const same = byContainerdId.get(id) ?? [];
    return same.find((t) => t.cellPath?.join('/') === cellPath.join('/')) ?? same[0];
  };

  let ready = 0;
  let expected = 0;
  for (const { cell, containers } of cells) {
    if (cell.status?.state !== 'Ready') continue;
    ready += 1;
    const path = [cell.spec.realmId, cell.spec.spaceId, cell.spec.stackId, cell.metadata.name];
    const name = formatRef({ kind: 'Cell', path });
    const rootId = cell.status.root?.containerdId;
    if (!rootId) {
      out.push({
        section: 'parity',
        check: name,
        status: 'FAIL',
        detail: `${name} is Ready but records no root container`,
        remedy: REFRESH,
      });
      continue;
    }
    expected += 1;
    const root = taskOf(path, rootId);
    if (root?.status !== 'RUNNING') {
      out.push({
        section: 'parity',
        check: name,
        status: 'FAIL',
        detail: `${name} is Ready but its root task ${rootId} is ${root?.status ? root.status.toLowerCase() : 'gone'}`,
        remedy: REFRESH,
      });
      continue;
    }
    for (const c of containers) {
      const id = c.status?.containerdId;
      if (c.status?.state !== 'Ready' || !id || id === rootId) continue;
      expected += 1;
      const t = taskOf(path, id);
      if (!t?.status)
        out.push({
          section: 'parity',
          check: name,
          status: 'FAIL',
          detail: `${name} is Ready but the task of its container ${c.metadata.name} (${id}) is gone`,
          remedy: REFRESH,
        });
      else if (t.status !== 'RUNNING')
        out.push({
          section: 'parity',
          check: name,
          status: 'WARN',
          detail: `container ${c.metadata.name} of ${name} has exited (task ${t.status}) but its YAML still says Ready`,
          remedy: 'kuke refresh records it',
        });
    }
  }

  const known = new Map(
    cells.map((c) => [[c.cell.spec.realmId, c.cell.spec.spaceId, c.cell.spec.stackId, c.cell.metadata.name].join('/'), c]),
  );
  let checked = 0;
  for (const t of tasks) {
    if (!t.status) continue; // a container without a task is a stopped cell's, not a running stray
    checked += 1;
    const where = `task ${t.id} in namespace ${t.namespace}`;
    if (!t.cellPath) {
      out.push({
        section: 'parity',
        check: where,
        status: 'FAIL',
        detail: `${where} has no kukeon labels: nothing in the YAML owns it`,
        remedy: STRAY,
      });
      continue;
    }
    const stored = known.get(t.cellPath.join('/'));
    const cellName = formatRef({ kind: 'Cell', path: t.cellPath });
    const owned =
      stored &&
      (stored.cell.status?.root?.containerdId === t.id ||
        stored.containers.some((c) => c.metadata.name === t.container || c.status?.containerdId === t.id));
    if (!owned)
      out.push({
        section: 'parity',
        check: where,
        status: 'FAIL',
        detail: `${where} (${t.status.toLowerCase()}) belongs to ${stored ? `container ${t.container ?? '?'} of ${cellName}` : cellName}, which has no YAML`,
        remedy: STRAY.replace('NAME', t.cellPath[3]),
      });
  }

  if (!out.some((l) => l.status === 'FAIL'))
    out.unshift({
      section: 'parity',
      check: 'tasks',
      status: 'OK',
      detail: `${ready} Ready cell(s) have their ${expected} task(s); ${checked} task(s) in kukeon's namespaces all have their YAML`,
    });
  return out;
}

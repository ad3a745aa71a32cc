// `runtime.tasks.inventory`: every container and task in the namespaces kukeon runs cells in (the ones it made, labelled,
// and those its realms name), with the cell and container their labels point at, for `kuke status`'s parity check.

import type { PluginHost, RuntimeTask } from '../../sdk';
import type { CellRuntime } from './cell-runtime';
import { isNotFound } from './grpc/status-codes';
import { LABELS } from './naming';

export async function inventory(host: PluginHost, rt: CellRuntime): Promise<RuntimeTask[]> {
  const namespaces = new Set<string>();
  const all = await rt.client.namespaces.list().catch((e) => Promise.reject(rt.explain(e)));
  for (const n of all) if (n.labels?.[LABELS.managed] === 'true') namespaces.add(n.name);
  // A realm may name a shared namespace kukeon did not create (spec.namespace): it is kukeon's to check too.
  const existing = new Set(all.map((n) => n.name));
  for (const realm of await host.state.list('Realm', [])) {
    const ns = await rt.namespaceOfRealm(realm.metadata.name, realm);
    if (existing.has(ns)) namespaces.add(ns);
  }
  const out: RuntimeTask[] = [];
  for (const namespace of [...namespaces].sort()) {
    let containers: Awaited<ReturnType<typeof rt.client.containers.list>>;
    let tasks: Awaited<ReturnType<typeof rt.client.tasks.list>>;
    try {
      [containers, tasks] = await Promise.all([rt.client.containers.list(namespace), rt.client.tasks.list(namespace)]);
    } catch (err) {
      if (isNotFound(err)) continue; // the namespace went away meanwhile
      throw rt.explain(err);
    }
    const taskOf = new Map(tasks.map((t) => [t.container_id || t.id, t]));
    const labelled = new Map(containers.map((c) => [c.id, c.labels ?? {}]));
    const ids = new Set([...labelled.keys(), ...taskOf.keys()]);
    for (const id of [...ids].sort()) {
      const labels = labelled.get(id) ?? {};
      const t = taskOf.get(id);
      const cellPath = [LABELS.realm, LABELS.space, LABELS.stack, LABELS.cell].map((k) => labels[k]);
      out.push({
        namespace,
        id,
        status: t?.status,
        pid: t?.pid || undefined,
        cellPath: cellPath.every((p) => !!p) ? cellPath : undefined,
        container: labels[LABELS.container],
        role: labels[LABELS.role],
      });
    }
  }
  return out;
}

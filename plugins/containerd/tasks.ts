// `runtime.tasks`: one container's live task, for the supervisor; the tasks of a realm's namespace, for the daemon's
// start-up pass; every container and task of kukeon's namespaces, for `kuke status`. A containerd that does not answer in time is KUKEON_E_UNAVAILABLE (never an empty list: "no
// tasks" would mark running cells stopped).

import { KukeonError } from '../../sdk';
import type { PluginHost, TaskService } from '../../sdk';
import { inventory } from './inventory';
import type { CellRuntime } from './cell-runtime';
import { containerdId } from './naming';

const LIST_TIMEOUT_MS = 5_000;
/** gRPC UNAVAILABLE and DEADLINE_EXCEEDED: containerd is not there, or does not answer. */
const UNREACHABLE = new Set([14, 4]);

export function tasks(host: PluginHost, rt: CellRuntime, socket: string): TaskService {
  return {
    inventory: () => inventory(host, rt),
    async get(cellPath, container) {
      const ns = await rt.namespaceOfRealm(cellPath[0]);
      const t = await rt.task(ns, containerdId(cellPath, container));
      if (!t) return undefined;
      const stopped = t.status === 'STOPPED';
      return {
        status: t.status === 'RUNNING' ? 'running' : stopped ? 'stopped' : 'other',
        pid: t.pid || undefined,
        exitCode: stopped ? t.exit_status : undefined,
        exitedAt:
          stopped && t.exited_at
            ? new Date(Number(t.exited_at.seconds) * 1000 + Math.floor((t.exited_at.nanos ?? 0) / 1e6)).toISOString()
            : undefined,
      };
    },
    async list(realm) {
      const ns = await rt.namespaceOfRealm(realm);
      try {
        const tasks = await rt.client.tasks.list(ns, '', { timeoutMs: LIST_TIMEOUT_MS });
        return tasks.map((t) => ({
          containerdId: t.id || t.container_id,
          running: t.status === 'RUNNING' || t.status === 'PAUSED' || t.status === 'PAUSING',
          pid: t.pid || undefined,
          exitCode: t.status === 'STOPPED' ? t.exit_status : undefined,
        }));
      } catch (err) {
        const code = (err as { grpcCode?: number }).grpcCode;
        if (code !== undefined && UNREACHABLE.has(code))
          throw new KukeonError(
            'KUKEON_E_UNAVAILABLE',
            `containerd at ${socket} does not answer: ${(err as Error).message}`,
            { plugin: 'containerd', hint: 'start containerd, or point --containerd-socket / KUKEON_CONTAINERD_SOCKET at its socket' },
            { cause: err },
          );
        throw rt.explain(err);
      }
    },
  };
}

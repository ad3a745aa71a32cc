// `runtime.events`: containers' task exits as they happen, from containerd's event stream (`/tasks/exit`), mapped
// back to kukeon's names through the labels kukeon puts on every container. One subscription is shared by every
// listener and dropped when the last one leaves. containerd does not replay missed events, so a broken stream is
// re-opened after a pause; a watcher that must not miss an exit reads the state again (`kuke get`) after a gap.

import type { ExitEvent, ExitEventService } from '../../sdk';
import type { ContainerdClient } from './grpc/containerd-client';
import { LABELS, ROOT_LEAF } from './naming';

const RESUBSCRIBE_MS = 1000;

export function exitEvents(client: () => ContainerdClient, log: (format: string, ...args: unknown[]) => void): ExitEventService {
  const listeners = new Set<(e: ExitEvent) => void>();
  let sub: { cancel(): void } | undefined;

  const open = (): void => {
    const s = client().events.subscribe(['topic=="/tasks/exit"']);
    sub = s;
    const reopen = () => {
      if (sub !== s) return; // closed on purpose
      sub = undefined;
      setTimeout(() => {
        if (listeners.size && !sub) open();
      }, RESUBSCRIBE_MS).unref();
    };
    (async () => {
      for await (const ev of s) {
        const p = ev.payload as { container_id?: string; id?: string; exit_status?: number; exited_at?: unknown } | undefined;
        // an exec's exit (id differs from the container's) is not the container's
        if (!p?.container_id || (p.id && p.id !== p.container_id)) continue;
        let labels: Record<string, string> = {};
        try {
          labels = (await client().containers.get(ev.namespace, p.container_id)).labels ?? {};
        } catch {
          continue; // already removed: kukeon removed it, and knows
        }
        if (!labels[LABELS.cell]) continue; // not kukeon's
        const cellPath = [labels[LABELS.realm], labels[LABELS.space], labels[LABELS.stack], labels[LABELS.cell]];
        const container = labels[LABELS.role] === 'root' ? (labels[LABELS.container] ?? ROOT_LEAF) : labels[LABELS.container];
        const e: ExitEvent = { cellPath, container, exitCode: p.exit_status ?? 0, time: (ev.timestamp ?? new Date()).toISOString() };
        for (const fn of listeners) fn(e);
      }
    })().then(
      () => reopen(), // ended by containerd (a restart): subscribe again
      (err) => {
        if (sub === s) log('event stream broke (%s); re-subscribing', (err as Error).message);
        reopen();
      },
    );
  };

  return {
    subscribe(fn) {
      listeners.add(fn);
      if (!sub) open();
      return () => {
        listeners.delete(fn);
        if (listeners.size === 0 && sub) {
          const s = sub;
          sub = undefined;
          s.cancel();
        }
      };
    },
  };
}

// `runtime.events`: containers' task exits as they happen, from containerd's event stream (`/tasks/exit`), mapped
// back to kukeon's names through the labels kukeon puts on every container. One subscription is shared by every
// listener and dropped when the last one leaves. containerd does not replay missed events: a broken stream (a
// containerd restart) is re-opened with backoff, and every listener's `onSubscribed` runs once containerd answers
// again, so a listener that must not miss an exit reads the tasks' state then.

import type { ExitEvent, ExitEventService } from '../../sdk';
import type { ContainerdClient } from './grpc/containerd-client';
import { LABELS, ROOT_LEAF } from './naming';

export const RESUBSCRIBE_MIN_MS = 100;
export const RESUBSCRIBE_MAX_MS = 5000;

interface Listener {
  fn: (e: ExitEvent) => void;
  onSubscribed?: () => void;
}

export function exitEvents(client: () => ContainerdClient, log: (format: string, ...args: unknown[]) => void): ExitEventService {
  const listeners = new Set<Listener>();
  let sub: { cancel(): void } | undefined;
  /** Whether containerd answered since the current stream was opened. */
  let confirmed = false;
  let delay = RESUBSCRIBE_MIN_MS;
  let timer: NodeJS.Timeout | undefined;

  const notify = (l: Listener) => {
    try {
      l.onSubscribed?.();
    } catch (err) {
      log('onSubscribed failed: %s', (err as Error).message);
    }
  };

  const open = (): void => {
    timer = undefined;
    const s = client().events.subscribe(['topic=="/tasks/exit"']);
    sub = s;
    confirmed = false;
    // The stream itself says nothing until the first event. A call answered after it was sent says containerd is
    // up and, in practice, has registered it; listeners then list tasks (and a later reconcile covers the rest).
    client()
      .version({ timeoutMs: 2000 })
      .then(
        () => {
          if (sub !== s) return;
          confirmed = true;
          delay = RESUBSCRIBE_MIN_MS;
          for (const l of [...listeners]) notify(l);
        },
        () => undefined, // the stream breaks as well, and is re-opened
      );
    const reopen = () => {
      if (sub !== s) return; // closed on purpose
      sub = undefined;
      if (!listeners.size) return;
      timer = setTimeout(open, delay);
      timer.unref();
      delay = Math.min(delay * 2, RESUBSCRIBE_MAX_MS);
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
        for (const l of [...listeners]) l.fn(e);
      }
    })().then(
      () => {
        if (sub === s) log('event stream ended (containerd restarted?); re-subscribing in %d ms', delay);
        reopen();
      },
      (err) => {
        if (sub === s) log('event stream broke (%s); re-subscribing in %d ms', (err as Error).message, delay);
        reopen();
      },
    );
  };

  return {
    subscribe(fn, onSubscribed) {
      const l: Listener = { fn, onSubscribed };
      listeners.add(l);
      if (!sub && !timer) open();
      else if (confirmed) setImmediate(() => listeners.has(l) && notify(l));
      return () => {
        listeners.delete(l);
        if (listeners.size) return;
        if (timer) clearTimeout(timer);
        timer = undefined;
        if (sub) {
          const s = sub;
          sub = undefined;
          s.cancel();
        }
      };
    },
  };
}

// runtime.events over a stand-in containerd client: a broken stream is re-opened with a doubling backoff while
// containerd is away, every listener's onSubscribed runs once it answers again, and exits map to kukeon names.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ExitEvent } from '../sdk';
import { RESUBSCRIBE_MIN_MS, exitEvents } from '../plugins/containerd/exit-events';
import type { ContainerdClient } from '../plugins/containerd/grpc/containerd-client';
import { waitFor } from './helpers/wait-for';

const LABELS = {
  'kukeon.io/realm': 'main',
  'kukeon.io/space': 'blog',
  'kukeon.io/stack': 'wp',
  'kukeon.io/cell': 'web',
  'kukeon.io/container': 'w',
  'kukeon.io/role': 'workload',
};

/** A client whose event streams fail while `up` is false; `send` delivers an exit on the open stream. */
function fakeClient() {
  const state = {
    up: true,
    opened: [] as number[],
    push: undefined as ((ev: unknown) => void) | undefined,
    fail: undefined as ((err: Error) => void) | undefined,
  };
  const client = {
    version: async () => {
      if (!state.up) throw Object.assign(new Error('UNAVAILABLE'), { grpcCode: 14 });
      return { version: 'fake', revision: '' };
    },
    containers: { get: async () => ({ labels: LABELS }) },
    events: {
      subscribe() {
        state.opened.push(Date.now());
        const queue: unknown[] = [];
        let wake: (() => void) | undefined;
        let error: Error | undefined = state.up ? undefined : new Error('UNAVAILABLE: connect ECONNREFUSED');
        let done = false;
        state.push = (ev) => {
          queue.push(ev);
          wake?.();
        };
        state.fail = (err) => {
          error = err;
          wake?.();
        };
        return {
          cancel() {
            done = true;
            wake?.();
          },
          async *[Symbol.asyncIterator]() {
            for (;;) {
              if (error) throw error;
              if (done) return;
              if (queue.length) {
                yield queue.shift();
                continue;
              }
              await new Promise<void>((r) => {
                wake = r;
              });
            }
          },
        };
      },
    },
  };
  return { client: client as unknown as ContainerdClient, state };
}

test('a broken stream is re-opened with a doubling backoff; onSubscribed runs at the start and once containerd is back', async () => {
  const { client, state } = fakeClient();
  const svc = exitEvents(
    () => client,
    () => undefined,
  );
  const exits: ExitEvent[] = [];
  let subscribed = 0;
  const off = svc.subscribe(
    (e) => exits.push(e),
    () => subscribed++,
  );
  await waitFor('first subscription', () => subscribed === 1, 10_000, 5);

  state.up = false;
  state.fail?.(new Error('UNAVAILABLE: Connection dropped'));
  await waitFor('three attempts while down', () => state.opened.length >= 4, 10_000, 5);
  const gaps = state.opened.slice(1).map((t, i) => t - state.opened[i]);
  // opened[1] came RESUBSCRIBE_MIN_MS after the break; each failed attempt doubles the wait before the next
  // (no upper bound: a timer fires late on a loaded machine, never early)
  assert.ok(gaps[1] >= 2 * RESUBSCRIBE_MIN_MS - 5, `second attempt after ${gaps[1]} ms`);
  assert.ok(gaps[2] >= 4 * RESUBSCRIBE_MIN_MS - 5, `third attempt after ${gaps[2]} ms (doubled)`);
  assert.is(subscribed, 1, 'not called while containerd is away');

  state.up = true;
  await waitFor('re-subscribed', () => subscribed === 2, 10_000, 5);
  state.push?.({
    namespace: 'kukeon-main',
    timestamp: new Date('2026-01-01T00:00:00Z'),
    payload: { container_id: 'blog_wp_web_w', id: 'blog_wp_web_w', exit_status: 137 },
  });
  await waitFor('the exit', () => exits.length === 1, 10_000, 5);
  assert.equal(exits[0], { cellPath: ['main', 'blog', 'wp', 'web'], container: 'w', exitCode: 137, time: '2026-01-01T00:00:00.000Z' });

  // a listener that joins a live stream is told at once; the last one leaving closes the stream for good
  let late = 0;
  const offLate = svc.subscribe(
    () => undefined,
    () => late++,
  );
  await waitFor('late listener told', () => late === 1, 10_000, 5);
  offLate();
  off();
  const opened = state.opened.length;
  await new Promise((r) => setTimeout(r, 300));
  assert.is(state.opened.length, opened, 'no re-subscription after the last listener left');
});

test.run();

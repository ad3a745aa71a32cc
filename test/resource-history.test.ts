// The daemon's per-resource history (src/host/history/): which status transitions become which events, one
// event per exit when the runtime and a status write both report it, and the bounds (events per resource,
// resources). The store is an in-memory StoreService wrapped by the host's real HostEvents, so the document
// before each write reaches the history as it does in the daemon.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AnyDoc, CellDoc, ContainerDoc, ContainerStatus, Doc, ExitEvent, Kind, Ref, ResourceEvent, StoreService } from '../sdk';
import { refOf } from '../sdk';
import { eventsOfChange, exitMessage } from '../src/host/history/change-events';
import { ResourceHistory } from '../src/host/history/resource-history';
import { HostEvents } from '../src/host/host-events';

const CELL: Ref = { kind: 'Cell', path: ['main', 'blog', 'wp', 'web'] };
const NGINX: Ref = { kind: 'Container', path: [...CELL.path, 'nginx'] };
const T = '2026-12-06T10:00:00.000Z';

function container(status: ContainerStatus, id = 'nginx'): ContainerDoc {
  return {
    apiVersion: 'v1beta1',
    kind: 'Container',
    metadata: { name: id },
    spec: { id, image: 'nginx', realmId: 'main', spaceId: 'blog', stackId: 'wp', cellId: 'web' },
    status,
  };
}

function cell(status: CellDoc['status']): CellDoc {
  return {
    apiVersion: 'v1beta1',
    kind: 'Cell',
    metadata: { name: 'web' },
    spec: { realmId: 'main', spaceId: 'blog', stackId: 'wp', containers: [] },
    status,
  };
}

const brief = (events: ResourceEvent[]) => events.map((e) => `${e.type} ${e.reason}: ${e.message}`);
const change = (ref: Ref, before: AnyDoc | undefined, after: AnyDoc | undefined) => brief(eventsOfChange(ref, before, after, T));

/** A StoreService in memory: enough for HostEvents to wrap. */
function memoryStore(): StoreService {
  const docs = new Map<string, AnyDoc>();
  const key = (ref: Ref) => `${ref.kind}/${ref.path.join('/')}`;
  return {
    get: async <K extends Kind>(ref: Ref & { kind: K }) => docs.get(key(ref)) as Doc<K> | undefined,
    list: async () => [],
    put: async (doc) => void docs.set(key(refOf(doc)), doc),
    update: async <K extends Kind>(ref: Ref & { kind: K }, fn: (cur: Doc<K> | undefined) => Doc<K> | undefined) => {
      const next = fn(docs.get(key(ref)) as Doc<K> | undefined);
      if (next) docs.set(key(ref), next as AnyDoc);
      return next;
    },
    remove: async (ref) => void docs.delete(key(ref)),
  };
}

/** A history attached to a real HostEvents over an in-memory store, with a runtime exit source and a settable clock. */
function recorder(limits?: { perResource: number; resources: number }) {
  const events = new HostEvents();
  const store = events.observe(memoryStore());
  const exitListeners = new Set<(e: ExitEvent) => void>();
  let now = 1_000_000;
  const history = new ResourceHistory(limits, () => now);
  const detach = history.attach(events, {
    subscribe: (fn) => {
      exitListeners.add(fn);
      return () => exitListeners.delete(fn);
    },
  });
  const setStatus = (ref: Ref, status: ContainerStatus) =>
    store.update(ref as Ref & { kind: 'Container' }, (cur) => (cur ? { ...cur, status: { ...cur.status, ...status } } : undefined));
  return {
    store,
    history,
    detach,
    setStatus,
    exit: (code: number) => {
      for (const fn of exitListeners) fn({ cellPath: [...CELL.path], container: 'nginx', exitCode: code, time: new Date().toISOString() });
    },
    tick: (ms: number) => void (now += ms),
    listeners: () => exitListeners.size,
  };
}

test('status transitions: created, started, exited with its code, restarted, back-off, OOM-killed, stopped, failed, deleted', () => {
  assert.equal(change(NGINX, undefined, container({ state: 'Pending' })), ['Normal Created: container created']);
  assert.equal(change(NGINX, container({ state: 'Pending' }), undefined), ['Normal Deleted: container deleted']);
  assert.equal(change(NGINX, container({ state: 'Pending' }), container({ state: 'Ready', pid: 42 })), [
    'Normal Started: started (pid 42)',
  ]);
  const running = container({ state: 'Ready', pid: 42, restartCount: 0 });
  assert.equal(change(NGINX, running, container({ state: 'Exited', exitCode: 3, finishTime: T })), ['Warning Exited: exited with code 3']);
  assert.equal(change(NGINX, running, container({ state: 'Exited', exitCode: 0, finishTime: T })), ['Normal Exited: exited with code 0']);
  assert.equal(change(NGINX, running, container({ state: 'Exited', exitCode: 137, finishTime: T })), [
    'Warning Exited: exited with code 137 (SIGKILL)',
  ]);
  // the supervisor's writes: an exit with a pending restart, then the restart
  assert.equal(
    change(
      NGINX,
      running,
      container({ state: 'Exited', exitCode: 1, finishTime: T, reason: 'CrashLoopBackOff', nextRestartAt: '2026-12-06T10:00:00.200Z' }),
    ),
    [
      'Warning Exited: exited with code 1 (CrashLoopBackOff)',
      'Warning BackOff: back-off: restarting at 2026-12-06T10:00:00.200Z (CrashLoopBackOff)',
    ],
  );
  assert.equal(
    change(NGINX, container({ state: 'Exited', exitCode: 1, restartCount: 0 }), container({ state: 'Ready', restartCount: 1 })),
    ['Normal Restarted: restarted by its restart policy (restart 1)'],
  );
  assert.equal(change(NGINX, running, container({ state: 'Exited', exitCode: 137, finishTime: T, reason: 'OOMKilled' })), [
    'Warning Exited: exited with code 137 (SIGKILL) (OOMKilled)',
    "Warning OOMKilled: killed by the kernel's OOM killer (memory limit reached)",
  ]);
  assert.equal(change(NGINX, running, container({ state: 'Stopped', exitCode: 143, finishTime: T, stoppedByUser: true })), [
    'Normal Stopped: stopped by the user (exited with code 143 (SIGTERM))',
  ]);
  assert.equal(change(NGINX, running, container({ state: 'Failed', reason: 'Error', message: 'on-failure: 2 restarts, gave up' })), [
    'Warning Failed: Error: on-failure: 2 restarts, gave up',
  ]);
  const updated = container({ state: 'Ready', pid: 42, restartCount: 0 });
  updated.spec = { ...updated.spec, image: 'nginx:2' };
  assert.equal(change(NGINX, running, updated), ['Normal Updated: spec changed (applied)']);
  const reordered = container({ state: 'Ready', pid: 42, restartCount: 0 });
  reordered.spec = Object.fromEntries(Object.entries(reordered.spec).reverse()) as ContainerDoc['spec'];
  assert.equal(change(NGINX, running, reordered), [], 'key order is not a change');
  assert.equal(change(CELL, cell({ state: 'Ready' }), cell({ state: 'Stopped', reason: 'Reboot' })), [
    'Normal Stopped: stopped: the host restarted under it',
  ]);
});

test('a cell: started, network attached, degraded; writes that change nothing a user acts on (stats, updatedAt) make no event', () => {
  const attached = cell({
    state: 'Ready',
    ip: '10.90.7.2',
    network: { state: 'Attached', interface: 'eth0', address: '10.90.7.2/24', hostInterface: 'veth1' },
  });
  assert.equal(change(CELL, cell({ state: 'Pending' }), attached), [
    'Normal Started: started',
    'Normal NetworkAttached: attached eth0 10.90.7.2/24 (host side veth1)',
  ]);
  assert.equal(change(CELL, attached, cell({ ...attached.status, state: 'Degraded', message: 'nginx exited; restart in 0.1s' })), [
    'Warning Degraded: nginx exited; restart in 0.1s',
  ]);
  assert.equal(change(CELL, attached, cell({ ...attached.status, updatedAt: T, stats: { memoryCurrent: 5 } })), []);
  assert.equal(change(NGINX, container({ state: 'Ready', pid: 1 }), container({ state: 'Ready', pid: 1, updatedAt: T })), []);
  // realms, spaces and stacks: created is the event; their Pending -> Ready is part of it
  const realm = (state: 'Pending' | 'Ready') =>
    ({ apiVersion: 'v1beta1', kind: 'Realm', metadata: { name: 'main' }, spec: {}, status: { state } }) as AnyDoc;
  assert.equal(change({ kind: 'Realm', path: ['main'] }, realm('Pending'), realm('Ready')), []);
  assert.is(exitMessage(undefined, 'SIGKILL'), 'killed by SIGKILL');
});

test('through HostEvents: each write with the document before it; one exit when the runtime and a status write both report it, in either order', async () => {
  const r = recorder();
  await r.store.put(cell({ state: 'Pending' }));
  await r.store.put(container({ state: 'Pending' }));
  await r.setStatus(NGINX, { state: 'Ready', pid: 7, startTime: T });
  // the runtime reports the exit first, then the status write (the supervisor, or refresh) reports it again
  r.exit(3);
  r.tick(50);
  await r.setStatus(NGINX, { state: 'Exited', exitCode: 3, finishTime: T, pid: undefined });
  r.tick(1000);
  // status first, then the runtime's event
  await r.setStatus(NGINX, { state: 'Ready', restartCount: 1, pid: 8, exitCode: undefined, finishTime: undefined });
  r.tick(1000);
  await r.setStatus(NGINX, { state: 'Exited', exitCode: 3, finishTime: '2026-12-06T10:00:02.000Z' });
  r.tick(20);
  r.exit(3);
  assert.equal(
    brief(r.history.eventsOf(NGINX)),
    [
      'Normal Created: container created',
      'Normal Started: started (pid 7)',
      'Warning Exited: exited with code 3',
      'Normal Restarted: restarted by its restart policy (restart 1)',
      'Warning Exited: exited with code 3',
    ],
    'each exit once',
  );
  // a cell's history has its containers' too; its own first when they share a time
  const cellEvents = r.history.eventsOf(CELL);
  assert.equal(cellEvents.length, 6);
  assert.equal(cellEvents[0].ref, CELL);
  assert.equal(cellEvents[0].reason, 'Created');
  for (let i = 1; i < cellEvents.length; i++) assert.ok(cellEvents[i - 1].time <= cellEvents[i].time, 'oldest first');

  // a stop is always recorded, even when the runtime reported the exit first
  r.tick(10_000);
  await r.setStatus(NGINX, { state: 'Ready', pid: 9, exitCode: undefined, finishTime: undefined });
  r.exit(143);
  await r.setStatus(NGINX, { state: 'Stopped', exitCode: 143, finishTime: '2026-12-06T10:00:09.000Z' });
  assert.equal(brief(r.history.eventsOf(NGINX)).slice(-3), [
    'Normal Started: started (pid 9)',
    'Warning Exited: exited with code 143 (SIGTERM)',
    'Normal Stopped: stopped (exited with code 143 (SIGTERM))',
  ]);

  // a status exit and a runtime exit with different codes are two exits
  await r.setStatus(NGINX, { state: 'Exited', exitCode: 2, finishTime: '2026-12-06T10:00:10.000Z' });
  r.exit(5);
  assert.equal(brief(r.history.eventsOf(NGINX)).slice(-2), ['Warning Exited: exited with code 2', 'Warning Exited: exited with code 5']);
  r.tick(10_000);

  // two real exits of a crash-looping container, reported by the runtime only: both kept
  r.exit(1);
  r.tick(100);
  r.exit(1);
  assert.equal(brief(r.history.eventsOf(NGINX)).slice(-2), ['Warning Exited: exited with code 1', 'Warning Exited: exited with code 1']);

  await r.store.remove(CELL);
  assert.equal(brief(r.history.eventsOf(CELL)).at(-1), 'Normal Deleted: cell deleted');
  r.detach();
  assert.is(r.listeners(), 0, 'detach unsubscribes from the runtime');
  await r.store.put(cell({ state: 'Pending' }));
  assert.equal(brief(r.history.eventsOf(CELL)).at(-1), 'Normal Deleted: cell deleted', 'nothing recorded after detach');
});

test('bounds: the last N events per resource; the resources touched least recently are forgotten first', () => {
  const history = new ResourceHistory({ perResource: 50, resources: 100 });
  const at = (i: number) => new Date(Date.parse(T) + i * 1000).toISOString();
  for (let i = 0; i < 60; i++) history.record({ time: at(i), ref: NGINX, type: 'Normal', reason: 'Started', message: `#${i}` });
  const kept = history.eventsOf(NGINX);
  assert.is(kept.length, 50);
  assert.is(kept[0].message, '#10', 'the oldest ones went');
  assert.is(kept[49].message, '#59');

  const cellRef = (i: number): Ref => ({ kind: 'Cell', path: ['main', 'blog', 'wp', `c${i}`] });
  for (let i = 0; i < 150; i++) {
    history.record({ time: at(i), ref: cellRef(i), type: 'Normal', reason: 'Created', message: 'cell created' });
    if (i === 90) history.record({ time: at(i), ref: cellRef(10), type: 'Normal', reason: 'Started', message: 'started' });
  }
  assert.is(history.size, 100, 'at most 100 resources');
  assert.is(history.eventsOf(NGINX).length, 0, 'the least recently touched went first');
  assert.is(history.eventsOf(cellRef(50)).length, 0);
  assert.is(history.eventsOf(cellRef(149)).length, 1);
  assert.equal(brief(history.eventsOf(cellRef(10))), ['Normal Created: cell created', 'Normal Started: started'], 'touched again: kept');
});

test.run();

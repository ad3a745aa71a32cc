// The daemon's memory of what happened to each resource, for `kuke describe`: events derived from the store's
// writes (HostEvents: every put, update and remove, with the document before it) and from the runtime's task
// exits. Bounded: the last EVENTS_PER_RESOURCE events of each of the MAX_RESOURCES resources touched most
// recently; older ones are forgotten. In memory only: a restarted daemon starts with an empty history.

import type { AnyDoc, ExitEvent, Ref, ResourceEvent, WatchEvent } from '../../../sdk';
import { eventsOfChange, exitEvent } from './change-events';

export const EVENTS_PER_RESOURCE = 50;
export const MAX_RESOURCES = 1000;
/** A task exit seen both as a runtime event and as a status change within this long is one exit. */
const SAME_EXIT_MS = 5000;

type ExitSource = 'runtime' | 'status';

const keyOf = (ref: Ref) => `${ref.kind}/${ref.path.join('/')}`;
const exitCodeOf = (doc: AnyDoc | undefined) => (doc?.status as { exitCode?: number } | undefined)?.exitCode;

export class ResourceHistory {
  /** By resource, oldest first; a Map's order is its LRU order (a resource moves to the end when it gets an event). */
  private readonly byResource = new Map<string, { ev: ResourceEvent; seq: number }[]>();
  /** Recording order: the tie-break of events with the same time (one write's events, or one millisecond's). */
  private seq = 0;
  /** Exits recorded from one source and not yet seen from the other, by resource. */
  private readonly unmatchedExits = new Map<string, { source: ExitSource; code: number | undefined; at: number }[]>();

  constructor(
    private readonly limits = { perResource: EVENTS_PER_RESOURCE, resources: MAX_RESOURCES },
    private readonly clock: () => number = Date.now,
  ) {}

  /** Subscribes to the host's store events and (when a runtime provides them) its exits; returns the unsubscribe. */
  attach(
    events: { subscribe(fn: (e: WatchEvent, previous?: AnyDoc) => void): () => void },
    exits?: { subscribe(fn: (e: ExitEvent) => void): () => void },
  ): () => void {
    const offStore = events.subscribe((e, previous) => this.onChange(e, previous));
    const offExits = exits?.subscribe((e) => this.onExit(e)) ?? (() => undefined);
    return () => {
      offStore();
      offExits();
    };
  }

  /** A store write: the events its change of document means. */
  onChange(e: WatchEvent, previous?: AnyDoc): void {
    if (e.type === 'EXIT') return;
    for (const ev of eventsOfChange(e.ref, previous, e.type === 'DELETED' ? undefined : e.doc, e.time)) {
      const isExit = ev.reason === 'Exited' || (ev.reason === 'Stopped' && /\((exited|killed)/.test(ev.message));
      // a stop is always worth its line; an exit the runtime already reported is not worth a second one
      if (isExit && this.sameExit(ev.ref, 'status', exitCodeOf(e.doc)) && ev.reason === 'Exited') continue;
      this.record(ev);
    }
  }

  /** A task exit from the runtime. */
  onExit(e: ExitEvent): void {
    const ref: Ref = { kind: 'Container', path: [...e.cellPath, e.container] };
    if (this.sameExit(ref, 'runtime', e.exitCode)) return;
    this.record(exitEvent(ref, e.time, e.exitCode));
  }

  /**
   * Whether this exit (same code) was already recorded from the other source (then it is matched and forgotten);
   * else it is remembered for the other source to match.
   */
  private sameExit(ref: Ref, source: ExitSource, code: number | undefined): boolean {
    const key = keyOf(ref);
    const now = this.clock();
    const pending = (this.unmatchedExits.get(key) ?? []).filter((x) => now - x.at < SAME_EXIT_MS);
    const i = pending.findIndex((x) => x.source !== source && (x.code === code || x.code === undefined || code === undefined));
    const matched = i >= 0;
    if (matched) pending.splice(i, 1);
    else pending.push({ source, code, at: now });
    if (pending.length) this.unmatchedExits.set(key, pending);
    else this.unmatchedExits.delete(key);
    if (this.unmatchedExits.size > this.limits.resources) this.unmatchedExits.delete(this.unmatchedExits.keys().next().value!);
    return matched;
  }

  record(ev: ResourceEvent): void {
    const key = keyOf(ev.ref);
    const list = this.byResource.get(key) ?? [];
    this.byResource.delete(key);
    list.push({ ev, seq: this.seq++ });
    if (list.length > this.limits.perResource) list.splice(0, list.length - this.limits.perResource);
    this.byResource.set(key, list);
    while (this.byResource.size > this.limits.resources) this.byResource.delete(this.byResource.keys().next().value!);
  }

  /** The events of `ref`, and for a cell its containers' too, oldest first. */
  eventsOf(ref: Ref): ResourceEvent[] {
    const all = [...(this.byResource.get(keyOf(ref)) ?? [])];
    if (ref.kind === 'Cell') {
      const prefix = `Container/${ref.path.join('/')}/`;
      for (const [key, list] of this.byResource) if (key.startsWith(prefix)) all.push(...list);
    }
    return all.sort((a, b) => (a.ev.time < b.ev.time ? -1 : a.ev.time > b.ev.time ? 1 : a.seq - b.seq)).map((x) => x.ev);
  }

  /** How many resources have a history (for tests of the bound). */
  get size(): number {
    return this.byResource.size;
  }
}

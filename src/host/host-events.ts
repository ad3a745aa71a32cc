// Resource changes as they are written, for `kuke get -w` and `kuke events`: the host wraps its store so every
// put, update and remove is announced once it is durable. Subscribers are called synchronously; a throwing
// subscriber is dropped, never the write. Subscribers also get the document as it was before a put or update
// (the history derives events such as `Exited` or `Restarted` from the change).

import type { AnyDoc, Doc, Kind, Ref, StoreService, WatchEvent } from '../../sdk';
import { refOf } from '../../sdk';

export class HostEvents {
  private readonly subscribers = new Set<(e: WatchEvent, previous?: AnyDoc) => void>();

  subscribe(fn: (e: WatchEvent, previous?: AnyDoc) => void): () => void {
    this.subscribers.add(fn);
    return () => void this.subscribers.delete(fn);
  }

  emit(e: WatchEvent, previous?: AnyDoc): void {
    for (const fn of this.subscribers) {
      try {
        fn(e, previous);
      } catch {
        this.subscribers.delete(fn);
      }
    }
  }

  /** The store, announcing its writes; reads pass through untouched. */
  observe(store: StoreService): StoreService {
    const changed = (ref: Ref, doc: AnyDoc, previous: AnyDoc | undefined) =>
      this.emit({ type: previous ? 'MODIFIED' : 'ADDED', ref, doc, time: new Date().toISOString() }, previous);
    return {
      get: (ref) => store.get(ref),
      list: (kind, parent) => store.list(kind, parent),
      location: store.location ? (ref) => store.location?.(ref) : undefined,
      put: async (doc) => {
        const ref = refOf(doc);
        const previous = this.subscribers.size ? await store.get(ref) : undefined;
        const revision = await store.put(doc);
        if (this.subscribers.size) changed(ref, doc, previous);
        return revision;
      },
      update: async <K extends Kind>(ref: Ref & { kind: K }, fn: (current: Doc<K> | undefined) => Doc<K> | undefined) => {
        let previous: AnyDoc | undefined;
        const next = await store.update(ref, (cur) => {
          previous = cur as AnyDoc | undefined;
          return fn(cur);
        });
        if (next && this.subscribers.size) changed(ref, next as AnyDoc, previous);
        return next;
      },
      remove: async (ref, options) => {
        const revision = await store.remove(ref, options);
        if (this.subscribers.size) this.emit({ type: 'DELETED', ref, time: new Date().toISOString() });
        return revision;
      },
    };
  }
}

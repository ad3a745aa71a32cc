// Resource changes as they are written, for `kuke get -w` and `kuke events`: the host wraps its store so every
// put, update and remove is announced once it is durable. Subscribers are called synchronously; a throwing
// subscriber is dropped, never the write.

import type { AnyDoc, Doc, Kind, Ref, StoreService, WatchEvent } from '../../sdk';
import { refOf } from '../../sdk';

export class HostEvents {
  private readonly subscribers = new Set<(e: WatchEvent) => void>();

  subscribe(fn: (e: WatchEvent) => void): () => void {
    this.subscribers.add(fn);
    return () => void this.subscribers.delete(fn);
  }

  emit(e: WatchEvent): void {
    for (const fn of this.subscribers) {
      try {
        fn(e);
      } catch {
        this.subscribers.delete(fn);
      }
    }
  }

  /** The store, announcing its writes; reads pass through untouched. */
  observe(store: StoreService): StoreService {
    const changed = (type: 'ADDED' | 'MODIFIED', ref: Ref, doc: AnyDoc) => this.emit({ type, ref, doc, time: new Date().toISOString() });
    return {
      get: (ref) => store.get(ref),
      list: (kind, parent) => store.list(kind, parent),
      location: store.location ? (ref) => store.location?.(ref) : undefined,
      put: async (doc) => {
        const ref = refOf(doc);
        const existed = this.subscribers.size ? !!(await store.get(ref)) : false;
        await store.put(doc);
        if (this.subscribers.size) changed(existed ? 'MODIFIED' : 'ADDED', ref, doc);
      },
      update: async <K extends Kind>(ref: Ref & { kind: K }, fn: (current: Doc<K> | undefined) => Doc<K> | undefined) => {
        let existed = false;
        const next = await store.update(ref, (cur) => {
          existed = !!cur;
          return fn(cur);
        });
        if (next && this.subscribers.size) changed(existed ? 'MODIFIED' : 'ADDED', ref, next as AnyDoc);
        return next;
      },
      remove: async (ref) => {
        await store.remove(ref);
        if (this.subscribers.size) this.emit({ type: 'DELETED', ref, time: new Date().toISOString() });
      },
    };
  }
}

import { KukeonError, parentRef } from '../../sdk';
import type { Doc, Kind, Parents, Ref, StateReader, StoreService } from '../../sdk';

/** Scoped reads over the store; the store itself is looked up at call time (it is provided while plugins load). */
export class HostStateReader implements StateReader {
  constructor(private readonly store: () => StoreService | undefined) {}

  private get s(): StoreService {
    const store = this.store();
    if (!store) throw new KukeonError('KUKEON_E_NO_STORE');
    return store;
  }

  get<K extends Kind>(ref: Ref & { kind: K }): Promise<Doc<K> | undefined> {
    return this.s.get(ref);
  }

  list<K extends Kind>(kind: K, parent: readonly string[]): Promise<Doc<K>[]> {
    return this.s.list(kind, parent);
  }

  location(ref: Ref): string | undefined {
    return this.store()?.location?.(ref);
  }

  async parents(ref: Ref): Promise<Parents> {
    const out: Parents = {};
    for (let p = parentRef(ref); p; p = parentRef(p)) {
      const doc = await this.s.get(p);
      if (!doc) continue;
      const key = p.kind.toLowerCase() as keyof Parents;
      (out as Record<string, unknown>)[key] = doc;
    }
    return out;
  }
}

import type { AnyDoc, Doc, Kind, Ref } from '../resources';

/**
 * The `store` slot: authoritative state, one document per resource (a Cell document holds the cell's
 * own spec without `containers`; each container is its own `kind: Container` document).
 * Every method is atomic: a crash at any point leaves every document readable, old or new.
 */
export interface StoreService {
  /** The document at `ref`, or undefined. */
  get<K extends Kind>(ref: Ref & { kind: K }): Promise<Doc<K> | undefined>;
  /** The documents of `kind` directly under `parent` (the parent's path; `[]` for realms), sorted by name. */
  list<K extends Kind>(kind: K, parent: readonly string[]): Promise<Doc<K>[]>;
  /**
   * Creates or replaces the document. Its parent must exist (except for realms). A store that numbers its writes
   * resolves to the revision of this one (store-yaml does): it increases with every write, by every process, so it
   * tells in which order writes committed. Others resolve to undefined.
   */
  put(doc: AnyDoc): Promise<number | void>;
  /**
   * Read-merge-write under the store lock: `fn` sees the current document (or undefined) and returns the
   * next one, or undefined to leave it as it is. Concurrent updaters in other processes lose nothing.
   */
  update<K extends Kind>(ref: Ref & { kind: K }, fn: (current: Doc<K> | undefined) => Doc<K> | undefined): Promise<Doc<K> | undefined>;
  /**
   * Removes the document and everything stored under it. Succeeds when it is already gone. Resolves as put does.
   * With `childless`, a realm, space or stack that has a child document is kept and KUKEON_E_HAS_CHILDREN thrown,
   * checked atomically with the removal (a put of a child either lands first and is seen, or finds no parent).
   */
  remove(ref: Ref, options?: { childless?: boolean }): Promise<number | void>;
  /** Where the store keeps what belongs to `ref` on disk, when it is file-based (logs and generated files live beside it). */
  location?(ref: Ref): string | undefined;
}

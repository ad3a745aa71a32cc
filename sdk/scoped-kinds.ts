// Scoped kinds: documents that belong to a realm, a space, a stack (or, for a Secret, a cell) without being a level
// of the hierarchy (Volume, Secret). Their metadata names the scope (`{ name, realm, space?, stack?, cell? }`) and the
// store keeps them in a directory of their own inside the scope's directory (`<scope dir>/volumes/<name>.yaml`,
// `<scope dir>/secrets/<name>.yaml`).

import type { Metadata, Ref, Timestamps } from './resources';

export const SCOPED_KINDS = ['Volume', 'Secret'] as const;
export type ScopedKind = (typeof SCOPED_KINDS)[number];

/** The directory of each scoped kind inside a scope's directory: also names no space, stack or cell may take. */
export const SCOPED_DIRS: Record<ScopedKind, string> = { Volume: 'volumes', Secret: 'secrets' };

/** The deepest scope each scoped kind may name: a Volume belongs to a stack at most, a Secret to a cell. */
export const SCOPED_MAX_DEPTH: Record<ScopedKind, 3 | 4> = { Volume: 3, Secret: 4 };

/** Names reserved inside a realm, space or stack directory for scoped kinds: no space, stack or cell takes them. */
export const SCOPED_RESERVED_NAMES: readonly string[] = Object.values(SCOPED_DIRS);

/** A scoped document's place: its kind and `[realm, space?, stack?, cell?, name]` (2 to 5 names; a Volume's 2 to 4). */
export interface ScopedRef {
  readonly kind: ScopedKind;
  readonly path: readonly string[];
}

/** A reference of any kind, as apply, delete and plan report it. */
export type AnyRef = Ref | ScopedRef;

/** The scope a scoped document names: its realm, then space, stack and cell as far as they are set. */
export interface ScopeCoordinates {
  realm: string;
  space?: string;
  stack?: string;
  cell?: string;
}

export interface ScopedMetadata extends Metadata, ScopeCoordinates {}

/** `Delete` (default): a cascade delete of its scope removes the data; `Retain`: the data is kept (and said where). */
export type ReclaimPolicy = 'Delete' | 'Retain';

export interface VolumeSpec {
  reclaimPolicy?: ReclaimPolicy;
}

export interface VolumeStatus extends Timestamps {
  /** The host directory holding the volume's data (what `get` shows). */
  path?: string;
  /** The cells whose containers mount it (`realm/space/stack/cell`), as `get` reads them. */
  mountedBy?: string[];
}

export interface VolumeDoc {
  apiVersion: 'v1beta1';
  kind: 'Volume';
  metadata: ScopedMetadata;
  spec: VolumeSpec;
  status?: VolumeStatus;
}

export function isScopedKind(kind: unknown): kind is ScopedKind {
  return (SCOPED_KINDS as readonly unknown[]).includes(kind);
}

/**
 * The scope names of a scoped document's metadata: `[realm]`, `[realm, space]`, `[realm, space, stack]` or
 * `[realm, space, stack, cell]`. A gap (a stack without a space) stays in as '' so the path is refused as a bad
 * name rather than read as a shallower scope; validation reports gaps by field before anything gets here.
 */
export function scopeNames(meta: ScopeCoordinates): string[] {
  const depth = meta.cell !== undefined ? 4 : meta.stack !== undefined ? 3 : meta.space !== undefined ? 2 : 1;
  return [meta.realm, meta.space ?? '', meta.stack ?? '', meta.cell ?? ''].slice(0, depth);
}

export function scopedRefOf(doc: { kind: ScopedKind; metadata: ScopedMetadata }): ScopedRef {
  return { kind: doc.kind, path: [...scopeNames(doc.metadata), doc.metadata.name] };
}

/** The realm, space, stack or cell a scope path (1 to 4 names) names. */
export function scopeRefAt(scope: readonly string[]): Ref {
  return { kind: (['Realm', 'Space', 'Stack', 'Cell'] as const)[scope.length - 1], path: [...scope] };
}

/** The realm, space, stack or cell a scoped document belongs to. */
export function scopeRefOf(ref: ScopedRef): Ref {
  return scopeRefAt(ref.path.slice(0, -1));
}

/** The volume a container's `kind: volume` mount names (validation fills its realm). */
export function volumeRefOf(ref: { name: string; realm: string; space?: string; stack?: string }): ScopedRef {
  return { kind: 'Volume', path: [...scopeNames(ref), ref.name] };
}

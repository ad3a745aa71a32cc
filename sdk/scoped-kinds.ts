// Scoped kinds: documents that belong to a realm, a space or a stack without being a level of the hierarchy (Volume;
// Secret has the same shape). Their metadata names the scope (`{ name, realm, space?, stack? }`) and the store keeps
// them in a directory of their own inside the scope's directory (`<scope dir>/volumes/<name>.yaml`).

import type { Metadata, Ref, Timestamps } from './resources';

export const SCOPED_KINDS = ['Volume'] as const;
export type ScopedKind = (typeof SCOPED_KINDS)[number];

/** The directory of each scoped kind inside a scope's directory: also names no space, stack or cell may take. */
export const SCOPED_DIRS: Record<ScopedKind, string> = { Volume: 'volumes' };

/** Names reserved inside a realm, space or stack directory for scoped kinds (`secrets` is Secret's). */
export const SCOPED_RESERVED_NAMES: readonly string[] = ['volumes', 'secrets'];

/** A scoped document's place: its kind and `[realm, space?, stack?, name]` (2 to 4 names). */
export interface ScopedRef {
  readonly kind: ScopedKind;
  readonly path: readonly string[];
}

export interface ScopedMetadata extends Metadata {
  realm: string;
  space?: string;
  stack?: string;
}

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

/** The scope names of a scoped document's metadata: `[realm]`, `[realm, space]` or `[realm, space, stack]`. */
export function scopeNames(meta: { realm: string; space?: string; stack?: string }): string[] {
  if (meta.stack !== undefined) return [meta.realm, meta.space ?? '', meta.stack];
  if (meta.space !== undefined) return [meta.realm, meta.space];
  return [meta.realm];
}

export function scopedRefOf(doc: { kind: ScopedKind; metadata: ScopedMetadata }): ScopedRef {
  return { kind: doc.kind, path: [...scopeNames(doc.metadata), doc.metadata.name] };
}

/** The realm, space or stack a scoped document belongs to. */
export function scopeRefOf(ref: ScopedRef): Ref {
  const scope = ref.path.slice(0, -1);
  return { kind: (['Realm', 'Space', 'Stack'] as const)[scope.length - 1], path: scope };
}

/** The volume a container's `kind: volume` mount names (validation fills its realm). */
export function volumeRefOf(ref: { name: string; realm: string; space?: string; stack?: string }): ScopedRef {
  return { kind: 'Volume', path: [...scopeNames(ref), ref.name] };
}

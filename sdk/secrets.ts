// The Secret kind and a container's `secrets`: a value kept in one file of kukeon's (the Secret's own, 0600),
// handed to a container as a read-only file or an environment variable when it starts, and never echoed back.

import type { Ref } from './resources';

/** Where a scoped kind (Secret; Volume alike) lives: the deepest coordinate set is its scope, without gaps. */
export interface ScopeCoordinates {
  realm: string;
  space?: string;
  stack?: string;
  cell?: string;
}

export interface SecretMetadata extends ScopeCoordinates {
  name: string;
  labels?: Record<string, string>;
}

export interface SecretSpec {
  /** The value. Never printed unless asked (`kuke get secrets --show-values`). */
  data?: string;
  /** An absolute host path read when the Secret is applied; its content becomes `data`. */
  fromFile?: string;
}

export interface SecretDoc {
  apiVersion: 'v1beta1';
  kind: 'Secret';
  metadata: SecretMetadata;
  spec: SecretSpec;
}

/** A Secret by its scope and name (the upstream `secretRef`). */
export interface SecretRef extends ScopeCoordinates {
  name: string;
}

/**
 * One secret of a container: its value from exactly one of `fromFile` (a host file read at each start),
 * `fromEnv` (a variable of the environment of the kukeon process that starts the container) or `secretRef` (a
 * Secret); with `mountPath` a read-only file at that path, else the environment variable `name`.
 */
export interface ContainerSecret {
  name: string;
  fromFile?: string;
  fromEnv?: string;
  secretRef?: SecretRef;
  mountPath?: string;
}

/** A scoped kind's reference: its scope's path (realm, space?, stack?, cell?) then its name. */
export interface ScopedRef {
  readonly kind: 'Secret';
  readonly path: readonly string[];
}

/** A reference of any kind, as apply and delete report it. */
export type AnyRef = Ref | ScopedRef;

/** `kuke get secrets`: the Secrets of a scope and every scope under it, values hidden unless `showValues`. */
export interface SecretListRequest {
  /** realm[, space[, stack[, cell]]]; ignored with `allRealms`. */
  scope: string[];
  name?: string;
  selector?: string;
  allRealms?: boolean;
  showValues?: boolean;
}

export interface SecretDeleteRequest {
  ref: ScopedRef;
  forceSystem?: boolean;
}

/** The scope's coordinates as a path: realm, then space, stack and cell while they are set. */
export function scopePathOf(c: ScopeCoordinates): string[] {
  const out = [c.realm];
  for (const k of ['space', 'stack', 'cell'] as const) {
    const v = c[k];
    if (v === undefined) break;
    out.push(v);
  }
  return out;
}

// The Secret kind and a container's `secrets`: a value kept in one file of kukeon's (the Secret's own, 0600),
// handed to a container as a read-only file or an environment variable when it starts, and never echoed back.

import type { ScopeCoordinates, ScopedMetadata, ScopedRef } from './scoped-kinds';

/** A Secret's scope (realm, space?, stack?, cell?: the deepest set, without gaps) and name (sdk/scoped-kinds.ts). */
export type SecretMetadata = ScopedMetadata;

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

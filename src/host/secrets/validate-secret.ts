// biome-ignore-all lint/suspicious/noExplicitAny: raw manifest input is walked field by field before its shape is known
// Checks one `kind: Secret` document. Every error names the document, the field and the reason, and never the
// value: a message may end up in a log, a terminal or a CI transcript.

import path from 'node:path';
import { API_VERSION, KukeonError, scopeNames } from '../../../sdk';
import type { KukeonErrorDetails, ScopedRef, SecretDoc } from '../../../sdk';
import { labelKeyProblem, labelValueProblem, shown } from '../validation/labels';
import { SYSTEM_REALM, checkName } from '../validation/names';

/** A Secret holds at most this much (Kubernetes' limit); `fromFile` is read up to it. */
export const MAX_SECRET_BYTES = 1024 * 1024;

const TOP_FIELDS = ['apiVersion', 'kind', 'metadata', 'spec', 'status'];
const METADATA_FIELDS = ['name', 'realm', 'space', 'stack', 'cell', 'labels'];
const SPEC_FIELDS = ['data', 'fromFile'];
const COORDINATES = ['realm', 'space', 'stack', 'cell'] as const;

export interface ValidatedSecret {
  index: number;
  doc: SecretDoc;
  ref: ScopedRef;
  /** realm[, space[, stack[, cell]]] */
  scope: string[];
}

/** Why `p` is not an absolute, normalised host path, or undefined. */
export function hostPathProblem(p: unknown): string | undefined {
  if (typeof p !== 'string' || p === '') return 'must be an absolute path';
  if (p.includes('\0')) return 'contains a NUL byte';
  if (!p.startsWith('/')) return 'must be an absolute path';
  if (p.split('/').includes('..') || path.posix.normalize(p) !== p.replace(/\/+$/, '') || p.endsWith('/'))
    return 'must be a normalised path (no "..", "." or repeated "/")';
  return undefined;
}

/** Checks the coordinates of a scope (`metadata` of a Secret, or a `secretRef`): realm required, no gaps. */
export function checkScope(c: Record<string, unknown>, prefix: string, fail: (field: string, msg: string) => never): string[] {
  if (c.realm === undefined) fail(`${prefix}realm`, 'is required');
  for (const k of COORDINATES) {
    if (c[k] === undefined) continue;
    if (typeof c[k] !== 'string') fail(`${prefix}${k}`, 'must be a name');
    checkName(c[k], `${prefix}${k}`, { field: `${prefix}${k}` });
  }
  if (c.stack !== undefined && c.space === undefined) fail(`${prefix}stack`, `needs ${prefix}space (a scope has no gaps)`);
  if (c.cell !== undefined && c.stack === undefined) fail(`${prefix}cell`, `needs ${prefix}stack (a scope has no gaps)`);
  return scopeNames(c as { realm: string; space?: string; stack?: string; cell?: string });
}

export function validateSecretDocument(raw: unknown, index: number, options: { allowSystem?: boolean } = {}): ValidatedSecret {
  const input = raw as Record<string, any>;
  const name = typeof input?.metadata?.name === 'string' ? input.metadata.name : undefined;
  const details: KukeonErrorDetails = { document: index, kind: 'Secret', name };
  const fail = (
    field: string,
    msg: string,
    code: 'KUKEON_E_INVALID' | 'KUKEON_E_API_VERSION' | 'KUKEON_E_SYSTEM' = 'KUKEON_E_INVALID',
  ): never => {
    throw new KukeonError(code, `${field} ${msg}`, { ...details, field });
  };
  const isMap = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  const onlyFields = (obj: Record<string, unknown>, allowed: string[], prefix: string) => {
    for (const key of Object.keys(obj)) if (!allowed.includes(key)) fail(`${prefix}${key}`, 'unknown field');
  };

  if (input.apiVersion !== undefined && input.apiVersion !== API_VERSION)
    fail('apiVersion', `is ${JSON.stringify(input.apiVersion)}; kukeon reads ${API_VERSION}`, 'KUKEON_E_API_VERSION');
  onlyFields(input, TOP_FIELDS, '');
  if (!isMap(input.metadata)) fail('metadata', 'is required (a map)');
  const meta = input.metadata as Record<string, unknown>;
  onlyFields(meta, METADATA_FIELDS, 'metadata.');
  checkName(meta.name, 'Secret name', { ...details, field: 'metadata.name' });
  const scope = checkScope(meta, 'metadata.', fail);
  if (scope[0] === SYSTEM_REALM && !options.allowSystem)
    fail(
      'metadata.realm',
      `"${SYSTEM_REALM}" is the system realm, managed by kuke init; use --force-system to change it`,
      'KUKEON_E_SYSTEM',
    );
  if (meta.labels !== undefined) {
    if (!isMap(meta.labels)) fail('metadata.labels', 'must be a map');
    for (const [key, value] of Object.entries(meta.labels as Record<string, unknown>)) {
      const keyProblem = labelKeyProblem(key);
      if (keyProblem) fail('metadata.labels', `key ${shown(key)} ${keyProblem}`);
      if (typeof value !== 'string') fail(`metadata.labels.${key}`, 'must be a string');
      const valueProblem = labelValueProblem(value as string);
      if (valueProblem) fail(`metadata.labels.${key}`, valueProblem);
    }
  }

  if (!isMap(input.spec)) fail('spec', 'is required (a map with data or fromFile)');
  const spec = input.spec as Record<string, unknown>;
  onlyFields(spec, SPEC_FIELDS, 'spec.');
  const given = SPEC_FIELDS.filter((k) => spec[k] !== undefined);
  if (given.length !== 1) fail('spec', `must set exactly one of data and fromFile${given.length ? ' (both are set)' : ''}`);
  if (spec.data !== undefined) {
    if (typeof spec.data !== 'string' || spec.data === '') fail('spec.data', 'must be a non-empty string');
    if (Buffer.byteLength(spec.data as string) > MAX_SECRET_BYTES) fail('spec.data', `is larger than ${MAX_SECRET_BYTES} bytes`);
  }
  if (spec.fromFile !== undefined) {
    const problem = hostPathProblem(spec.fromFile);
    if (problem) fail('spec.fromFile', problem);
  }

  const doc: SecretDoc = {
    apiVersion: API_VERSION,
    kind: 'Secret',
    metadata: { ...(meta as unknown as SecretDoc['metadata']) },
    spec: { ...(spec as SecretDoc['spec']) },
  };
  return { index, doc, ref: { kind: 'Secret', path: [...scope, meta.name as string] }, scope };
}

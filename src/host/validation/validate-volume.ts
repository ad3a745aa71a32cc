// biome-ignore-all lint/suspicious/noExplicitAny: raw manifest input is walked field by field before its shape is known
// Checks one `kind: Volume` document (a scoped kind: its metadata names its realm, space and stack) and returns it
// normalized (apiVersion and reclaimPolicy filled). Errors name the document, kind, name and field, as
// validateDocument's do.

import { API_VERSION, KukeonError, scopedRefOf } from '../../../sdk';
import type { KukeonErrorDetails, ScopedRef, VolumeDoc } from '../../../sdk';
import { labelKeyProblem, labelValueProblem, shown } from './labels';
import { SYSTEM_REALM, checkName } from './names';

export interface ValidatedVolume {
  index: number;
  doc: VolumeDoc;
  ref: ScopedRef;
}

const isMap = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function validateVolumeDocument(raw: Record<string, any>, index: number, options: { allowSystem?: boolean } = {}): ValidatedVolume {
  const name = typeof raw.metadata?.name === 'string' ? raw.metadata.name : undefined;
  const details: KukeonErrorDetails = { document: index, kind: 'Volume', name };
  const fail = (field: string, msg: string, code: 'KUKEON_E_INVALID' | 'KUKEON_E_SYSTEM' = 'KUKEON_E_INVALID'): never => {
    throw new KukeonError(code, `${field} ${msg}`, { ...details, field });
  };
  if (raw.apiVersion !== undefined && raw.apiVersion !== API_VERSION)
    throw new KukeonError('KUKEON_E_API_VERSION', `apiVersion is ${JSON.stringify(raw.apiVersion)}; kukeon reads ${API_VERSION}`, {
      ...details,
      field: 'apiVersion',
    });
  for (const key of Object.keys(raw)) if (!['apiVersion', 'kind', 'metadata', 'spec', 'status'].includes(key)) fail(key, 'unknown field');
  if (!isMap(raw.metadata)) fail('metadata', 'is required (a map with name and realm)');
  const meta = raw.metadata as Record<string, any>;
  for (const key of Object.keys(meta))
    if (!['name', 'realm', 'space', 'stack', 'labels'].includes(key)) fail(`metadata.${key}`, 'unknown field');
  checkName(meta.name, 'Volume name', { ...details, field: 'metadata.name' });
  if (meta.realm === undefined) fail('metadata.realm', 'is required (the realm the volume belongs to)');
  for (const key of ['realm', 'space', 'stack'] as const)
    if (meta[key] !== undefined) checkName(meta[key], `Volume ${key}`, { ...details, field: `metadata.${key}` });
  if (meta.stack !== undefined && meta.space === undefined) fail('metadata.space', 'is required with metadata.stack');
  if (meta.realm === SYSTEM_REALM && !options.allowSystem)
    fail(
      'metadata.realm',
      `"${SYSTEM_REALM}" is the system realm, managed by kuke init; use --force-system to change it`,
      'KUKEON_E_SYSTEM',
    );
  if (meta.labels !== undefined) {
    if (!isMap(meta.labels)) fail('metadata.labels', 'must be a map');
    for (const [key, value] of Object.entries(meta.labels)) {
      const keyProblem = labelKeyProblem(key);
      if (keyProblem) fail('metadata.labels', `key ${shown(key)} ${keyProblem}`);
      const valueProblem = labelValueProblem(value);
      if (valueProblem) fail(`metadata.labels.${key}`, valueProblem);
    }
  }
  const spec = raw.spec ?? {};
  if (!isMap(spec)) fail('spec', 'must be a map');
  for (const key of Object.keys(spec)) if (key !== 'reclaimPolicy') fail(`spec.${key}`, 'unknown field');
  const policy = spec.reclaimPolicy === undefined || spec.reclaimPolicy === '' ? 'Delete' : spec.reclaimPolicy;
  if (policy !== 'Delete' && policy !== 'Retain') fail('spec.reclaimPolicy', `must be Delete or Retain, not ${JSON.stringify(policy)}`);
  const metadata: VolumeDoc['metadata'] = { name: meta.name, realm: meta.realm };
  if (meta.space !== undefined) metadata.space = meta.space;
  if (meta.stack !== undefined) metadata.stack = meta.stack;
  if (meta.labels !== undefined) metadata.labels = { ...meta.labels };
  const doc: VolumeDoc = { apiVersion: API_VERSION, kind: 'Volume', metadata, spec: { reclaimPolicy: policy } };
  return { index, doc, ref: scopedRefOf(doc) };
}

// The shape of a request as it arrives on the socket, checked before the controller sees it: the in-process CLI
// builds requests from typed code, but any client can send any JSON, and a `ref` without a path or a `scope`
// that is a string must be a usage error naming the field, not a TypeError from deep inside (KUKEON_E_INTERNAL).

import { KukeonError } from '../../sdk';
import type { Verb } from './wire';

type Check = (v: unknown) => boolean;

const isString: Check = (v) => typeof v === 'string';
const isBoolean: Check = (v) => typeof v === 'boolean';
const isStrings: Check = (v) => Array.isArray(v) && v.every(isString);
const isObject: Check = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const isSize: Check = (v) =>
  isObject(v) && Number.isInteger((v as { cols?: unknown }).cols) && Number.isInteger((v as { rows?: unknown }).rows);
const isRef: Check = (v) => isObject(v) && isString((v as { kind?: unknown }).kind) && isStrings((v as { path?: unknown }).path);

/** Each request field kukeon.v1 defines, with what it must be. Unknown fields are left alone, as protobuf does. */
const FIELDS: Record<string, [Check, string]> = {
  text: [isString, 'a string'],
  source: [isString, 'a string'],
  name: [isString, 'a string'],
  selector: [isString, 'a string'],
  container: [isString, 'a string'],
  realm: [isString, 'a string'],
  platform: [isString, 'a string'],
  pull: [isString, 'a string'],
  kind: [isString, 'a string'],
  scope: [isStrings, 'a list of strings'],
  kinds: [isStrings, 'a list of strings'],
  doc: [isObject, 'a map'],
  credentials: [(v) => Array.isArray(v) && v.every(isObject), 'a list of maps'],
  timeoutMs: [(v) => typeof v === 'number' && Number.isFinite(v) && v >= 0, 'a number of milliseconds >= 0'],
  dryRun: [isBoolean, 'true or false'],
  forceSystem: [isBoolean, 'true or false'],
  cascade: [isBoolean, 'true or false'],
  force: [isBoolean, 'true or false'],
  allRealms: [isBoolean, 'true or false'],
  follow: [isBoolean, 'true or false'],
  insecure: [isBoolean, 'true or false'],
  showValues: [isBoolean, 'true or false'],
  // exec and attach (sdk/sessions.ts); the controller checks their meaning (session-requests.ts)
  command: [isStrings, 'a list of strings'],
  env: [isStrings, 'a list of strings'],
  user: [isString, 'a string'],
  workdir: [isString, 'a string'],
  tty: [isBoolean, 'true or false'],
  stdin: [isBoolean, 'true or false'],
  size: [isSize, '{ cols, rows } of whole numbers'],
};

/** Verbs whose `ref` is an image reference (a string) rather than a resource's { kind, path }. */
const IMAGE_REF_VERBS: readonly Verb[] = ['removeImage', 'pullImage'];
/** Verbs that take no request. */
const NO_REQUEST: readonly Verb[] = ['version', 'refresh', 'doctor', 'plugins'];

/** Throws KUKEON_E_USAGE naming the first field of `req` that is not what `verb` takes. */
export function checkRequestShape(verb: Verb, req: unknown): void {
  if (NO_REQUEST.includes(verb) || req === undefined) return;
  if (!isObject(req))
    throw new KukeonError(
      'KUKEON_E_USAGE',
      `${verb}: the request must be a map, not ${req === null ? 'null' : Array.isArray(req) ? 'a list' : typeof req}`,
    );
  for (const [field, value] of Object.entries(req as Record<string, unknown>)) {
    if (value === undefined || value === null) continue;
    if (field === 'ref') {
      const image = IMAGE_REF_VERBS.includes(verb);
      if (image ? !isString(value) : !isRef(value))
        throw new KukeonError(
          'KUKEON_E_USAGE',
          `${verb}: ref must be ${image ? 'an image reference (a string)' : '{ kind, path: [names] }'}`,
        );
      continue;
    }
    const rule = FIELDS[field];
    if (rule && !rule[0](value)) throw new KukeonError('KUKEON_E_USAGE', `${verb}: ${field} must be ${rule[1]}`);
  }
}

// biome-ignore-all lint/suspicious/noExplicitAny: raw manifest input is walked field by field before its shape is known
// Checks one manifest document and returns it normalized (apiVersion filled, parent ids of a cell's containers checked and dropped,
// upstream resource keys mapped). Every error names the document, kind, name and field.

import Ajv from 'ajv';
import type { ErrorObject } from 'ajv';
import {
  API_VERSION,
  Ipv4Cidr,
  KINDS,
  KukeonError,
  SCOPED_KINDS,
  SCOPED_RESERVED_NAMES,
  cpuSharesToWeight,
  parseCpuMax,
  parseSize,
  refOf,
  rootContainerId,
} from '../../../sdk';
import type { AnyDoc, ContainerSpec, Kind, KukeonErrorDetails, Ref, Resources } from '../../../sdk';
import { ROOT_CONTAINER_ID, RESERVED_REALM_NAMES, SYSTEM_REALM, checkName } from './names';
import { labelKeyProblem, labelValueProblem, shown } from './labels';
import { SCHEMAS } from './schemas';
import { checkSecurityFields } from './security-fields';
import { checkContainerSecrets } from '../secrets/validate-container-secrets';
import { SYSTEM_REALM_FIELDS, UNSUPPORTED_FIELDS } from './unsupported-fields';
import { checkVolumeMounts } from './volume-mounts';
import { checkCellTty, checkTerminal } from './terminal-fields';

// Kukeon's own schemas, checked against the meta-schema by the test suite: compiling the meta-schema here would
// cost every `kuke apply` ~70 ms.
const ajv = new Ajv({ allErrors: false, strict: false, validateSchema: false });
const compiled = new Map<Kind, ReturnType<Ajv['compile']>>();

/** Compiled on first use: compiling every kind up front costs each `kuke` start ~150 ms. */
function validatorFor(kind: Kind): ReturnType<Ajv['compile']> {
  let v = compiled.get(kind);
  if (!v) compiled.set(kind, (v = ajv.compile(SCHEMAS[kind])));
  return v;
}

export interface ValidatedDoc {
  /** 1-based position in the input. */
  index: number;
  doc: AnyDoc;
  ref: Ref;
}

export interface ValidateOptions {
  /** Allows the system realm `kukeon-system` (`--force-system`; `kuke init` sets it). */
  allowSystem?: boolean;
}

function fieldOf(e: ErrorObject): string {
  let path = e.instancePath
    .replace(/\/(\d+)/g, '[$1]')
    .replace(/\//g, '.')
    .replace(/^\./, '');
  const extra =
    e.keyword === 'required'
      ? (e.params as { missingProperty: string }).missingProperty
      : e.keyword === 'additionalProperties'
        ? (e.params as { additionalProperty: string }).additionalProperty
        : undefined;
  if (extra) path = path ? `${path}.${extra}` : extra;
  return path || '(document)';
}

function messageOf(e: ErrorObject): string {
  if (e.keyword === 'additionalProperties') return 'unknown field';
  if (e.keyword === 'required') return 'is required';
  if (e.keyword === 'pattern' && e.instancePath.endsWith('Id')) return 'must be a valid name (lowercase letters, digits and "-")';
  if (e.keyword === 'const') return `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
  return e.message ?? 'is invalid';
}

function checkUnsupported(
  obj: unknown,
  table: string,
  prefix: string,
  fail: (code: 'KUKEON_E_UNSUPPORTED_FIELD', field: string, msg: string) => never,
  allowed: readonly string[] = [],
): void {
  if (!obj || typeof obj !== 'object') return;
  for (const field of UNSUPPORTED_FIELDS[table] ?? []) {
    if (allowed.includes(field)) continue;
    if (field in (obj as object)) fail('KUKEON_E_UNSUPPORTED_FIELD', `${prefix}${field}`, 'is not supported by kukeon yet');
  }
}

/** Maps the upstream container keys (memoryLimitBytes, cpuShares, pidsLimit) into `resources`. */
function mapUpstreamResources(c: ContainerSpec & Record<string, unknown>, field: string, fail: (f: string, m: string) => never): void {
  const r: Resources = JSON.parse(JSON.stringify(c.resources ?? {}));
  const set = (path: string, current: unknown, next: number, assign: () => void) => {
    if (current !== undefined && parseSize(current as number | string) !== next && current !== next) {
      fail(`${field}.${path}`, `conflicts with the upstream key mapped onto it`);
    }
    assign();
  };
  if (c.memoryLimitBytes !== undefined) {
    const v = c.memoryLimitBytes as number;
    set('resources.memory.max', r.memory?.max, v, () => (r.memory = { ...r.memory, max: r.memory?.max ?? v }));
  }
  if (c.cpuShares !== undefined) {
    const v = cpuSharesToWeight(c.cpuShares as number);
    set('resources.cpu.weight', r.cpu?.weight, v, () => (r.cpu = { ...r.cpu, weight: r.cpu?.weight ?? v }));
  }
  if (c.pidsLimit !== undefined) {
    const v = c.pidsLimit as number;
    set('resources.pids.max', r.pids?.max, v, () => (r.pids = { ...r.pids, max: r.pids?.max ?? v }));
  }
  delete c.memoryLimitBytes;
  delete c.cpuShares;
  delete c.pidsLimit;
  if (Object.keys(r).length) c.resources = r;
}

/** Published ports: a valid hostIP, and no host port (with its protocol and address) published twice in the list. */
function checkPorts(containers: ContainerSpec[], field: (i: number) => string, fail: (f: string, m: string) => never): void {
  const published = new Map<string, string>();
  containers.forEach((c, i) => {
    (c.ports ?? []).forEach((p, j) => {
      const where = `${field(i)}.ports[${j}]`;
      if (p.hostIP !== undefined && Ipv4Cidr.parseAddress(p.hostIP) === undefined)
        fail(`${where}.hostIP`, `"${p.hostIP}" is not an IPv4 address`);
      if (c.hostNetwork && p.hostPort !== undefined)
        fail(`${where}.hostPort`, 'cannot be published by a hostNetwork container (it listens on the host directly)');
      if (p.hostPort === undefined) return;
      const key = `${p.protocol ?? 'tcp'}/${p.hostIP ?? '*'}:${p.hostPort}`;
      const other = published.get(key);
      if (other) fail(`${where}.hostPort`, `${p.hostPort}/${p.protocol ?? 'tcp'} is already published by ${other}`);
      published.set(key, where);
    });
  });
}

function checkResources(r: Resources | undefined, field: string, fail: (f: string, m: string) => never): void {
  if (!r) return;
  if (r.cpu?.max !== undefined && !parseCpuMax(r.cpu.max))
    fail(`${field}.cpu.max`, 'must be "<quota> <period>" with quota >= 1000 and period 1000..1000000, or "max"');
  for (const key of ['max', 'high'] as const) {
    const v = r.memory?.[key];
    if (v !== undefined && parseSize(v) === undefined) fail(`${field}.memory.${key}`, 'must be bytes or a size such as 64Mi');
  }
}

export function validateDocument(raw: unknown, index: number, options: ValidateOptions = {}): ValidatedDoc {
  const input = (raw ?? {}) as Record<string, any>;
  const kind = input?.kind as Kind;
  const name = typeof input?.metadata?.name === 'string' ? input.metadata.name : undefined;
  const details: KukeonErrorDetails = { document: index, kind: typeof kind === 'string' ? kind : undefined, name };
  const fail = (
    code:
      | 'KUKEON_E_INVALID'
      | 'KUKEON_E_UNSUPPORTED_FIELD'
      | 'KUKEON_E_API_VERSION'
      | 'KUKEON_E_UNKNOWN_KIND'
      | 'KUKEON_E_RESERVED_NAME'
      | 'KUKEON_E_SYSTEM',
    field: string | undefined,
    msg: string,
  ): never => {
    throw new KukeonError(code, field ? `${field} ${msg}` : msg, { ...details, field });
  };
  const invalid = (field: string, msg: string): never => fail('KUKEON_E_INVALID', field, msg);

  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('KUKEON_E_INVALID', undefined, 'a document must be a map');
  if (input.apiVersion !== undefined && input.apiVersion !== API_VERSION)
    fail('KUKEON_E_API_VERSION', 'apiVersion', `is ${JSON.stringify(input.apiVersion)}; kukeon reads ${API_VERSION}`);
  if (!KINDS.includes(kind))
    fail('KUKEON_E_UNKNOWN_KIND', 'kind', `${JSON.stringify(input.kind)} is not one of ${[...KINDS, ...SCOPED_KINDS].join(', ')}`);

  const doc = JSON.parse(JSON.stringify(input)) as Record<string, any>;
  doc.apiVersion = API_VERSION;
  delete doc.status; // status belongs to kukeon; a manifest's is ignored, as kubectl does

  checkUnsupported(doc.metadata, 'metadata', 'metadata.', fail);
  checkUnsupported(doc.spec, `${kind}.spec`, 'spec.', fail);
  // The system realm's kukeond container needs privileges, the host's PID namespace, bind mounts and no image.
  const inSystemRealm = options.allowSystem === true && doc.spec?.realmId === SYSTEM_REALM;
  const systemOnly = inSystemRealm ? SYSTEM_REALM_FIELDS : [];
  const checkContainerUnsupported = (c: any, prefix: string) => {
    checkUnsupported(c, 'container', prefix, fail, systemOnly);
    for (const field of UNSUPPORTED_FIELDS['container.tty']) {
      if (c?.tty && typeof c.tty === 'object' && field in c.tty)
        fail(
          'KUKEON_E_UNSUPPORTED_FIELD',
          `${prefix}tty.${field}`,
          "belongs to upstream's kuketty terminal server, which kukeon does not run",
        );
    }
  };
  if (kind === 'Container') checkContainerUnsupported(doc.spec, 'spec.');
  if (kind === 'Cell' && Array.isArray(doc.spec?.containers)) {
    for (const [i, c] of (doc.spec.containers as unknown[]).entries()) checkContainerUnsupported(c, `spec.containers[${i}].`);
  }
  const imageless = (c: unknown) => !!c && typeof c === 'object' && (c as { image?: unknown }).image === undefined;
  if (!inSystemRealm && kind === 'Container' && imageless(doc.spec)) invalid('spec.image', 'is required');
  if (!inSystemRealm && kind === 'Cell' && Array.isArray(doc.spec?.containers)) {
    for (const [i, c] of (doc.spec.containers as unknown[]).entries())
      if (imageless(c)) invalid(`spec.containers[${i}].image`, 'is required');
  }

  const labels = doc.metadata?.labels;
  if (labels && typeof labels === 'object' && !Array.isArray(labels)) {
    for (const [key, value] of Object.entries(labels)) {
      const keyProblem = labelKeyProblem(key);
      if (keyProblem) invalid('metadata.labels', `key ${shown(key)} ${keyProblem}`);
      const valueProblem = labelValueProblem(value);
      if (valueProblem) invalid(`metadata.labels.${key}`, valueProblem);
    }
  }

  if (kind === 'Realm' && doc.spec === undefined) doc.spec = {};
  const validate = validatorFor(kind);
  if (!validate(doc)) {
    const e = validate.errors![0];
    const field = fieldOf(e);
    if (e.instancePath === '/metadata/name' || field === 'metadata.name')
      checkName(doc.metadata?.name, `${kind} name`, { ...details, field: 'metadata.name' });
    invalid(field, messageOf(e));
  }

  const meta = doc.metadata as { name: string };
  checkName(meta.name, `${kind} name`, { ...details, field: 'metadata.name' });
  if (kind === 'Realm' && RESERVED_REALM_NAMES.includes(meta.name))
    fail('KUKEON_E_RESERVED_NAME', 'metadata.name', `"${meta.name}" is reserved by the run path layout`);
  // a scope's directory holds its volumes and secrets beside its children's directories
  if ((kind === 'Space' || kind === 'Stack' || kind === 'Cell') && SCOPED_RESERVED_NAMES.includes(meta.name))
    fail('KUKEON_E_RESERVED_NAME', 'metadata.name', `"${meta.name}" is reserved for the ${meta.name} of the scope it would be in`);
  const realmId = kind === 'Realm' ? meta.name : doc.spec.realmId;
  if (realmId === SYSTEM_REALM && !options.allowSystem)
    fail(
      'KUKEON_E_SYSTEM',
      kind === 'Realm' ? 'metadata.name' : 'spec.realmId',
      `"${SYSTEM_REALM}" is the system realm, managed by kuke init; use --force-system to change it`,
    );
  // another realm on the system realm's containerd namespace would reach kukeond's container by its id
  if (kind === 'Realm' && doc.spec?.namespace === `kukeon-${SYSTEM_REALM}` && meta.name !== SYSTEM_REALM && !options.allowSystem)
    fail('KUKEON_E_SYSTEM', 'spec.namespace', `"kukeon-${SYSTEM_REALM}" is the system realm's containerd namespace`);
  if ((kind === 'Stack' || kind === 'Cell') && doc.spec.id !== undefined && doc.spec.id !== meta.name)
    invalid('spec.id', `must equal metadata.name ("${meta.name}")`);

  if (kind === 'Space' || kind === 'Stack' || kind === 'Cell') checkResources(doc.spec.resources, 'spec.resources', invalid);
  if (kind === 'Realm') checkResources(doc.spec.resources, 'spec.resources', invalid);
  if (kind === 'Space' && doc.spec.cniConfigPath !== undefined) {
    const p = doc.spec.cniConfigPath as string;
    if (p.includes('\0') || p.split('/').includes('..') || p.endsWith('/'))
      invalid('spec.cniConfigPath', 'must be an absolute file path without ".."');
  }
  if (kind === 'Space' && doc.spec.network?.subnet !== undefined) {
    const problem = Ipv4Cidr.problem(doc.spec.network.subnet, 8, 30);
    if (problem) invalid('spec.network.subnet', problem);
  }

  if (kind === 'Cell') {
    const spec = doc.spec as {
      containers: (ContainerSpec & Record<string, unknown>)[];
      rootContainerId?: string;
      realmId: string;
      spaceId: string;
      stackId: string;
    };
    const seen = new Set<string>();
    const roots = spec.containers.filter((c) => c.root).map((c) => c.id);
    if (roots.length > 1) invalid('spec.containers', `has more than one root container (${roots.join(', ')})`);
    if (spec.rootContainerId !== undefined) {
      if (!spec.containers.some((c) => c.id === spec.rootContainerId))
        invalid('spec.rootContainerId', `names "${spec.rootContainerId}", which is not a container of this cell`);
      if (roots.length === 1 && roots[0] !== spec.rootContainerId)
        invalid('spec.rootContainerId', `is "${spec.rootContainerId}" but container "${roots[0]}" is marked root`);
    }
    const rootId = rootContainerId(spec);
    spec.containers.forEach((c, i) => {
      const field = `spec.containers[${i}]`;
      if (seen.has(c.id)) invalid(`${field}.id`, `"${c.id}" is used by another container of this cell`);
      seen.add(c.id);
      if (c.id === ROOT_CONTAINER_ID && rootId !== ROOT_CONTAINER_ID)
        invalid(`${field}.id`, `"${ROOT_CONTAINER_ID}" is reserved for the cell's root container`);
      for (const [key, value] of [
        ['realmId', spec.realmId],
        ['spaceId', spec.spaceId],
        ['stackId', spec.stackId],
        ['cellId', meta.name],
      ] as const) {
        if (c[key] !== undefined && c[key] !== value) invalid(`${field}.${key}`, `is "${c[key]}" but the cell's is "${value}"`);
        delete c[key]; // a cell's containers inherit them; the stored Container documents carry them
      }
      mapUpstreamResources(c, field, invalid);
      checkResources(c.resources, `${field}.resources`, invalid);
      checkVolumeMounts(c.volumes, field, spec.realmId, invalid, inSystemRealm);
      checkSecurityFields(c, field, invalid);
      checkContainerSecrets(c, field, invalid);
      checkTerminal(c, field, c.id === rootId, invalid);
    });
    checkCellTty(spec, invalid);
    // The root owns the cell's network namespace: either every container is on the host's network or none is.
    const onHost = spec.containers.filter((c) => c.hostNetwork === true).map((c) => c.id);
    if (onHost.length && onHost.length !== spec.containers.length) {
      const i = spec.containers.findIndex((c) => (c.hostNetwork === true) !== (spec.containers[0].hostNetwork === true));
      invalid(
        `spec.containers[${i}].hostNetwork`,
        `mixes host and cell networking in one cell (hostNetwork on ${onHost.join(', ')} only); set it on every container or on none`,
      );
    }
    checkPorts(spec.containers, (i) => `spec.containers[${i}]`, invalid);
  }
  if (kind === 'Container') {
    const spec = doc.spec as ContainerSpec & Record<string, unknown>;
    if (spec.id !== undefined && spec.id !== meta.name) invalid('spec.id', `must equal metadata.name ("${meta.name}")`);
    spec.id = meta.name;
    if (spec.id === ROOT_CONTAINER_ID && !spec.root)
      invalid('metadata.name', `"${ROOT_CONTAINER_ID}" is reserved for the cell's root container`);
    mapUpstreamResources(spec, 'spec', invalid);
    checkResources(spec.resources, 'spec.resources', invalid);
    checkVolumeMounts(spec.volumes, 'spec', spec.realmId!, invalid, inSystemRealm);
    checkSecurityFields(spec, 'spec', invalid);
    checkContainerSecrets(spec, 'spec', invalid);
    checkTerminal(spec, 'spec', spec.root === true, invalid);
    checkPorts([spec], () => 'spec', invalid);
  }

  const valid = doc as AnyDoc;
  return { index, doc: valid, ref: refOf(valid) };
}

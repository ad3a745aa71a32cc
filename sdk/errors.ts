// Every error kukeon reports is coded here, in one module (as fastify's lib/errors.js):
// a stable code for scripts, a default message a user can act on, and the exit code the CLI uses.

export const ErrorCodes = {
  KUKEON_E_INVALID: { exit: 1, message: 'the document is invalid' },
  KUKEON_E_INVALID_NAME: { exit: 1, message: 'the name is not valid' },
  KUKEON_E_RESERVED_NAME: { exit: 1, message: 'the name is reserved by kukeon' },
  KUKEON_E_UNSUPPORTED_FIELD: { exit: 1, message: 'this field is not supported by kukeon yet' },
  KUKEON_E_UNKNOWN_KIND: { exit: 1, message: 'unknown kind' },
  KUKEON_E_API_VERSION: { exit: 1, message: 'unsupported apiVersion (kukeon reads v1beta1)' },
  KUKEON_E_NO_DOCUMENTS: { exit: 1, message: 'no documents found in input' },
  KUKEON_E_YAML: { exit: 1, message: 'the input is not valid YAML' },
  KUKEON_E_NOT_FOUND: { exit: 1, message: 'not found' },
  KUKEON_E_PARENT_NOT_FOUND: { exit: 1, message: 'the parent resource does not exist' },
  KUKEON_E_EXISTS: { exit: 1, message: 'already exists' },
  KUKEON_E_HAS_CHILDREN: { exit: 1, message: 'the resource has children; use --cascade to delete them too' },
  KUKEON_E_BUSY: { exit: 1, message: 'another operation holds this resource; retry when it finishes' },
  KUKEON_E_LOCK: { exit: 1, message: 'could not take a lock under the run path' },
  KUKEON_E_STORE: { exit: 1, message: 'the state store failed' },
  KUKEON_E_NO_STORE: { exit: 1, message: 'no store plugin is loaded; kukeon needs one (for example store-yaml)' },
  KUKEON_E_NO_RUNTIME: { exit: 1, message: 'no runtime plugin is loaded; cells can be stored but not started (configure containerd)' },
  KUKEON_E_CONFIG: { exit: 1, message: 'the configuration is invalid' },
  KUKEON_E_PLUGIN: { exit: 1, message: 'a plugin failed' },
  KUKEON_E_PLUGIN_META: { exit: 1, message: 'a plugin declares invalid metadata' },
  KUKEON_E_SLOT_CONFLICT: { exit: 1, message: 'two plugins claim the same slot; configure only one' },
  KUKEON_E_PLUGIN_REQUIRES: { exit: 1, message: 'a plugin needs a slot that no loaded plugin fills' },
  KUKEON_E_PLUGIN_CYCLE: { exit: 1, message: 'plugins require each other in a cycle' },
  KUKEON_E_SERVICE: { exit: 1, message: 'a service is registered twice or outside its plugin slot' },
  KUKEON_E_STEP: { exit: 1, message: 'a lifecycle step failed' },
  KUKEON_E_UNAVAILABLE: { exit: 1, message: 'a backend kukeon needs (containerd, ...) is not reachable; is it running?' },
  KUKEON_E_STATE: { exit: 1, message: 'the operation does not fit the resource state' },
  KUKEON_E_IN_USE: { exit: 1, message: 'a cell mounts this volume; delete the cell, or apply it without the mount, first' },
  KUKEON_E_CONFLICT: { exit: 1, message: 'another resource already holds this name, file or address' },
  KUKEON_E_CNI: { exit: 1, message: 'a CNI plugin failed' },
  KUKEON_E_PULL: { exit: 1, message: 'pulling an image from its registry failed' },
  KUKEON_E_CGROUP_CONTROLLER: {
    exit: 1,
    message: "a limit needs a cgroup controller that this host's cgroup v2 does not offer or delegate; see kuke doctor",
  },
  KUKEON_E_CGROUP_HYBRID: {
    exit: 1,
    message: 'this limit has no cgroup v1 equivalent, and on this hybrid host runc enforces container limits through v1; see kuke doctor',
  },
  KUKEON_E_DAEMON: {
    exit: 1,
    message: 'kukeond is not reachable; start it (kukeond, or kuke init), or run in-process with --no-daemon or KUKEON_NO_DAEMON=true',
  },
  KUKEON_E_FORBIDDEN: {
    exit: 1,
    message: "this host's configuration forbids the field (containerd plugin setting allowPrivileged: false)",
  },
  KUKEON_E_NEEDS_DAEMON: {
    exit: 1,
    message: "this needs kukeond, which owns the containers' terminals; start it (kuke daemon start, or kuke init)",
  },
  KUKEON_E_COPY: { exit: 1, message: 'kuke cp could not copy (the message says which side and why)' },
  KUKEON_E_SYSTEM: { exit: 1, message: 'the system realm kukeon-system is managed by kuke init; use --force-system to change it' },
  KUKEON_E_INSTALL: { exit: 1, message: 'kuke init or uninstall could not finish (root is needed)' },
  KUKEON_E_CANCELLED: { exit: 130, message: 'the operation was cancelled' },
  KUKEON_E_USAGE: { exit: 2, message: 'invalid usage' },
  KUKEON_E_INTERNAL: { exit: 1, message: 'internal error' },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export interface KukeonErrorDetails {
  /** Index of the document in a multi-document input (0-based). */
  document?: number;
  kind?: string;
  name?: string;
  /** JSON-pointer-like field path, for example `spec.containers[1].image`. */
  field?: string;
  plugin?: string;
  hint?: string;
  /** What a cascade delete removed before it failed (children first), each with its commit order. */
  removed?: { ref: string; commit?: number }[];
}

export class KukeonError extends Error {
  readonly code: ErrorCode;
  readonly details: KukeonErrorDetails;
  constructor(code: ErrorCode, message?: string, details: KukeonErrorDetails = {}, options?: { cause?: unknown }) {
    super(message ?? ErrorCodes[code].message, options);
    this.name = 'KukeonError';
    this.code = code;
    this.details = details;
  }

  get exitCode(): number {
    return ErrorCodes[this.code].exit;
  }

  /** One line a user can read: where, what, and the code. */
  describe(): string {
    const d = this.details;
    const where: string[] = [];
    if (d.document !== undefined) where.push(`document ${d.document}`);
    if (d.kind || d.name)
      where.push(`(${d.kind ?? '?'}${d.name ? ` ${JSON.stringify(d.name.length > 80 ? `${d.name.slice(0, 80)}...` : d.name)}` : ''})`);
    if (d.field) where.push(`field ${d.field}`);
    if (d.plugin) where.push(`plugin ${d.plugin}`);
    const prefix = where.length ? `${where.join(' ')}: ` : '';
    const hint = d.hint ? ` (${d.hint})` : '';
    // one line, whatever the input held: a name or key with a line break or a terminal escape is shown escaped
    return `${prefix}${this.message}${hint} [${this.code}]`.replace(
      /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  }
}

/** Marks a PluginSkip across copies of this module (a plugin that bundles its own kukeon/sdk still skips). */
const PLUGIN_SKIP = Symbol.for('kukeon.PluginSkip');

/** Thrown by a plugin's `apply` (or a diagnose) to say "not applicable on this host", as containerd's ErrSkipPlugin. */
export class PluginSkip extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'PluginSkip';
    Object.defineProperty(this, PLUGIN_SKIP, { value: true });
  }
}

/** True for a PluginSkip from any copy of kukeon/sdk (by its brand, or by name and reason), not only this one. */
export function isPluginSkip(e: unknown): e is PluginSkip {
  if (e instanceof PluginSkip) return true;
  if (typeof e !== 'object' || e === null) return false;
  const o = e as { [PLUGIN_SKIP]?: unknown; name?: unknown; reason?: unknown };
  return (o[PLUGIN_SKIP] === true || o.name === 'PluginSkip') && typeof o.reason === 'string';
}

export function isKukeonError(e: unknown): e is KukeonError {
  return e instanceof Error && typeof (e as KukeonError).code === 'string' && (e as KukeonError).code in ErrorCodes;
}

/** Wraps anything thrown into a KukeonError, keeping a coded one as it is. */
export function toKukeonError(e: unknown, code: ErrorCode = 'KUKEON_E_INTERNAL', details: KukeonErrorDetails = {}): KukeonError {
  if (isKukeonError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new KukeonError(code, message, details, { cause: e });
}

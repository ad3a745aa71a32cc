// biome-ignore-all lint/suspicious/noExplicitAny: a container's raw volumes are walked before their shape is trusted
// A container's `volumes`: each mount's shape by kind, and its paths normalised (so `/data/../proc` is `/proc`)
// before they are checked. What needs the host (a bind source that exists, not under the run path) is checked by
// checkBindSources at apply time, after these.

import path from 'node:path';
import type { VolumeMount } from '../../../sdk';
import { nameProblem } from './names';

/** Targets that would replace what the container needs to run (or hide kukeon's masking of /proc and /sys). */
const FORBIDDEN_TARGETS = ['/', '/proc', '/sys', '/dev'];
/** Whole trees no mount may land in: a mount over /proc/sys or /sys/fs/cgroup would undo their read-only masks. */
const FORBIDDEN_TREES = ['/proc', '/sys'];
// biome-ignore lint/suspicious/noTemplateCurlyInString: the variable as users write it in a source
export const CELL_NAME_VAR = '${CELL_NAME}';

/** `/a/./b/../c/` -> `/a/c`; undefined for a relative path or one with a NUL byte. */
export function normaliseAbsolute(p: unknown): string | undefined {
  if (typeof p !== 'string' || !p.startsWith('/') || p.includes('\0')) return undefined;
  const n = path.posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/**
 * `"0750"` or `"750"`: the permission bits, or undefined. Only a string: YAML 1.2 reads an unquoted `0750` as the
 * number 750 (and `0o750` as 488), so a number cannot say which bits were meant.
 */
export function parseMode(mode: unknown): number | undefined {
  if (typeof mode === 'string' && /^0?[0-7]{3,4}$/.test(mode)) return Number.parseInt(mode, 8);
  return undefined;
}

/** The bind source with `${CELL_NAME}` replaced by the cell's name. */
export function expandSource(source: string, cellName: string): string {
  return source.split(CELL_NAME_VAR).join(cellName);
}

const ALLOWED: Record<NonNullable<VolumeMount['kind']>, readonly string[]> = {
  bind: ['kind', 'source', 'target', 'readOnly', 'mode', 'ensure'],
  tmpfs: ['kind', 'target', 'readOnly', 'sizeBytes', 'mode'],
  volume: ['kind', 'source', 'target', 'readOnly', 'volumeRef'],
};

/**
 * Checks and normalises `volumes` of one container in place: `kind` filled (`bind` when empty), paths normalised,
 * a volume's `volumeRef.realm` filled with the container's realm. `fail` gets the field path and the reason.
 */
export function checkVolumeMounts(
  volumes: any[] | undefined,
  field: string,
  realm: string,
  fail: (f: string, m: string) => never,
  /** The system realm's kukeond mounts /sys/fs/cgroup. */
  system = false,
): void {
  const targets = new Map<string, number>();
  (volumes ?? []).forEach((v: any, i: number) => {
    const at = `${field}.volumes[${i}]`;
    const kind: NonNullable<VolumeMount['kind']> = v.kind === undefined || v.kind === '' ? 'bind' : v.kind;
    v.kind = kind;
    for (const key of Object.keys(v))
      if (!ALLOWED[kind].includes(key)) fail(`${at}.${key}`, `is not used by a ${kind} mount (it takes ${ALLOWED[kind].join(', ')})`);
    const target = normaliseAbsolute(v.target);
    if (target === undefined) fail(`${at}.target`, 'must be an absolute path');
    if (FORBIDDEN_TARGETS.includes(target!)) fail(`${at}.target`, `may not be ${target} (the container needs its own)`);
    const tree = system ? undefined : FORBIDDEN_TREES.find((t) => target!.startsWith(`${t}/`));
    if (tree) fail(`${at}.target`, `may not be under ${tree} (kukeon masks parts of it read-only)`);
    const other = targets.get(target!);
    if (other !== undefined) fail(`${at}.target`, `${target} is also the target of ${field}.volumes[${other}]`);
    targets.set(target!, i);
    v.target = target;
    if (v.mode !== undefined && parseMode(v.mode) === undefined)
      fail(
        `${at}.mode`,
        typeof v.mode === 'number'
          ? `is the number ${v.mode}: quote it ("0750"), as YAML reads an unquoted 0750 as the decimal 750`
          : 'must be octal permission bits in quotes, such as "0755"',
      );
    if (kind === 'bind') {
      const source = normaliseAbsolute(typeof v.source === 'string' ? expandSource(v.source, 'x') : v.source);
      if (source === undefined) fail(`${at}.source`, 'must be an absolute host path');
      if (/\$\{(?!CELL_NAME\})/.test(v.source)) fail(`${at}.source`, `may contain ${CELL_NAME_VAR} and no other variable`);
      v.source = normaliseAbsolute(v.source);
      if (v.mode !== undefined && v.ensure !== true) fail(`${at}.mode`, 'is the mode of the directory ensure creates; set ensure: true');
    }
    if (kind === 'tmpfs') {
      if (v.sizeBytes !== undefined && !(Number.isInteger(v.sizeBytes) && v.sizeBytes > 0))
        fail(`${at}.sizeBytes`, 'must be a whole number of bytes above 0');
    }
    if (kind === 'volume') {
      if (v.volumeRef === undefined && typeof v.source === 'string') v.volumeRef = { name: v.source };
      delete v.source;
      const ref = v.volumeRef;
      if (!ref || typeof ref !== 'object' || Array.isArray(ref))
        fail(`${at}.volumeRef`, 'is required for a volume mount ({ name, realm?, space?, stack? })');
      for (const key of Object.keys(ref))
        if (!['name', 'realm', 'space', 'stack'].includes(key)) fail(`${at}.volumeRef.${key}`, 'unknown field');
      ref.realm ??= realm;
      if (ref.stack !== undefined && ref.space === undefined) fail(`${at}.volumeRef.space`, 'is required with volumeRef.stack');
      for (const key of ['name', 'realm', 'space', 'stack']) {
        if (ref[key] === undefined) continue;
        const problem = nameProblem(ref[key]);
        if (problem) fail(`${at}.volumeRef.${key}`, `${JSON.stringify(ref[key])} ${problem}`);
      }
    }
  });
}

// A container's `secrets`: each one names where its value comes from (exactly one of fromFile, fromEnv,
// secretRef) and how the container gets it (a read-only file at mountPath, else the environment variable `name`).
// Errors name the field path (spec.containers[0].secrets[1].mountPath) and never a value.

import type { ContainerSpec } from '../../../sdk';
import { checkName } from '../validation/names';
import { checkScope, hostPathProblem } from './validate-secret';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FILE_NAME = /^[A-Za-z0-9_.-]{1,255}$/;
const SOURCES = ['fromFile', 'fromEnv', 'secretRef'] as const;
const FIELDS = ['name', ...SOURCES, 'mountPath'];
const REF_FIELDS = ['name', 'realm', 'space', 'stack', 'cell'];
/** Mount targets that would shadow what the runtime mounts itself. */
const RESERVED_TARGETS = ['/', '/proc', '/sys', '/dev'];

export function checkContainerSecrets(c: ContainerSpec, field: string, fail: (field: string, msg: string) => never): void {
  const list = c.secrets as unknown;
  if (list === undefined) return;
  if (!Array.isArray(list)) fail(`${field}.secrets`, 'must be a list');
  const names = new Set<string>();
  const targets = new Set<string>();
  const envKeys = new Set((c.env ?? []).map((kv) => kv.split('=')[0]));
  (list as unknown[]).forEach((raw, i) => {
    const at = `${field}.secrets[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(at, 'must be a map');
    const s = raw as Record<string, unknown>;
    for (const key of Object.keys(s)) if (!FIELDS.includes(key)) fail(`${at}.${key}`, 'unknown field');
    const mounted = s.mountPath !== undefined;
    if (typeof s.name !== 'string' || s.name === '') fail(`${at}.name`, 'is required');
    const name = s.name as string;
    if (mounted && (!FILE_NAME.test(name) || name === '.' || name === '..'))
      fail(`${at}.name`, 'must be a file name (letters, digits, ".", "_" and "-") when mountPath is set');
    if (!mounted && !ENV_NAME.test(name))
      fail(`${at}.name`, 'must be an environment variable name (letters, digits and "_", not starting with a digit) without mountPath');
    if (names.has(name)) fail(`${at}.name`, `"${name}" is used by another secret of this container`);
    names.add(name);
    if (!mounted && envKeys.has(name)) fail(`${at}.name`, `"${name}" is also set by env; a variable has one source`);

    const given = SOURCES.filter((k) => s[k] !== undefined);
    if (given.length !== 1)
      fail(at, `must set exactly one of fromFile, fromEnv and secretRef${given.length ? ` (${given.join(' and ')} are set)` : ''}`);
    if (s.fromFile !== undefined) {
      const problem = hostPathProblem(s.fromFile);
      if (problem) fail(`${at}.fromFile`, problem);
    }
    if (s.fromEnv !== undefined && (typeof s.fromEnv !== 'string' || !ENV_NAME.test(s.fromEnv)))
      fail(`${at}.fromEnv`, 'must be an environment variable name');
    if (s.secretRef !== undefined) {
      const ref = s.secretRef as Record<string, unknown>;
      if (typeof ref !== 'object' || ref === null || Array.isArray(ref))
        fail(`${at}.secretRef`, 'must be a map { name, realm, space?, stack?, cell? }');
      for (const key of Object.keys(ref)) if (!REF_FIELDS.includes(key)) fail(`${at}.secretRef.${key}`, 'unknown field');
      checkName(ref.name, `${at}.secretRef.name`, { field: `${at}.secretRef.name` });
      checkScope(ref, `${at}.secretRef.`, fail);
    }
    if (mounted) {
      const problem = hostPathProblem(s.mountPath);
      if (problem) fail(`${at}.mountPath`, problem);
      const target = s.mountPath as string;
      if (RESERVED_TARGETS.some((r) => target === r || (r !== '/' && target.startsWith(`${r}/`))))
        fail(`${at}.mountPath`, `may not be / or under /proc, /sys or /dev`);
      if (targets.has(target)) fail(`${at}.mountPath`, `"${target}" is the mountPath of another secret of this container`);
      targets.add(target);
    }
  });
}

// Names become directory names, containerd ids, cgroup and interface names: they are checked before any path is built.

import { KukeonError } from '../../../sdk';
import type { KukeonErrorDetails } from '../../../sdk';

export const NAME_PATTERN = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';
const NAME = new RegExp(NAME_PATTERN);
export const MAX_NAME_LENGTH = 63;

/** Entries of the run path that a realm name would collide with. */
export const RESERVED_REALM_NAMES = ['run'];
export const SYSTEM_REALM = 'kukeon-system';
/** The id a cell's root container may use, and no other container. */
export const ROOT_CONTAINER_ID = 'root';

/** Why `name` is not a valid name, or undefined when it is. */
export function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name === '') return 'a name is required';
  if (name.includes('\0')) return 'contains a NUL byte';
  if (name.includes('/')) return 'contains "/"';
  if (name === '.' || name === '..' || name.includes('..')) return 'contains ".."';
  if (name.length > MAX_NAME_LENGTH) return `is ${name.length} characters long (at most ${MAX_NAME_LENGTH})`;
  if (!NAME.test(name)) return 'must be lowercase letters, digits and "-", starting and ending with a letter or digit';
  return undefined;
}

export function checkName(name: unknown, what: string, details: KukeonErrorDetails = {}): string {
  const problem = nameProblem(name);
  if (problem) {
    const shown = typeof name === 'string' ? JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}...` : name) : String(name);
    throw new KukeonError('KUKEON_E_INVALID_NAME', `${what} ${shown} ${problem}`, details);
  }
  return name as string;
}

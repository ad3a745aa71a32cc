// CRI ids are opaque 64-hex strings (as containerd's); kukeon's names stay readable: the CRI name made a valid
// kukeon name (lower case, [a-z0-9-], at most 63) with the first 8 characters of the id, which keeps it unique.

import crypto from 'node:crypto';

export function newId(): string {
  return crypto.randomBytes(32).toString('hex');
}

/** `PodSandbox-for-test_1` + id `3f2a...` -> `podsandbox-for-test-1-3f2a9c01`. */
export function kukeonName(criName: string, id: string, max = 63): string {
  const suffix = id.slice(0, 8);
  const base = criName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max - suffix.length - 1)
    .replace(/-+$/, '');
  return base ? `${base}-${suffix}` : `c-${suffix}`;
}

/** A Kubernetes namespace as a kukeon space name (namespaces are DNS labels already; anything else is folded). */
export function spaceName(namespace: string): string {
  const s = (namespace || 'default')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return s || 'default';
}

/** The record whose id is `id` or starts with it (crictl accepts unique prefixes, as containerd does). */
export function byIdPrefix<T>(map: ReadonlyMap<string, T>, id: string): T | undefined {
  if (!id) return undefined;
  const exact = map.get(id);
  if (exact) return exact;
  let found: T | undefined;
  for (const [key, value] of map) {
    if (!key.startsWith(id)) continue;
    if (found) return undefined; // ambiguous
    found = value;
  }
  return found;
}

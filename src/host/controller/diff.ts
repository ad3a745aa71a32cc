// Compares desired and stored specs the way apply needs: key order and absent-vs-undefined do not matter.

/** A stable JSON form: keys sorted, undefined dropped. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .filter((k) => v[k] !== undefined)
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}

export function sameSpec(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

/**
 * Whether two statuses record the same state: live readings (`stats`, of the resource and of a cell's
 * containers) and `updatedAt` are left out, since they differ at every read and are not state.
 */
export function sameState(a: object | undefined, b: object | undefined): boolean {
  const state = (s: object | undefined): unknown => {
    if (!s) return s;
    const { stats: _stats, updatedAt: _at, containers, ...rest } = s as Record<string, unknown>;
    if (containers === undefined) return rest;
    const byId = Object.entries(containers as Record<string, object>).map(([id, c]) => [id, state(c)]);
    return { ...rest, containers: Object.fromEntries(byId) };
  };
  return sameSpec(state(a), state(b));
}

/** Top-level fields of two objects that differ, for plan output (`spec.image`, `metadata.labels`). */
export function changedFields(prefix: string, a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined): string[] {
  const keys = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
  return [...keys]
    .sort()
    .filter((k) => !sameSpec(a?.[k], b?.[k]))
    .map((k) => `${prefix}.${k}`);
}

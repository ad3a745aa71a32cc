// The wire-relevant shape of a protobuf package, and the differences between two of them: what makes a .proto
// transcription wire compatible with the published one (names, numbers, types, labels, maps, oneofs, rpcs).

/** A field's type: a scalar (`string`, `int64`, ...), a message or enum by full name, or `map<key, value>`. */
export interface FieldShape {
  number: number;
  type: string;
  repeated: boolean;
  /** The oneof the field belongs to, if any. */
  oneof?: string;
}

export interface MethodShape {
  request: string;
  response: string;
  clientStreaming: boolean;
  serverStreaming: boolean;
}

/** Keyed by full name without a leading dot (`runtime.v1.PodSandboxConfig`), then by field, value or method name. */
export interface ProtoShape {
  messages: Record<string, Record<string, FieldShape>>;
  enums: Record<string, Record<string, number>>;
  services: Record<string, Record<string, MethodShape>>;
}

/**
 * Every difference between `ours` and `published`, one line each, by path, ours first:
 * `runtime.v1.PodSandboxConfig.field hostname: number 3 vs 4`, `runtime.v1.Foo: message only in published`.
 */
export function diffProtoShapes(ours: ProtoShape, published: ProtoShape): string[] {
  const out: string[] = [];
  /** Walks the names of `a` and `b` together: one line for a name only one side has, `same` for the others. */
  const each = <T>(a: Record<string, T>, b: Record<string, T>, what: string, same: (name: string, x: T, y: T) => void) => {
    for (const name of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (!(name in b)) out.push(`${name}: ${what}only in ours`);
      else if (!(name in a)) out.push(`${name}: ${what}only in published`);
      else same(name, a[name], b[name]);
    }
  };
  /** The differing properties of two fields or two rpcs. */
  const props = (path: string, x: object, y: object) => {
    const [u, v] = [x as Record<string, unknown>, y as Record<string, unknown>];
    for (const key of [...new Set([...Object.keys(u), ...Object.keys(v)])].sort())
      if (u[key] !== v[key]) out.push(`${path}: ${key} ${u[key] ?? '(none)'} vs ${v[key] ?? '(none)'}`);
  };
  const prefixed = <T>(prefix: string, r: Record<string, T>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [`${prefix}${k}`, v]));
  each(ours.messages, published.messages, 'message ', (m, x, y) => each(prefixed(`${m}.field `, x), prefixed(`${m}.field `, y), '', props));
  each(ours.enums, published.enums, 'enum ', (e, x, y) =>
    each(prefixed(`${e}.value `, x), prefixed(`${e}.value `, y), '', (v, a, b) => {
      if (a !== b) out.push(`${v}: number ${a} vs ${b}`);
    }),
  );
  each(ours.services, published.services, 'service ', (s, x, y) => each(prefixed(`${s}.rpc `, x), prefixed(`${s}.rpc `, y), '', props));
  return out;
}

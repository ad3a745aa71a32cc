// Reading a kind's JSON Schema as a tree of fields, for `kuke explain`: a field's type in kubectl's words
// (`[]object`, `integer|string`, `map[string]string`), and its children, found through arrays' items and the object
// branches of oneOf/anyOf, so `cell.spec.containers.volumes` walks the way a manifest is written.

import { KukeonError } from '../../../sdk';
import type { JsonSchema } from './kind-schemas';

export interface SchemaField {
  name: string;
  schema: JsonSchema;
  required: boolean;
}

const asSchema = (v: unknown): JsonSchema | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonSchema) : undefined;
const branchesOf = (s: JsonSchema): JsonSchema[] =>
  [...((s.oneOf as unknown[]) ?? []), ...((s.anyOf as unknown[]) ?? [])].map(asSchema).filter((b) => b !== undefined);
const itemType = (s: JsonSchema) => {
  const items = asSchema(s.items);
  return items ? schemaType(items) : 'any';
};
const typeOfValue = (v: unknown) => (Number.isInteger(v) ? 'integer' : typeof v);

/** `string`, `[]object`, `integer|string`, `[](string|object)`, `map[string]string`, `object`. */
export function schemaType(s: JsonSchema): string {
  if (Array.isArray(s.type)) return s.type.join('|');
  if (s.type === 'array') {
    const items = itemType(s);
    return `[]${items.includes('|') ? `(${items})` : items}`;
  }
  const values = asSchema(s.additionalProperties);
  if (s.type === 'object' && values && !s.properties) return `map[string]${schemaType(values)}`;
  if (typeof s.type === 'string') return s.type;
  const branches = branchesOf(s);
  if (branches.length) return [...new Set(branches.map(schemaType))].join('|');
  if ('const' in s) return typeOfValue(s.const);
  if (Array.isArray(s.enum)) return [...new Set(s.enum.map(typeOfValue))].join('|');
  return s.properties ? 'object' : 'any';
}

/** The values a field may take (enum or const), as they would be written in YAML; undefined when it is open. */
export function schemaValues(s: JsonSchema): string[] | undefined {
  const values = 'const' in s ? [s.const] : Array.isArray(s.enum) ? s.enum : undefined;
  return values?.map((v) => (v === '' ? '""' : String(v)));
}

/** The object shapes a field's value has: itself, its arrays' items, its oneOf/anyOf branches. */
function objectShapes(s: JsonSchema): JsonSchema[] {
  const items = asSchema(s.items);
  if (items) return objectShapes(items);
  const own = asSchema(s.properties) ? [s] : [];
  return [...own, ...branchesOf(s).flatMap(objectShapes)];
}

/** The fields under `s`, in the schema's order; empty for a scalar or a free-form object. */
export function schemaChildren(s: JsonSchema): SchemaField[] {
  const out = new Map<string, SchemaField>();
  for (const shape of objectShapes(s)) {
    const required = new Set((shape.required as string[] | undefined) ?? []);
    for (const [name, child] of Object.entries(shape.properties as Record<string, JsonSchema>)) {
      if (!out.has(name)) out.set(name, { name, schema: child, required: required.has(name) });
    }
  }
  return [...out.values()];
}

/**
 * The field at `path` under `root` (`['spec', 'containers', 'volumes']`); an unknown name is KUKEON_E_NOT_FOUND naming
 * the path walked so far and the fields that exist there. `label` is what the path starts from (`cell`).
 */
export function resolveSchemaField(root: JsonSchema, label: string, path: readonly string[]): JsonSchema {
  let node = root;
  let at = label;
  for (const step of path) {
    const children = schemaChildren(node);
    const found = children.find((c) => c.name === step);
    if (!found) {
      const message = children.length
        ? `${at} has no field "${step}" (fields: ${children.map((c) => c.name).join(', ')})`
        : `${at} has no field "${step}": it is ${schemaType(node)} and has no fields`;
      throw new KukeonError('KUKEON_E_NOT_FOUND', message);
    }
    node = found.schema;
    at = `${at}.${step}`;
  }
  return node;
}

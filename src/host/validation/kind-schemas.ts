// Every kind's JSON Schema under its lowercase name: what `kuke schema` prints and writes, what the package ships
// under schemas/v1beta1/<kind>.json, and what `kuke explain` walks.

import { SECRET_SCHEMA } from '../secrets/secret-schema';
import { SCHEMAS, VOLUME_SCHEMA } from './schemas';

export type JsonSchema = Record<string, unknown>;

export const KIND_SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  realm: SCHEMAS.Realm,
  space: SCHEMAS.Space,
  stack: SCHEMAS.Stack,
  cell: SCHEMAS.Cell,
  container: SCHEMAS.Container,
  volume: VOLUME_SCHEMA,
  secret: SECRET_SCHEMA,
};

/** The file a kind's schema is shipped and written as: `cell.json`. */
export const schemaFileName = (kind: string) => `${kind}.json`;

/** The text of a schema file: two-space JSON and a final newline, as `kuke schema KIND` prints it. */
export const schemaText = (schema: JsonSchema) => `${JSON.stringify(schema, null, 2)}\n`;

// The OCI runtime-spec JSON Schema (draft-04) that runc 1.1.5's spec version publishes, from Debian's
// golang-github-opencontainers-specs-dev (.ci/run downloads and extracts it; KUKEON_OCI_SCHEMA_DIR points at it).

import fs from 'node:fs';
import path from 'node:path';
import Ajv04 from 'ajv-draft-04';

export function ociSchemaDir(): string | undefined {
  const dir = process.env.KUKEON_OCI_SCHEMA_DIR;
  return dir && fs.existsSync(path.join(dir, 'config-schema.json')) ? dir : undefined;
}

/** A validator for config.json documents; its errors name the failing path. */
export function ociSpecValidator(dir: string): (spec: unknown) => string[] {
  const ajv = new Ajv04({ allErrors: true, strict: false });
  // The files refer to each other by file name (`defs.json#/definitions/...`): register each under its name.
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const schema = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    delete schema.id;
    ajv.addSchema(schema, file);
  }
  const validate = ajv.getSchema('config-schema.json')!;
  return (spec) => (validate(spec) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`));
}

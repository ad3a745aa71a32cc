// The JSON Schema of `kind: Secret`, for editors (`kuke schema secret`). Apply checks Secrets with
// validate-secret.ts, which also refuses what a schema cannot say (scope gaps, the system realm, both sources).

import { API_VERSION } from '../../../sdk';
import { NAME_PATTERN } from '../validation/names';

const named = (description: string) => ({ type: 'string', pattern: NAME_PATTERN, maxLength: 63, description });

export const SECRET_SCHEMA = {
  $id: 'https://kukeon.io/schemas/v1beta1/secret.json',
  title: 'kukeon Secret',
  description: "a value a container needs but its manifest must not hold; stored alone, 0600, in its scope's secrets/ directory",
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: API_VERSION, description: `the format's version: ${API_VERSION}` },
    kind: { const: 'Secret', description: 'the kind of the document: Secret' },
    metadata: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'realm'],
      description: 'the deepest coordinate is the scope (realm, then space, stack and cell without gaps)',
      properties: {
        name: named("the Secret's name (its file is <scope dir>/secrets/<name>.yaml)"),
        realm: named('its realm'),
        space: named('its space, for a Secret scoped to a space or below'),
        stack: named('its stack (needs space)'),
        cell: named('its cell (needs stack)'),
        labels: {
          type: 'object',
          description: 'key/value pairs to select Secrets by (kuke get secrets -l key=value)',
          additionalProperties: { type: 'string', maxLength: 63, description: 'a label value, at most 63 characters' },
        },
      },
    },
    spec: {
      type: 'object',
      additionalProperties: false,
      description: 'exactly one of data and fromFile',
      properties: {
        data: { type: 'string', minLength: 1, description: 'the value; never printed unless get --show-values' },
        fromFile: {
          type: 'string',
          pattern: '^/',
          description:
            'an absolute host file read when the Secret is applied (by kukeond, or kuke in-process): its UTF-8 text, at most 1 MiB',
        },
      },
    },
    status: { type: 'object', description: 'a Secret has no status; ignored' },
  },
} as const;

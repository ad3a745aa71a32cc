// The JSON Schema of `kind: Secret`, for editors (`kuke schema secret`). Apply checks Secrets with
// validate-secret.ts, which also refuses what a schema cannot say (scope gaps, the system realm, both sources).

import { API_VERSION } from '../../../sdk';
import { NAME_PATTERN } from '../validation/names';

const name = { type: 'string', pattern: NAME_PATTERN, maxLength: 63 };

export const SECRET_SCHEMA = {
  $id: 'https://kukeon.io/schemas/v1beta1/secret.json',
  title: 'kukeon Secret',
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: API_VERSION },
    kind: { const: 'Secret' },
    metadata: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'realm'],
      description: 'the deepest coordinate is the scope (realm, then space, stack and cell without gaps)',
      properties: {
        name,
        realm: name,
        space: name,
        stack: name,
        cell: name,
        labels: { type: 'object', additionalProperties: { type: 'string', maxLength: 63 } },
      },
    },
    spec: {
      type: 'object',
      additionalProperties: false,
      description: 'exactly one of data and fromFile',
      properties: {
        data: { type: 'string', minLength: 1, description: 'the value; never printed unless get --show-values' },
        fromFile: { type: 'string', pattern: '^/', description: 'a host file read when the Secret is applied' },
      },
    },
    status: { type: 'object', description: 'a Secret has no status; ignored' },
  },
} as const;

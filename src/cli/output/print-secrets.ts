// `kuke get secrets`: NAME, SCOPE and where the value came from; never the value, which only -o yaml|json with
// --show-values prints (the daemon leaves `spec.data` out of its answer otherwise).

import { scopeNames } from '../../../sdk';
import type { SecretDoc } from '../../../sdk';
import type { OutputFormat } from './print-docs';
import { renderTable } from './table';

export function printSecrets(docs: SecretDoc[], format: OutputFormat, single: boolean): string {
  if (format === 'yaml' || format === 'json') {
    const value = single && docs.length === 1 ? docs[0] : { apiVersion: 'v1beta1', kind: 'List', items: docs };
    if (format === 'json') return `${JSON.stringify(value, null, 2)}\n`;
    return (require('yaml') as typeof import('yaml')).stringify(value);
  }
  if (docs.length === 0) return '';
  const wide = format === 'wide';
  return renderTable(
    ['NAME', 'SCOPE', 'SOURCE', ...(wide ? ['LABELS'] : [])],
    docs.map((d) => [
      d.metadata.name,
      scopeNames(d.metadata).join('/'),
      d.spec.fromFile !== undefined ? `fromFile ${d.spec.fromFile}` : 'data',
      ...(wide
        ? [
            Object.entries(d.metadata.labels ?? {})
              .map(([k, v]) => `${k}=${v}`)
              .join(',') || '<none>',
          ]
        : []),
    ]),
  );
}

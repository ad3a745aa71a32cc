// `-o table|wide|yaml|json`: one document as itself, several as `{ kind: List, items }`.

import { KukeonError } from '../../../sdk';
import type { AnyDoc } from '../../../sdk';
import { COLUMNS } from './columns';
import { renderTable } from './table';

export const OUTPUT_FORMATS = ['table', 'wide', 'yaml', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function checkFormat(value: string | undefined): OutputFormat {
  const f = (value ?? 'table') as OutputFormat;
  if (!OUTPUT_FORMATS.includes(f)) throw new KukeonError('KUKEON_E_USAGE', `-o must be one of ${OUTPUT_FORMATS.join(', ')}`);
  return f;
}

export function printDocs(kind: keyof typeof COLUMNS, docs: AnyDoc[], format: OutputFormat, single: boolean): string {
  if (format === 'yaml' || format === 'json') {
    const value = single && docs.length === 1 ? docs[0] : { apiVersion: 'v1beta1', kind: 'List', items: docs };
    if (format === 'json') return `${JSON.stringify(value, null, 2)}\n`;
    // loaded only for YAML output: it is a large share of a `kuke get`'s start-up
    return (require('yaml') as typeof import('yaml')).stringify(value);
  }
  if (docs.length === 0) return '';
  const cols = format === 'wide' ? [...COLUMNS[kind].base, ...COLUMNS[kind].wide] : COLUMNS[kind].base;
  return renderTable(
    cols.map((c) => c.header),
    docs.map((d) => cols.map((c) => c.value(d))),
  );
}

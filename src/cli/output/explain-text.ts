// The text of `kuke explain`, laid out as `kubectl explain` lays it out: the kind, the field and its type, its
// description, then its fields (each with its type, `-required-` and its description), or with --recursive the
// whole subtree, two spaces deeper per level.

import { schemaChildren, schemaType, schemaValues } from '../../host/validation/schema-fields';
import type { JsonSchema } from '../../host/validation/kind-schemas';

const WIDTH = 80;

/** `text` in lines of at most WIDTH columns (a longer word stays whole), each behind `indent`. */
function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > WIDTH) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

const described = (s: JsonSchema) => (typeof s.description === 'string' ? s.description.split('\n')[0] : '');

function fieldLines(s: JsonSchema, depth: number, recursive: boolean): string[] {
  const indent = '  '.repeat(depth);
  const out: string[] = [];
  for (const child of schemaChildren(s)) {
    out.push(`${indent}${child.name}\t<${schemaType(child.schema)}>${child.required ? ' -required-' : ''}`);
    if (recursive) out.push(...fieldLines(child.schema, depth + 1, true));
    else out.push(...wrap(described(child.schema), `${indent}  `));
  }
  return out;
}

export interface ExplainTarget {
  /** `Cell` */
  kind: string;
  version: string;
  /** `spec.containers.volumes`; empty for the kind itself */
  path: readonly string[];
  schema: JsonSchema;
}

export function explainText(t: ExplainTarget, recursive: boolean): string {
  const out = [`KIND:     ${t.kind}`, `VERSION:  ${t.version}`];
  if (t.path.length) out.push(`FIELD:    ${t.path.join('.')}`);
  out.push(`TYPE:     ${schemaType(t.schema)}`);
  const values = schemaValues(t.schema);
  if (values) out.push(`VALUES:   ${values.join(', ')}`);
  out.push('', 'DESCRIPTION:', ...(described(t.schema) ? wrap(described(t.schema), '    ') : ['    <empty>']));
  const fields = fieldLines(t.schema, 1, recursive);
  if (fields.length) out.push('', 'FIELDS:', ...fields);
  return `${out.join('\n')}\n`;
}

// Splits a multi-document YAML input; every document is parsed before anything is validated or written.

import YAML from 'yaml';
import { KukeonError } from '../../../sdk';

/** The input's non-empty documents, each with its 1-based position among them. */
export function parseManifest(text: string, source = 'input'): { index: number; data: unknown }[] {
  const out: { index: number; data: unknown }[] = [];
  const docs = YAML.parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  let index = 0;
  for (const d of list) {
    if (d.errors.length) {
      throw new KukeonError('KUKEON_E_YAML', `${source}: document ${index + 1}: ${d.errors[0].message.split('\n')[0]}`, {
        document: index + 1,
      });
    }
    const data = d.toJS({ maxAliasCount: 100 });
    if (data === null || data === undefined) continue;
    index += 1;
    out.push({ index, data });
  }
  if (out.length === 0) throw new KukeonError('KUKEON_E_NO_DOCUMENTS', `${source}: no documents found`);
  return out;
}

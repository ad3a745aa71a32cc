// How `kuke apply` prints one item of its report: a line on stdout (scripts parse it) and, for a failed item, the
// error on stderr. The live display on a terminal settles each line to exactly this text.

import { formatRef } from '../../../sdk';
import type { ApplyItem } from '../../../sdk';

export function applyItemText(item: ApplyItem): { out: string; err?: string } {
  const extra = item.implicit ? (item.ref.kind === 'Volume' ? ' (implicit volume)' : ' (implicit parent)') : '';
  const out = `${formatRef(item.ref)} ${item.action}${extra}\n`;
  return item.action === 'failed' ? { out, err: `Error: ${formatRef(item.ref)}: ${item.error} [${item.code}]\n` } : { out };
}

// Label selectors as upstream and kubectl take them: `k=v`, `k==v`, `k!=v`, `k`, `!k`, comma for AND.

import { KukeonError } from '../../../sdk';

export type LabelSelector = (labels: Record<string, string> | undefined) => boolean;

export function parseSelector(text: string): LabelSelector {
  const terms = text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((term) => {
      const m = /^(!?)([A-Za-z0-9._/-]+)(?:(==|=|!=)(.*))?$/.exec(term);
      if (!m || (m[1] && m[3])) throw new KukeonError('KUKEON_E_USAGE', `invalid label selector term "${term}"`);
      const [, not, key, op, value] = m;
      return (labels: Record<string, string>) => {
        const has = Object.hasOwn(labels, key);
        if (!op) return not ? !has : has;
        return op === '!=' ? labels[key] !== value : has && labels[key] === value;
      };
    });
  if (terms.length === 0) throw new KukeonError('KUKEON_E_USAGE', 'empty label selector');
  return (labels) => terms.every((t) => t(labels ?? {}));
}

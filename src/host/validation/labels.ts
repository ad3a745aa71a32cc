// Label keys and values as Kubernetes checks them (apimachinery's IsQualifiedName and IsValidLabelValue): they are
// selector terms, printed in tables and stored in every document, so a label of megabytes is refused.

export const LABEL_NAME_MAX = 63;
export const LABEL_PREFIX_MAX = 253;
export const LABEL_VALUE_MAX = 63;

const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A key or value as an error shows it: quoted, and cut when long. */
export function shown(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}...` : s);
}

/** Why `key` is not a label key (`[prefix/]name`), or undefined when it is. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    if (prefix.length > LABEL_PREFIX_MAX) return `has a prefix of ${prefix.length} characters (at most ${LABEL_PREFIX_MAX})`;
    if (!DNS_SUBDOMAIN.test(prefix)) return 'has a prefix that is not a DNS subdomain (lowercase letters, digits, "-" and ".")';
  }
  if (name.length > LABEL_NAME_MAX) return `has a name part of ${name.length} characters (at most ${LABEL_NAME_MAX})`;
  if (!LABEL_NAME.test(name))
    return 'must be letters, digits, "-", "_" and ".", starting and ending with a letter or digit, after an optional "prefix/"';
  return undefined;
}

/** Why `value` is not a label value, or undefined when it is. */
export function labelValueProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length > LABEL_VALUE_MAX) return `is ${value.length} characters long (at most ${LABEL_VALUE_MAX})`;
  if (value !== '' && !LABEL_NAME.test(value))
    return 'must be empty, or letters, digits, "-", "_" and ".", starting and ending with a letter or digit';
  return undefined;
}

// A fast path for the plain shape of the store's documents: block mappings and sequences of short scalars.
// `yaml` spends ~0.2-0.3 ms to parse or print one small document; this does the same in microseconds.
// Both functions give up (undefined) on anything outside that narrow shape, and the caller then uses `yaml`:
//   fastStringify(v), when defined, is exactly YAML.stringify(v);
//   fastParse(text), when defined, deep-equals YAML.parse(text).
// So the files on disk stay byte for byte what `yaml` writes, and anything a human writes still parses as before.

/** A plain scalar we print and read unquoted: no spaces, no indicator first, `:` only inside a word. */
const PLAIN_RE = /^[A-Za-z0-9_/](?:[A-Za-z0-9_./=@+-]|:(?=[A-Za-z0-9_./=@+-]))*$/;
/** Plain text that YAML's core schema reads as something other than a string: printed double-quoted. */
const NOT_STRING_RE =
  /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|true|True|TRUE|false|False|FALSE|null|Null|NULL|~)$/;
/** Double-quoted content that needs no escapes (printable ASCII but `"` and `\`). */
const QUOTED_RE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const INT_RE = /^-?(?:0|[1-9][0-9]*)$/;
/** Longer strings and keys are left to `yaml` (it folds or uses explicit keys past its line width). */
const MAX_SCALAR = 64;

class GiveUp extends Error {}
const giveUp = (): never => {
  throw new GiveUp();
};

function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') {
    if (v.length > MAX_SCALAR) giveUp();
    if (v === '') return '""';
    if (!PLAIN_RE.test(v)) giveUp();
    return NOT_STRING_RE.test(v) ? `"${v}"` : v;
  }
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || Object.is(v, -0)) giveUp();
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v === null) return 'null';
  return undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function keyText(k: string): string {
  if (k.length === 0 || k.length > MAX_SCALAR || !PLAIN_RE.test(k) || NOT_STRING_RE.test(k)) giveUp();
  return k;
}

/** A value after `key:` or `- `: a scalar or an empty collection on the same line, else undefined. */
function inline(v: unknown): string | undefined {
  const s = scalarText(v);
  if (s !== undefined) return s;
  if (Array.isArray(v)) return v.length === 0 ? '[]' : undefined;
  if (isPlainObject(v)) return Object.values(v).every((x) => x === undefined) ? '{}' : undefined;
  return giveUp();
}

function emitMap(obj: Record<string, unknown>, indent: string, out: string[], first?: string): void {
  let lead = first;
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    if (v === undefined) continue;
    const head = `${lead ?? indent}${keyText(k)}:`;
    lead = undefined;
    const one = inline(v);
    if (one !== undefined) out.push(`${head} ${one}\n`);
    else {
      out.push(`${head}\n`);
      if (Array.isArray(v)) emitSeq(v, `${indent}  `, out);
      else emitMap(v as Record<string, unknown>, `${indent}  `, out);
    }
  }
}

function emitSeq(arr: unknown[], indent: string, out: string[]): void {
  for (const v of arr) {
    const one = inline(v);
    if (one !== undefined) out.push(`${indent}- ${one}\n`);
    else if (Array.isArray(v)) giveUp();
    else emitMap(v as Record<string, unknown>, `${indent}  `, out, `${indent}- `);
  }
}

/** YAML.stringify(doc) for a plain document, or undefined when it is not one this fast path handles. */
export function fastStringify(doc: unknown): string | undefined {
  if (!isPlainObject(doc) || inline(doc) !== undefined) return undefined;
  const out: string[] = [];
  try {
    emitMap(doc, '', out);
  } catch (e) {
    if (e instanceof GiveUp) return undefined;
    throw e;
  }
  return out.join('');
}

function scalarValue(t: string): unknown {
  if (t === '""') return '';
  if (t === '{}') return {};
  if (t === '[]') return [];
  if (t.length > 1 && t[0] === '"' && t[t.length - 1] === '"') {
    const inner = t.slice(1, -1);
    return QUOTED_RE.test(inner) ? inner : giveUp();
  }
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t === 'null') return null;
  if (INT_RE.test(t) && t !== '-0') {
    const n = Number(t);
    return Number.isSafeInteger(n) ? n : giveUp();
  }
  if (PLAIN_RE.test(t) && !NOT_STRING_RE.test(t)) return t;
  return giveUp();
}

const ENTRY_RE = /^([A-Za-z0-9_/](?:[A-Za-z0-9_./=@+-]|:(?=[A-Za-z0-9_./=@+-]))*):(?: (.+))?$/;

class Lines {
  i = 0;
  constructor(readonly lines: string[]) {}
}

function parseMap(src: Lines, indent: number, firstRest?: string): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  let rest = firstRest;
  for (;;) {
    let body: string;
    if (rest !== undefined) {
      body = rest;
      rest = undefined;
    } else {
      const line = src.lines[src.i];
      if (line === undefined || !atIndent(line, indent)) break;
      body = line.slice(indent);
    }
    src.i++;
    const m = ENTRY_RE.exec(body);
    if (!m) return giveUp();
    const key = m[1];
    if (NOT_STRING_RE.test(key) || key === '__proto__' || Object.hasOwn(obj, key)) giveUp();
    if (m[2] !== undefined) obj[key] = scalarValue(m[2]);
    else obj[key] = parseBlock(src, indent + 2);
  }
  if (Object.keys(obj).length === 0) giveUp();
  return obj;
}

function parseSeq(src: Lines, indent: number): unknown[] {
  const arr: unknown[] = [];
  for (;;) {
    const line = src.lines[src.i];
    if (line === undefined || !atIndent(line, indent) || !line.startsWith('- ', indent)) break;
    const rest = line.slice(indent + 2);
    if (ENTRY_RE.test(rest)) arr.push(parseMap(src, indent + 2, rest));
    else {
      src.i++;
      arr.push(scalarValue(rest));
    }
  }
  return arr;
}

/** The collection nested under `key:` (YAML.stringify indents both mappings and sequences by two). */
function parseBlock(src: Lines, indent: number): unknown {
  const line = src.lines[src.i];
  if (line === undefined || !atIndent(line, indent)) return giveUp();
  if (line.startsWith('- ', indent)) return parseSeq(src, indent);
  return parseMap(src, indent);
}

/** Exactly `indent` spaces, then something that is not a space. */
function atIndent(line: string, indent: number): boolean {
  if (line.length <= indent || line.charCodeAt(indent) === 32) return false;
  for (let k = 0; k < indent; k++) if (line.charCodeAt(k) !== 32) return false;
  return true;
}

/** YAML.parse(text) for a plain block document, or undefined when this fast path does not handle it. */
export function fastParse(text: string): Record<string, unknown> | undefined {
  if (!text.endsWith('\n')) return undefined;
  const src = new Lines(text.slice(0, -1).split('\n'));
  try {
    const doc = parseMap(src, 0);
    return src.i === src.lines.length ? doc : undefined;
  } catch (e) {
    if (e instanceof GiveUp) return undefined;
    throw e;
  }
}

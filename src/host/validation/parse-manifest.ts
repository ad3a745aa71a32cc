// Splits a multi-document YAML input; every document is parsed before anything is validated or written.
// The input is lexed, parsed and composed one token at a time (yaml's own pipeline), so the limits of
// input-limits.ts stop a document too large or nested too deep before its tree is built; every failure is a
// KUKEON_E_YAML naming the document and its line:column, never the library's or the engine's own error.

import { Composer, LineCounter, Lexer, Parser, isScalar, visit } from 'yaml';
import type { Document } from 'yaml';
import { KukeonError } from '../../../sdk';
import {
  MAX_ALIASES,
  MAX_DOCUMENT_BYTES,
  MAX_DOUBLE_QUOTED_BYTES,
  MAX_INPUT_BYTES,
  MAX_NESTING,
  MAX_TOKENS,
  formatBytes,
} from './input-limits';

/** The first alias of a document: where an expansion bomb starts. */
function firstAlias(doc: Document.Parsed): number | undefined {
  let at: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      at = node.range?.[0];
      return visit.BREAK;
    },
  });
  return at;
}

/**
 * The first key a map of the document repeats. yaml's own check (uniqueKeys) compares every key with every
 * other: 30,000 keys took 14 s. This one is a set per map.
 */
function duplicateKey(doc: Document.Parsed): { key: string; at?: number } | undefined {
  let found: { key: string; at?: number } | undefined;
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key === undefined) continue;
        if (seen.has(key)) {
          found = { key, at: isScalar(pair.key) ? pair.key.range?.[0] : undefined };
          return visit.BREAK;
        }
        seen.add(key);
      }
    },
  });
  return found;
}

/** The input's non-empty documents, each with its 1-based position among them. */
export function parseManifest(text: string, source = 'input'): { index: number; data: unknown }[] {
  if (typeof text !== 'string') throw new KukeonError('KUKEON_E_YAML', `${source}: the manifest must be text`);
  const size = Buffer.byteLength(text, 'utf8');
  if (size > MAX_INPUT_BYTES) {
    throw new KukeonError(
      'KUKEON_E_YAML',
      `${source}: the input is ${formatBytes(size)}, more than the ${formatBytes(MAX_INPUT_BYTES)} kukeon reads at once; split it into several files`,
    );
  }
  const out: { index: number; data: unknown }[] = [];
  const lines = new LineCounter();
  lines.addNewLine(0);
  // While a document is lexed the composer still holds the one before it (for a trailing `...`).
  let held = false;
  const fail = (reason: string, offset: number | undefined, lexing = false): never => {
    const pos = offset === undefined ? undefined : lines.linePos(offset);
    const where = pos && pos.line > 0 ? `${source}:${pos.line}:${pos.col}` : source;
    throw new KukeonError('KUKEON_E_YAML', `${where}: ${reason}`, { document: out.length + 1 + (lexing && held ? 1 : 0) });
  };
  const take = (doc: Document.Parsed) => {
    const [start, , end] = doc.range;
    const docSize = Buffer.byteLength(text.slice(start, end), 'utf8');
    if (docSize > MAX_DOCUMENT_BYTES) fail(`the document is ${formatBytes(docSize)}, more than ${formatBytes(MAX_DOCUMENT_BYTES)}`, start);
    if (doc.errors.length) {
      const e = doc.errors[0];
      fail(e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, ''), e.pos[0]);
    }
    const dup = duplicateKey(doc);
    if (dup)
      fail(`the key ${JSON.stringify(dup.key.length > 40 ? `${dup.key.slice(0, 40)}...` : dup.key)} appears twice in one map`, dup.at);
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (err) {
      if (err instanceof ReferenceError && /alias/i.test(err.message))
        fail(
          `aliases expand to too many nodes (more than ${MAX_ALIASES} times what they refer to): an alias expansion bomb?`,
          firstAlias(doc),
        );
      fail(
        err instanceof RangeError ? 'the document is too complex to read' : `cannot read the document: ${(err as Error)?.message}`,
        start,
      );
    }
    if (data === null || data === undefined) return;
    out.push({ index: out.length + 1, data });
  };

  const parser = new Parser(lines.addNewLine);
  const composer = new Composer({ uniqueKeys: false });
  let tokens = 0;
  let tokensOf: unknown;
  let quoted = 0;
  for (const lexeme of new Lexer().lex(text)) {
    for (const token of parser.next(lexeme)) {
      for (const doc of composer.next(token)) take(doc);
      if (token.type === 'document') held = token.value !== undefined;
    }
    // The parser's stack is the chain of open collections: bounded before the composer recurses into it.
    if (parser.stack.length > MAX_NESTING) fail(`collections are nested deeper than ${MAX_NESTING} levels`, parser.offset, true);
    // yaml builds a double-quoted string a character at a time: each character is garbage of ~30 bytes.
    if (lexeme.charCodeAt(0) === 0x22 && (quoted += lexeme.length) > MAX_DOUBLE_QUOTED_BYTES)
      fail(
        `double-quoted strings total more than ${formatBytes(MAX_DOUBLE_QUOTED_BYTES)} in this input; write long text plain, single-quoted or as a block (|)`,
        parser.offset,
        true,
      );
    const open = parser.stack[0];
    if (open?.type !== 'document') continue;
    if (parser.offset - open.offset > MAX_DOCUMENT_BYTES)
      fail(`the document is larger than ${formatBytes(MAX_DOCUMENT_BYTES)}`, open.offset, true);
    // Each token costs a few hundred bytes until the document is done: a flat list of 1.5 MiB took 800 MB.
    if (tokensOf !== open) [tokensOf, tokens] = [open, 0];
    if (++tokens > MAX_TOKENS) fail(`the document has more than ${MAX_TOKENS.toLocaleString('en')} YAML tokens`, open.offset, true);
  }
  for (const token of parser.end()) for (const doc of composer.next(token)) take(doc);
  for (const doc of composer.end()) take(doc);

  if (out.length === 0) throw new KukeonError('KUKEON_E_NO_DOCUMENTS', `${source}: no documents found`);
  return out;
}

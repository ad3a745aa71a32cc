// Bounds on manifest input, checked before the structures they would make are built: an input or document too
// large, nesting too deep or an alias bomb is refused with its reason instead of taking memory or the stack.

const MiB = 1024 * 1024;

/** The whole input of one apply/delete/run -f (kuke refuses a larger file before reading it). */
export const MAX_INPUT_BYTES = 16 * MiB;
/** One YAML document (Kubernetes' request limit is 1.5 MiB too). */
export const MAX_DOCUMENT_BYTES = 1.5 * MiB;
/** Nesting of collections in a document; kukeon's deepest field is 8 levels down. */
export const MAX_NESTING = 64;
/**
 * YAML tokens (scalars, indicators, spaces, line breaks) of one document: the parser keeps each until the
 * document is done, so this bounds its memory (about 60 MB) where the byte size does not. examples/quickstart.yaml
 * has about 300 per document.
 */
export const MAX_TOKENS = 100_000;
/**
 * Characters inside double quotes, in the whole input: yaml resolves them one at a time into a string of pieces
 * (about 30 bytes each until collected); ten documents with a 1 MB double-quoted value took 400 MB, 12 MB of short
 * double-quoted strings 570 MB. Plain, single-quoted and block scalars cost no more than their size.
 */
export const MAX_DOUBLE_QUOTED_BYTES = 1 * MiB;
/** Alias dereferences per document (yaml's own default); an expansion bomb needs thousands. */
export const MAX_ALIASES = 100;

/** `1.5 MiB`, `16 MiB`, `300 bytes`: sizes as the errors print them. */
export function formatBytes(n: number): string {
  return n >= MiB ? `${+(n / MiB).toFixed(1)} MiB` : n >= 1024 ? `${+(n / 1024).toFixed(1)} KiB` : `${n} bytes`;
}

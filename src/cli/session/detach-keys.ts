// Docker's detach keys: `ctrl-p,ctrl-q` by default; each key is `ctrl-<char>` or one character. A scanner holds
// back bytes that could begin the sequence and lets them through once they turn out not to be it.

import { KukeonError } from '../../../sdk';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** The bytes of a detach-keys setting; a clear error names what is wrong with it. */
export function parseDetachKeys(spec: string): Buffer {
  const keys = spec.split(',').map((k) => k.trim());
  const bytes = keys.map((key) => {
    const ctrl = /^ctrl-(.)$/i.exec(key);
    if (ctrl) {
      const c = ctrl[1].toLowerCase();
      if (c >= 'a' && c <= 'z') return c.charCodeAt(0) - 0x60;
      const extra = '@[\\]^_'.indexOf(c);
      if (extra >= 0) return extra === 0 ? 0 : 0x1a + extra;
    } else if (key.length === 1) return key.charCodeAt(0);
    throw new KukeonError(
      'KUKEON_E_USAGE',
      `--detach-keys: "${key}" is not a key: use ctrl-<a-z, @, [, \\, ], ^, _> or one character, comma-separated`,
    );
  });
  if (bytes.length === 0 || bytes.some((b) => b > 0x7f)) throw new KukeonError('KUKEON_E_USAGE', `--detach-keys: "${spec}" has no key`);
  return Buffer.from(bytes);
}

export class DetachScanner {
  private held = 0;

  constructor(private readonly keys: Buffer) {}

  /** What of `chunk` goes to the container, and whether the sequence was completed (the rest is dropped). */
  scan(chunk: Buffer): { pass: Buffer; detach: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.held]) {
        this.held++;
        if (this.held === this.keys.length) return { pass: Buffer.from(out), detach: true };
        continue;
      }
      // not the sequence after all: what was held goes through, then this byte is looked at afresh
      out.push(...this.keys.subarray(0, this.held));
      this.held = b === this.keys[0] ? 1 : 0;
      if (this.held === 0) out.push(b);
    }
    return { pass: Buffer.from(out), detach: false };
  }
}

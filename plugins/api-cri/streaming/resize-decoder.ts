// The resize stream (v3.channel.k8s.io and later) carries client-go's TerminalSize as a stream of JSON objects,
// `{"Width":80,"Height":24}` each, however the frames happen to split them.

import type { TerminalSize } from '../../../sdk';

export class ResizeDecoder {
  private pending = '';

  /** The sizes completed by `chunk`; throws on a message that is not a size (the kubelet stops reading then). */
  push(chunk: Uint8Array): TerminalSize[] {
    this.pending += Buffer.from(chunk).toString('utf8');
    const sizes: TerminalSize[] = [];
    let depth = 0;
    let inString = false;
    let escaped = false;
    let start = 0;
    for (let i = 0; i < this.pending.length; i++) {
      const c = this.pending[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{') {
        if (depth++ === 0) start = i;
      } else if (c === '}' && --depth === 0) {
        sizes.push(toSize(this.pending.slice(start, i + 1)));
        this.pending = this.pending.slice(i + 1);
        i = -1;
      } else if (depth === 0 && !/\s/.test(c)) throw new Error(`resize stream: unexpected ${JSON.stringify(c)}`);
    }
    return sizes;
  }
}

function toSize(text: string): TerminalSize {
  const size = JSON.parse(text) as { Width?: unknown; Height?: unknown };
  const cols = Number(size.Width ?? 0);
  const rows = Number(size.Height ?? 0);
  if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 0 || rows < 0 || cols > 0xffff || rows > 0xffff) {
    throw new Error(`resize stream: not a terminal size: ${text}`);
  }
  return { cols, rows };
}

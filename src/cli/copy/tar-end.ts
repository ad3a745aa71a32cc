// Whether a tar stream that went by reached its end-of-archive marker (two zero blocks): a stream cut short (a
// session that ended while output was still on its way) is then an error, not a silently short copy.

import { Parser } from 'tar';

export class TarEndWatch {
  private readonly parser = new Parser();
  private sawEnd = false;

  constructor() {
    this.parser.on('eof', () => {
      this.sawEnd = true;
    });
    // the bytes go elsewhere: this parser only reads the headers; a malformed stream simply has no end
    this.parser.on('warn', () => undefined);
    this.parser.on('error', () => undefined);
    this.parser.on('entry', (entry) => entry.resume());
  }

  write(chunk: Uint8Array): void {
    if (!this.sawEnd) this.parser.write(Buffer.from(chunk));
  }

  /** True once the end-of-archive marker went by. */
  get complete(): boolean {
    return this.sawEnd;
  }
}

// A small terminal for tests of output redrawn in place: it plays what a command wrote (text, CR, LF, and the ANSI
// sequences kuke uses: cursor up, erase below, erase line, colours) onto a screen of `rows` rows with scrollback,
// as a terminal would (the cursor never moves above the screen's top row: scrolled-off lines cannot be rewritten).

export class Screen {
  private readonly lines: string[] = [''];
  private row = 0;
  private col = 0;
  /** The scrollback line shown on the screen's first row. */
  private top = 0;

  constructor(private readonly rows = 24) {}

  write(text: string): boolean {
    const tokens = text.match(/\x1b\[[0-9;?]*[A-Za-z]|\r|\n|[^\x1b\r\n]+/g) ?? [];
    for (const t of tokens) {
      if (t === '\r') this.col = 0;
      else if (t === '\n') {
        // a tty's output processing (onlcr) turns LF into CR LF
        this.row++;
        this.col = 0;
        if (this.row >= this.lines.length) this.lines.push('');
        this.top = Math.max(this.top, this.row - this.rows + 1);
      } else if (t.startsWith('\x1b[')) this.control(t);
      else {
        const line = this.lines[this.row].padEnd(this.col);
        this.lines[this.row] = line.slice(0, this.col) + t + line.slice(this.col + t.length);
        this.col += t.length;
      }
    }
    return true;
  }

  private control(seq: string): void {
    const n = Number(seq.slice(2, -1) || '1');
    switch (seq.slice(-1)) {
      case 'A':
        this.row = Math.max(this.top, this.row - n);
        break;
      case 'J':
        this.lines[this.row] = this.lines[this.row].slice(0, this.col);
        this.lines.length = this.row + 1;
        break;
      case 'K':
        // 2K: the whole line; K (0K): from the cursor to its end
        this.lines[this.row] = seq === '\x1b[2K' ? '' : this.lines[this.row].slice(0, this.col);
        break;
      case 'm':
        break;
      default:
        throw new Error(`the test screen does not play ${JSON.stringify(seq)}`);
    }
  }

  /** Every line written (scrollback and screen), without the empty line the cursor waits on. */
  text(): string {
    const lines = [...this.lines];
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.map((l) => `${l}\n`).join('');
  }
}

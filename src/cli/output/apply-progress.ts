// `kuke apply` on a terminal, like `docker compose up`: one line per resource, shown when its work starts
// (`cell/r/s/st/web creating...`) and rewritten in place until it settles to the line a pipe gets
// (`cell/r/s/st/web created`). Settled lines at the top are written once and left alone, so a long apply scrolls
// like plain output and only the lines still moving (at most a screenful) are redrawn.

import { formatRef } from '../../../sdk';
import type { ApplyItem, ProgressEvent } from '../../../sdk';
import { applyItemText } from './apply-item-text';
import type { TerminalStream } from './terminal';

interface Row {
  key: string;
  /** The live text without its phase: `cell/r/s/st/web`, `realm/r (implicit parent)`. */
  label: string;
  phase: string;
  since: number;
  /** Set once it settled: what a pipe gets for it. */
  final?: { out: string; err?: string };
}

export interface ApplyProgressOptions {
  color: boolean;
  /** Redraws every this many ms while a line is still moving (its spinner and time); 0 never (tests). */
  tickMs?: number;
  now?: () => number;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class ApplyProgressView {
  private readonly rows: Row[] = [];
  private readonly byKey = new Map<string, Row>();
  /** Rows written for good (they scrolled up with the output); the live region is what follows them. */
  private committed = 0;
  /** Screen lines the live region takes now (the cursor is below them). */
  private drawn = 0;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(
    private readonly out: TerminalStream,
    private readonly err: TerminalStream,
    private readonly options: ApplyProgressOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** A CallOptions.onProgress: apply's item events move the lines; other events (pulls, heartbeats) are left. */
  readonly onProgress = (event: ProgressEvent): void => {
    if (event.kind !== 'item') return;
    if (event.phase === 'settled') this.row(event.item.ref, event.item.implicit).final = applyItemText(event.item);
    else {
      const row = this.row(event.ref, event.implicit);
      row.phase = event.phase === 'pulling' ? `pulling ${event.image}` : event.phase;
    }
    this.draw();
    if (!this.timer && this.options.tickMs && this.committed < this.rows.length) {
      this.timer = setInterval(() => this.draw(), this.options.tickMs);
      this.timer.unref();
    }
  };

  /**
   * Settles every line to the report's: the screen ends as a pipe's output would read (stdout and stderr lines
   * in the same order). Rows written already are the report's first items (the controller reports them in its
   * order); should they not be, the whole report follows them rather than leave the screen short of it.
   */
  finish(items: ApplyItem[]): void {
    this.stop();
    const finals = items.map((i) => applyItemText(i));
    const written = this.rows.slice(0, this.committed).map((r) => r.final?.out);
    const inOrder = written.every((text, k) => finals[k]?.out === text);
    let s = this.erase();
    for (const f of finals.slice(inOrder ? this.committed : 0)) s = this.emit(s, f);
    this.out.write(s);
    this.rows.length = this.committed = 0;
    this.byKey.clear();
  }

  /** The operation failed as a whole: lines still moving are removed (the error follows them). */
  abandon(): void {
    this.stop();
    this.out.write(this.erase());
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private row(ref: ApplyItem['ref'], implicit: boolean | undefined): Row {
    const key = formatRef(ref);
    let row = this.byKey.get(key);
    if (!row) {
      const extra = implicit ? (ref.kind === 'Volume' ? ' (implicit volume)' : ' (implicit parent)') : '';
      row = { key, label: `${key}${extra}`, phase: 'applying', since: this.now() };
      this.byKey.set(key, row);
      this.rows.push(row);
    }
    return row;
  }

  /** Moves the cursor to the live region's first line and clears it and everything below. */
  private erase(): string {
    const s = this.drawn ? `\x1b[${this.drawn}A\r\x1b[J` : '';
    this.drawn = 0;
    return s;
  }

  /** Adds a settled line (and its error, written to stderr after what stdout has so far). */
  private emit(s: string, final: { out: string; err?: string }): string {
    if (!final.err) return s + this.paint(final.out);
    this.out.write(s + this.paint(final.out));
    this.err.write(final.err);
    return '';
  }

  private paint(line: string): string {
    if (!this.options.color) return line;
    const m = /^(\S+) (created|updated|unchanged|failed)(.*)\n$/.exec(line);
    if (!m) return line;
    const code = { created: '32', updated: '33', unchanged: '2', failed: '31' }[m[2]];
    return `${m[1]} \x1b[${code}m${m[2]}\x1b[0m${m[3]}\n`;
  }

  private draw(): void {
    let s = this.erase();
    while (this.committed < this.rows.length && this.rows[this.committed].final) s = this.emit(s, this.rows[this.committed++].final!);
    const live = this.rows.slice(this.committed);
    // at most a screenful: lines above the screen's top cannot be rewritten
    const room = Math.max(1, (this.out.rows || 24) - 2);
    const shown = live.length > room ? live.slice(0, room - 1) : live;
    const width = Math.max(20, (this.out.columns || 80) - 1);
    this.frame = (this.frame + 1) % SPINNER.length;
    for (const row of shown) s += `${this.liveLine(row, width)}\n`;
    if (shown.length < live.length) s += `... and ${live.length - shown.length} more\n`;
    this.drawn = shown.length + (shown.length < live.length ? 1 : 0);
    this.out.write(s);
  }

  /** One line still on screen, cut to the terminal's width (a wrapped line would take two rows and break the count). */
  private liveLine(row: Row, width: number): string {
    if (row.final) return this.paint(`${row.final.out.slice(0, -1).slice(0, width)}\n`).slice(0, -1);
    const seconds = ((this.now() - row.since) / 1000).toFixed(1);
    const text = `${row.label} ${row.phase}...`;
    const tail = ` ${SPINNER[this.frame]} ${seconds}s`;
    if (text.length + tail.length > width) return text.slice(0, width);
    return this.options.color ? `${text}\x1b[36m${tail}\x1b[0m` : `${text}${tail}`;
  }
}

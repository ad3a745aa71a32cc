// The kubelet reads a container's log at the path it gave, in the CRI format: `<RFC3339Nano> <stream> <F|P> <text>`
// per line (P for a partial line). kukeond follows the container's kukeon log and writes it there; the runtime
// keeps one file for stdout and stderr, so every line is tagged `stdout`. ReopenContainerLog opens the file anew
// (after the kubelet rotated it).

import fs from 'node:fs';
import path from 'node:path';

/** RFC 3339 with nanoseconds, as the kubelet's parser expects (Go's time.RFC3339Nano). */
function rfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

export class CriLogWriter {
  private fd: number | undefined;
  private partial = '';
  private readonly abort = new AbortController();
  readonly done: Promise<void>;

  constructor(
    private readonly file: string,
    source: (signal: AbortSignal) => AsyncIterable<Uint8Array>,
  ) {
    this.open();
    this.done = this.pump(source).catch(() => undefined);
  }

  reopen(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    this.open();
  }

  stop(): void {
    this.abort.abort();
  }

  private open(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    this.fd = fs.openSync(this.file, 'a', 0o640);
  }

  private async pump(source: (signal: AbortSignal) => AsyncIterable<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of source(this.abort.signal)) this.write(decoder.decode(chunk, { stream: true }));
      this.write(decoder.decode());
      if (this.partial) this.line(this.partial, 'F');
      this.partial = '';
    } finally {
      if (this.fd !== undefined) fs.closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private write(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const p of parts) this.line(p, 'F');
  }

  private line(text: string, tag: 'F' | 'P'): void {
    if (this.fd === undefined) return;
    fs.writeSync(this.fd, `${rfc3339Nano(Date.now())} stdout ${tag} ${text}\n`);
  }
}

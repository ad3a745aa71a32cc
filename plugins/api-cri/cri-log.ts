// The kubelet reads a container's log at the path it gave, in the CRI format: `<RFC3339Nano> <stream> <F|P> <text>`
// per line (P: a partial line, the rest follows). CRI containers run with pipes kukeond owns (attachable, without a
// terminal): the runtime's console service shows this writer every chunk from the first byte, told stdout from
// stderr. ReopenContainerLog opens the file anew (after the kubelet rotated it).

import fs from 'node:fs';
import path from 'node:path';

/** RFC 3339 with nanoseconds, as the kubelet's parser expects (Go's time.RFC3339Nano). */
function rfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/** A line longer than this is written in parts (P), as the kubelet's own limit for one log entry. */
const MAX_LINE = 16 * 1024;

type Stream = 'stdout' | 'stderr';

export class CriLogWriter {
  private fd: number | undefined;
  private readonly partial = { stdout: '', stderr: '' };
  private readonly decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };

  /** `eager`: the file is made at once (a start), else at the first output (a restarted daemon's running containers). */
  constructor(
    private readonly file: string,
    eager = true,
  ) {
    if (eager) this.open();
  }

  reopen(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    this.open();
  }

  write(stream: Stream, data: Uint8Array): void {
    if (this.fd === undefined) this.open();
    const parts = (this.partial[stream] + this.decoders[stream].decode(data, { stream: true })).split('\n');
    let rest = parts.pop() ?? '';
    for (const p of parts) this.line(p, stream, 'F');
    while (rest.length > MAX_LINE) {
      this.line(rest.slice(0, MAX_LINE), stream, 'P');
      rest = rest.slice(MAX_LINE);
    }
    this.partial[stream] = rest;
  }

  /** The output ended: what is left of a line is written, the file closed. */
  end(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.partial[stream] + this.decoders[stream].decode();
      this.partial[stream] = '';
      if (rest) this.line(rest, stream, 'F');
    }
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    this.fd = fs.openSync(this.file, 'a', 0o640);
  }

  private line(text: string, stream: Stream, tag: 'F' | 'P'): void {
    if (this.fd === undefined) return;
    fs.writeSync(this.fd, `${rfc3339Nano(Date.now())} ${stream} ${tag} ${text}\n`);
  }
}

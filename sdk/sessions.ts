// Interactive sessions: a process run in a container (`kuke exec`) and a client attached to a container's
// terminal (`kuke attach`). Both are one bidirectional conversation: what the client types, closes and resizes
// goes in; what the process writes comes out. The same types serve in-process calls, kukeond's socket (one
// bidirectional gRPC stream per session) and the runtime plugin's `runtime.exec` and `runtime.console` services.

import type { Ref } from './resources';

/** A terminal's size in character cells. */
export interface TerminalSize {
  cols: number;
  rows: number;
}

/** What the client sends during a session: bytes for the process's stdin, its end, or a new terminal size. */
export type SessionInput = { stdin: Uint8Array } | { eof: true } | { resize: TerminalSize };

/** What the process wrote: with a terminal everything is `stdout` (a console has one stream). */
export interface SessionOutput {
  stream: 'stdout' | 'stderr';
  data: Uint8Array;
}

/** The client's side of a session. */
export interface SessionIO {
  /** What the client sends, until it ends (the session goes on; the process's stdin is closed by `{ eof }`). */
  input?: AsyncIterable<SessionInput>;
  /** Takes the process's output; a returned promise holds the next chunk back until it settles (backpressure). */
  output(out: SessionOutput): void | Promise<void>;
}

export interface ExecRequest {
  /** The cell. */
  ref: Ref;
  /** Default: the cell's single workload container (an error lists them when there are several). */
  container?: string;
  /** The program and its arguments (required, at least the program). */
  command: string[];
  /** `K=V`, over the container's own environment. */
  env?: string[];
  /** `uid[:gid]` or names from the container's /etc/passwd and /etc/group; default the container's user. */
  user?: string;
  /** Default the container's working directory. */
  workdir?: string;
  /** A terminal for the process (its stdout and stderr become one stream). */
  tty?: boolean;
  /** The client sends stdin (`-i`); without it the process reads an empty, closed stdin. */
  stdin?: boolean;
  /** The terminal's size to start with (with `tty`). */
  size?: TerminalSize;
}

/** How an exec'd process ended, as Docker reports it: its status; 126 could not run; 127 not found; 128+N on signal N. */
export interface ExecResult {
  exitCode: number;
  /** Set when a signal ended it (`SIGKILL`). */
  signal?: string;
}

export interface AttachRequest {
  /** The cell. */
  ref: Ref;
  /** Default: the cell's `spec.tty.default`, else its single attachable container. */
  container?: string;
  /** The client sends stdin (the default for a terminal). */
  stdin?: boolean;
  size?: TerminalSize;
}

/**
 * How an attach ended: the container's process exited (its code), or the client left (`detached`: the container
 * runs on). A client detaches by ending the call (cancelling it), for example on its detach keys.
 */
export interface AttachResult {
  detached: boolean;
  exitCode?: number;
}

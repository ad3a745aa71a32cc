// What the CRI streaming server needs from a runtime: run a process in a container, attach to a container's
// terminal, and open a connection to a port inside a pod. The server owns the HTTP and SPDY side; the runtime
// sees kukeon's own session types, so it can bridge to the exec and attach services as they are.

import type { Duplex } from 'node:stream';
import type { ExecResult, SessionIO } from '../../../sdk';

/** An exec as the CRI ExecRequest asked for it (which streams the client opens, and whether there is a terminal). */
export interface StreamingExecRequest {
  containerId: string;
  cmd: string[];
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** An attach as the CRI AttachRequest asked for it. */
export interface StreamingAttachRequest {
  containerId: string;
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

export interface StreamingRuntime {
  /**
   * Runs `cmd` in the container until it exits. `io.input` (present with stdin or a terminal) yields the client's
   * stdin, its end and terminal resizes; `io.output` writes to the client. `signal` aborts when the client leaves.
   */
  exec(req: StreamingExecRequest, io: SessionIO, signal: AbortSignal): Promise<ExecResult>;
  /** Joins the container's main process until it exits or `signal` aborts (the client left). */
  attach(req: StreamingAttachRequest, io: SessionIO, signal: AbortSignal): Promise<ExecResult | void>;
  /**
   * Connects `stream` to `port` inside the pod: what the client sends comes out of `stream` (its end is the client's
   * half-close), what the pod sends goes into it; resolve when both directions are done. A rejection's message
   * reaches the client on the request's error stream.
   */
  portForward(podSandboxId: string, port: number, stream: Duplex, signal: AbortSignal): Promise<void>;
}

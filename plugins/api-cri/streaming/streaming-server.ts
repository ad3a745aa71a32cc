// The CRI streaming server, as k8s.io/kubelet/pkg/cri/streaming runs one: Exec, Attach and PortForward store
// their request under a single-use token and answer with a URL; the client (crictl, the kubelet's proxy) then
// connects to that URL, upgrades to SPDY/3.1 and speaks the remotecommand or portforward protocol.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  type CriAttachRequest,
  type CriExecRequest,
  type CriPortForwardRequest,
  toAttachRequest,
  toExecRequest,
  toPodSandboxId,
} from './cri-stream-requests';
import { writeHttpReply } from './http-reply';
import { PORT_FORWARD_PROTOCOL, servePortForward } from './port-forward-session';
import { REMOTE_COMMAND_V4, type RemoteCommandOutcome } from './remote-command-status';
import { serveRemoteCommand } from './remote-command-session';
import { RequestCache, REQUEST_TOKEN_TTL_MS } from './request-cache';
import type { StreamingAttachRequest, StreamingExecRequest, StreamingRuntime } from './streaming-runtime';
import { decideUpgrade } from './upgrade-handshake';

/** The remotecommand sub-protocols, newest first (the client's order decides). */
const REMOTE_COMMAND_PROTOCOLS = [REMOTE_COMMAND_V4, 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];
/** The kubelet's default: a client has this long to open its streams. */
const STREAM_CREATION_TIMEOUT_MS = 30_000;

export interface StreamingServerOptions {
  /** Default 127.0.0.1. */
  address?: string;
  /** Default 0: a free port. */
  port?: number;
  /** How long a URL stays valid (default a minute). */
  requestTtlMs?: number;
  /** How long a client has to open its streams after the upgrade (default 30 s). */
  streamCreationTimeoutMs?: number;
}

export interface StreamingServer {
  /** `http://ADDRESS:PORT`, what the returned URLs start with. */
  readonly url: string;
  /** The URL for a CRI ExecRequest; throws KUKEON_E_INVALID for a request the kubelet would refuse. */
  getExec(req: CriExecRequest): string;
  getAttach(req: CriAttachRequest): string;
  getPortForward(req: CriPortForwardRequest): string;
  /** Stops listening and cuts the connections in progress (their runtime calls see their signal abort). */
  close(): Promise<void>;
}

type Pending =
  | { kind: 'exec'; req: StreamingExecRequest }
  | { kind: 'attach'; req: StreamingAttachRequest }
  | { kind: 'portforward'; podSandboxId: string };

type Reply = (status: number, headers: [string, string][], body: string) => void;

export async function createStreamingServer(runtime: StreamingRuntime, opts: StreamingServerOptions = {}): Promise<StreamingServer> {
  const cache = new RequestCache<Pending>(opts.requestTtlMs ?? REQUEST_TOKEN_TTL_MS);
  const streamCreationTimeoutMs = opts.streamCreationTimeoutMs ?? STREAM_CREATION_TIMEOUT_MS;
  const upgraded = new Set<Duplex>();

  /** What a request gets when it cannot be upgraded, or the pending request and the sub-protocol when it can. */
  const admit = (req: IncomingMessage, reply: Reply): { pending: Pending; protocol: string; headers: [string, string][] } | undefined => {
    const route = /^\/(exec|attach|portforward)\/([^/?]+)(?:\?.*)?$/.exec(req.url ?? '');
    if (!route) return void reply(404, [], '404 page not found\n');
    if (req.method !== 'GET' && req.method !== 'POST') return void reply(405, [['Allow', 'GET, POST']], '405: Method Not Allowed\n');
    const pending = cache.consume(route[2]);
    if (!pending || pending.kind !== route[1]) return void reply(404, [], '404 page not found\n');
    const decision = decideUpgrade(req.headers, pending.kind === 'portforward' ? [PORT_FORWARD_PROTOCOL] : REMOTE_COMMAND_PROTOCOLS);
    if (!decision.upgrade) return void reply(decision.status, decision.headers, decision.body);
    return { pending, protocol: decision.protocol, headers: decision.headers };
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const reply: Reply = (status, headers, body) => {
      res.writeHead(status, [...headers, ['Content-Type', 'text/plain; charset=utf-8'], ['X-Content-Type-Options', 'nosniff']]);
      res.end(body);
    };
    // Node raises 'upgrade' for every request that asks for one; what comes here cannot be upgraded.
    if (admit(req, reply)) reply(400, [], 'unable to upgrade: missing upgrade headers in request\n');
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const admitted = admit(req, (status, headers, body) => writeHttpReply(socket, status, headers, body));
    if (!admitted) return;
    writeHttpReply(socket, 101, admitted.headers);
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    const { pending, protocol } = admitted;
    if (pending.kind === 'portforward') {
      void servePortForward({
        socket,
        head,
        podSandboxId: pending.podSandboxId,
        streamCreationTimeoutMs,
        forward: (port, stream, signal) => runtime.portForward(pending.podSandboxId, port, stream, signal),
      });
      return;
    }
    void serveRemoteCommand({
      socket,
      head,
      protocol,
      streams: pending.req,
      streamCreationTimeoutMs,
      run:
        pending.kind === 'exec'
          ? (io, signal) => runExec(runtime, pending.req, io, signal)
          : (io, signal) => runAttach(runtime, pending.req, io, signal),
    });
  });

  const address = opts.address ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;

  return {
    url,
    getExec: (req) => `${url}/exec/${cache.insert({ kind: 'exec', req: toExecRequest(req) })}`,
    getAttach: (req) => `${url}/attach/${cache.insert({ kind: 'attach', req: toAttachRequest(req) })}`,
    getPortForward: (req) => `${url}/portforward/${cache.insert({ kind: 'portforward', podSandboxId: toPodSandboxId(req) })}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of upgraded) socket.destroy();
      }),
  };
}

/** An exec's outcome as the kubelet reports it (the message as containerd words a non-zero exit). */
async function runExec(
  runtime: StreamingRuntime,
  req: StreamingExecRequest,
  io: Parameters<StreamingRuntime['exec']>[1],
  signal: AbortSignal,
): Promise<RemoteCommandOutcome> {
  try {
    const result = await runtime.exec(req, io, signal);
    if (result.exitCode === 0) return { kind: 'success' };
    return {
      kind: 'exit',
      code: result.exitCode,
      message: `error executing command [${req.cmd.join(' ')}], exit code ${result.exitCode}`,
    };
  } catch (err) {
    return { kind: 'internal', message: `error executing command in container: ${messageOf(err)}` };
  }
}

/** An attach ends in success however the process exited, as the kubelet's and containerd's do. */
async function runAttach(
  runtime: StreamingRuntime,
  req: StreamingAttachRequest,
  io: Parameters<StreamingRuntime['attach']>[1],
  signal: AbortSignal,
): Promise<RemoteCommandOutcome> {
  try {
    await runtime.attach(req, io, signal);
    return { kind: 'success' };
  } catch (err) {
    return { kind: 'internal', message: `error attaching to container: ${messageOf(err)}` };
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

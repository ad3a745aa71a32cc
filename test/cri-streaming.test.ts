// The CRI streaming server against a client that speaks SPDY as client-go does (test/helpers/spdy-go-client):
// exec and attach over the remotecommand protocols, port forwarding to a real TCP echo server, and the HTTP side
// (tokens, negotiation). The runtime is a small stand-in that echoes, so the wire is what is under test.

import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createStreamingServer, type StreamingRuntime, type StreamingServer } from '../plugins/api-cri/streaming';
import type { SpdyStream } from '../plugins/api-cri/streaming/spdy-types';
import type { SessionIO } from '../sdk/sessions';
import { dialGoSpdy, type GoSpdyClient, isRefusal, readAll } from './helpers/spdy-go-client';

const ALL_REMOTE_COMMAND = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];
const BIG = 1024 * 1024;

/** Echoes stdin to stdout, then `[eof]` once stdin ends; reports resizes as `[resize CxR]`. */
async function echo(io: SessionIO): Promise<void> {
  if (!io.input) return;
  for await (const item of io.input) {
    if ('stdin' in item) await io.output({ stream: 'stdout', data: item.stdin });
    else if ('resize' in item) await io.output({ stream: 'stdout', data: Buffer.from(`[resize ${item.resize.cols}x${item.resize.rows}]`) });
    else {
      await io.output({ stream: 'stdout', data: Buffer.from('[eof]') });
      return;
    }
  }
}

const runtime: StreamingRuntime = {
  async exec(req, io) {
    const [program, ...args] = req.cmd;
    const out = (stream: 'stdout' | 'stderr', text: string | Buffer) => io.output({ stream, data: Buffer.from(text) });
    switch (program) {
      case 'print':
        await out('stdout', `out ${args.join(' ')}\n`);
        await out('stderr', `err ${req.containerId}\n`);
        return { exitCode: 0 };
      case 'exit':
        await out('stdout', 'exiting\n');
        return { exitCode: Number(args[0]) };
      case 'big':
        for (let sent = 0; sent < BIG; sent += 16 * 1024) await out('stdout', Buffer.alloc(16 * 1024, 'x'));
        return { exitCode: 0 };
      case 'cat':
        // with a terminal, stderr lands on stdout
        if (req.tty) await out('stderr', '[tty]');
        await echo(io);
        return { exitCode: 0 };
      default:
        throw new Error(`no such program ${program}`);
    }
  },
  async attach(_req, io) {
    await echo(io);
    return { exitCode: 7 };
  },
  async portForward(podSandboxId, port, stream) {
    assert.is(podSandboxId, 'pod-1');
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    await pipeline(stream, socket, stream as Duplex);
  },
};

let server: StreamingServer;
let echoServer: Server;
let echoPort: number;
const clients: GoSpdyClient[] = [];

test.before(async () => {
  server = await createStreamingServer(runtime);
  echoServer = createServer((s) => s.pipe(s));
  echoServer.listen(0, '127.0.0.1');
  await once(echoServer, 'listening');
  echoPort = (echoServer.address() as AddressInfo).port;
});

test.after(async () => {
  for (const c of clients) c.socket.destroy();
  await server.close();
  echoServer.close();
});

async function dial(url: string, protocols = ALL_REMOTE_COMMAND): Promise<GoSpdyClient> {
  const c = await dialGoSpdy(url, protocols);
  if (isRefusal(c)) throw new Error(`refused: ${c.status} ${c.body}`);
  clients.push(c);
  return c;
}

/** Opens the streams in client-go's order (error, stdin, stdout, stderr, resize). */
async function open(c: GoSpdyClient, types: string[]): Promise<Record<string, SpdyStream>> {
  const streams: Record<string, SpdyStream> = {};
  for (const t of types) streams[t] = await c.createStream({ streamType: t });
  return streams;
}

/** Resolves once `stream` has delivered `text` (accumulating), with everything seen so far. */
function waitForText(stream: SpdyStream, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no ${JSON.stringify(text)} in ${JSON.stringify(seen)}`)), 5000);
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (!seen.includes(text)) return;
      clearTimeout(timer);
      stream.off('data', onData);
      resolve(seen);
    };
    stream.on('data', onData);
  });
}

test('URLs are the kubelet streaming server URLs; a bad request is refused before any URL', () => {
  const url = server.getExec({ container_id: 'c1', cmd: ['true'], stdout: true });
  assert.match(url, new RegExp(`^${server.url}/exec/[A-Za-z0-9_-]{11}$`));
  assert.match(server.getAttach({ container_id: 'c1', stdout: true }), /\/attach\/[A-Za-z0-9_-]+$/);
  assert.match(server.getPortForward({ pod_sandbox_id: 'p', port: [80] }), /\/portforward\/[A-Za-z0-9_-]+$/);
  assert.throws(() => server.getExec({ container_id: 'c1', cmd: ['true'] }), /one of stdin, stdout, or stderr must be set/);
  assert.throws(() => server.getExec({ container_id: 'c1', cmd: ['true'], tty: true, stdout: true, stderr: true }), /tty and stderr/);
  assert.throws(() => server.getExec({ cmd: ['true'], stdout: true }), /container_id/);
  assert.throws(() => server.getPortForward({ port: [80] }), /pod_sandbox_id/);
});

test('exec v4: stdout and stderr come on their streams, then the Success status', async () => {
  const c = await dial(server.getExec({ container_id: 'c1', cmd: ['print', 'a', 'b'], stdout: true, stderr: true }));
  assert.is(c.protocol, 'v4.channel.k8s.io');
  const s = await open(c, ['error', 'stdout', 'stderr']);
  const [out, err, status] = await Promise.all([readAll(s.stdout), readAll(s.stderr), readAll(s.error)]);
  assert.is(out.toString(), 'out a b\n');
  assert.is(err.toString(), 'err c1\n');
  assert.is(status.toString(), '{"metadata":{},"status":"Success"}');
});

test('exec v4: a non-zero exit is a NonZeroExitCode status with the ExitCode cause', async () => {
  const c = await dial(server.getExec({ container_id: 'c1', cmd: ['exit', '3'], stdout: true }));
  const s = await open(c, ['error', 'stdout']);
  const [out, status] = await Promise.all([readAll(s.stdout), readAll(s.error)]);
  assert.is(out.toString(), 'exiting\n');
  assert.equal(JSON.parse(status.toString()), {
    metadata: {},
    status: 'Failure',
    message: 'command terminated with non-zero exit code: error executing command [exit 3], exit code 3',
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: '3' }] },
  });
});

test('exec v4: a runtime failure is an InternalError status', async () => {
  const c = await dial(server.getExec({ container_id: 'c1', cmd: ['nope'], stdout: true }));
  const s = await open(c, ['error', 'stdout']);
  const status = JSON.parse((await readAll(s.error)).toString());
  assert.is(status.status, 'Failure');
  assert.is(status.reason, 'InternalError');
  assert.is(status.message, 'Internal error occurred: error executing command in container: no such program nope');
});

test('exec v2: the server takes the client protocol it knows; a failure is text on the error stream', async () => {
  const c = await dial(server.getExec({ container_id: 'c1', cmd: ['exit', '4'], stdout: true }), ['v2.channel.k8s.io']);
  assert.is(c.protocol, 'v2.channel.k8s.io');
  const s = await open(c, ['error', 'stdout']);
  const status = await readAll(s.error);
  assert.is(status.toString(), 'command terminated with non-zero exit code: error executing command [exit 4], exit code 4');
});

test('exec: stdin round trip, its end reaches the process as eof; 1 MiB each way without window updates', async () => {
  const c = await dial(server.getExec({ container_id: 'c1', cmd: ['cat'], stdin: true, stdout: true, stderr: true }));
  const s = await open(c, ['error', 'stdin', 'stdout', 'stderr']);
  const out = readAll(s.stdout);
  s.stdin.write('hello ');
  s.stdin.write(Buffer.alloc(BIG, 'y'));
  s.stdin.end('world');
  const [text, status] = await Promise.all([out, readAll(s.error)]);
  assert.is(text.length, 'hello '.length + BIG + 'world[eof]'.length);
  assert.ok(text.subarray(0, 6).toString() === 'hello ' && text.subarray(-10).toString() === 'world[eof]');
  assert.is(status.toString(), '{"metadata":{},"status":"Success"}');
});

test('exec: 1 MiB of output to a client that never sends WINDOW_UPDATE', async () => {
  const c = await dial(server.getExec({ container_id: 'c1', cmd: ['big'], stdout: true }));
  const s = await open(c, ['error', 'stdout']);
  const [out, status] = await Promise.all([readAll(s.stdout), readAll(s.error)]);
  assert.is(out.length, BIG);
  assert.is(status.toString(), '{"metadata":{},"status":"Success"}');
});

test('exec with a tty: resizes (JSON, split across frames) reach the runtime, stderr goes to stdout', async () => {
  const c = await dial(server.getExec({ container_id: 'c1', cmd: ['cat'], tty: true, stdin: true, stdout: true }));
  const s = await open(c, ['error', 'stdin', 'stdout', 'resize']);
  const out = waitForText(s.stdout, '[resize 80x24]');
  s.resize.write('{"Width":80,"Height":24}\n');
  assert.ok((await out).startsWith('[tty]'));
  const next = waitForText(s.stdout, '[resize 120x40]');
  s.resize.write('{"Width":120,');
  s.resize.write('"Height":40}\n');
  await next;
  const rest = readAll(s.stdout);
  s.stdin.end('ls\r');
  assert.is((await rest).toString(), 'ls\r[eof]');
  assert.is((await readAll(s.error)).toString(), '{"metadata":{},"status":"Success"}');
});

test('attach: stdin echoed, and Success whatever the process exit code (as the kubelet)', async () => {
  const c = await dial(server.getAttach({ container_id: 'c1', stdin: true, stdout: true, stderr: true }));
  const s = await open(c, ['error', 'stdin', 'stdout', 'stderr']);
  const out = readAll(s.stdout);
  s.stdin.end('attached');
  assert.is((await out).toString(), 'attached[eof]');
  assert.is((await readAll(s.error)).toString(), '{"metadata":{},"status":"Success"}');
});

test('an unknown, used or wrong-kind token is a 404; an unknown protocol a 403', async () => {
  const unknown = await dialGoSpdy(`${server.url}/exec/nope`, ALL_REMOTE_COMMAND);
  assert.ok(isRefusal(unknown) && unknown.status === 404, 'unknown token');
  const url = server.getExec({ container_id: 'c1', cmd: ['print'], stdout: true });
  const first = await dial(url);
  const s = await open(first, ['error', 'stdout']);
  await readAll(s.error);
  const again = await dialGoSpdy(url, ALL_REMOTE_COMMAND);
  assert.ok(isRefusal(again) && again.status === 404, 'used token');
  const attachUrl = server.getAttach({ container_id: 'c1', stdout: true });
  const wrongKind = await dialGoSpdy(attachUrl.replace('/attach/', '/exec/'), ALL_REMOTE_COMMAND);
  assert.ok(isRefusal(wrongKind) && wrongKind.status === 404, 'wrong kind');
  const noProtocol = await dialGoSpdy(server.getExec({ container_id: 'c1', cmd: ['print'], stdout: true }), ['v9.channel.k8s.io']);
  assert.ok(isRefusal(noProtocol) && noProtocol.status === 403, 'unknown protocol');
  assert.ok(isRefusal(noProtocol) && noProtocol.headers['x-accepted-stream-protocol-versions'] !== undefined);
});

test('a token expires after its TTL', async () => {
  const quick = await createStreamingServer(runtime, { requestTtlMs: 50 });
  try {
    const url = quick.getExec({ container_id: 'c1', cmd: ['print'], stdout: true });
    await new Promise((r) => setTimeout(r, 80));
    const r = await dialGoSpdy(url, ALL_REMOTE_COMMAND);
    assert.ok(isRefusal(r) && r.status === 404);
  } finally {
    await quick.close();
  }
});

test('a client that does not open its streams in time is disconnected', async () => {
  const quick = await createStreamingServer(runtime, { streamCreationTimeoutMs: 200 });
  try {
    const c = await dial(quick.getExec({ container_id: 'c1', cmd: ['print'], stdout: true, stderr: true }));
    await open(c, ['error', 'stdout']);
    await once(c.socket, 'close');
  } finally {
    await quick.close();
  }
});

test('port-forward: stream pairs by requestID reach a TCP echo server; a refused port is reported on the error stream', async () => {
  const c = await dial(server.getPortForward({ pod_sandbox_id: 'pod-1', port: [echoPort] }), ['portforward.k8s.io']);
  assert.is(c.protocol, 'portforward.k8s.io');
  const pair = async (requestID: string, port: number) => {
    const headers = { port: String(port), requestID };
    const error = await c.createStream({ ...headers, streamType: 'error' });
    error.end(); // client-go closes its side of the error stream at once
    const data = await c.createStream({ ...headers, streamType: 'data' });
    return { error, data };
  };
  const one = await pair('0', echoPort);
  const two = await pair('1', echoPort);
  const [oneOut, twoOut] = [readAll(one.data), readAll(two.data)];
  two.data.end('second');
  one.data.write('first ');
  one.data.end(Buffer.alloc(BIG, 'z'));
  assert.is((await twoOut).toString(), 'second');
  const echoed = await oneOut;
  assert.is(echoed.length, 'first '.length + BIG);
  assert.is((await readAll(one.error)).toString(), '');

  const closed = createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const closedPort = (closed.address() as AddressInfo).port;
  closed.close();
  const refused = await pair('2', closedPort);
  refused.data.end();
  const message = (await readAll(refused.error)).toString();
  assert.match(message, new RegExp(`^error forwarding port ${closedPort} to pod pod-1, uid : .*ECONNREFUSED`));
});

test.run();

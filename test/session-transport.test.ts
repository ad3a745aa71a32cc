// exec and attach over kukeond's socket (plugins/api-socket: serve-session.ts, client.ts, h2-channel.ts's
// bidiStream, frame.ts): the real server and client over a real unix socket, the server in a process of its own
// (test/fixtures/session-server.ts, a scripted ControllerApi) so it can be killed or frozen like a daemon.
// Ordering, binary bytes, large stdin with backpressure both ways, eof and resize, cancellation reaching the
// server's signal (from the client's signal, and from a client process that is SIGKILLed), errors decoded with
// their code, and a daemon that dies or hangs mid-session.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SocketClient } from '../plugins/api-socket/client';
import { encodeFrame } from '../plugins/api-socket/frame';
import { H2Channel } from '../plugins/api-socket/h2-channel';
import type { GrpcError } from '../plugins/api-socket/h2-channel';
import { decodeError, ERROR_METADATA_KEY, methodPath } from '../plugins/api-socket/wire';
import { KukeonError } from '../sdk';
import type { ExecRequest, SessionInput, SessionOutput } from '../sdk';
import { tmpDir } from './helpers/tmp';
import { waitFor } from './helpers/wait-for';

const FIXTURE = path.join(__dirname, 'fixtures', 'session-server.js');
const REF = { kind: 'Cell' as const, path: ['main', 'default', 'default', 'web'] };

interface Daemon {
  socket: string;
  child: ChildProcess;
  events: Record<string, unknown>[];
  stop(): void;
}

const running: Daemon[] = [];

async function startDaemon(): Promise<Daemon> {
  const socket = path.join(tmpDir('kukeon-session-'), 'kukeond.sock');
  const child = spawn(process.execPath, [FIXTURE, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  const events: Record<string, unknown>[] = [];
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      events.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
    }
  });
  const d: Daemon = {
    socket,
    child,
    events,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
      }
    },
  };
  running.push(d);
  await waitFor('the session server is ready', () => events.some((e) => e.event === 'ready'), 10_000, 20);
  return d;
}

test.after.each(() => {
  for (const d of running.splice(0)) d.stop();
});

/** Output as the client got it: each chunk in order, and each stream's bytes. */
function recorder(onChunk?: (out: SessionOutput) => void | Promise<void>) {
  const chunks: { stream: string; text: string }[] = [];
  const bytes: Record<string, Buffer[]> = { stdout: [], stderr: [] };
  return {
    chunks,
    stdout: () => Buffer.concat(bytes.stdout),
    stderr: () => Buffer.concat(bytes.stderr),
    output: (out: SessionOutput) => {
      chunks.push({ stream: out.stream, text: Buffer.from(out.data).toString('latin1') });
      bytes[out.stream].push(Buffer.from(out.data));
      return onChunk?.(out);
    },
  };
}

const execReq = (...command: string[]): ExecRequest => ({ ref: REF, command, stdin: true });

async function* inputs(...items: SessionInput[]): AsyncIterable<SessionInput> {
  for (const item of items) yield item;
}

/** An input that stays open until `until` settles (an interactive client that never types). */
function openInput(until: Promise<unknown>): AsyncIterable<SessionInput> {
  return { [Symbol.asyncIterator]: () => ({ next: () => until.then(() => ({ done: true as const, value: undefined })) }) };
}

async function rejection(p: Promise<unknown>): Promise<KukeonError> {
  try {
    await p;
  } catch (err) {
    return err as KukeonError;
  }
  throw new Error('expected the call to fail');
}

test('stdout and stderr arrive in the order the process wrote them, then the exit code', async () => {
  const d = await startDaemon();
  const client = new SocketClient(d.socket);
  try {
    const out = recorder();
    const result = await client.exec(execReq('split', '200', '3'), { output: out.output });
    assert.equal(result, { exitCode: 3 });
    assert.equal(
      out.chunks,
      Array.from({ length: 200 }, (_, i) => ({ stream: i % 2 ? 'stderr' : 'stdout', text: `${i % 2 ? 'err' : 'out'} ${i}\n` })),
    );
  } finally {
    client.close();
  }
});

test('binary bytes 0..255 pass unchanged both ways and on both output streams', async () => {
  const d = await startDaemon();
  const client = new SocketClient(d.socket);
  try {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const out = recorder();
    assert.equal(await client.exec(execReq('bytes'), { output: out.output }), { exitCode: 0 });
    assert.equal([...out.stdout()], [...all]);
    assert.equal([...out.stderr()], [...all].reverse());
    const echo = recorder();
    const result = await client.exec(execReq('cat'), { input: inputs({ stdin: all }, { eof: true }), output: echo.output });
    assert.equal(result, { exitCode: 0 });
    assert.equal([...echo.stdout()], [...all]);
  } finally {
    client.close();
  }
});

test('stdin, resize and eof reach the process in the order sent; eof ends cat', async () => {
  const d = await startDaemon();
  const client = new SocketClient(d.socket);
  try {
    const out = recorder();
    const result = await client.exec(execReq('cat'), {
      input: inputs(
        { stdin: Buffer.from('one ') },
        { resize: { cols: 100, rows: 40 } },
        { stdin: Buffer.from('two') },
        { resize: { cols: 80, rows: 24 } },
        { eof: true },
      ),
      output: out.output,
    });
    assert.equal(result, { exitCode: 0 });
    assert.equal(out.chunks, [
      { stream: 'stdout', text: 'one ' },
      { stream: 'stderr', text: 'resize 100x40\n' },
      { stream: 'stdout', text: 'two' },
      { stream: 'stderr', text: 'resize 80x24\n' },
    ]);
  } finally {
    client.close();
  }
});

test('the call ends when the process does, while the client still has its input open', async () => {
  const d = await startDaemon();
  const client = new SocketClient(d.socket);
  let release!: () => void;
  const never = new Promise<void>((r) => {
    release = r;
  });
  try {
    const out = recorder();
    const result = await client.exec(execReq('split', '3', '0'), { input: openInput(never), output: out.output });
    assert.equal(result, { exitCode: 0 });
    assert.is(out.stdout().toString(), 'out 0\nout 2\n');
  } finally {
    release();
    client.close();
  }
});

test('4 MiB of stdin round-trips byte for byte through a slow reader, and two sessions on one connection do not mix', async () => {
  const d = await startDaemon();
  const client = new SocketClient(d.socket);
  try {
    const payload = crypto.randomBytes(4 * 1024 * 1024);
    const other = crypto.randomBytes(1024 * 1024);
    const feed = async function* (buf: Buffer, step: number): AsyncIterable<SessionInput> {
      for (let i = 0; i < buf.length; i += step) yield { stdin: buf.subarray(i, i + step) };
      yield { eof: true };
    };
    let n = 0;
    // every 16th chunk makes the server wait a little: output is held back, not dropped or reordered
    const slow = recorder(() => (++n % 16 === 0 ? new Promise((r) => setTimeout(r, 2)) : undefined));
    const fast = recorder();
    const [a, b] = await Promise.all([
      client.exec(execReq('cat'), { input: feed(payload, 100_000), output: slow.output }),
      client.exec(execReq('cat'), { input: feed(other, 4096), output: fast.output }),
    ]);
    assert.equal([a, b], [{ exitCode: 0 }, { exitCode: 0 }]);
    assert.ok(slow.stdout().equals(payload), `4 MiB back unchanged (got ${slow.stdout().length} bytes)`);
    assert.ok(fast.stdout().equals(other), 'the other session got its own 1 MiB');
    assert.is(slow.stderr().length + fast.stderr().length, 0);
  } finally {
    client.close();
  }
});

test('backpressure: a client that stops reading stops the process from producing, and stops sending stdin it cannot take', async () => {
  const d = await startDaemon();
  const client = new SocketClient(d.socket);
  try {
    // server to client: a flood the client never takes after its first chunk
    const ac = new AbortController();
    let got = 0;
    const flood = client.exec(
      execReq('flood'),
      {
        output: (out) => {
          got += out.data.length;
          return new Promise<void>(() => undefined); // never taken
        },
      },
      { signal: ac.signal },
    );
    await waitFor('the first chunk of the flood', () => got > 0, 5000, 20);
    await new Promise((r) => setTimeout(r, 1500));
    ac.abort();
    assert.is((await rejection(flood)).code, 'KUKEON_E_CANCELLED');
    await waitFor('the flood stops on cancel', () => d.events.some((e) => e.event === 'flood-stopped'), 5000, 20);
    const produced = d.events.find((e) => e.event === 'flood-stopped')!.produced as number;
    assert.ok(produced < 4 * 1024 * 1024, `the process was held back: ${produced} bytes produced in 1.5 s for a client that read 64 KiB`);

    // client to server: cat's output is never taken, so cat stops reading, and so does the client's sender
    const ac2 = new AbortController();
    let sent = 0;
    const total = 256 * 1024 * 1024;
    const feed = async function* (): AsyncIterable<SessionInput> {
      const chunk = Buffer.alloc(64 * 1024, 0x62);
      for (; sent < total; sent += chunk.length) yield { stdin: chunk };
    };
    const cat = client.exec(execReq('cat'), { input: feed(), output: () => new Promise<void>(() => undefined) }, { signal: ac2.signal });
    await new Promise((r) => setTimeout(r, 1500));
    const sentBefore = sent;
    ac2.abort();
    assert.is((await rejection(cat)).code, 'KUKEON_E_CANCELLED');
    assert.ok(sentBefore < 8 * 1024 * 1024, `the sender was held back: ${sentBefore} bytes of stdin taken in 1.5 s by a stuck process`);
  } finally {
    client.close();
  }
});

test("cancelling the client's signal resets the stream and aborts the server's signal: exec is cancelled, attach detaches", async () => {
  const d = await startDaemon();
  const client = new SocketClient(d.socket);
  try {
    const ac = new AbortController();
    const out = recorder();
    const started = Date.now();
    const sleep = client.exec(execReq('sleep'), { output: out.output }, { signal: ac.signal });
    await waitFor('sleep started', () => out.stdout().toString() === 'started\n', 5000, 20);
    ac.abort(new KukeonError('KUKEON_E_CANCELLED', 'SIGTERM received'));
    const cancelled = await rejection(sleep);
    assert.is(cancelled.code, 'KUKEON_E_CANCELLED');
    assert.is(cancelled.message, 'SIGTERM received', "the client's own reason, as in-process");
    await waitFor("the server's signal fires", () => d.events.some((e) => e.event === 'aborted' && e.verb === 'exec'), 5000, 20);
    assert.is(d.events.find((e) => e.event === 'aborted')!.code, 'KUKEON_E_CANCELLED');
    assert.ok(Date.now() - started < 5000);

    const ac2 = new AbortController();
    const seen = recorder();
    const detached = client.attach(
      { ref: REF, stdin: true },
      { input: inputs({ stdin: Buffer.from('hello') }), output: seen.output },
      { signal: ac2.signal },
    );
    await waitFor('attached and echoing', () => seen.stdout().toString() === 'attached\nhello', 5000, 20);
    ac2.abort();
    assert.equal(await detached, { detached: true });
    await waitFor('the server detaches', () => d.events.some((e) => e.event === 'aborted' && e.verb === 'attach'), 5000, 20);

    // an attach that ends by itself returns the container's exit
    const ended = await client.attach(
      { ref: REF, stdin: true },
      { input: inputs({ stdin: Buffer.from('x') }, { stdin: Buffer.from('exit') }), output: () => undefined },
    );
    assert.equal(ended, { detached: false, exitCode: 0 });
    // a signal aborted before the call starts never reaches the daemon's process
    const pre = new AbortController();
    pre.abort();
    assert.is(
      (await rejection(client.exec(execReq('split', '1', '0'), { output: () => undefined }, { signal: pre.signal }))).code,
      'KUKEON_E_CANCELLED',
    );
  } finally {
    client.close();
  }
});

test("a client process that is SIGKILLed mid-session aborts the server's signal (the daemon kills the exec'd process)", async () => {
  const d = await startDaemon();
  const clientJs = path.join(__dirname, '..', 'plugins', 'api-socket', 'client.js');
  const script = `
    const { SocketClient } = require(${JSON.stringify(clientJs)});
    new SocketClient(process.argv[1]).exec(
      { ref: ${JSON.stringify(REF)}, command: ['sleep'] },
      { output: (o) => { process.stdout.write(o.data); } },
    ).then(() => process.exit(0), () => process.exit(2));`;
  const child = spawn(process.execPath, ['-e', script, d.socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  try {
    await waitFor('the client process has its session', () => out === 'started\n', 5000, 20);
    child.kill('SIGKILL');
    await waitFor(
      "the server's signal fires when its client dies",
      () => d.events.some((e) => e.event === 'aborted' && e.verb === 'exec'),
      5000,
      20,
    );
  } finally {
    child.kill('SIGKILL');
  }
});

test('a client process ends on its own once its session ends: no ping timer or connection keeps it alive', async () => {
  const d = await startDaemon();
  const clientJs = path.join(__dirname, '..', 'plugins', 'api-socket', 'client.js');
  // pings every 500 ms for a session of ~1.5 s, then no process.exit: the event loop must empty by itself (a
  // shorter ping could go unanswered in time while the niced test lane waits for a CPU, and fail the session)
  const script = `
    const { SocketClient } = require(${JSON.stringify(clientJs)});
    const input = (async function* () {
      yield { stdin: Buffer.from('ping') };
      await new Promise((r) => setTimeout(r, 1500));
      yield { eof: true };
    })();
    new SocketClient(process.argv[1], { sessionKeepaliveMs: 500 })
      .exec({ ref: ${JSON.stringify(REF)}, command: ['cat'], stdin: true }, { input, output: (o) => { process.stdout.write(o.data); } })
      .then((r) => { process.stdout.write(' ' + r.exitCode); });`;
  const child = spawn(process.execPath, ['-e', script, d.socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  const t0 = Date.now();
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  assert.is(out, 'ping 0');
  assert.is(code, 0, 'it exited by itself, not by the 10 s kill');
  assert.ok(Date.now() - t0 < 8000, `exited ${Date.now() - t0} ms after it started`);
});

test('errors come back as the KukeonError the server threw, with code, message and details', async () => {
  const d = await startDaemon();
  const client = new SocketClient(d.socket);
  try {
    const err = await rejection(client.exec(execReq('fail'), { output: () => undefined }));
    assert.instance(err, KukeonError);
    assert.is(err.code, 'KUKEON_E_NOT_FOUND');
    assert.is(err.message, 'cell main/default/default/nope not found');
    assert.equal(err.details, { hint: 'kuke get cells' });
    // a request of the wrong shape is the caller's error, by field, before the controller sees it
    const bad = await rejection(client.exec({ ref: REF, command: 'sh' as unknown as string[] }, { output: () => undefined }));
    assert.is(bad.code, 'KUKEON_E_USAGE');
    assert.match(bad.message, 'exec: command must be a list of strings');
    const badSize = await rejection(client.attach({ ref: REF, size: { cols: '80' } as never }, { output: () => undefined }));
    assert.is(badSize.code, 'KUKEON_E_USAGE');
    assert.match(badSize.message, 'attach: size must be');
  } finally {
    client.close();
  }
});

test('frames a client must not send are usage errors: stdout data, unknown controls, no request', async () => {
  const d = await startDaemon();
  const channel = new H2Channel(d.socket);
  const call = async (...frames: Buffer[]) => {
    try {
      await channel.bidiStream(
        methodPath('exec'),
        (async function* () {
          yield* frames;
        })(),
        () => undefined,
      );
    } catch (err) {
      return decodeError((err as GrpcError).metadata?.get(ERROR_METADATA_KEY));
    }
    return undefined;
  };
  try {
    const req = encodeFrame({ json: execReq('cat') });
    const cases: [Buffer[], string][] = [
      [[req, encodeFrame({ data: Buffer.from('x'), stream: 1 })], 'a client sends stdin only (stream 0), not stream 1'],
      [[req, encodeFrame({ json: { kill: 9 } })], 'a control frame is {"eof": true} or {"resize"'],
      [[req, encodeFrame({ json: { resize: { cols: 0, rows: 24 } } })], 'a control frame is'],
      [[req, Buffer.from([0x0a, 9, 1])], 'not a kukeon.v1 Frame'],
      [[], 'no request'],
      [[encodeFrame({ data: Buffer.from('x') })], 'the first frame carries the request'],
    ];
    for (const [frames, message] of cases) {
      const err = await call(...frames);
      assert.is(err?.code, 'KUKEON_E_USAGE', message);
      assert.match(err!.message, message);
    }
  } finally {
    channel.close();
  }
});

test('a daemon killed mid-session ends the call with KUKEON_E_DAEMON at once; one that hangs, within the keepalive', async () => {
  const killed = await startDaemon();
  const client = new SocketClient(killed.socket);
  try {
    const out = recorder();
    const sleep = client.exec(execReq('sleep'), { output: out.output });
    await waitFor('sleep started', () => out.stdout().length > 0, 5000, 20);
    const t0 = Date.now();
    killed.child.kill('SIGKILL');
    const err = await rejection(sleep);
    assert.is(err.code, 'KUKEON_E_DAEMON', err.message);
    assert.match(err.message, killed.socket);
    assert.ok(Date.now() - t0 < 2000, `ended ${Date.now() - t0} ms after the daemon died`);
  } finally {
    client.close();
  }

  const frozen = await startDaemon();
  const pinging = new SocketClient(frozen.socket, { sessionKeepaliveMs: 300 });
  try {
    const out = recorder();
    const sleep = pinging.exec(execReq('sleep'), { output: out.output });
    await waitFor('sleep started', () => out.stdout().length > 0, 5000, 20);
    await new Promise((r) => setTimeout(r, 1000)); // answered pings keep a silent session alive
    const t0 = Date.now();
    frozen.child.kill('SIGSTOP');
    const err = await rejection(sleep);
    assert.is(err.code, 'KUKEON_E_DAEMON', err.message);
    assert.match(err.message, 'no answer to a ping');
    assert.ok(Date.now() - t0 < 1500, `ended ${Date.now() - t0} ms after the daemon froze`);
  } finally {
    pinging.close();
  }
});

test.run();

// kukeond's console of an attachable container, on real FIFOs, with the shim's side played by the test: output
// reaches the log with nobody attached, the first client gets what came before it, a detach leaves the rest
// running, a client that does not read holds nobody up, keys reach the input FIFO, and the output's end ends
// every attach with the exit code. Without a terminal (`terminal: false`): stdout and stderr arrive apart with
// their stream, the output ends once both have, stdin is a FIFO only when asked for, and stdin-once closes it.

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Console } from '../plugins/containerd/console/console';
import type { ConsoleDeps } from '../plugins/containerd/console/console';
import { Consoles } from '../plugins/containerd/console/consoles';
import { type ConsoleMeta, fifoPaths, listFifoDirs, makeFifos, removeFifos } from '../plugins/containerd/console/fifos';
import type { CellRuntime } from '../plugins/containerd/cell-runtime';
import type { PluginHost, SessionInput, SessionOutput, TerminalSize } from '../sdk';
import { tmpDir } from './helpers/tmp';
import { waitFor } from './helpers/wait-for';

type ObservedEvent = Parameters<NonNullable<ConsoleDeps['observe']>>[0];

/** Every console a test opened: let go after it, so a failed test leaves no FIFO open to keep this process alive. */
const opened: Console[] = [];
test.after.each(() => {
  for (const c of opened.splice(0)) c.close();
});

/** A console as kukeond opens it (a terminal unless `extra` says otherwise), and the shim's ends of its FIFOs. */
function setup(extra: Partial<ConsoleMeta> = {}) {
  const runtimeDir = tmpDir();
  const logPath = path.join(runtimeDir, 'cell', 'logs', 'sh.log');
  const meta: ConsoleMeta = {
    namespace: 'ns1',
    containerdId: 's_t_c_sh',
    cellPath: ['r', 's', 't', 'c'],
    container: 'sh',
    logPath,
    ...extra,
  };
  const paths = makeFifos(runtimeDir, meta);
  const resizes: TerminalSize[] = [];
  const observed: ObservedEvent[] = [];
  let closedStdin = 0;
  let ended = false;
  const deps = {
    resize: async (s: TerminalSize) => void resizes.push(s),
    exitCode: async () => 7,
    closeStdin: async () => void (closedStdin += 1),
    log: () => undefined,
    observe: (e: ObservedEvent) => void observed.push(e),
  };
  const con = new Console(paths, meta, deps, () => {
    ended = true;
  });
  opened.push(con);
  // the shim's side: it writes the console's output and reads what is typed (opened after kukeond's, as the shim does)
  const { O_WRONLY, O_RDONLY, O_NONBLOCK } = fs.constants;
  const shimOut = fs.openSync(paths.stdout, O_WRONLY | O_NONBLOCK);
  const shimErr = meta.terminal === false ? fs.openSync(paths.stderr, O_WRONLY | O_NONBLOCK) : -1;
  const shimIn = fs.existsSync(paths.stdin) ? fs.openSync(paths.stdin, O_RDONLY | O_NONBLOCK) : -1;
  return {
    runtimeDir,
    logPath,
    meta,
    paths,
    con,
    resizes,
    observed,
    shimOut,
    shimErr,
    shimIn,
    closedStdin: () => closedStdin,
    ended: () => ended,
  };
}

function client() {
  const got: SessionOutput[] = [];
  const queue: SessionInput[] = [];
  let wake: (() => void) | undefined;
  const input = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (queue.length) yield queue.shift()!;
        await new Promise<void>((r) => (wake = r));
      }
    },
  };
  return {
    io: { input, output: (o: SessionOutput) => void got.push({ stream: o.stream, data: Buffer.from(o.data) }) },
    send: (m: SessionInput) => {
      queue.push(m);
      wake?.();
    },
    text: () => Buffer.concat(got.map((o) => o.data)).toString(),
    /** What came on each stream, in order: `stdout:…` / `stderr:…`. */
    tagged: () => got.map((o) => `${o.stream}:${Buffer.from(o.data).toString()}`),
  };
}

const readAvailable = (fd: number): string => {
  const buf = Buffer.alloc(65536);
  try {
    return buf.subarray(0, fs.readSync(fd, buf)).toString();
  } catch {
    return '';
  }
};

test('FIFOs: made 0600 in a 0700 directory with whose they are; listed for a restarted daemon; removed with the namespace directory', () => {
  const runtimeDir = tmpDir();
  const meta = { namespace: 'ns1', containerdId: 'a_b_c_d', cellPath: ['r', 'a', 'b', 'c'], container: 'd', logPath: '/x.log' };
  const p = makeFifos(runtimeDir, meta);
  assert.ok(fs.statSync(p.stdin).isFIFO() && fs.statSync(p.stdout).isFIFO());
  assert.not.ok(fs.existsSync(p.stderr), 'a terminal has one output: no stderr FIFO');
  assert.is(fs.statSync(p.stdout).mode & 0o777, 0o600);
  assert.is(fs.statSync(p.dir).mode & 0o777, 0o700);
  assert.equal(p, fifoPaths(runtimeDir, 'ns1', 'a_b_c_d'));
  assert.equal(listFifoDirs(runtimeDir), [meta]);
  makeFifos(runtimeDir, meta); // a new task of the same container: fresh ones
  removeFifos(runtimeDir, 'ns1', 'a_b_c_d');
  assert.not.ok(fs.existsSync(path.dirname(p.dir)), 'the namespace directory goes with its last FIFOs');
  removeFifos(runtimeDir, 'ns1', 'a_b_c_d'); // idempotent
  assert.equal(listFifoDirs(runtimeDir), []);
});

test('output goes to the log with nobody attached; the first client gets what came before; keys and sizes go through', async () => {
  const s = setup();
  fs.writeSync(s.shimOut, 'hello\r\n/ # ');
  await waitFor('the log', () => fs.existsSync(s.logPath) && fs.readFileSync(s.logPath, 'utf8') === 'hello\r\n/ # ');
  const c = client();
  const ac = new AbortController();
  const attached = s.con.attach(c.io, { size: { cols: 120, rows: 40 } }, ac.signal);
  await waitFor('the backlog', () => c.text() === 'hello\r\n/ # ');
  assert.equal(s.resizes, [{ cols: 120, rows: 40 }]);
  c.send({ stdin: Buffer.from('echo hi\r') });
  c.send({ resize: { cols: 90, rows: 20 } });
  c.send({ eof: true }); // an attach never closes the shared input
  let typed = '';
  await waitFor('the keys in the input FIFO', () => (typed += readAvailable(s.shimIn)) === 'echo hi\r');
  await waitFor('the resize', () => s.resizes.length === 2);
  fs.writeSync(s.shimOut, 'hi\r\n');
  await waitFor('the relayed output', () => c.text().endsWith('hi\r\n'));
  ac.abort();
  assert.equal(await attached, { detached: true });
  fs.writeSync(s.shimOut, 'after\r\n');
  await waitFor('output after the detach in the log', () => fs.readFileSync(s.logPath, 'utf8').endsWith('after\r\n'));
  const late = client();
  const again = s.con.attach(late.io, {});
  fs.writeSync(s.shimOut, 'late\r\n');
  await waitFor('the second client', () => late.text() === 'late\r\n');
  assert.not.match(late.text(), 'hello', 'only the first attach gets the backlog');
  fs.closeSync(s.shimOut); // the process exited: the shim closes its side
  assert.equal(await again, { detached: false, exitCode: 7 });
  await waitFor('the console to let go', () => s.ended());
  assert.ok(
    late.tagged().every((t) => t.startsWith('stdout:')),
    'a terminal relays one stream: stdout',
  );
  assert.ok(s.observed.slice(0, -1).every((e) => 'stream' in e && e.stream === 'stdout'));
  assert.equal(s.observed.at(-1), { end: true });
  fs.closeSync(s.shimIn);
});

test('a client that never takes its output holds up neither the log nor another client', async () => {
  const s = setup();
  const stuck = s.con.attach({ output: () => new Promise<void>(() => undefined) }, { stdin: false });
  const c = client();
  const ac = new AbortController();
  const attached = s.con.attach(c.io, {}, ac.signal);
  const chunk = 'x'.repeat(4000);
  let written = 0;
  while (written < 400_000) {
    try {
      written += fs.writeSync(s.shimOut, chunk);
    } catch {
      await new Promise((r) => setTimeout(r, 5)); // the pipe is full for a moment: kukeond drains it
    }
  }
  await waitFor('everything in the log', () => fs.statSync(s.logPath).size === written, 10_000);
  await waitFor('everything at the live client', () => c.text().length === written, 10_000);
  ac.abort();
  assert.equal(await attached, { detached: true });
  s.con.close();
  fs.closeSync(s.shimOut);
  fs.closeSync(s.shimIn);
  void stuck;
});

/** What the shim reads from its end of the stdin FIFO now, and whether every writer is gone (end of file). */
function readStdin(fd: number): { data: string; eof: boolean } {
  const buf = Buffer.alloc(65536);
  try {
    const n = fs.readSync(fd, buf);
    return { data: buf.subarray(0, n).toString(), eof: n === 0 };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return { data: '', eof: false }; // empty, a writer is open
    throw err;
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('without a terminal: stdout and stderr FIFOs, and stdin only when kept open; console.json says so', () => {
  const runtimeDir = tmpDir();
  const base = { namespace: 'ns1', cellPath: ['r', 'a', 'b', 'c'], logPath: '/x.log', terminal: false };
  const pipes = makeFifos(runtimeDir, { ...base, containerdId: 'a_b_c_d', container: 'd' });
  assert.ok(fs.statSync(pipes.stdout).isFIFO() && fs.statSync(pipes.stderr).isFIFO());
  assert.is(fs.statSync(pipes.stderr).mode & 0o777, 0o600);
  assert.not.ok(fs.existsSync(pipes.stdin), 'no stdin: the task reads /dev/null');
  const withStdin = makeFifos(runtimeDir, { ...base, containerdId: 'a_b_c_e', container: 'e', stdin: true, stdinOnce: true });
  assert.ok(fs.statSync(withStdin.stdin).isFIFO() && fs.statSync(withStdin.stderr).isFIFO());
  // a restarted daemon re-opens them as they were made
  assert.equal(
    listFifoDirs(runtimeDir)
      .map((m) => [m.containerdId, m.terminal, m.stdin, m.stdinOnce])
      .sort(),
    [
      ['a_b_c_d', false, undefined, undefined],
      ['a_b_c_e', false, true, true],
    ],
  );
});

test('without a terminal: stdout and stderr are read apart and reach the log, observe and clients with their stream', async () => {
  const s = setup({ terminal: false });
  fs.writeSync(s.shimOut, 'out1\n');
  await waitFor('out1 observed', () => s.observed.length === 1);
  fs.writeSync(s.shimErr, 'err1\n');
  await waitFor('err1 observed', () => s.observed.length === 2);
  const c = client();
  const ac = new AbortController();
  const attached = s.con.attach(c.io, { size: { cols: 80, rows: 24 } }, ac.signal);
  await waitFor('the backlog', () => c.tagged().length === 2);
  assert.equal(c.tagged(), ['stdout:out1\n', 'stderr:err1\n'], "the backlog keeps each chunk's stream");
  fs.writeSync(s.shimErr, 'err2\n');
  await waitFor('err2', () => c.tagged().length === 3);
  fs.writeSync(s.shimOut, 'out2\n');
  await waitFor('out2', () => c.tagged().length === 4);
  assert.equal(c.tagged().slice(2), ['stderr:err2\n', 'stdout:out2\n']);
  assert.equal(
    s.observed.map((e) => ('stream' in e ? `${e.stream}:${Buffer.from(e.data).toString()}` : 'end')),
    ['stdout:out1\n', 'stderr:err1\n', 'stderr:err2\n', 'stdout:out2\n'],
  );
  await waitFor('the log', () => fs.readFileSync(s.logPath, 'utf8').length === 20);
  assert.is(fs.readFileSync(s.logPath, 'utf8'), 'out1\nerr1\nerr2\nout2\n');
  assert.equal(s.resizes, [], 'pipes have no size');
  ac.abort();
  assert.equal(await attached, { detached: true });
  s.con.close();
  fs.closeSync(s.shimOut);
  fs.closeSync(s.shimErr);
});

test('without a terminal: the output ends once both stdout and stderr have ended; observe sees one end', async () => {
  const s = setup({ terminal: false });
  const c = client();
  const attached = s.con.attach(c.io, {});
  let result: unknown;
  void attached.then((r) => (result = r));
  fs.closeSync(s.shimOut); // stdout ends first: stderr still runs
  fs.writeSync(s.shimErr, 'still here\n');
  await waitFor('stderr after stdout ended', () => c.text() === 'still here\n');
  await pause(200);
  assert.not.ok(s.ended(), 'not ended with stderr open');
  assert.is(result, undefined, 'the attach goes on');
  assert.not.ok(
    s.observed.some((e) => 'end' in e),
    'no end observed yet',
  );
  fs.closeSync(s.shimErr);
  assert.equal(await attached, { detached: false, exitCode: 7 });
  await waitFor('the console to let go', () => s.ended());
  assert.is(await s.con.end(3), 7, 'the task deleted afterwards (its release ends the console again): the first end holds');
  assert.equal(
    s.observed.filter((e) => 'end' in e),
    [{ end: true }],
    'one end',
  );
  assert.equal(s.observed.at(-1), { end: true }, 'after every chunk');
  assert.equal(await s.con.attach(client().io, {}), { detached: false, exitCode: 7 }, 'a late attach gets the exit at once');
});

test("stdin-once: the first client's end of input closes the task's stdin (the runtime's and kukeond's writer)", async () => {
  const s = setup({ terminal: false, stdin: true, stdinOnce: true });
  const c = client();
  const ac = new AbortController();
  const attached = s.con.attach(c.io, {}, ac.signal);
  c.send({ stdin: Buffer.from('line\n') });
  let typed = '';
  await waitFor('the input in the stdin FIFO', () => (typed += readStdin(s.shimIn).data) === 'line\n');
  assert.is(s.closedStdin(), 0);
  assert.not.ok(readStdin(s.shimIn).eof, 'kukeond holds a writer open');
  c.send({ eof: true });
  await waitFor('closeStdin', () => s.closedStdin() === 1);
  await waitFor('the end of file at the shim: no writer left', () => readStdin(s.shimIn).eof);
  await pause(100);
  assert.is(s.closedStdin(), 1, 'once');
  ac.abort();
  assert.equal(await attached, { detached: true });
  s.con.close();
  for (const fd of [s.shimOut, s.shimErr, s.shimIn]) fs.closeSync(fd);
});

test("stdin without stdin-once: a client's end of input closes nothing (another client still types)", async () => {
  const s = setup({ terminal: false, stdin: true });
  const first = client();
  const ac = new AbortController();
  const attached = s.con.attach(first.io, {}, ac.signal);
  first.send({ stdin: Buffer.from('a') });
  first.send({ eof: true });
  let typed = '';
  await waitFor('the first input', () => (typed += readStdin(s.shimIn).data) === 'a');
  await pause(100);
  assert.is(s.closedStdin(), 0);
  assert.not.ok(readStdin(s.shimIn).eof);
  const second = client();
  const again = s.con.attach(second.io, {});
  second.send({ stdin: Buffer.from('b') });
  await waitFor('the second input', () => (typed += readStdin(s.shimIn).data) === 'ab');
  ac.abort();
  assert.equal(await attached, { detached: true });
  fs.closeSync(s.shimOut);
  fs.closeSync(s.shimErr);
  assert.equal(await again, { detached: false, exitCode: 7 });
  fs.closeSync(s.shimIn);
});

test("without stdin: no stdin FIFO, hold() keeps nothing open, a client's keys and end of input go nowhere", async () => {
  const s = setup({ terminal: false, stdinOnce: true });
  assert.not.ok(fs.existsSync(s.paths.stdin));
  assert.is(s.shimIn, -1);
  s.con.hold(process.pid); // would open the stdin FIFO (and spawn a holder) if there were one
  const c = client();
  const attached = s.con.attach(c.io, {});
  c.send({ stdin: Buffer.from('ignored') });
  c.send({ eof: true });
  await pause(100);
  assert.is(s.closedStdin(), 0, 'no stdin to close');
  fs.writeSync(s.shimOut, 'out\n');
  await waitFor('the output', () => c.text() === 'out\n');
  fs.closeSync(s.shimOut);
  fs.closeSync(s.shimErr);
  assert.equal(await attached, { detached: false, exitCode: 7 });
});

test("a restarted daemon's first attach opens the console as its task was made: pipes stay pipes", async () => {
  // kukeond's earlier life made the FIFOs of a task without a terminal; this daemon has not re-opened them yet
  const runtimeDir = tmpDir();
  const meta: ConsoleMeta = {
    namespace: 'ns1',
    containerdId: 's_t_c_sh',
    cellPath: ['r', 's', 't', 'c'],
    container: 'sh',
    logPath: path.join(runtimeDir, 'sh.log'),
    terminal: false,
  };
  const paths = makeFifos(runtimeDir, meta);
  const closers: (() => void)[] = [];
  const host = {
    paths: { runtimeDir },
    onClose: (fn: () => void) => void closers.push(fn),
    state: { get: async () => ({ status: { containerdId: meta.containerdId } }) },
    log: () => undefined,
  } as unknown as PluginHost;
  const rt = {
    namespaceOfRealm: async () => 'ns1',
    task: async () => ({ status: 'RUNNING', pid: 4321 }),
    logPath: () => meta.logPath,
  } as unknown as CellRuntime;
  const c = client();
  const ac = new AbortController();
  const attached = new Consoles(host, rt).attach(meta.cellPath, 'sh', c.io, {}, ac.signal);
  attached.catch(() => undefined); // asserted below
  // the shim's side, once kukeond reads (a FIFO opened for writing without a reader fails)
  const open = (p: string) => {
    try {
      return fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    } catch {
      return -1;
    }
  };
  let shimErr = -1;
  let shimOut = -1;
  await Promise.race([
    attached,
    waitFor(
      'kukeond reading both outputs',
      () => (shimOut = shimOut < 0 ? open(paths.stdout) : shimOut) >= 0 && (shimErr = open(paths.stderr)) >= 0,
    ),
  ]);
  fs.writeSync(shimErr, 'oops\n');
  await waitFor('stderr', () => c.tagged().length === 1);
  fs.writeSync(shimOut, 'fine\n');
  await waitFor('stdout', () => c.tagged().length === 2);
  assert.equal(c.tagged(), ['stderr:oops\n', 'stdout:fine\n']);
  ac.abort();
  assert.equal(await attached, { detached: true });
  for (const close of closers) close();
  fs.closeSync(shimOut);
  fs.closeSync(shimErr);
});

test.run();

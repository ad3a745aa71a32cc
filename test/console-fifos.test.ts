// kukeond's console of an attachable container, on real FIFOs, with the shim's side played by the test: output
// reaches the log with nobody attached, the first client gets what came before it, a detach leaves the rest
// running, a client that does not read holds nobody up, keys reach the input FIFO, and the output's end ends
// every attach with the exit code.

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Console } from '../plugins/containerd/console/console';
import { fifoPaths, listFifoDirs, makeFifos, removeFifos } from '../plugins/containerd/console/fifos';
import type { SessionInput, SessionOutput, TerminalSize } from '../sdk';
import { tmpDir } from './helpers/tmp';
import { waitFor } from './helpers/wait-for';

function setup() {
  const runtimeDir = tmpDir();
  const logPath = path.join(runtimeDir, 'cell', 'logs', 'sh.log');
  const meta = { namespace: 'ns1', containerdId: 's_t_c_sh', cellPath: ['r', 's', 't', 'c'], container: 'sh', logPath };
  const paths = makeFifos(runtimeDir, meta);
  const resizes: TerminalSize[] = [];
  let ended = false;
  const deps = {
    resize: async (s: TerminalSize) => void resizes.push(s),
    exitCode: async () => 7,
    closeStdin: async () => undefined,
    log: () => undefined,
  };
  const con = new Console(paths, meta, deps, () => {
    ended = true;
  });
  // the shim's side: it writes the console's output and reads what is typed (opened after kukeond's, as the shim does)
  const shimOut = fs.openSync(paths.stdout, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  const shimIn = fs.openSync(paths.stdin, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  return { runtimeDir, logPath, meta, paths, con, resizes, shimOut, shimIn, ended: () => ended };
}

function client() {
  const got: Buffer[] = [];
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
    io: { input, output: (o: SessionOutput) => void got.push(Buffer.from(o.data)) },
    send: (m: SessionInput) => {
      queue.push(m);
      wake?.();
    },
    text: () => Buffer.concat(got).toString(),
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

test.run();

// Attachable containers through a real kukeond on the private containerd: attach under a pseudo-terminal the test
// makes (python3's pty), type, read, detach with Ctrl-P Ctrl-Q (the container runs on); the terminal's output in
// `kuke log`; a SIGKILLed daemon leaves the shell running and a new one attaches to it; `run -it --rm` removes
// its cell once the shell exits; in-process attach and run -it are refused with KUKEON_E_NEEDS_DAEMON and write
// nothing; and a new user's try in tmux (send-keys, capture-pane) leaves a sane terminal.

import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { ContainerdClient } from '../plugins/containerd/grpc/containerd-client';
import { E2EHarness, KUKE_BIN } from './e2e/harness';
import { idle } from './e2e/idle';
import type { RunResult } from './e2e/harness';
import { e2eSuite } from './e2e/requirements';
import { BUSYBOX_IMAGE_REF, buildBusyboxOciFile } from './helpers/busybox-oci';
import type { Daemon } from './helpers/daemon';
import { startDaemon } from './helpers/daemon';
import { snapshot } from './helpers/kuke';
import { spawnOnPty } from './helpers/pty';
import { waitFor } from './helpers/wait-for';

const NS = 'kukeon-main';
const SCOPE = ['--realm', 'main', '--space', 'blog', '--stack', 'wp'];
const SHELL_ID = 'blog_wp_dev_shell';
const MANIFEST = `apiVersion: v1beta1
kind: Cell
metadata: { name: dev }
spec:
  realmId: main
  spaceId: blog
  stackId: wp
  tty: { default: shell }
  containers:
    - { id: shell, image: "${BUSYBOX_IMAGE_REF}", command: sh, attachable: true, tty: {} }
    - { id: side, image: "${BUSYBOX_IMAGE_REF}", command: sh, args: ["-c", "${idle(100000)}"] }
`;
const DETACH = '\x10\x11';

e2eSuite('attachable containers through kukeond', (test) => {
  let h: E2EHarness;
  let daemon: Daemon | undefined;
  let client: ContainerdClient;
  const socket = () => path.join(h.tmp, 'd', 'kukeond.sock');
  const daemonRunPath = () => path.join(h.tmp, 'daemon-state');
  const start = async () => {
    daemon = await startDaemon({ socket: socket(), runPath: daemonRunPath(), config: h.configFile });
  };
  const viaDaemon = (args: string[], input?: string): Promise<RunResult> =>
    h.kuke(args, { input, timeoutMs: 120_000, env: { KUKEON_NO_DAEMON: undefined, KUKEON_RUN_PATH: undefined, KUKEON_SOCKET: socket() } });
  /** The environment of a kuke on a pty: this process's without KUKEON_*, plus `extra`. */
  const env = (extra: Record<string, string>): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KUKEON_') && k !== 'DEBUG') e[k] = v;
    return { ...e, KUKEON_CONFIG: h.configFile, KUKEON_CONTAINERD_SOCKET: h.socket, ...extra };
  };
  const daemonEnv = () => env({ KUKEON_SOCKET: socket() });
  const onPty = (args: string[], e = daemonEnv()) => spawnOnPty([process.execPath, KUKE_BIN, ...args], { env: e, rows: 30, cols: 100 });
  const shellTask = () => client.tasks.get(NS, SHELL_ID);

  test.before(async () => {
    h = await E2EHarness.start({ name: 'attach' });
    client = new ContainerdClient(h.socket);
    await start();
    assert.is((await viaDaemon(['create', 'realm', 'main'])).code, 0);
    const load = await viaDaemon(['image', 'load', await buildBusyboxOciFile(h.tmp), '--realm', 'main']);
    assert.is(load.code, 0, load.stderr);
    const r = await viaDaemon(['apply', '-f', '-'], MANIFEST);
    assert.is(r.code, 0, r.stderr);
  });

  test.after(async () => {
    await daemon?.stop();
    client?.close();
    const diff = await h?.stop();
    assert.equal(diff, [], `the host changed: ${diff?.join('; ')}`);
  });

  test('attach: the shell answers what is typed at the client size; Ctrl-P Ctrl-Q detaches and the shell runs on', async () => {
    const before = await shellTask();
    assert.is(before.status, 'RUNNING');
    const p = onPty(['attach', 'dev', ...SCOPE]);
    await p.waitFor('/ # '); // the first attach gets the shell's first prompt
    p.type('echo $((6*7)); stty size\r');
    await p.waitFor(/\r\n42\r\n30 100\r\n/); // raw output: no \r\r\n (ONLCR off on this side)
    p.type(DETACH);
    assert.is(await p.exited, 0, p.output());
    assert.match(p.output(), 'read escape sequence');
    const after = await shellTask();
    assert.is(after.status, 'RUNNING', 'the container runs on after the detach');
    assert.is(after.pid, before.pid);
  });

  test('kuke log shows what the terminal printed', async () => {
    const r = await viaDaemon(['log', 'dev', '--container', 'shell', ...SCOPE]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /\r\n42\r\n/);
  });

  test('a SIGKILLed daemon leaves the shell running; a new one attaches to it, and output meanwhile reaches the log', async () => {
    const before = await shellTask();
    await daemon!.kill();
    await new Promise((r) => setTimeout(r, 1500)); // the shim would end a terminal whose input closed
    assert.equal(await shellTask(), before, 'the shell outlives the daemon');
    await start();
    const p = onPty(['attach', 'dev', ...SCOPE]);
    p.type('echo again $((2*3))\r');
    await p.waitFor('again 6');
    p.type(DETACH);
    assert.is(await p.exited, 0, p.output());
    assert.is((await shellTask()).pid, before.pid);
    await waitFor('the output in the log', async () =>
      (await viaDaemon(['log', 'dev', '--container', 'shell', ...SCOPE])).stdout.includes('again 6'),
    );
  });

  test('the process exiting ends the attach with its code; the cell is then Exited', async () => {
    const p = onPty(['attach', 'dev', '--container', 'shell', ...SCOPE]);
    p.type('exit 4\r');
    assert.is(await p.exited, 4, p.output());
    assert.is((await shellTask()).status, 'STOPPED');
    const again = await viaDaemon(['attach', 'dev', '--no-stdin', ...SCOPE]);
    assert.is(again.code, 1);
    assert.match(again.stderr, 'KUKEON_E_STATE');
    assert.is((await viaDaemon(['delete', 'cell', 'dev', ...SCOPE])).code, 0);
    assert.not.ok(fs.existsSync(path.join(daemonRunPath(), 'run', 'containerd', 'io', NS, SHELL_ID)), 'its FIFOs went with its task');
  });

  test('the supervisor restarts an attachable container: the new task gets fresh FIFOs and attach reaches it', async () => {
    const loop = MANIFEST.replace('name: dev', 'name: loop')
      .replace('  tty: { default: shell }\n', '')
      .replace('attachable: true, tty: {} }', 'attachable: true, restartPolicy: always, restartBackoffSeconds: 0 }');
    assert.is((await viaDaemon(['apply', '-f', '-'], loop)).code, 0);
    const id = 'blog_wp_loop_shell';
    const first = await client.tasks.get(NS, id);
    const p = onPty(['attach', 'loop', ...SCOPE]);
    p.type('exit 0\r');
    assert.is(await p.exited, 0, p.output());
    await waitFor('the restart', async () => {
      const t = await client.tasks.get(NS, id).catch(() => undefined);
      return t?.status === 'RUNNING' && t.pid !== first.pid;
    });
    const again = onPty(['attach', 'loop', ...SCOPE]);
    again.type('echo restarted $((3*5))\r');
    await again.waitFor('restarted 15');
    again.type(DETACH);
    assert.is(await again.exited, 0, again.output());
    // an interactive sh ignores SIGTERM, as in Docker: --force, not the 10 s grace
    const deleted = await viaDaemon(['delete', 'cell', 'loop', '--force', ...SCOPE]);
    assert.is(deleted.code, 0, deleted.stderr);
    assert.not.match(deleted.stderr, 'continued: --force', 'no backend error was passed over');
  });

  test('run -it --rm: a shell at once, and the cell removed once it exits with its code', async () => {
    const p = onPty(['run', '-it', 'once', ...SCOPE, '--image', BUSYBOX_IMAGE_REF, '--rm', '--', 'sh']);
    await p.waitFor('/ # ', 60_000);
    p.type('echo $((6*7))\r');
    await p.waitFor(/\r+\n42\r+\n/);
    p.type('exit 3\r');
    assert.is(await p.exited, 3, p.output());
    const gone = await viaDaemon(['get', 'cell', 'once', ...SCOPE]);
    assert.is(gone.code, 1, `--rm removed the cell: ${gone.stdout}`);
  });

  test('run -it of a process quicker than the attach prints its output and exit code; run -i without -t is refused', async () => {
    const p = onPty([
      'run',
      '-it',
      'quick',
      ...SCOPE,
      '--image',
      BUSYBOX_IMAGE_REF,
      '--rm',
      '--',
      'sh',
      '-c',
      'echo quick-$((6*7)); exit 5',
    ]);
    assert.is(await p.exited, 5, p.output());
    assert.match(p.output(), 'quick-42');
    const noTty = await viaDaemon(['run', '-i', 'piped', ...SCOPE, '--image', BUSYBOX_IMAGE_REF, '--', 'cat'], 'hi\n');
    assert.is(noTty.code, 2, noTty.stderr);
    assert.match(noTty.stderr, 'kuke run -i needs -t');
  });

  test('run --rm after a detach, and run -d --rm: kukeond deletes the cell once its process exits (autoDelete)', async () => {
    const p = onPty(['run', '-it', 'left', ...SCOPE, '--image', BUSYBOX_IMAGE_REF, '--rm', '--', 'sh']);
    await p.waitFor('/ # ', 60_000);
    p.type('\x10\x11');
    assert.is(await p.exited, 0, p.output());
    assert.is((await viaDaemon(['get', 'cell', 'left', ...SCOPE])).code, 0, 'a detach leaves the cell running');
    const d = await viaDaemon(['run', '-d', 'brief', ...SCOPE, '--image', BUSYBOX_IMAGE_REF, '--rm', '--command', 'sleep', '--', '1']);
    assert.is(d.code, 0, d.stderr);
    // the shell ends through a plain attach, which deletes nothing itself
    const again = onPty(['attach', 'left', ...SCOPE]);
    again.type('echo back $((2*4))\r');
    await again.waitFor('back 8');
    again.type('exit 0\r');
    assert.is(await again.exited, 0, again.output());
    for (const cell of ['left', 'brief'])
      await waitFor(`kukeond to delete ${cell}`, async () => (await viaDaemon(['get', 'cell', cell, ...SCOPE])).code === 1, 30_000, 500);
  });

  test('in-process, attach and run -it are refused with KUKEON_E_NEEDS_DAEMON and write nothing', async () => {
    // the daemon's own cell, reached in-process through its run path: nobody there owns its terminal
    assert.is((await viaDaemon(['apply', '-f', '-'], MANIFEST)).code, 0);
    const attach = onPty(['attach', 'dev', ...SCOPE, '--run-path', daemonRunPath()], env({}));
    assert.is(await attach.exited, 1, attach.output());
    assert.match(attach.output(), 'KUKEON_E_NEEDS_DAEMON');
    assert.ok(!attach.output().includes('\x1b[6n'), 'nothing of the shell reached the refused client');
    const cellDir = path.join(daemonRunPath(), 'main', 'blog', 'wp', 'dev');
    const stored = snapshot(cellDir);
    for (const verb of ['start', 'restart']) {
      const r = await h.kuke([verb, 'dev', ...SCOPE, '--run-path', daemonRunPath()]);
      assert.is(r.code, 1, r.stderr);
      assert.match(r.stderr, 'KUKEON_E_NEEDS_DAEMON');
    }
    assert.equal(snapshot(cellDir), stored, 'the refused start and restart recorded nothing');
    assert.is((await shellTask()).status, 'RUNNING', 'and stopped nothing');

    const runPath = path.join(h.tmp, 'in-process');
    assert.is((await h.kuke(['create', 'realm', 'main', '--run-path', runPath])).code, 0);
    const before = snapshot(runPath);
    const run = onPty(['run', '-it', 'x', ...SCOPE, '--image', BUSYBOX_IMAGE_REF, '--rm', '--run-path', runPath, '--', 'sh'], env({}));
    assert.is(await run.exited, 1, run.output());
    assert.match(run.output(), 'KUKEON_E_NEEDS_DAEMON');
    assert.match(run.output(), 'spec.containers[0].attachable');
    assert.equal(snapshot(runPath), before, 'nothing was written');
    assert.equal(
      (await client.containers.list(NS)).filter((c) => c.id.includes('_x_')),
      [],
      'nothing was created in containerd',
    );
    const piped = await h.kuke(['attach', 'dev', ...SCOPE], {
      env: { KUKEON_NO_DAEMON: undefined, KUKEON_RUN_PATH: undefined, KUKEON_SOCKET: socket() },
    });
    assert.is(piped.code, 2, piped.stderr);
    assert.match(piped.stderr, 'the input device is not a TTY');
  });

  test('a new user in tmux: run -it, echo $((6*7)) shows 42, exit, and the terminal is sane afterwards', async () => {
    const server = `kukeon-attach-${crypto.randomBytes(4).toString('hex')}`;
    const tmux = (...args: string[]) => spawnSync('tmux', ['-L', server, '-f', '/dev/null', ...args], { encoding: 'utf8' });
    const pane = () => tmux('capture-pane', '-p', '-t', 'try').stdout;
    const vars = Object.entries(daemonEnv())
      .filter(([k]) => k.startsWith('KUKEON_') || k === 'PATH' || k === 'HOME')
      .map(([k, v]) => `${k}=${v}`);
    const made = tmux('new-session', '-d', '-s', 'try', '-x', '100', '-y', '30', 'env', ...vars, 'PS1=outer$ ', 'sh');
    assert.is(made.status, 0, made.stderr);
    try {
      await waitFor('the outer shell', () => pane().includes('outer$'));
      const cmd = [process.execPath, KUKE_BIN, 'run', '-it', 'x', ...SCOPE, '--image', BUSYBOX_IMAGE_REF, '--rm', '--', 'sh'].join(' ');
      tmux('send-keys', '-t', 'try', cmd, 'Enter');
      await waitFor('the container shell', () => /^\/ #/m.test(pane()), 60_000).catch((e) => {
        throw new Error(`${(e as Error).message}; the pane shows:\n${pane()}`);
      });
      tmux('send-keys', '-t', 'try', 'echo $((6*7))', 'Enter');
      await waitFor('42', () => /^42\s*$/m.test(pane()));
      tmux('send-keys', '-t', 'try', 'exit', 'Enter');
      await waitFor('the outer shell again', () => pane().trimEnd().endsWith('outer$'), 30_000);
      tmux('send-keys', '-t', 'try', 'clear; stty -a', 'Enter');
      await waitFor('stty -a', () => /\bicanon\b/.test(pane()) || /-icanon/.test(pane()));
      const stty = pane();
      assert.match(stty, /(^|\s)icanon\b/, stty);
      assert.match(stty, /(^|\s)echo\b/, stty);
      assert.not.match(stty, /-icanon|(^|\s)-echo\b/, stty);
      assert.is((await viaDaemon(['get', 'cell', 'x', ...SCOPE])).code, 1, '--rm removed the cell');
      const deleted = await viaDaemon(['delete', 'cell', 'dev', '--force', ...SCOPE]);
      assert.is(deleted.code, 0, deleted.stderr);
      assert.not.match(deleted.stderr, 'continued: --force', 'no backend error was passed over');
      const io = path.join(daemonRunPath(), 'run', 'containerd', 'io');
      assert.equal(fs.existsSync(io) ? fs.readdirSync(io, { recursive: true }) : [], [], 'no FIFOs are left once the cells are gone');
    } finally {
      tmux('kill-session', '-t', 'try');
    }
  });
});

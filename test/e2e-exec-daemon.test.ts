// `kuke exec` through kukeond on the private containerd: the session travels as a bidirectional gRPC stream
// (plugins/api-socket) and the daemon owns the exec'd process. The same cases as e2e-exec.test.ts (in-process):
// Docker's exit statuses, stdout and stderr apart, piped stdin and its end, a terminal from a pty with a resize;
// and what only the daemon path has: a client that goes away (SIGTERM, SIGKILL, with and without a terminal)
// leaves no process in the container because the daemon ends it, and a daemon that dies mid-session ends the
// client with KUKEON_E_DAEMON at once and leaves no process behind either.

import { spawn } from 'node:child_process';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { E2EHarness, KUKE_BIN } from './e2e/harness';
import type { RunResult } from './e2e/harness';
import { e2eSuite } from './e2e/requirements';
import { BUSYBOX_IMAGE_REF, buildBusyboxOciFile } from './helpers/busybox-oci';
import type { Daemon } from './helpers/daemon';
import { startDaemon } from './helpers/daemon';
import { PTY_DRIVER } from './helpers/pty-driver';
import { waitFor } from './helpers/wait-for';

const SCOPE = ['--realm', 'main', '--space', 'blog', '--stack', 'wp'];
/** Not root, so sh's prompt is the `$ ` the pty steps wait for. */
const MANIFEST = `apiVersion: v1beta1
kind: Cell
metadata: { name: box }
spec:
  realmId: main
  spaceId: blog
  stackId: wp
  containers:
    - { id: app, image: "${BUSYBOX_IMAGE_REF}", command: sh, args: ["-c", "sleep 100000"], user: "1000:1000" }
`;

e2eSuite('kuke exec through kukeond', (test) => {
  let h: E2EHarness;
  let daemon: Daemon | undefined;
  const socket = () => path.join(h.tmp, 'd', 'kukeond.sock');
  const start = async () => {
    daemon = await startDaemon({ socket: socket(), runPath: path.join(h.tmp, 'daemon-state'), config: h.configFile });
  };
  /** kuke's environment for the daemon path: its socket, no run path, no KUKEON_NO_DAEMON. */
  const daemonEnv = () => ({ KUKEON_NO_DAEMON: undefined, KUKEON_RUN_PATH: undefined, KUKEON_SOCKET: socket() });
  const kuke = (args: string[], input?: string): Promise<RunResult> => h.kuke(args, { input, timeoutMs: 60_000, env: daemonEnv() });
  const exec = (args: string[], input?: string) => kuke(['exec', 'box', ...SCOPE, ...args], input);
  /** A kuke process of its own (to kill), on the daemon path. */
  const spawnKuke = (args: string[]) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...h.env(), KUKEON_SOCKET: socket() };
    delete env.KUKEON_NO_DAEMON;
    delete env.KUKEON_RUN_PATH;
    return spawn(process.execPath, [KUKE_BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  };
  /** How many `sleep MARKER` processes run in the container (counted with an exec of its own). */
  const count = async (marker: string) =>
    (await exec(['--', 'sh', '-c', `ps -o args | grep -c '^sleep ${marker}$' || true`])).stdout.trim();

  test.before(async () => {
    h = await E2EHarness.start({ name: 'exec-daemon' });
    await start();
    assert.is((await kuke(['create', 'realm', 'main'])).code, 0);
    const load = await kuke(['image', 'load', await buildBusyboxOciFile(h.tmp), '--realm', 'main']);
    assert.is(load.code, 0, load.stderr);
    const r = await h.kuke(['apply', '-f', '-'], { input: MANIFEST, timeoutMs: 120_000, env: daemonEnv() });
    assert.is(r.code, 0, r.stderr);
  });

  test.after(async () => {
    await daemon?.kill();
    const diff = await h?.stop();
    assert.equal(diff, [], `the host changed: ${diff?.join('; ')}`);
  });

  test('exit statuses: the process own, 126 cannot run, 127 not found, 137 killed', async () => {
    assert.is((await exec(['--', 'true'])).code, 0);
    assert.is((await exec(['--', 'sh', '-c', 'exit 3'])).code, 3);
    const notExec = await exec(['--', '/etc/passwd']);
    assert.is(notExec.code, 126, notExec.stderr);
    assert.match(notExec.stderr, /permission denied/i);
    const missing = await exec(['--', 'no-such-program']);
    assert.is(missing.code, 127, missing.stderr);
    assert.match(missing.stderr, /no-such-program/);
    assert.is((await exec(['--', 'sh', '-c', 'kill -9 $$'])).code, 137);
  });

  test('stdout and stderr stay apart, in order, without a terminal', async () => {
    const r = await exec(['--', 'sh', '-c', 'echo out; echo err >&2; echo out2']);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, 'out\nout2\n');
    assert.is(r.stderr, 'err\n');
  });

  test('-i pipes stdin (echo hi | kuke exec -i box -- cat), and its end reaches the process', async () => {
    const r = await exec(['-i', '--', 'cat'], 'hi\n');
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, 'hi\n');
    const counted = await exec(['-i', '--', 'wc', '-c'], 'x'.repeat(3_000_000));
    assert.is(counted.stdout.trim(), '3000000', counted.stderr);
    const none = await exec(['--', 'cat'], 'ignored\n');
    assert.is(none.code, 0);
    assert.is(none.stdout, '');
    // a stdin that never ends (a terminal nobody types in) does not keep kuke once the process is gone
    const open = spawnKuke(['exec', '-i', 'box', ...SCOPE, '--', 'sh', '-c', 'read line; echo got $line; exit 4']);
    let out = '';
    open.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((r) => open.once('exit', (code) => r(code)));
    open.stdin!.write('one\n'); // and the pipe stays open
    const timer = setTimeout(() => open.kill('SIGKILL'), 20_000);
    assert.is(await exited, 4, 'kuke exits with the process, its stdin still open');
    clearTimeout(timer);
    assert.is(out, 'got one\n');
    open.stdin!.destroy();
  });

  test('errors of the daemon path read as in-process: unknown cell, relative -w', async () => {
    const ghost = await kuke(['exec', 'ghost', ...SCOPE, '--', 'true']);
    assert.is(ghost.code, 1);
    assert.match(ghost.stderr, /not found/);
    const rel = await exec(['-w', 'tmp', '--', 'true']);
    assert.is(rel.code, 2);
    assert.match(rel.stderr, /workdir must be an absolute path/);
  });

  test('-it under a pty: the size and a resize reach stty size; exit status and the terminal come back', async () => {
    const steps = [
      { wait: '$ ', send: 'stty size\r' },
      // the resize and the keys take separate paths (SIGWINCH and the shim, the stdin pipe): ask until it is there
      { wait: '30 100', size: [40, 120], send: 'while [ "$(stty size)" = "30 100" ]; do sleep 0.1; done; stty size\r' },
      { wait: '40 120', send: 'echo $((6*7))\r' },
      { wait: '42', send: 'exit 5\r' },
    ];
    const env: Record<string, string | undefined> = { ...h.env(), ...daemonEnv() };
    const r = await h.exec(
      'python3',
      ['-c', PTY_DRIVER, JSON.stringify(steps), process.execPath, KUKE_BIN, 'exec', '-it', 'box', ...SCOPE, '--', 'sh'],
      { timeoutMs: 60_000, env },
    );
    assert.is(r.code, 0, r.stderr);
    const { out, code } = JSON.parse(r.stdout) as { out: string; code: number };
    assert.match(out, '30 100');
    assert.match(out, '40 120');
    assert.match(out, '42');
    assert.is(code, 5, out);
  });

  test('a client that goes away (SIGTERM; SIGKILL, with and without a terminal) leaves no process: the daemon ends it', async () => {
    const termed = spawnKuke(['exec', 'box', ...SCOPE, '--', 'sleep', '4242']);
    await waitFor('the exec to run', async () => (await count('4242')) === '1', 20_000);
    termed.kill('SIGTERM');
    await new Promise((r) => termed.once('exit', r));
    await waitFor('the process to go after SIGTERM of kuke', async () => (await count('4242')) === '0', 10_000);

    const killed = spawnKuke(['exec', 'box', ...SCOPE, '--', 'sleep', '1000']);
    await waitFor('the exec to run', async () => (await count('1000')) === '1', 20_000);
    killed.kill('SIGKILL');
    await waitFor('the process to go after SIGKILL of kuke', async () => (await count('1000')) === '0', 10_000);

    const env: NodeJS.ProcessEnv = { ...process.env, ...h.env(), KUKEON_SOCKET: socket() };
    delete env.KUKEON_NO_DAEMON;
    delete env.KUKEON_RUN_PATH;
    const driver = spawn(
      'python3',
      [
        '-c',
        PTY_DRIVER, // after its steps it waits for kuke, which the test kills
        JSON.stringify([{ wait: '$ ', send: 'sleep 4343\r' }]),
        process.execPath,
        KUKE_BIN,
        'exec',
        '-it',
        'box',
        ...SCOPE,
        '--',
        'sh',
      ],
      { env, stdio: 'ignore' },
    );
    try {
      await waitFor('the terminal exec to run', async () => (await count('4343')) === '1', 20_000);
      const kukePid = Number((await h.exec('pgrep', ['-P', String(driver.pid), '-f', 'exec -it box'])).stdout.trim());
      assert.ok(kukePid > 0, 'found the kuke under the pty');
      process.kill(kukePid, 'SIGKILL');
      await waitFor('the terminal process to go after SIGKILL of kuke', async () => (await count('4343')) === '0', 10_000);
    } finally {
      driver.kill('SIGKILL');
    }
  });

  test('a daemon that dies mid-session: kuke exits 1 with KUKEON_E_DAEMON at once; the exec is gone after a restart', async () => {
    const child = spawnKuke(['exec', 'box', ...SCOPE, '--', 'sleep', '4545']);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await waitFor('the exec to run', async () => (await count('4545')) === '1', 20_000);
    const t0 = Date.now();
    await daemon!.kill();
    const code = await exited;
    const took = Date.now() - t0;
    assert.is(code, 1, stderr);
    assert.match(stderr, 'KUKEON_E_DAEMON');
    assert.ok(took < 3000, `kuke ended ${took} ms after the daemon died`);
    await start();
    await waitFor('no exec left from the dead daemon', async () => (await count('4545')) === '0', 15_000);
  });
});

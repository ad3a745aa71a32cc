// `kuke exec` on the private containerd: exit statuses as Docker's, stdout and stderr apart, stdin piped and
// closed, the container's user and environment with -u/-e/-w over them, a terminal from a pty the test makes (its
// size and a resize reach `stty size`, and the local terminal is sane afterwards), and a client that goes away
// leaves no process behind.

import { spawn } from 'node:child_process';
import * as assert from 'uvu/assert';
import { E2EHarness, KUKE_BIN } from './e2e/harness';
import type { RunResult } from './e2e/harness';
import { e2eSuite } from './e2e/requirements';
import { BUSYBOX_IMAGE_REF, buildBusyboxOciFile } from './helpers/busybox-oci';
import { PTY_DRIVER } from './helpers/pty-driver';
import { waitFor } from './helpers/wait-for';

const SCOPE = ['--realm', 'main', '--space', 'blog', '--stack', 'wp'];
const MANIFEST = `apiVersion: v1beta1
kind: Cell
metadata: { name: box }
spec:
  realmId: main
  spaceId: blog
  stackId: wp
  containers:
    - id: app
      image: "${BUSYBOX_IMAGE_REF}"
      command: sh
      args: ["-c", "sleep 100000"]
      env: ["FROM_SPEC=spec", "SHARED=spec"]
      workingDir: /tmp
      user: "1000:1000"
`;

e2eSuite('kuke exec on containerd', (test) => {
  let h: E2EHarness;
  const kuke = (args: string[], input?: string): Promise<RunResult> => h.kuke(args, { input, timeoutMs: 60_000 });
  const exec = (args: string[], input?: string) => kuke(['exec', 'box', ...SCOPE, ...args], input);

  test.before(async () => {
    h = await E2EHarness.start({ name: 'exec' });
    assert.is((await kuke(['create', 'realm', 'main'])).code, 0);
    const load = await kuke(['image', 'load', await buildBusyboxOciFile(h.tmp), '--realm', 'main']);
    assert.is(load.code, 0, load.stderr);
    const r = await h.kuke(['apply', '-f', '-'], { input: MANIFEST, timeoutMs: 120_000 });
    assert.is(r.code, 0, r.stderr);
  });

  test.after(async () => {
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

  test('stdout and stderr stay apart without a terminal', async () => {
    const r = await exec(['--', 'sh', '-c', 'echo out; echo err >&2']);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, 'out\n');
    assert.is(r.stderr, 'err\n');
  });

  test('-i pipes stdin, and its end reaches the process', async () => {
    const r = await exec(['-i', '--', 'cat'], 'hi\n');
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, 'hi\n');
    const counted = await exec(['-i', '--', 'wc', '-c'], 'x'.repeat(300_000));
    assert.is(counted.stdout.trim(), '300000');
    // without -i the process reads an empty stdin at once
    const none = await exec(['--', 'cat'], 'ignored\n');
    assert.is(none.code, 0);
    assert.is(none.stdout, '');
  });

  test('a reader that starts late still gets every byte written before the exit', async () => {
    const env = Object.entries(h.env())
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const line = `${env} ${process.execPath} ${KUKE_BIN} exec box ${SCOPE.join(' ')} -- head -c 4000000 /dev/zero | (sleep 5; wc -c)`;
    const r = await h.exec('sh', ['-c', line], { timeoutMs: 60_000 });
    assert.is(r.stdout.trim(), '4000000', r.stderr);
  });

  test("the container's user, environment and working directory, and -u, -e, -w over them", async () => {
    const r = await exec(['--', 'sh', '-c', 'echo $(id -u):$(id -g) $FROM_SPEC $SHARED $(pwd)']);
    assert.is(r.stdout, '1000:1000 spec spec /tmp\n', r.stderr);
    const o = await exec([
      '-u',
      '0',
      '-e',
      'SHARED=exec',
      '-e',
      'NEW=1',
      '-w',
      '/etc',
      '--',
      'sh',
      '-c',
      'echo $(id -u) $SHARED $NEW $(pwd)',
    ]);
    assert.is(o.stdout, '0 exec 1 /etc\n', o.stderr);
    const named = await exec(['-u', 'nobody', '--', 'id', '-un']);
    assert.is(named.stdout, 'nobody\n', named.stderr);
  });

  test('bad requests are refused by field: no command, a relative -w, -t without a terminal, a stopped cell', async () => {
    const none = await kuke(['exec', 'box', ...SCOPE]);
    assert.is.not(none.code, 0);
    const rel = await exec(['-w', 'tmp', '--', 'true']);
    assert.is(rel.code, 2);
    assert.match(rel.stderr, /workdir must be an absolute path/);
    const noTty = await exec(['-t', '--', 'true']);
    assert.is(noTty.code, 2);
    assert.match(noTty.stderr, /not a TTY/);
    const ghost = await kuke(['exec', 'ghost', ...SCOPE, '--', 'true']);
    assert.is(ghost.code, 1);
    assert.match(ghost.stderr, /not found/);
  });

  test('-it under a pty: the size and a resize reach stty size; the local terminal is given back', async () => {
    const steps = [
      { wait: '$ ', send: 'stty size\r' },
      // the resize and the keys take separate paths (SIGWINCH and the shim, the stdin pipe): ask until it is there
      { wait: '30 100', size: [40, 120], send: 'while [ "$(stty size)" = "30 100" ]; do sleep 0.1; done; stty size\r' },
      { wait: '40 120', send: 'echo $((6*7))\r' },
      { wait: '42', send: 'exit 5\r' },
    ];
    const r = await h.exec(
      'python3',
      ['-c', PTY_DRIVER, JSON.stringify(steps), process.execPath, KUKE_BIN, 'exec', '-it', 'box', ...SCOPE, '--', 'sh'],
      {
        timeoutMs: 60_000,
        env: h.env(),
      },
    );
    assert.is(r.code, 0, r.stderr);
    const { out, code } = JSON.parse(r.stdout) as { out: string; code: number };
    assert.match(out, '30 100');
    assert.match(out, '40 120');
    assert.match(out, '42');
    assert.is(code, 5, out);
  });

  test('a client that goes away (SIGTERM; SIGKILL, with and without a terminal) leaves no process in the container', async () => {
    const count = async (marker: string) =>
      (await exec(['--', 'sh', '-c', `ps -o args | grep -c '^sleep ${marker}$' || true`])).stdout.trim();
    const child = spawn(process.execPath, [KUKE_BIN, 'exec', 'box', ...SCOPE, '--', 'sleep', '4242'], {
      env: { ...process.env, ...h.env() },
      stdio: 'ignore',
    });
    await waitFor('the exec to run', async () => (await count('4242')) === '1', 20_000);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await waitFor('the process to go after SIGTERM of kuke', async () => (await count('4242')) === '0', 10_000);

    // SIGKILL: no handler runs in kuke; the exec's watcher sees its pipe end and hangs the process up
    const killed = spawn(process.execPath, [KUKE_BIN, 'exec', 'box', ...SCOPE, '--', 'sleep', '4141'], {
      env: { ...process.env, ...h.env() },
      stdio: 'ignore',
    });
    await waitFor('the exec to run', async () => (await count('4141')) === '1', 20_000);
    killed.kill('SIGKILL');
    await waitFor('the process to go after SIGKILL of kuke', async () => (await count('4141')) === '0', 10_000);

    // the same with a terminal
    const steps = [{ wait: '$ ', send: 'sleep 4343\r' }];
    const driver = spawn(
      'python3',
      [
        '-c',
        `${PTY_DRIVER.replace("until('\\x00never', 3)", 'time.sleep(60)')}`,
        JSON.stringify(steps),
        process.execPath,
        KUKE_BIN,
        'exec',
        '-it',
        'box',
        ...SCOPE,
        '--',
        'sh',
      ],
      {
        env: { ...process.env, ...h.env() },
        stdio: 'ignore',
      },
    );
    await waitFor('the terminal exec to run', async () => (await count('4343')) === '1', 20_000);
    const kukePid = Number((await h.exec('pgrep', ['-P', String(driver.pid), '-f', 'exec -it box'])).stdout.trim());
    assert.ok(kukePid > 0, 'found the kuke under the pty');
    process.kill(kukePid, 'SIGKILL');
    await waitFor('the terminal process to go after SIGKILL of kuke', async () => (await count('4343')) === '0', 10_000);
    driver.kill('SIGKILL');
  });
});

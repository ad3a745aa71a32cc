// Status that explains itself, on a private containerd through kukeond: a workload that exits with 3 and one that
// is SIGKILLed show as `Error (exit 3)` and `Killed (SIGKILL)` in `get containers`, as READY 0/2 in `get cells`,
// in the cell's containerStatuses, and as `exited with code 3` / `(SIGKILL)` events in `describe` (the daemon's
// history, from containerd's exit events).

import path from 'node:path';
import * as assert from 'uvu/assert';
import { E2EHarness } from './e2e/harness';
import type { RunResult } from './e2e/harness';
import { e2eSuite } from './e2e/requirements';
import { buildBusyboxOciFile } from './helpers/busybox-oci';
import type { Daemon } from './helpers/daemon';
import { startDaemon } from './helpers/daemon';
import { waitFor } from './helpers/wait-for';

const IMAGE = 'docker.io/kukeon/busybox:test';
const SCOPE = ['--realm', 'main', '--space', 'blog', '--stack', 'wp'];
const CELL = `apiVersion: v1beta1
kind: Cell
metadata: { name: short }
spec:
  realmId: main
  spaceId: blog
  stackId: wp
  containers:
    - { id: three, image: "${IMAGE}", command: sh, args: ["-c", "sleep 1; exit 3"] }
    - { id: killed, image: "${IMAGE}", command: sleep, args: ["600"] }
`;

e2eSuite('describe and get explain exits (kukeond on containerd)', (test) => {
  let h: E2EHarness;
  let daemon: Daemon | undefined;
  const socket = () => path.join(h.tmp, 'd', 'kukeond.sock');
  const viaDaemon = (args: string[], input?: string): Promise<RunResult> =>
    h.kuke(args, { input, timeoutMs: 120_000, env: { KUKEON_NO_DAEMON: undefined, KUKEON_RUN_PATH: undefined, KUKEON_SOCKET: socket() } });

  test.before(async () => {
    h = await E2EHarness.start({ name: 'describe' });
    daemon = await startDaemon({ socket: socket(), runPath: path.join(h.tmp, 'daemon-state'), config: h.configFile });
  });

  test.after(async () => {
    await daemon?.kill();
    const diff = await h?.stop();
    assert.equal(diff, [], `the host changed: ${diff?.join('; ')}`);
  });

  test('a workload that exits with 3 and one killed by SIGKILL: get columns, containerStatuses and describe events', async () => {
    const archive = await buildBusyboxOciFile(h.tmp);
    assert.is((await viaDaemon(['create', 'realm', 'main'])).code, 0);
    assert.is((await viaDaemon(['image', 'load', archive, '--realm', 'main'])).code, 0);
    const applied = await viaDaemon(['apply', '-f', '-'], CELL);
    assert.is(applied.code, 0, applied.stderr);
    // SIGKILL from outside: the workload is its namespace's init, which ignores a signal sent from inside it
    const listed = JSON.parse((await viaDaemon(['get', 'containers', '--cell', 'short', ...SCOPE, '-o', 'json'])).stdout);
    const pid = listed.items.find((c: { metadata: { name: string } }) => c.metadata.name === 'killed').status.pid as number;
    assert.ok(pid > 1, `the workload's pid: ${pid}`);
    process.kill(pid, 'SIGKILL');

    let described = '';
    await waitFor(
      'both exits in describe',
      async () => {
        described = (await viaDaemon(['describe', 'cell', 'short', ...SCOPE])).stdout;
        return described.includes('exited with code 3') && described.includes('(SIGKILL)');
      },
      20_000,
      250,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}; the last describe:\n${described}`);
    });
    const eventRows = described
      .slice(described.indexOf('\nEvents:\n'))
      .split('\n')
      .map((l) => l.trim().split(/\s{2,}/));
    const has = (reason: string, object: string, message: RegExp) =>
      assert.ok(
        eventRows.some((r) => r[2] === reason && r[3] === object && message.test(r[4] ?? '')),
        `describe shows ${reason} ${object} ${message}\n${described}`,
      );
    has('Created', 'cell', /^cell created$/);
    has('Started', 'cell', /^started$/);
    has('Started', 'container/three', /^started \(pid \d+\)$/);
    has('Exited', 'container/three', /^exited with code 3$/);
    has('Exited', 'container/killed', /^exited with code 137 \(SIGKILL\)$/);
    assert.ok(
      eventRows.some((r) => r[1] === 'Warning' && r[2] === 'Exited' && r[3] === 'container/three'),
      'a non-zero exit is a Warning',
    );
    assert.is(eventRows.filter((r) => r[2] === 'Exited' && r[3] === 'container/three').length, 1, 'one exit, one event');
    assert.match(described, /^ {4}Reason:\s+Error \(exit 3\)$/m);
    assert.match(described, /^ {4}Reason:\s+Killed \(SIGKILL\)$/m, 'the supervisor records a signal exit as Killed');

    const containers = await viaDaemon(['get', 'containers', '--cell', 'short', ...SCOPE]);
    const rows = containers.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s{2,}/));
    assert.equal(rows[0].slice(5, 8), ['STATE', 'REASON', 'RESTARTS']);
    assert.equal(
      rows.slice(1).map((r) => [r[0], r[5], r[6]]),
      [
        ['killed', 'Exited', 'Killed (SIGKILL)'],
        ['three', 'Exited', 'Error (exit 3)'],
      ],
    );
    const cells = await viaDaemon(['get', 'cells', ...SCOPE]);
    assert.match(cells.stdout, /^short\s+main\s+blog\s+wp\s+Exited\s+0\/2\s+0\s/m, cells.stdout);
    const doc = JSON.parse((await viaDaemon(['get', 'cell', 'short', ...SCOPE, '-o', 'json'])).stdout);
    const three = doc.status.containerStatuses.find((c: { name: string }) => c.name === 'three');
    assert.equal([three.state, three.exitCode, three.restartCount], ['Exited', 3, 0]);
    assert.ok(three.startTime && three.finishTime && three.finishTime >= three.startTime, JSON.stringify(three));

    assert.is((await viaDaemon(['purge', 'realm', 'main', '--cascade'])).code, 0);
  });
});

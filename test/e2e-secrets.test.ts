// Secrets on the private containerd, in-process and through kukeond: a mounted secret is readable at its mountPath
// (mode 0400, owned by the container's user, read-only), the env forms reach the process, the staged file goes at
// stop and comes back at start (and, through kukeond, after the tasks and the staged files vanished as in a reboot).
// Every CLI output (apply, --dry-run, get -o yaml|json, -v traces, errors), the daemon's log (DEBUG=kukeon:*), the
// history (describe) and every file under the run paths except each Secret's own file are grepped for the values:
// none may show one.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { unmountTmpfs } from '../src/host/secrets/staging-tmpfs';
import { E2EHarness } from './e2e/harness';
import { idle } from './e2e/idle';
import type { RunResult } from './e2e/harness';
import { e2eSuite } from './e2e/requirements';
import { BUSYBOX_IMAGE_REF, buildBusyboxOciFile } from './helpers/busybox-oci';
import type { Daemon } from './helpers/daemon';
import { startDaemon } from './helpers/daemon';
import { waitFor } from './helpers/wait-for';
import { auditRunPath } from './reliability/run-path-audit';

const tag = randomBytes(6).toString('hex');
const V_REF = `MARKERref${tag}`;
const V_FILE = `MARKERfile${tag}`;
const V_ENV = `MARKERenv${tag}`;
const V_STACK = `MARKERstack${tag}`;
const VALUES = [V_REF, V_FILE, V_ENV, V_STACK];
const SCOPE = ['--space', 'blog', '--stack', 'wp'];
const NOBODY = 65534;

function manifest(realm: string, userFile: string, restartPolicy = 'never'): string {
  return `apiVersion: v1beta1
kind: Secret
metadata: { name: db, realm: ${realm} }
spec: { data: ${V_REF} }
---
apiVersion: v1beta1
kind: Secret
metadata: { name: st, realm: ${realm}, space: blog, stack: wp }
spec: { data: ${V_STACK} }
---
apiVersion: v1beta1
kind: Cell
metadata: { name: app }
spec:
  realmId: ${realm}
  spaceId: blog
  stackId: wp
  containers:
    - id: web
      image: "${BUSYBOX_IMAGE_REF}"
      command: sh
      args: ["-c", "${idle(600)}"]
      restartPolicy: ${restartPolicy}
      secrets:
        - { name: db, secretRef: { name: db, realm: ${realm} }, mountPath: /run/secrets/db }
        - { name: cfg, fromFile: ${userFile}, mountPath: /etc/app/cfg }
        - { name: DB_TOKEN, secretRef: { name: st, realm: ${realm}, space: blog, stack: wp } }
        - { name: FROM_ENV, fromEnv: KUKE_TEST_SECRET }
`;
}

/** Every file under `dir`, except the Secrets' own files (`.../secrets/<name>.yaml`), holding any value. */
function filesWithValues(dir: string): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && !(path.basename(d) === 'secrets' && e.name.endsWith('.yaml'))) {
        const text = fs.readFileSync(p, 'latin1');
        if (VALUES.some((v) => text.includes(v))) hits.push(p);
      }
    }
  };
  walk(dir);
  return hits;
}

/** The command exited 0; else the failure says what it printed. */
function ok(r: RunResult, what: string): RunResult {
  assert.is(r.code, 0, `${what} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r;
}

const leaked = (texts: string[]) => texts.filter((t) => VALUES.some((v) => t.includes(v)));

e2eSuite('secrets on containerd: mounted and env, staged and unstaged, never shown', (test) => {
  let h: E2EHarness;
  let daemon: Daemon | undefined;
  const outputs: string[] = [];
  const daemonLogs: string[] = [];
  const sockDir = () => path.join(h.tmp, 'sock');
  const daemonDir = () => path.join(h.tmp, 'd');
  const daemonRunPath = () => path.join(h.tmp, 'daemon-state');
  const userFile = () => path.join(h.tmp, 'user', 'cfg.txt');
  const record = (r: RunResult) => {
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const inProcess = async (args: string[], input?: string) =>
    record(
      await h.kuke(args, {
        input,
        timeoutMs: 120_000,
        env: { KUKEON_SOCKET: path.join(sockDir(), 'kukeond.sock'), KUKE_TEST_SECRET: V_ENV },
      }),
    );
  const viaDaemon = async (args: string[], input?: string) =>
    record(
      await h.kuke(args, {
        input,
        timeoutMs: 120_000,
        env: { KUKEON_NO_DAEMON: undefined, KUKEON_RUN_PATH: undefined, KUKEON_SOCKET: path.join(daemonDir(), 'kukeond.sock') },
      }),
    );
  const startKukeond = async () => {
    daemon = await startDaemon({
      socket: path.join(daemonDir(), 'kukeond.sock'),
      runPath: daemonRunPath(),
      config: h.configFile,
      env: { DEBUG: 'kukeon:*', KUKE_TEST_SECRET: V_ENV },
    });
  };
  const stopKukeond = async (how: 'stop' | 'kill') => {
    if (!daemon) return;
    if (how === 'kill') await daemon.kill();
    else await daemon.stop();
    daemonLogs.push(daemon.stderr());
    daemon = undefined;
  };
  /** cat, stat and id inside the running container (ctr exec takes the container's process: its user and env). */
  const inContainer = async (realm: string, script: string) =>
    h.ctr([
      '-n',
      `kukeon-${realm}`,
      'tasks',
      'exec',
      '--exec-id',
      `t${randomBytes(3).toString('hex')}`,
      'blog_wp_app_web',
      'sh',
      '-c',
      script,
    ]);

  test.before(async () => {
    h = await E2EHarness.start({ name: 'secrets' });
    fs.mkdirSync(path.dirname(userFile()), { recursive: true });
    fs.writeFileSync(userFile(), V_FILE, { mode: 0o600 });
    // The workload runs as nobody, set by an add-on's ociSpec tap (as a `user` field or the image's would): the staged
    // file must belong to the process's final uid and gid, whoever set them.
    const plugin = path.join(h.tmp, 'as-nobody.js');
    fs.writeFileSync(
      plugin,
      `module.exports = { name: 'as-nobody', version: '0.1.0', apply(host) {
        host.hooks.ociSpec.tapPromise({ name: 'as-nobody', stage: 10 }, async (spec, ctx) =>
          ctx.container && ctx.container.metadata.name === 'web' ? { ...spec, process: { ...spec.process, user: { uid: ${NOBODY}, gid: ${NOBODY} } } } : spec);
      } };\n`,
    );
    h.writeConfig({ [plugin]: {} });
  });

  test.after(async () => {
    await stopKukeond('kill').catch(() => undefined);
    for (const dir of [path.join(sockDir(), 'secrets'), path.join(daemonDir(), 'secrets')]) {
      try {
        unmountTmpfs(dir);
      } catch (err) {
        console.error(`unmount ${dir}: ${(err as Error).message}`);
      }
    }
    const diff = await h?.stop();
    assert.equal(diff, [], `the host changed: ${diff?.join('; ')}`);
  });

  test('in-process: a mounted secret 0400 read-only at mountPath, env secrets in the process, unstaged at stop, restaged at start', async () => {
    const archive = await buildBusyboxOciFile(h.tmp);
    ok(await inProcess(['create', 'realm', 'main']), 'create realm main');
    ok(await inProcess(['image', 'load', archive, '--realm', 'main']), 'image load archive');
    const text = manifest('main', userFile());
    const dry = await inProcess(['apply', '-f', '-', '--dry-run'], text);
    ok(dry, 'apply --dry-run');
    assert.match(dry.stdout, /^secret\/main\/db create$/m);
    const applied = await inProcess(['apply', '-f', '-', '-v'], text);
    ok(applied, 'apply');
    assert.match(applied.stdout, /^secret\/main\/db created$/m);
    assert.match(applied.stdout, /^secret\/main\/blog\/wp\/st created$/m);
    assert.match(applied.stderr, /kukeon:hooks/, 'the -v traces are there to grep');
    assert.match((await inProcess(['apply', '-f', '-', '-o', 'json'], text)).stdout, /"action": "unchanged"/);

    // the Secret's own file: 0600 in a 0700 directory
    const own = path.join(h.runPath, 'main', 'secrets', 'db.yaml');
    assert.is(fs.statSync(own).mode & 0o777, 0o600);
    assert.is(fs.statSync(path.dirname(own)).mode & 0o777, 0o700);

    // staged: on a tmpfs beside the socket, 0400, owned by the container's user
    const staged = path.join(sockDir(), 'secrets', 'main', 'blog_wp_app_web');
    const st = fs.statSync(path.join(staged, 'db'));
    assert.equal([st.mode & 0o777, st.uid, st.gid], [0o400, NOBODY, NOBODY]);
    assert.is(fs.statfsSync(path.join(sockDir(), 'secrets')).type, 0x01021994, 'staged on a tmpfs');
    const seen = await inContainer(
      'main',
      'cat /run/secrets/db; echo; cat /etc/app/cfg; echo; stat -c "%a %u %g" /run/secrets/db; id -u; id -g; echo "$DB_TOKEN|$FROM_ENV"; (echo x > /run/secrets/db) 2>/dev/null && echo WRITABLE || echo READONLY',
    );
    assert.is(seen.code, 0, seen.stderr);
    assert.equal(seen.stdout.trim().split('\n'), [
      V_REF,
      V_FILE,
      `400 ${NOBODY} ${NOBODY}`,
      `${NOBODY}`,
      `${NOBODY}`,
      `${V_STACK}|${V_ENV}`,
      'READONLY',
    ]);
    // 0400: another (non-root) user of the container cannot read it
    const other = await h.ctr([
      '-n',
      'kukeon-main',
      'tasks',
      'exec',
      '--exec-id',
      'other',
      '--user',
      '1000',
      'blog_wp_app_web',
      'cat',
      '/run/secrets/db',
    ]);
    assert.is.not(other.code, 0, 'uid 1000 read the secret');
    assert.match(other.stdout + other.stderr, /Permission denied/);
    assert.not.ok(other.stdout.includes(V_REF));

    // containerd's stored spec: the variables are there (as the README warns), a mounted value is not
    const info = await h.ctr(['-n', 'kukeon-main', 'containers', 'info', 'blog_wp_app_web']);
    assert.ok(info.stdout.includes(`DB_TOKEN=${V_STACK}`), 'an env secret is in the stored spec');
    assert.not.ok(info.stdout.includes(V_REF) || info.stdout.includes(V_FILE), 'a mounted value is not');

    // what the CLI shows: no value anywhere, unless asked
    for (const args of [
      ['get', 'secrets', '--realm', 'main'],
      ['get', 'secrets', '--realm', 'main', '-o', 'yaml'],
      ['get', 'secrets', '--realm', 'main', '-o', 'json'],
      ['get', 'secrets', '--realm', 'main', '-o', 'wide'],
      ['get', 'secret', 'st', '--realm', 'main', ...SCOPE, '-o', 'yaml'],
      ['get', 'cell', 'app', '--realm', 'main', ...SCOPE, '-o', 'yaml'],
      ['get', 'cell', 'app', '--realm', 'main', ...SCOPE, '-o', 'json'],
      ['get', 'containers', '--cell', 'app', '--realm', 'main', ...SCOPE, '-o', 'json'],
      ['describe', 'cell', 'app', '--realm', 'main', ...SCOPE],
      ['refresh'],
    ])
      ok(await inProcess(args), args.join(' '));
    const listed = await inProcess(['get', 'secrets', '--realm', 'main']);
    assert.match(listed.stdout, /^db\s+main\s+data$/m);
    assert.match(listed.stdout, /^st\s+main\/blog\/wp\s+data$/m);
    // errors: a bad Secret (its value in the document), a cell naming a Secret that does not exist
    const bad = await inProcess(
      ['apply', '-f', '-'],
      `kind: Secret\nmetadata: { name: x, realm: main }\nspec: { data: ${V_REF}, fromFile: /nope }\n`,
    );
    assert.is(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, /spec must set exactly one of data and fromFile/);
    const missing = await inProcess(
      ['apply', '-f', '-', '-v'],
      text.replace(/name: db, secretRef: \{ name: db,/, 'name: db, secretRef: { name: nothere,').replace('name: app', 'name: app2'),
    );
    assert.is(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /secret "db" \(secrets\[0\]\) names secret\/main\/nothere, which does not exist/);
    ok(await inProcess(['delete', 'cell', 'app2', '--realm', 'main', ...SCOPE]), 'delete cell app2');
    const shown = await inProcess(['get', 'secret', 'db', '--realm', 'main', '-o', 'json', '--show-values']);
    assert.is(JSON.parse(shown.stdout).spec.data, V_REF, '--show-values shows it');
    outputs.pop();
    outputs.pop(); // that output shows the value on purpose

    // stop takes the staged file away; start stages it again
    ok(await inProcess(['stop', 'app', '--realm', 'main', ...SCOPE, '--timeout', '0']), 'stop app main');
    assert.not.ok(fs.existsSync(staged), 'unstaged at stop');
    ok(await inProcess(['start', 'app', '--realm', 'main', ...SCOPE]), 'start app main');
    assert.is(fs.readFileSync(path.join(staged, 'db'), 'utf8'), V_REF, 'restaged at start');
    const again = await inContainer('main', 'cat /run/secrets/db');
    assert.is(again.stdout, V_REF, `after the start: ${again.stderr}`);

    // a cell's own Secret, for a container whose user is a name the image's /etc/passwd resolves (nobody:root), beside
    // a Volume of the space: the staged file is the resolved uid's and gid's, and the run path holds both directories
    const named = `kind: Secret
metadata: { name: key, realm: main, space: blog, stack: wp, cell: named }
spec: { data: ${V_REF} }
---
kind: Volume
metadata: { name: cache, realm: main, space: blog }
---
kind: Cell
metadata: { name: named }
spec:
  realmId: main
  spaceId: blog
  stackId: wp
  containers:
    - id: reader
      image: "${BUSYBOX_IMAGE_REF}"
      command: sh
      args: ["-c", "${idle(600)}"]
      user: "nobody:root"
      volumes: [{ kind: volume, source: cache, target: /cache }]
      secrets: [{ name: key, secretRef: { name: key, realm: main, space: blog, stack: wp, cell: named }, mountPath: /run/secrets/key }]
`;
    const namedApplied = ok(await inProcess(['apply', '-f', '-'], named), 'apply the named-user cell');
    assert.match(namedApplied.stdout, /^secret\/main\/blog\/wp\/named\/key created$/m);
    assert.match(namedApplied.stdout, /^volume\/main\/blog\/cache created$/m);
    const namedStaged = path.join(sockDir(), 'secrets', 'main', 'blog_wp_named_reader', 'key');
    const nst = fs.statSync(namedStaged);
    assert.equal([nst.mode & 0o777, nst.uid, nst.gid], [0o400, NOBODY, 0], "the staged file is the resolved user's");
    const read = await h.ctr([
      '-n',
      'kukeon-main',
      'tasks',
      'exec',
      '--exec-id',
      'named',
      'blog_wp_named_reader',
      'sh',
      '-c',
      'id -u; id -g; cat /run/secrets/key',
    ]);
    assert.equal(read.stdout.trim().split('\n'), [`${NOBODY}`, '0', V_REF], read.stderr);
    assert.is(fs.statSync(path.join(h.runPath, 'main', 'blog', 'wp', 'named', 'secrets', 'key.yaml')).mode & 0o777, 0o600);
    assert.ok(fs.existsSync(path.join(h.runPath, 'main', 'blog', 'volumes', 'cache.yaml')));
    const namedListed = await inProcess(['get', 'secrets', '--realm', 'main', ...SCOPE, '--cell', 'named']);
    assert.match(namedListed.stdout, /^key\s+main\/blog\/wp\/named\s+data$/m);

    assert.equal(leaked(outputs), [], 'a CLI output shows a value');
    assert.equal(filesWithValues(h.runPath), [], 'a file under the run path holds a value');
    assert.equal(auditRunPath(h.runPath), [], 'the run path is whole (the Secrets 0600 in 0700, each one parses)');

    ok(await inProcess(['delete', 'cell', 'app', '--realm', 'main', ...SCOPE]), 'delete cell app');
    const namedDeleted = ok(await inProcess(['delete', 'cell', 'named', '--realm', 'main', ...SCOPE]), 'delete cell named');
    assert.match(namedDeleted.stdout, /^secret\/main\/blog\/wp\/named\/key deleted$/m, "the cell's delete names its Secret");
    assert.not.ok(fs.existsSync(path.dirname(namedStaged)), 'unstaged at the cell delete');
    assert.not.ok(fs.existsSync(staged), 'unstaged at delete');
    const deleted = await inProcess(['delete', 'secret', 'db', '--realm', 'main']);
    assert.is(deleted.stdout, 'secret/main/db deleted\n');
    assert.not.ok(fs.existsSync(own));
    const purged = await inProcess(['delete', 'realm', 'main', '--cascade']);
    ok(purged, 'delete realm --cascade');
    assert.match(purged.stdout, /^secret\/main\/blog\/wp\/st deleted$/m, 'the cascade names the secrets it took');
    assert.not.ok(fs.existsSync(path.join(h.runPath, 'main')));
  });

  test('through kukeond: the same, restaged by the start-up pass after the tasks and staged files vanished; its log and history show no value', async () => {
    await startKukeond();
    const archive = await buildBusyboxOciFile(h.tmp);
    ok(await viaDaemon(['create', 'realm', 'dm']), 'create realm dm');
    ok(await viaDaemon(['image', 'load', archive, '--realm', 'dm']), 'image load archive');
    const text = manifest('dm', userFile(), 'always');
    ok(await viaDaemon(['apply', '-f', '-', '--dry-run'], text), 'apply -f -');
    const applied = await viaDaemon(['apply', '-f', '-', '-v'], text);
    ok(applied, 'apply');
    const staged = path.join(daemonDir(), 'secrets', 'dm', 'blog_wp_app_web');
    assert.is(fs.readFileSync(path.join(staged, 'db'), 'utf8'), V_REF);
    // a workload that exits for good (no restart follows): kukeond's supervisor takes its staged file away
    const job = `kind: Cell
metadata: { name: job }
spec:
  realmId: dm
  spaceId: blog
  stackId: wp
  containers:
    - { id: once, image: "${BUSYBOX_IMAGE_REF}", command: sh, args: ["-c", "cat /run/secrets/db >/dev/null && sleep 2"], secrets: [{ name: db, secretRef: { name: db, realm: dm }, mountPath: /run/secrets/db }] }
`;
    ok(await viaDaemon(['apply', '-f', '-'], job), 'apply -f -');
    const jobStaged = path.join(daemonDir(), 'secrets', 'dm', 'blog_wp_job_once');
    await waitFor('the exited job unstaged', () => !fs.existsSync(jobStaged), 20_000, 200);
    const jobState = JSON.parse((await viaDaemon(['get', 'containers', '--cell', 'job', '--realm', 'dm', ...SCOPE, '-o', 'json'])).stdout);
    assert.equal(
      jobState.items.map((c: { status: { state: string; exitCode?: number } }) => [c.status.state, c.status.exitCode]),
      [['Exited', 0]],
      'it read its secret and exited 0',
    );
    const seen = await inContainer('dm', 'cat /run/secrets/db; echo; echo "$DB_TOKEN|$FROM_ENV"');
    assert.equal(seen.stdout.trim().split('\n'), [V_REF, `${V_STACK}|${V_ENV}`], 'fromEnv reads the environment of kukeond');
    for (const args of [
      ['get', 'secrets', '--realm', 'dm', '-o', 'yaml'],
      ['get', 'secrets', '--realm', 'dm', '-o', 'json'],
      ['get', 'cell', 'app', '--realm', 'dm', ...SCOPE, '-o', 'yaml'],
      ['describe', 'cell', 'app', '--realm', 'dm', ...SCOPE],
      ['describe', 'cell', 'app', '--realm', 'dm', ...SCOPE, '-o', 'json'],
    ])
      ok(await viaDaemon(args), args.join(' '));
    const bad = await viaDaemon(
      ['apply', '-f', '-'],
      `kind: Secret\nmetadata: { name: x, realm: dm, cell: c }\nspec: { data: ${V_REF} }\n`,
    );
    assert.is(bad.code, 1);
    assert.match(bad.stderr, /metadata\.cell needs metadata\.stack/);

    // as a reboot leaves it: kukeond gone, the tasks gone, /run's staged files gone
    await stopKukeond('kill');
    for (const id of ['blog_wp_app_web', 'blog_wp_app_root']) {
      const removed = await h.ctr(['-n', 'kukeon-dm', 'tasks', 'rm', '-f', id]);
      assert.is(removed.code, 0, removed.stderr);
    }
    fs.rmSync(path.join(daemonDir(), 'secrets', 'dm'), { recursive: true, force: true });
    await startKukeond();
    await waitFor('restaged by the start-up pass', () => fs.existsSync(path.join(staged, 'db')), 30_000, 200);
    await waitFor('the container runs again', async () => (await inContainer('dm', 'cat /run/secrets/db')).stdout === V_REF, 30_000, 250);
    assert.is(fs.statSync(path.join(staged, 'db')).mode & 0o777, 0o400);

    ok(await viaDaemon(['stop', 'app', '--realm', 'dm', ...SCOPE, '--timeout', '0']), 'stop app dm');
    assert.not.ok(fs.existsSync(staged), 'unstaged at stop');
    assert.is((await viaDaemon(['delete', 'secret', 'db', '--realm', 'dm'])).stdout, 'secret/dm/db deleted\n');
    assert.is((await viaDaemon(['delete', 'secret', 'db', '--realm', 'dm'])).code, 1, 'deleted once');
    const listed = await viaDaemon(['get', 'secrets', '--realm', 'dm']);
    assert.match(listed.stdout, /^st\s+dm\/blog\/wp\s+data$/m);
    assert.not.match(listed.stdout, /^db\s/m);
    ok(await viaDaemon(['purge', 'realm', 'dm', '--cascade']), 'purge realm dm');
    await stopKukeond('stop');

    assert.ok(daemonLogs.join('').includes('kukeon:'), 'the daemon logged its traces');
    assert.equal(leaked(outputs), [], 'a CLI output shows a value');
    assert.equal(leaked(daemonLogs), [], "kukeond's log shows a value");
    assert.equal(filesWithValues(daemonRunPath()), [], 'a file under the run path holds a value');
  });
});

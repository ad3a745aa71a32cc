// The Debian package as a distribution ships it: packaging/debian/build-deb.sh builds kukeon_<version>_all.deb,
// lintian finds no error in it, `dpkg -i` installs kuke, kukeond, the conffile, the systemd unit and bash
// completion, the installed kuke runs (version, plugins ls from the conffile, doctor), and `dpkg --purge` leaves
// the machine as it was. Needs root, dpkg, lintian, a nodejs that is itself a Debian package (the package depends
// on it) and the npm registry (the build fetches the runtime dependencies); a machine that already has kukeon
// installed is left alone. Anything missing is a skip with the reason, a failure under KUKEON_E2E=required.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { findBinary } from './e2e/requirements';
import { REPO_ROOT, childEnv } from './helpers/kuke';
import { tmpDir } from './helpers/tmp';

/** What the package installs; none of it may exist before, or after the purge. */
const INSTALLED = [
  '/usr/bin/kuke',
  '/usr/bin/kukeond',
  '/usr/lib/kukeon',
  '/etc/kukeon',
  '/usr/lib/systemd/system/kukeond.service',
  '/usr/share/bash-completion/completions/kuke',
  '/usr/share/doc/kukeon',
];
/** What running the installed kuke must not create (its state and socket defaults). */
const UNTOUCHED = ['/opt/kukeon', '/run/kukeon'];

function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, env: childEnv(env) });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

function missing(): string[] {
  const why: string[] = [];
  if (process.getuid?.() !== 0) why.push('needs root (dpkg -i)');
  for (const b of ['dpkg', 'dpkg-deb', 'lintian', 'npm']) if (!findBinary(b)) why.push(`missing ${b}`);
  if (why.length) return why;
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format field, not a template
  if (run('dpkg-query', ['-W', '-f=${Status}', 'nodejs']).stdout !== 'install ok installed')
    why.push('nodejs is not installed as a Debian package here (the package depends on nodejs (>= 20))');
  if (run('dpkg-query', ['-W', 'kukeon']).code === 0) why.push('a kukeon package is already installed on this machine');
  const present = [...INSTALLED, ...UNTOUCHED].filter((p) => fs.existsSync(p));
  if (present.length) why.push(`this machine already has ${present.join(', ')}`);
  return why;
}

const test = suite('Debian package');
const why = missing();
if (why.length) {
  if (process.env.KUKEON_E2E === 'required')
    test('requirements', () => {
      throw new Error(`Debian package: ${why.join('; ')}`);
    });
  else {
    console.log(`SKIP Debian package: ${why.join('; ')}`);
    test.skip('Debian package');
  }
} else {
  const out = tmpDir('kukeon-deb-');
  let deb = '';
  let installed = false;

  test.before(() => {
    const built = run(path.join(REPO_ROOT, 'packaging', 'debian', 'build-deb.sh'), [out]);
    assert.is(built.code, 0, built.stderr);
    deb = built.stdout.trim().split('\n').pop()!;
    assert.ok(fs.existsSync(deb), deb);
  });

  test('lintian finds no error', () => {
    const l = run('lintian', ['--no-tag-display-limit', deb]);
    const errors = l.stdout.split('\n').filter((line) => line.startsWith('E:'));
    assert.equal(errors, [], l.stdout);
    assert.ok([0, 1, 2].includes(l.code), `lintian ran: ${l.stderr}`);
  });

  test('dpkg -i installs kuke, kukeond, the conffile, the unit and completion, and kuke runs', () => {
    const i = run('dpkg', ['-i', deb]);
    installed = i.code === 0;
    assert.is(i.code, 0, `${i.stdout}${i.stderr}`);
    for (const p of INSTALLED) assert.ok(fs.existsSync(p), `${p} installed`);
    assert.match(fs.readFileSync('/var/lib/dpkg/info/kukeon.conffiles', 'utf8'), /^\/etc\/kukeon\/kukeon\.yaml$/m);
    assert.ok(fs.existsSync('/usr/lib/kukeon/schemas/v1beta1/cell.json'), 'the JSON Schemas');
    assert.match(fs.readFileSync('/usr/lib/systemd/system/kukeond.service', 'utf8'), /^ExecStart=\/usr\/bin\/kukeond$/m);
    // the installed kuke, found on PATH as a user finds it, with its state in a temp dir
    const env = { KUKEON_NO_DAEMON: '1', KUKEON_RUN_PATH: path.join(out, 'run') };
    const v = run('kuke', ['version', '--client'], env);
    assert.is(v.code, 0, v.stderr);
    assert.match(v.stdout, /^Client: v\d+\.\d+\.\d+$/m);
    const plugins = run('kuke', ['plugins', 'ls'], env);
    assert.is(plugins.code, 0, plugins.stderr);
    for (const p of ['store-yaml', 'containerd', 'cni', 'cgroupv2', 'api-socket'])
      assert.match(plugins.stdout, new RegExp(`^${p}\\s`, 'm'));
    const doctor = run('kuke', ['doctor'], env);
    assert.ok([0, 1].includes(doctor.code), `kuke doctor ran (exit ${doctor.code}): ${doctor.stderr}`);
    assert.match(doctor.stdout, /store-yaml/);
    const completion = run('bash', ['-c', 'source /usr/share/bash-completion/completions/kuke && complete -p kuke']);
    assert.match(completion.stdout, /_kuke_completion kuke/);
    for (const p of UNTOUCHED) assert.not.ok(fs.existsSync(p), `${p} was not created`);
  });

  test('dpkg --purge leaves the machine as it was', () => {
    const p = run('dpkg', ['--purge', 'kukeon']);
    installed = p.code !== 0;
    assert.is(p.code, 0, `${p.stdout}${p.stderr}`);
    assert.is.not(run('dpkg-query', ['-W', 'kukeon']).code, 0, 'dpkg knows no kukeon');
    assert.equal(
      [...INSTALLED, ...UNTOUCHED].filter((x) => fs.existsSync(x)),
      [],
      'nothing of the package is left',
    );
  });

  test.after(() => {
    if (installed) run('dpkg', ['--purge', 'kukeon']);
    fs.rmSync(out, { recursive: true, force: true });
  });
}

test.run();

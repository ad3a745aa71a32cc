// biome-ignore-all lint/suspicious/noExplicitAny: the guest prints JSON whose shape each assertion reads as it needs
// `kuke init` on a machine whose PID 1 is systemd, rebooted for real. This kind of machine has no systemd as PID 1,
// so a qemu guest (software emulation) boots Debian's cloud kernel with systemd 252 as PID 1 and a virtio disk that
// keeps its root across the reboot. Boot 1: init finds no containerd and runs the kukeon-managed one as
// kukeon-containerd.service; systemd restarts it after a SIGKILL while the cell keeps running; then `systemctl
// reboot`. Boot 2: systemd starts that containerd at boot, its restart monitor starts kukeond, kukeond runs the cell
// again; uninstall removes it all; `init --systemd` runs kukeond as kukeond.service, restarted after a SIGKILL.
// The scenario is test/vm/systemd-guest/scenario.sh. Runs only with KUKEON_VM=1, as the cgroup v2 guest does.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { findBinary } from './e2e/requirements';
import { buildBusyboxOciFile } from './helpers/busybox-oci';
import { bootGuest } from './vm/boot-guest';
import { GUEST_BINARIES } from './vm/guest-initramfs';
import { ensureGuestKernel, hasGuestKernel } from './vm/guest-kernel';
import { GuestReport } from './vm/guest-report';
import { SYSTEMD_GUEST_BINARIES, buildSystemdGuestInitramfs } from './vm/systemd-initramfs';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const CACHE_DIR = process.env.KUKEON_VM_CACHE ?? path.join(REPO_ROOT, '.ci', 'cache', 'vm');
/** One boot and its half of the scenario (the guest's own watchdog ends a hung one at 500 s). */
const BOOT_TIMEOUT_MS = 560_000;
const DISK_BYTES = 2 * 1024 ** 3;
/** KUKEON_VM_CONSOLE=1 prints the whole serial console, not only the scenario's lines. */
const CONSOLE = process.env.KUKEON_VM_CONSOLE === '1';

function missing(): string | undefined {
  if (process.arch !== 'x64') return `the guest is x86_64 (this is ${process.arch})`;
  const fetch = hasGuestKernel(CACHE_DIR) ? [] : ['apt-get', 'apt-cache', 'dpkg-deb'];
  const bins = ['qemu-system-x86_64', 'ldd', 'npm', 'mkfs.ext4', ...fetch, ...GUEST_BINARIES].filter((b) => !findBinary(b));
  for (const f of ['/bin/busybox', ...SYSTEMD_GUEST_BINARIES]) if (!fs.existsSync(f)) bins.push(f);
  return bins.length ? `missing ${bins.join(', ')} (.ci/run installs qemu-system-x86, systemd and the rest)` : undefined;
}

const s = suite('systemd guest');
const why = process.env.KUKEON_VM === '1' ? missing() : 'set KUKEON_VM=1 (as .ci/run does) to boot a qemu guest with systemd as PID 1';

/** The output lines of one scenario step (`KT-OUT NAME: ...`). */
const stepOutput = (r: GuestReport, name: string) =>
  r.console.lines.filter((l) => l.startsWith(`KT-OUT ${name}: `)).map((l) => l.slice(`KT-OUT ${name}: `.length));

function assertStep(r: GuestReport, name: string): string[] {
  const out = stepOutput(r, name);
  assert.is(/rc=(\d+)/.exec(r.get(`step ${name}`))?.[1], '0', `${name} failed:\n${out.join('\n')}`);
  return out;
}

if (process.env.KUKEON_VM !== '1') {
  console.log(`SKIP systemd guest: ${why}`);
  s.skip('systemd guest');
} else if (why) {
  s('guest requirements', () => {
    throw new Error(`KUKEON_VM=1 but the systemd guest cannot boot: ${why}`);
  });
} else {
  const boots: GuestReport[] = [];
  let setupError: Error | undefined;
  s.before.each(() => {
    if (setupError) throw setupError;
  });

  s.before(async () => {
    try {
      await bootTwice();
    } catch (err) {
      setupError = err as Error;
    }
  });

  async function bootTwice(): Promise<void> {
    const t0 = Date.now();
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    const kernel = ensureGuestKernel(CACHE_DIR);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kukeon-vm-systemd-'));
    try {
      const initrd = path.join(tmp, 'initramfs.cpio');
      const bytes = buildSystemdGuestInitramfs({ out: initrd, repoRoot: REPO_ROOT, kernel, imageArchive: await buildBusyboxOciFile(tmp) });
      const disk = path.join(tmp, 'disk.img');
      fs.closeSync(fs.openSync(disk, 'w'));
      fs.truncateSync(disk, DISK_BYTES);
      execFileSync('mkfs.ext4', ['-q', '-F', disk]);
      console.log(`[vm-systemd] kernel ${kernel.version}; initramfs ${(bytes / 1048576).toFixed(0)} MiB built in ${Date.now() - t0} ms`);
      for (const n of [1, 2]) {
        const out = await bootGuest({
          kernel: kernel.vmlinuz,
          initrd,
          disk,
          memoryMiB: 2048,
          cpus: 2,
          timeoutMs: BOOT_TIMEOUT_MS,
          onLine: (l) => (CONSOLE || /^KT[ -]/.test(l)) && console.log(`[vm-systemd ${n}] ${l}`),
        });
        console.log(`[vm-systemd] boot ${n} ran ${out.ms} ms (exit ${out.exitCode}${out.timedOut ? ', killed at the deadline' : ''})`);
        boots.push(new GuestReport(out));
        if (out.timedOut) break;
      }
      console.log(`[vm-systemd] whole test ${Date.now() - t0} ms`);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }

  s('both boots run their half of the scenario under systemd as PID 1, and nothing times out', () => {
    assert.is(boots.length, 2, `the first boot did not end:\n${boots[0]?.tail()}`);
    for (const [i, r] of boots.entries()) {
      assert.not.ok(r.console.timedOut, `boot ${i + 1} did not end in ${BOOT_TIMEOUT_MS} ms:\n${r.tail()}`);
      const waits = r.console.lines.filter((l) => l.startsWith('KT timeout') || l.startsWith('KT watchdog') || l.startsWith('KT fatal'));
      assert.equal(waits, [], `boot ${i + 1}: nothing the scenario waited for timed out:\n${r.tail()}`);
      assert.match(r.get('phase'), new RegExp(`^${i + 1} .* pid1 systemd `));
    }
    assert.ok(boots[0].values.has('rebooting'), 'boot 1 ended with systemctl reboot');
    assert.ok(boots[1].values.has('done'), 'boot 2 finished');
    const bootId = (r: GuestReport) => /boot_id (\S+)/.exec(r.get('phase'))?.[1];
    assert.is.not(bootId(boots[0]), bootId(boots[1]), 'a real reboot: a new boot id');
  });

  s('init runs the kukeon-managed containerd as kukeon-containerd.service', () => {
    const [r] = boots;
    assert.is(r.get('containerd.before'), 'none', 'nothing answered on the containerd socket before init');
    const out = assertStep(r, 'init').join('\n');
    assert.match(out, /containerd \/run\/containerd\/containerd\.sock: started \(kukeon-managed, systemd unit kukeon-containerd\.service/);
    assert.match(out, /kukeond v\S+ answers on \/run\/kukeon\/kukeond\.sock/);
    assert.is(r.get('unit.containerd'), 'active enabled');
  });

  s('systemd restarts the managed containerd after a SIGKILL; the cell and kukeond keep running', () => {
    const [r] = boots;
    assertStep(r, 'image-load');
    assertStep(r, 'apply');
    const f = r.fields('containerd.restarted');
    assert.ok(Number(f.new) > 0 && f.new !== f.old, `containerd pid ${f.old} -> ${f.new}`);
    assert.ok(Number(f.nrestarts) >= 1, `NRestarts ${f.nrestarts}`);
    console.log(`[vm-systemd] containerd SIGKILL to a new MainPID: ${(Number(f.end) - Number(f.start)).toFixed(1)} s (RestartSec=5)`);
    assert.match(r.get('web.pid.before'), /^\d+$/);
    assert.is(r.get('web.pid.after-containerd'), r.get('web.pid.before'), "the workload's shim kept it running");
    assert.is(r.get('kukeond.pid.after-containerd'), r.get('kukeond.pid.before'), 'the kukeond container kept running');
  });

  s('after the containerd restart kukeond still supervises: a killed workload runs again', () => {
    const [r] = boots;
    const c = r.json('web.after-kill');
    assert.is(c.status.state, 'Ready');
    assert.ok(c.status.restartCount >= 1, `restartCount ${c.status.restartCount}`);
    assert.is.not(String(c.status.pid), r.get('web.pid.before'));
  });

  s('after a real reboot systemd starts the managed containerd, which starts kukeond, which runs the cell again', () => {
    const [, r] = boots;
    assert.is(r.get('unit.containerd.at-boot'), 'active enabled');
    const c = r.json('web.after-reboot');
    assert.is(c.status.state, 'Ready');
    assert.ok(c.status.pid > 0, `pid ${c.status.pid}`);
    assertStep(r, 'status-after-reboot');
  });

  s('uninstall removes it all; init --systemd runs kukeond as kukeond.service, which systemd and kuke daemon restart', () => {
    const [, r] = boots;
    assertStep(r, 'uninstall');
    assert.equal(r.fields('after-uninstall'), { unit: 'absent', containerd: 'none', socket: 'absent', runpath: 'absent' });
    const out = assertStep(r, 'init-systemd').join('\n');
    assert.match(out, /kukeond\.service: started/);
    assert.is(r.get('unit.kukeond'), 'active enabled');
    assert.is(r.get('unit.containerd.systemd'), 'active enabled');
    const f = r.fields('kukeond.restarted');
    assert.ok(Number(f.new) > 0 && f.new !== f.old, `kukeond pid ${f.old} -> ${f.new}`);
    console.log(
      `[vm-systemd] kukeond.service SIGKILL to answering again: ${(Number(f.end) - Number(f.start)).toFixed(1)} s (RestartSec=1)`,
    );
    assert.match(assertStep(r, 'daemon-restart').join('\n'), /kukeond\.service restarted\nkukeond answers on \/run\/kukeon\/kukeond\.sock/);
    const d = r.fields('kukeond.daemon-restart');
    assert.ok(Number(d.new) > 0 && d.new !== d.old, `kuke daemon restart: kukeond pid ${d.old} -> ${d.new}`);
    const again = assertStep(r, 'init-systemd-again').join('\n');
    assert.match(again, /kukeond\.service: unchanged \(enabled and running\)/);
    assert.match(again, /kukeon was already initialized: nothing changed/);
  });
}

s.run();

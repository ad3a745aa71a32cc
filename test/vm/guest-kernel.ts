// The guest's kernel: Debian's cloud kernel, downloaded with `apt-get download` and only extracted (never
// installed), cached between runs. It has every cgroup v2 controller built in; overlayfs is a module, which the
// guest loads with insmod, as it does the virtio block driver of the systemd guest's disk.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface GuestKernel {
  version: string;
  vmlinuz: string;
  overlayKo: string;
  /** The virtio disk's modules in the order insmod loads them (each after the ones it depends on). */
  diskModules: string[];
}

/** virtio_blk and what it depends on (modinfo's `depends=`), dependencies first; ext4 is built in. */
const DISK_MODULES = [
  'drivers/virtio/virtio_ring.ko',
  'drivers/virtio/virtio.ko',
  'drivers/virtio/virtio_pci_modern_dev.ko',
  'drivers/virtio/virtio_pci_legacy_dev.ko',
  'drivers/virtio/virtio_pci.ko',
  'drivers/block/virtio_blk.ko',
];

const META_PACKAGE = 'linux-image-cloud-amd64';

/** The concrete kernel package the meta package depends on, e.g. `linux-image-6.1.0-56-cloud-amd64`. */
function kernelPackage(): string {
  const out = execFileSync('apt-cache', ['depends', '--no-recommends', '--no-suggests', META_PACKAGE], { encoding: 'utf8' });
  const m = /Depends:\s+(linux-image-\S+-cloud-amd64)/.exec(out);
  if (!m) throw new Error(`apt-cache depends ${META_PACKAGE} names no kernel package:\n${out}`);
  return m[1];
}

function findKernel(dir: string): GuestKernel | undefined {
  const boot = path.join(dir, 'boot');
  const vmlinuz = fs.existsSync(boot) ? fs.readdirSync(boot).find((f) => f.startsWith('vmlinuz-')) : undefined;
  if (!vmlinuz) return undefined;
  const version = vmlinuz.slice('vmlinuz-'.length);
  const modules = path.join(dir, 'lib/modules', version, 'kernel');
  const overlayKo = path.join(modules, 'fs/overlayfs/overlay.ko');
  const diskModules = DISK_MODULES.map((m) => path.join(modules, m));
  if (![overlayKo, ...diskModules].every((f) => fs.existsSync(f))) return undefined;
  return { version, vmlinuz: path.join(boot, vmlinuz), overlayKo, diskModules };
}

/** Whether `cacheDir` already holds the kernel (nothing to download). */
export function hasGuestKernel(cacheDir: string): boolean {
  return findKernel(path.join(cacheDir, 'kernel')) !== undefined;
}

/** The kernel in `cacheDir`, downloaded and extracted there first if it is not yet. */
export function ensureGuestKernel(cacheDir: string): GuestKernel {
  const dir = path.join(cacheDir, 'kernel');
  const cached = findKernel(dir);
  if (cached) return cached;
  const pkg = kernelPackage();
  const work = fs.mkdtempSync(path.join(cacheDir, 'download-'));
  try {
    // apt drops privileges to _apt for downloads; a directory it can write avoids its "unsandboxed" warning
    fs.chmodSync(work, 0o777);
    execFileSync('apt-get', ['download', '-qq', pkg], { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });
    const deb = fs.readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} wrote no .deb`);
    const extracted = path.join(work, 'x');
    execFileSync('dpkg-deb', ['-x', path.join(work, deb), extracted]);
    const found = findKernel(extracted);
    if (!found) throw new Error(`${pkg} has no boot/vmlinuz-* with the modules overlay, virtio_blk and its dependencies`);
    // keep only what the guest uses (the package's modules are ~100 MB)
    const staged = path.join(work, 'keep');
    for (const f of [found.vmlinuz, found.overlayKo, ...found.diskModules]) {
      const to = path.join(staged, path.relative(extracted, f));
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(f, to);
    }
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(staged, dir);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return findKernel(dir)!;
}

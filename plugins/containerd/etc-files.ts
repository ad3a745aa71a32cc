// The cell's generated /etc files (`<cell>/etc/`), bind-mounted into every container of the cell:
// hostname is the cell's name, hosts has localhost and the cell's IP once the network is attached,
// resolv.conf is the host's without loopback nameservers (unreachable from the cell's network namespace).

import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../../sdk';

export function hostsFile(cell: string, ip?: string): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
  if (ip) lines.push(`${ip}\t${cell}`);
  else lines.push(`127.0.1.1\t${cell}`);
  return `${lines.join('\n')}\n`;
}

export function resolvConf(hostResolv = '/etc/resolv.conf'): string {
  let text = '';
  try {
    text = fs.readFileSync(hostResolv, 'utf8');
  } catch {
    return '';
  }
  return text
    .split('\n')
    .filter((l) => !/^\s*nameserver\s+(127\.|::1\b)/.test(l))
    .join('\n');
}

/**
 * Writes the three files where they differ. An existing file is rewritten in place: containers bind-mount it,
 * and a rename would leave a running container looking at the old inode.
 */
export function writeEtcFiles(dir: string, cell: string, ip?: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const files: Record<string, string> = { hostname: `${cell}\n`, hosts: hostsFile(cell, ip), 'resolv.conf': resolvConf() };
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    let current: string | undefined;
    try {
      current = fs.readFileSync(file, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === content) continue;
    if (current !== undefined) {
      fs.writeFileSync(file, content);
      continue;
    }
    writeFileAtomicSync(file, content);
  }
}

// The IPv4 routes of the network namespace this process runs in (/proc/net/route is per namespace), so that a
// space never gets a subnet the host already routes somewhere. Default routes are left out: they cover everything.

import fs from 'node:fs';
import { Ipv4Cidr } from '../../sdk';

export interface HostRoute {
  iface: string;
  cidr: Ipv4Cidr;
}

/** /proc/net/route's destination and mask are little-endian hex. */
const hexAddress = (hex: string) => Buffer.from(hex.padStart(8, '0'), 'hex').readUInt32LE(0);

export function readIpv4Routes(file = '/proc/net/route'): HostRoute[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: HostRoute[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const mask = hexAddress(f[7]);
    const prefix = 32 - Math.log2(2 ** 32 - mask);
    if (!Number.isInteger(prefix) || prefix === 0) continue;
    out.push({ iface: f[0], cidr: Ipv4Cidr.of(hexAddress(f[1]), prefix) });
  }
  return out;
}

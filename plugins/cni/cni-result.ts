// Results of ADD, read per the specification's Success section: interfaces (the sandbox ones carry the netns
// path), ips (with an index into interfaces), routes and dns. Results of older versions (0.3.x/0.4.0, with an
// IP `version` field) are read as well. What kukeon keeps of a result: the address on the cell's interface.

import { KukeonError } from '../../sdk';

export interface CniInterface {
  name: string;
  mac?: string;
  sandbox?: string;
}

export interface CniIp {
  address: string;
  gateway?: string;
  interface?: number;
}

export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIp[];
  routes?: { dst: string; gw?: string }[];
  dns?: Record<string, unknown>;
}

/** What the cell's status shows of an attachment. */
export interface Attachment {
  /** Without prefix: `10.90.0.2`. */
  ip: string;
  /** With prefix: `10.90.0.2/24`. */
  address: string;
  gateway?: string;
  interface: string;
  mac?: string;
  /** The host side of the link (the bridge plugin's veth). */
  hostInterface?: string;
}

const bad = (why: string) => new KukeonError('KUKEON_E_CNI', `a CNI plugin returned an invalid result: ${why}`, { plugin: 'cni' });

/** Checks the shape of a result; throws KUKEON_E_CNI when it is not one. */
export function parseCniResult(raw: unknown): CniResult {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad('not a JSON object');
  const r = raw as Record<string, unknown>;
  if (typeof r.cniVersion !== 'string') throw bad('no cniVersion');
  if (
    r.interfaces !== undefined &&
    (!Array.isArray(r.interfaces) || r.interfaces.some((i) => !i || typeof (i as CniInterface).name !== 'string'))
  )
    throw bad('interfaces must be a list of {name}');
  if (r.ips !== undefined && (!Array.isArray(r.ips) || r.ips.some((i) => !i || typeof (i as CniIp).address !== 'string')))
    throw bad('ips must be a list of {address}');
  const ifaces = (r.interfaces as CniInterface[] | undefined) ?? [];
  for (const ip of (r.ips as CniIp[] | undefined) ?? []) {
    if (ip.interface !== undefined && (!Number.isInteger(ip.interface) || ip.interface < 0 || ip.interface >= ifaces.length))
      throw bad(`ip ${ip.address} names interface ${ip.interface}, which is not in interfaces`);
  }
  return r as unknown as CniResult;
}

/** The first IPv4 address on the sandbox interface `ifname` (or, failing that, the first IPv4 address at all). */
export function attachmentOf(result: CniResult, ifname: string): Attachment | undefined {
  const ifaces = result.interfaces ?? [];
  const v4 = (result.ips ?? []).filter((ip) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(ip.address));
  const onIface = v4.find((ip) => ip.interface !== undefined && ifaces[ip.interface]?.name === ifname && ifaces[ip.interface]?.sandbox);
  const ip = onIface ?? v4[0];
  if (!ip) return undefined;
  const iface = ip.interface !== undefined ? ifaces[ip.interface] : ifaces.find((i) => i.name === ifname && i.sandbox);
  const host = ifaces.find((i) => !i.sandbox && i.name.startsWith('veth'));
  return {
    ip: ip.address.split('/')[0],
    address: ip.address,
    gateway: ip.gateway,
    interface: iface?.name ?? ifname,
    mac: iface?.mac,
    hostInterface: host?.name,
  };
}

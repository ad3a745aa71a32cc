// `kuke doctor` for the network: the plugin binaries a space's conflist runs (and the spec version they speak),
// IPv4 forwarding, iptables (isolation and published ports need it) and the conflist directory.

import fs from 'node:fs';
import path from 'node:path';
import type { Diagnosis } from '../../sdk';
import { CNI_VERSION } from './conflist';
import type { CniConfig } from './config';
import type { CniRunner } from './cni-runner';
import type { HostCommand } from './host-command';

export const REQUIRED_PLUGINS = ['bridge', 'host-local', 'portmap'] as const;

export async function diagnose(
  config: CniConfig,
  runner: CniRunner,
  cmd: HostCommand,
  ipForwardFile = '/proc/sys/net/ipv4/ip_forward',
): Promise<Diagnosis[]> {
  const out: Diagnosis[] = [];
  const remedy = `install the CNI plugins (Debian: apt-get install containernetworking-plugins) or point plugins.cni.binDirs at them`;
  for (const type of REQUIRED_PLUGINS) {
    let bin: string;
    try {
      bin = runner.findBinary(type);
    } catch {
      out.push({
        check: `cni.plugin.${type}`,
        status: 'error',
        detail: `CNI plugin binary "${type}" not found in ${config.binDirs.join(', ')}`,
        remedy,
      });
      continue;
    }
    if (type !== 'bridge') {
      out.push({ check: `cni.plugin.${type}`, status: 'ok', detail: bin });
      continue;
    }
    try {
      const versions = await runner.versions(type);
      out.push(
        versions.includes(CNI_VERSION)
          ? { check: `cni.plugin.${type}`, status: 'ok', detail: `${bin} (CNI ${versions.join(', ')})` }
          : {
              check: `cni.plugin.${type}`,
              status: 'error',
              detail: `${bin} does not speak CNI ${CNI_VERSION} (only ${versions.join(', ') || 'nothing'})`,
              remedy: 'install CNI plugins 1.0 or newer',
            },
      );
    } catch (err) {
      out.push({ check: `cni.plugin.${type}`, status: 'error', detail: `${bin}: VERSION failed: ${(err as Error).message}`, remedy });
    }
  }
  let forward = '';
  try {
    forward = fs.readFileSync(ipForwardFile, 'utf8').trim();
  } catch (err) {
    forward = `unreadable (${(err as Error).message})`;
  }
  out.push(
    forward === '1'
      ? { check: 'cni.ip_forward', status: 'ok', detail: 'net.ipv4.ip_forward = 1' }
      : {
          check: 'cni.ip_forward',
          status: 'warn',
          detail: `net.ipv4.ip_forward = ${forward}: cells reach their own space but nothing routed through the host`,
          remedy: 'the bridge plugin turns it on at the first attach; or sysctl -w net.ipv4.ip_forward=1',
        },
  );
  const ipt = await cmd.run('iptables', ['-w', '-S', 'FORWARD']);
  if (ipt.code !== 0) {
    out.push({
      check: 'cni.iptables',
      status: 'error',
      detail: `iptables does not work here: ${ipt.stderr.trim() || `exit ${ipt.code}`}`,
      remedy: 'apt-get install iptables (isolation between spaces and published ports need it)',
    });
  } else {
    const drop = /^-P FORWARD DROP/m.test(ipt.stdout);
    out.push({
      check: 'cni.iptables',
      status: drop ? 'warn' : 'ok',
      detail: `${cmd.which('iptables')} works${drop ? '; the FORWARD policy is DROP: traffic between allowed spaces and to the outside needs ACCEPT rules of your own' : ''}`,
    });
    if (!cmd.which('iptables-restore'))
      out.push({
        check: 'cni.iptables-restore',
        status: 'error',
        detail: 'iptables-restore not found',
        remedy: 'apt-get install iptables',
      });
  }
  let dir = config.confDir;
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    out.push({
      check: 'cni.conf-dir',
      status: 'ok',
      detail: `${config.confDir} ${dir === config.confDir ? 'is writable' : `will be created (under ${dir})`}`,
    });
  } catch {
    out.push({
      check: 'cni.conf-dir',
      status: 'error',
      detail: `${config.confDir} is not writable`,
      remedy: 'run as root, or set plugins.cni.confDir',
    });
  }
  return out;
}

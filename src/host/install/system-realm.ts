// The documents `kuke init` applies: realm, space and stack `default`, and the system realm as the seed lays it
// out (kukeon-system/kukeon/kukeon/kukeond with container kukeond). kukeond is the cell's root container: its spec
// then names no other container's pid, so containerd's restart monitor can start it alone at any time.

import path from 'node:path';
import YAML from 'yaml';
import type { ContainerSpec, Ref } from '../../../sdk';
import type { KukeondMount } from './kukeond-mounts';
import { PACKAGE_ROOT } from './kukeond-mounts';
import type { InstallSettings } from './settings';

export const SYSTEM = { realm: 'kukeon-system', space: 'kukeon', stack: 'kukeon', cell: 'kukeond', container: 'kukeond' } as const;
export const KUKEOND_CELL: Ref = { kind: 'Cell', path: [SYSTEM.realm, SYSTEM.space, SYSTEM.stack, SYSTEM.cell] };

const yaml = (docs: object[]) => docs.map((d) => YAML.stringify(d)).join('---\n');

export function defaultRealmText(): string {
  return yaml([
    { apiVersion: 'v1beta1', kind: 'Realm', metadata: { name: 'default' } },
    { apiVersion: 'v1beta1', kind: 'Space', metadata: { name: 'default' }, spec: { realmId: 'default' } },
    { apiVersion: 'v1beta1', kind: 'Stack', metadata: { name: 'default' }, spec: { realmId: 'default', spaceId: 'default' } },
  ]);
}

/**
 * The settings init resolved from the environment, as kukeond's environment: a restarted kukeond must not fall
 * back to defaults for what only an environment variable said (the cgroup root of a test host, say).
 */
export function kukeondEnv(s: InstallSettings, env: NodeJS.ProcessEnv = process.env): string[] {
  return [
    `KUKEON_SOCKET_GROUP=${s.group}`,
    ...(s.cgroupRoot !== undefined ? [`KUKEON_CGROUP_ROOT=${s.cgroupRoot}`] : []),
    ...(s.pauseBinary !== undefined ? [`KUKEON_PAUSE_BINARY=${s.pauseBinary}`] : []),
    ...(env.CNI_PATH ? [`CNI_PATH=${env.CNI_PATH}`] : []),
  ];
}

/** kukeond's command line: the same paths init was given, so a restarted kukeond serves the same host. */
export function kukeondArgs(s: InstallSettings): string[] {
  return [
    path.join(PACKAGE_ROOT, 'bin', 'kukeond.js'),
    '--socket',
    s.socket,
    '--run-path',
    s.runPath,
    '--containerd-socket',
    s.containerdSocket,
    ...(s.configExists ? ['--config', s.configPath] : []),
  ];
}

export function kukeondContainer(s: InstallSettings, mounts: readonly KukeondMount[], nodeBinary = process.execPath): ContainerSpec {
  return {
    id: SYSTEM.container,
    root: true,
    command: nodeBinary,
    args: kukeondArgs(s),
    env: kukeondEnv(s),
    // CNI runs in the host's network namespace on /proc/<root pid>/ns/net of cells: host network and host PID
    hostNetwork: true,
    hostPID: true,
    // iptables, cgroupfs, namespaces of other containers: as upstream and Docker-in-Docker, privileged
    privileged: true,
    // the daemon cannot watch over itself: containerd's restart monitor brings it back (see cell-runtime)
    restartPolicy: 'always',
    volumes: mounts.map(({ kind, source, target, readOnly }) => ({ kind, source, target, readOnly })),
  };
}

/** The system realm; without the kukeond cell when systemd runs kukeond (`init --systemd`). */
export function systemRealmText(s: InstallSettings, mounts: readonly KukeondMount[] | undefined): string {
  const { realm, space, stack, cell } = SYSTEM;
  const docs: object[] = [
    { apiVersion: 'v1beta1', kind: 'Realm', metadata: { name: realm } },
    { apiVersion: 'v1beta1', kind: 'Space', metadata: { name: space }, spec: { realmId: realm } },
    { apiVersion: 'v1beta1', kind: 'Stack', metadata: { name: stack }, spec: { realmId: realm, spaceId: space } },
  ];
  if (mounts)
    docs.push({
      apiVersion: 'v1beta1',
      kind: 'Cell',
      metadata: { name: cell },
      spec: { realmId: realm, spaceId: space, stackId: stack, containers: [kukeondContainer(s, mounts)] },
    });
  return yaml(docs);
}

// A pod sandbox as a kukeon cell: realm `k8s` (configurable), a space per Kubernetes namespace, one stack for
// pods; the cell's root is the infra container (the sandbox image, catatonit as pause), which owns the pod's
// network, IPC and UTS namespaces. Host network and published ports are the root's, so the cni plugin sees them.
// The kubelet's pod cgroup is the cell's cgroupParent: the cell's cgroup, and its containers', are made under it.

import { KukeonError } from '../../sdk';
import type { CellDoc, ContainerPort, ContainerSpec } from '../../sdk';
import type { CriMessage } from './cri-records';

/** CRI's NamespaceMode. */
export const NS_MODE = { POD: 0, CONTAINER: 1, NODE: 2, TARGET: 3 } as const;

export const PAUSE_ID = 'pause';

export function namespaceMode(value: unknown): number {
  if (typeof value === 'number') return value;
  const named = NS_MODE[value as keyof typeof NS_MODE];
  return named ?? 0;
}

export function podNamespaces(config: CriMessage): { network: number; pid: number; ipc: number } {
  const opts = config.linux?.security_context?.namespace_options ?? {};
  return { network: namespaceMode(opts.network), pid: namespaceMode(opts.pid), ipc: namespaceMode(opts.ipc) };
}

function protocolOf(value: unknown): 'tcp' | 'udp' {
  return value === 1 || value === 'UDP' ? 'udp' : 'tcp';
}

export interface PodPlacement {
  realm: string;
  space: string;
  stack: string;
  cell: string;
}

/**
 * The kubelet's pod cgroup (`linux.cgroup_parent`) as the cell's `cgroupParent`. kukeon drives cgroupfs paths, so
 * a systemd slice name (a kubelet with `cgroupDriver: systemd`) is refused with what to change.
 */
function cgroupParentOf(config: CriMessage): string | undefined {
  const parent: string = config.linux?.cgroup_parent ?? '';
  if (!parent) return undefined;
  if (!parent.startsWith('/') && parent.endsWith('.slice')) {
    throw new KukeonError('KUKEON_E_INVALID', `cgroup_parent ${JSON.stringify(parent)} is a systemd slice; kukeon manages cgroupfs paths`, {
      field: 'linux.cgroup_parent',
      hint: "set the kubelet's cgroupDriver to cgroupfs",
    });
  }
  return parent;
}

export function podCell(where: PodPlacement, config: CriMessage, sandboxImage: string): CellDoc {
  const ns = podNamespaces(config);
  const cgroupParent = cgroupParentOf(config);
  const ports: ContainerPort[] = (config.port_mappings ?? [])
    .filter((p: CriMessage) => Number(p.container_port) > 0)
    .map((p: CriMessage) => ({
      containerPort: Number(p.container_port),
      ...(Number(p.host_port) > 0 ? { hostPort: Number(p.host_port) } : {}),
      protocol: protocolOf(p.protocol),
      ...(p.host_ip ? { hostIP: p.host_ip } : {}),
    }));
  const root: ContainerSpec = {
    id: PAUSE_ID,
    root: true,
    image: sandboxImage,
    ...(ns.network === NS_MODE.NODE ? { hostNetwork: true } : {}),
    ...(ns.pid === NS_MODE.NODE ? { hostPID: true } : {}),
    ...(ports.length && ns.network !== NS_MODE.NODE ? { ports } : {}),
    // the pause process needs nothing: no capability and no privilege escalation
    capabilities: { drop: ['ALL'] },
    securityOpts: ['no-new-privileges=true'],
  };
  return {
    apiVersion: 'v1beta1',
    kind: 'Cell',
    metadata: { name: where.cell },
    spec: {
      realmId: where.realm,
      spaceId: where.space,
      stackId: where.stack,
      rootContainerId: PAUSE_ID,
      containers: [root],
      ...(cgroupParent ? { cgroupParent } : {}),
    },
  };
}

// The part of a CRI request kukeon's documents do not hold, applied to the OCI spec of the pod's containers (an
// `ociSpec` tap after the runtime's and the cgroups plugin's): hostname, DNS, sysctls, host IPC, the container's
// PID namespace mode, masked and read-only paths, supplemental groups, mount propagation, oom_score_adj and
// annotations. It changes only the containers of cells that are CRI pods.

import fs from 'node:fs';
import path from 'node:path';
import type { OciNamespace, OciSpec, OciSpecContext } from '../../sdk';
import type { CriMessage, CriRecords, SandboxRecord } from './cri-records';
import { NS_MODE, namespaceMode, podNamespaces } from './pod-cell';

const PROPAGATION = { PROPAGATION_PRIVATE: 0, PROPAGATION_HOST_TO_CONTAINER: 1, PROPAGATION_BIDIRECTIONAL: 2 } as const;

function propagationOf(value: unknown): number {
  if (typeof value === 'number') return value;
  return PROPAGATION[value as keyof typeof PROPAGATION] ?? 0;
}

/** The pod's resolv.conf, written once per sandbox from its dns_config; undefined when the pod has none. */
function resolvConf(records: CriRecords, sandbox: SandboxRecord): string | undefined {
  const dns: CriMessage | undefined = sandbox.config.dns_config;
  if (!dns || !(dns.servers?.length || dns.searches?.length || dns.options?.length)) return undefined;
  const file = path.join(records.podDir(sandbox.id), 'resolv.conf');
  if (!fs.existsSync(file)) {
    const lines = [
      ...(dns.searches?.length ? [`search ${dns.searches.join(' ')}`] : []),
      ...(dns.servers ?? []).map((s: string) => `nameserver ${s}`),
      ...(dns.options?.length ? [`options ${dns.options.join(' ')}`] : []),
    ];
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o644 });
  }
  return file;
}

function bindAt(spec: OciSpec, destination: string, source: string, readonly = false): void {
  const mounts = (spec.mounts ?? []).filter((m) => m.destination !== destination);
  mounts.push({ destination, type: 'bind', source, options: ['rbind', 'rprivate', readonly ? 'ro' : 'rw'] });
  spec.mounts = mounts;
}

/** This process's own oom_score_adj: without CAP_SYS_RESOURCE runc may not go below it (containerd's restrict_oom_score_adj). */
function ownOomScoreAdj(): number {
  try {
    return Number(fs.readFileSync('/proc/self/oom_score_adj', 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

export function shapeCriSpec(records: CriRecords, spec: OciSpec, ctx: OciSpecContext): OciSpec {
  records.load();
  const sandbox = records.sandboxOfCell(ctx.cell.ref.path);
  if (!sandbox) return spec;
  const pod = podNamespaces(sandbox.config);
  const linux = (spec.linux ??= {});
  const podLinux: CriMessage = sandbox.config.linux ?? {};
  if (pod.ipc === NS_MODE.NODE) linux.namespaces = (linux.namespaces ?? []).filter((n) => n.type !== 'ipc');
  const dns = resolvConf(records, sandbox);
  if (dns) bindAt(spec, '/etc/resolv.conf', dns, true);
  if (ctx.role === 'root') {
    if (sandbox.config.hostname && pod.network !== NS_MODE.NODE) spec.hostname = sandbox.config.hostname;
    const sysctls: Record<string, string> = podLinux.sysctls ?? {};
    if (Object.keys(sysctls).length) linux.sysctl = { ...((linux.sysctl as Record<string, string>) ?? {}), ...sysctls };
    spec.annotations = { ...spec.annotations, ...(sandbox.config.annotations ?? {}), 'io.kubernetes.cri.sandbox-id': sandbox.id };
    return spec;
  }
  const record = ctx.container
    ? records.containerAt({ kind: 'Container', path: [...ctx.cell.ref.path, ctx.container.metadata.name] })
    : undefined;
  if (!record) return spec;
  const config = record.config;
  const sc: CriMessage = config.linux?.security_context ?? {};
  // CRI's default is a PID namespace per container; POD shares the sandbox's (its root's); NODE is the host's
  const pidMode = namespaceMode(sc.namespace_options?.pid);
  if (pod.pid !== NS_MODE.NODE && pidMode === NS_MODE.POD && ctx.rootPid) {
    const rest = (linux.namespaces ?? []).filter((n) => n.type !== 'pid');
    linux.namespaces = [{ type: 'pid', path: `/proc/${ctx.rootPid}/ns/pid` } as OciNamespace, ...rest];
  }
  if (!sc.privileged) {
    if (sc.masked_paths?.length) linux.maskedPaths = [...sc.masked_paths];
    if (sc.readonly_paths?.length) linux.readonlyPaths = [...sc.readonly_paths];
  }
  const groups: number[] = (sc.supplemental_groups ?? []).map(Number);
  if (groups.length && spec.process) {
    const have = spec.process.user.additionalGids ?? [];
    spec.process.user.additionalGids = [...new Set([...have, ...groups])];
  }
  for (const m of config.mounts ?? []) {
    const mode = propagationOf(m.propagation);
    if (mode === PROPAGATION.PROPAGATION_PRIVATE) continue;
    const flag = mode === PROPAGATION.PROPAGATION_BIDIRECTIONAL ? 'rshared' : 'rslave';
    const mount = spec.mounts?.find((x) => x.destination === m.container_path);
    if (mount) mount.options = [...(mount.options ?? []).filter((o) => !/^r?(private|shared|slave)$/.test(o)), flag];
    // the root's propagation must let it through: rslave for host-to-container, rshared both ways
    if (linux.rootfsPropagation !== 'rshared') linux.rootfsPropagation = flag;
  }
  const oom = config.linux?.resources?.oom_score_adj;
  if (spec.process && oom !== undefined && oom !== null && Number(oom) !== 0)
    spec.process.oomScoreAdj = Math.max(Number(oom), ownOomScoreAdj());
  spec.annotations = {
    ...spec.annotations,
    ...(config.annotations ?? {}),
    'io.kubernetes.cri.container-type': 'container',
    'io.kubernetes.cri.sandbox-id': sandbox.id,
  };
  return spec;
}

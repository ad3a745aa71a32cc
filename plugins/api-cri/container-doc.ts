// A CRI container as a kukeon Container document of its pod's cell. What kukeon's container spec says itself
// (image, command, env, user, capabilities, privilege, seccomp, no_new_privs, read-only root, host PID and network,
// bind mounts, limits) is said there; the rest of the CRI request is applied to the OCI spec (oci-shaping.ts).

import fs from 'node:fs';
import { KukeonError } from '../../sdk';
import type { ContainerDoc, ContainerSpec, VolumeMount } from '../../sdk';
import { criResources } from './cri-resources';
import type { CriMessage } from './cri-records';
import { NS_MODE, namespaceMode, podNamespaces } from './pod-cell';

const SECCOMP = { RuntimeDefault: 0, Unconfined: 1, Localhost: 2 } as const;

function seccompType(value: unknown): number {
  if (typeof value === 'number') return value;
  return SECCOMP[value as keyof typeof SECCOMP] ?? 0;
}

/** The container's seccomp as a kukeon security option; CRI's default (nothing set) is unconfined, as containerd's. */
function seccompOpt(sc: CriMessage): string | undefined {
  if (sc.privileged) return undefined;
  if (sc.seccomp) {
    const t = seccompType(sc.seccomp.profile_type);
    if (t === SECCOMP.RuntimeDefault) return undefined;
    if (t === SECCOMP.Unconfined) return 'seccomp=unconfined';
    return `seccomp=${sc.seccomp.localhost_ref}`;
  }
  const p: string = sc.seccomp_profile_path ?? '';
  if (p === '' || p === 'unconfined') return 'seccomp=unconfined';
  if (p === 'runtime/default' || p === 'docker/default') return undefined;
  if (p.startsWith('localhost/')) return `seccomp=${p.slice('localhost/'.length)}`;
  throw new KukeonError(
    'KUKEON_E_INVALID',
    `seccomp profile ${JSON.stringify(p)}: expected runtime/default, docker/default, unconfined or localhost/<path>`,
    {
      field: 'linux.security_context.seccomp_profile_path',
    },
  );
}

function userOf(sc: CriMessage): string | undefined {
  const uid = sc.run_as_user ? String(sc.run_as_user.value) : undefined;
  const gid = sc.run_as_group ? String(sc.run_as_group.value) : undefined;
  if (gid !== undefined && uid === undefined && !sc.run_as_username)
    throw new KukeonError('KUKEON_E_INVALID', 'run_as_group is set without run_as_user or run_as_username', {
      field: 'linux.security_context.run_as_group',
    });
  const user = uid ?? (sc.run_as_username || undefined);
  if (user === undefined) return undefined;
  return gid === undefined ? user : `${user}:${gid}`;
}

/** Bind mounts: the host path's symlinks resolved (as containerd does), made as a directory when missing. */
function volumesOf(mounts: CriMessage[] | undefined): VolumeMount[] {
  return (mounts ?? []).map((m) => {
    let source: string = m.host_path;
    try {
      source = fs.realpathSync(source);
    } catch {
      // missing: made by `ensure`
    }
    return { kind: 'bind' as const, source, target: m.container_path, ...(m.readonly ? { readOnly: true } : {}), ensure: true };
  });
}

export function criContainerDoc(
  cellPath: readonly string[],
  name: string,
  config: CriMessage,
  image: string,
  sandbox: CriMessage,
): ContainerDoc {
  const sc: CriMessage = config.linux?.security_context ?? {};
  const pod = podNamespaces(sandbox);
  const pidMode = namespaceMode(sc.namespace_options?.pid);
  const command: string[] = config.command ?? [];
  const args: string[] = config.args ?? [];
  const securityOpts = [`no-new-privileges=${sc.no_new_privs === true}`];
  const seccomp = seccompOpt(sc);
  if (seccomp) securityOpts.push(seccomp);
  const caps = sc.capabilities;
  const spec: ContainerSpec = {
    id: name,
    realmId: cellPath[0],
    spaceId: cellPath[1],
    stackId: cellPath[2],
    cellId: cellPath[3],
    image,
    ...(command.length ? { command: command[0], args: [...command.slice(1), ...args] } : args.length ? { args } : {}),
    ...(config.envs?.length ? { env: config.envs.map((e: CriMessage) => `${e.key}=${e.value ?? ''}`) } : {}),
    ...(config.working_dir ? { workingDir: config.working_dir } : {}),
    ...(pod.network === NS_MODE.NODE ? { hostNetwork: true } : {}),
    ...(pidMode === NS_MODE.NODE || pod.pid === NS_MODE.NODE ? { hostPID: true } : {}),
    ...(sc.privileged ? { privileged: true } : {}),
    ...(userOf(sc) ? { user: userOf(sc) } : {}),
    ...(caps && (caps.add_capabilities?.length || caps.drop_capabilities?.length)
      ? { capabilities: { add: caps.add_capabilities ?? [], drop: caps.drop_capabilities ?? [] } }
      : {}),
    securityOpts,
    ...(sc.readonly_rootfs ? { readOnlyRootFilesystem: true } : {}),
    ...(config.mounts?.length ? { volumes: volumesOf(config.mounts) } : {}),
    ...(criResources(config.linux?.resources) ? { resources: criResources(config.linux?.resources) } : {}),
    restartPolicy: 'never',
    // kukeond owns its stdio: the CRI log tells stdout from stderr, and Attach reaches the process
    attachable: true,
    ...(config.tty ? {} : { terminal: false, ...(config.stdin ? { stdin: true, ...(config.stdin_once ? { stdinOnce: true } : {}) } : {}) }),
  };
  return { apiVersion: 'v1beta1', kind: 'Container', metadata: { name }, spec };
}

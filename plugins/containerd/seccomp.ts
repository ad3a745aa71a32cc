// A container's seccomp filter from a profile in Docker's format (moby's profiles/seccomp, which kukeon ships as
// seccomp/default.json, Docker's default): the host architecture's entries and the rules whose `includes` /
// `excludes` (architectures, capabilities in the bounding set, minimum kernel) fit this container, as moby's
// setupSeccomp does. A plain OCI `linux.seccomp` document (architectures and syscalls) is read as is.

import fs from 'node:fs';
import os from 'node:os';
import { KukeonError } from '../../sdk';

interface Filter {
  arches?: string[];
  caps?: string[];
  minKernel?: string;
}

interface ProfileSyscall {
  name?: string;
  names?: string[];
  action: string;
  errnoRet?: number;
  args?: unknown[];
  includes?: Filter;
  excludes?: Filter;
  comment?: string;
}

export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] | null }[];
  flags?: string[];
  syscalls?: ProfileSyscall[];
}

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  syscalls?: { names: string[]; action: string; errnoRet?: number; args?: unknown[] }[];
}

/** Node's process.arch → the profile's architecture names (libseccomp's) and the SCMP_ARCH_ it stands for. */
const ARCHES: Record<string, { native: string; scmp: string }> = {
  x64: { native: 'amd64', scmp: 'SCMP_ARCH_X86_64' },
  ia32: { native: 'x86', scmp: 'SCMP_ARCH_X86' },
  arm64: { native: 'arm64', scmp: 'SCMP_ARCH_AARCH64' },
  arm: { native: 'arm', scmp: 'SCMP_ARCH_ARM' },
  ppc64: { native: 'ppc64le', scmp: 'SCMP_ARCH_PPC64LE' },
  s390x: { native: 's390x', scmp: 'SCMP_ARCH_S390X' },
  riscv64: { native: 'riscv64', scmp: 'SCMP_ARCH_RISCV64' },
  loong64: { native: 'loong64', scmp: 'SCMP_ARCH_LOONGARCH64' },
  mips64el: { native: 'mipsel64', scmp: 'SCMP_ARCH_MIPSEL64' },
};

/** True when the running kernel is at least `want` (`4.8`). */
export function kernelAtLeast(want: string, release = os.release()): boolean {
  const have = release.split(/[^0-9]+/).map(Number);
  const need = want.split('.').map(Number);
  for (let i = 0; i < need.length; i++) {
    const h = have[i] ?? 0;
    if (h !== need[i]) return h > need[i];
  }
  return true;
}

/** The filter for a container whose bounding set is `caps`, on this host (`arch`, `release` for tests). */
export function seccompFilter(profile: SeccompProfile, caps: readonly string[], arch = process.arch, release = os.release()): OciSeccomp {
  const host = ARCHES[arch];
  const out: OciSeccomp = { defaultAction: profile.defaultAction };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  if (profile.flags?.length) out.flags = profile.flags;
  if (profile.architectures?.length) out.architectures = profile.architectures;
  else if (host) {
    const entry = profile.archMap?.find((a) => a.architecture === host.scmp);
    if (entry) out.architectures = [entry.architecture, ...(entry.subArchitectures ?? [])];
  }
  const fits = (call: ProfileSyscall): boolean => {
    const ex = call.excludes;
    if (ex?.arches?.length && host && ex.arches.includes(host.native)) return false;
    if (ex?.caps?.some((c) => caps.includes(c))) return false;
    if (ex?.minKernel && kernelAtLeast(ex.minKernel, release)) return false;
    const inc = call.includes;
    if (inc?.arches?.length && !(host && inc.arches.includes(host.native))) return false;
    if (inc?.caps?.length && !inc.caps.every((c) => caps.includes(c))) return false;
    if (inc?.minKernel && !kernelAtLeast(inc.minKernel, release)) return false;
    return true;
  };
  out.syscalls = (profile.syscalls ?? []).filter(fits).map((call) => ({
    names: call.names ?? (call.name ? [call.name] : []),
    action: call.action,
    ...(call.errnoRet !== undefined ? { errnoRet: call.errnoRet } : {}),
    ...(call.args?.length ? { args: call.args } : {}),
  }));
  return out;
}

let builtIn: SeccompProfile | undefined;

/** kukeon's default profile: Docker's (moby/profiles seccomp v0.2.3), shipped beside this file. */
export function defaultSeccompProfile(): SeccompProfile {
  // typeof import: tsc then copies the JSON into dist beside this file
  builtIn ??= require('./seccomp/default.json') as typeof import('./seccomp/default.json') as SeccompProfile;
  return builtIn;
}

/** A profile file named by `securityOpts: ["seccomp=<path>"]`, read by the process that creates the container. */
export function readSeccompProfile(file: string, field: string): SeccompProfile {
  let profile: SeccompProfile;
  try {
    profile = JSON.parse(fs.readFileSync(file, 'utf8')) as SeccompProfile;
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read as JSON (${(err as Error).message})`;
    throw new KukeonError(
      'KUKEON_E_INVALID',
      `${field}: the seccomp profile ${file} ${why} (it is read where the containers are created)`,
      {
        field,
        plugin: 'containerd',
      },
    );
  }
  if (typeof profile?.defaultAction !== 'string' || (profile.syscalls !== undefined && !Array.isArray(profile.syscalls)))
    throw new KukeonError(
      'KUKEON_E_INVALID',
      `${field}: the seccomp profile ${file} has no defaultAction (or its syscalls are not a list)`,
      {
        field,
        plugin: 'containerd',
      },
    );
  return profile;
}

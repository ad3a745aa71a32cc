// Docker's `--security-opt` values a container's `securityOpts` accepts. Docker's spelling: `key=value`, the
// older `key:value`, and a bare `no-new-privileges` meaning true.

export interface SecurityOpts {
  /** `default` (kukeon's built-in profile, Docker's), `unconfined`, or the absolute path of a JSON profile. */
  seccomp: 'default' | 'unconfined' | { path: string };
  /** Undefined: kukeon's default (on, except for a privileged container). */
  noNewPrivileges?: boolean;
}

/** Parses the list; throws an Error naming the index and the option for one kukeon does not know. */
export function parseSecurityOpts(opts: readonly string[] | undefined): SecurityOpts {
  const out: SecurityOpts = { seccomp: 'default' };
  (opts ?? []).forEach((opt, i) => {
    const m = /^([a-z-]+)(?:[=:](.*))?$/s.exec(opt);
    const key = m?.[1];
    const value = m?.[2];
    if (key === 'no-new-privileges') {
      if (value === undefined || value === 'true') out.noNewPrivileges = true;
      else if (value === 'false') out.noNewPrivileges = false;
      else throw new SecurityOptError(i, `"${opt}": no-new-privileges takes true or false`);
      return;
    }
    if (key === 'seccomp') {
      if (value === 'unconfined') out.seccomp = 'unconfined';
      else if (value?.startsWith('/') && !value.split('/').includes('..') && !value.includes('\0')) out.seccomp = { path: value };
      else throw new SecurityOptError(i, `"${opt}": seccomp takes "unconfined" or the absolute path of a JSON profile`);
      return;
    }
    throw new SecurityOptError(
      i,
      `"${opt}" is not an option kukeon knows (seccomp=unconfined, seccomp=<profile.json>, no-new-privileges[=true|false])`,
    );
  });
  return out;
}

/** A refused option, with its index in the list (for the field path). */
export class SecurityOptError extends Error {
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(message);
    this.name = 'SecurityOptError';
  }
}

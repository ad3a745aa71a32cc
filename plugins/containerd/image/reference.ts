// Image references as Docker's CLI reads them, and the registry-protocol details that are pure functions:
// `WWW-Authenticate` challenges, the manifest `Accept` header, `--platform` strings and platform selection.
//
//   busybox                         → docker.io/library/busybox:latest
//   library/busybox, docker.io/busybox, index.docker.io/library/busybox → the same
//   localhost:5000/x, 127.0.0.1:5000/x:tag, registry.example/a/b@sha256:… → domain kept, tag `latest` unless a digest is given
//
// A first path component is a registry host when it holds a '.' or a ':' or is `localhost`; otherwise the
// image is on Docker Hub, whose API lives at registry-1.docker.io.

import { MEDIA_TYPES, platformMatches } from './import-oci-archive';
import type { ImportPlatform, OciDescriptor } from './import-oci-archive';

export const DOCKER_HUB_DOMAIN = 'docker.io';
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';

export interface ImageReference {
  /** The registry as named (`docker.io`, `localhost:5000`). */
  domain: string;
  /** The repository path inside it (`library/busybox`). */
  path: string;
  tag?: string;
  digest?: string;
  /** `domain/path`. */
  repository: string;
  /** The canonical name images are stored under: `domain/path:tag`, `domain/path@digest` or `domain/path:tag@digest`. */
  name: string;
  /** host[:port] the API is reached at (`registry-1.docker.io` for Docker Hub). */
  apiHost: string;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const DOMAIN =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$/;

export class InvalidReferenceError extends Error {
  constructor(ref: string, why: string) {
    super(`invalid image reference "${ref}": ${why}`);
    this.name = 'InvalidReference';
  }
}

/** Parses and normalises an image reference the way `docker pull` does. */
export function parseReference(input: string): ImageReference {
  const ref = input.trim();
  if (!ref) throw new InvalidReferenceError(input, 'empty');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new InvalidReferenceError(input, `bad digest "${digest}"`);
    if (digest.startsWith('sha256:') && !/^sha256:[a-f0-9]{64}$/.test(digest))
      throw new InvalidReferenceError(input, 'a sha256 digest has 64 lowercase hex digits');
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new InvalidReferenceError(input, `bad tag "${tag}"`);
  }
  let domain = DOCKER_HUB_DOMAIN;
  let path = rest;
  const first = rest.indexOf('/');
  if (first >= 0) {
    const head = rest.slice(0, first);
    if (head.includes('.') || head.includes(':') || head === 'localhost' || head.startsWith('[')) {
      domain = head;
      path = rest.slice(first + 1);
      if (!DOMAIN.test(domain)) throw new InvalidReferenceError(input, `bad registry "${domain}"`);
    }
  }
  if (domain === 'index.docker.io') domain = DOCKER_HUB_DOMAIN;
  if (domain === DOCKER_HUB_DOMAIN && !path.includes('/')) path = `library/${path}`;
  if (!path) throw new InvalidReferenceError(input, 'no repository');
  for (const c of path.split('/')) {
    if (!PATH_COMPONENT.test(c))
      throw new InvalidReferenceError(input, c.toLowerCase() !== c ? 'repository names must be lowercase' : `bad path component "${c}"`);
  }
  if (!tag && !digest) tag = 'latest';
  const repository = `${domain}/${path}`;
  if (repository.length > 255) throw new InvalidReferenceError(input, 'name longer than 255 characters');
  const name = `${repository}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
  return { domain, path, tag, digest, repository, name, apiHost: domain === DOCKER_HUB_DOMAIN ? DOCKER_HUB_API_HOST : domain };
}

/** The canonical name of a reference, or the input itself when it does not parse. */
export function normalizeName(ref: string): string {
  try {
    return parseReference(ref).name;
  } catch {
    return ref;
  }
}

/** Whether a registry host (`host[:port]`) is on this machine: plain HTTP is allowed there without --insecure. */
export function isLoopbackHost(hostPort: string): boolean {
  let host = hostPort;
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(hostPort);
  if (m) host = m[1];
  else if (hostPort.lastIndexOf(':') > 0 && hostPort.indexOf(':') === hostPort.lastIndexOf(':'))
    host = hostPort.slice(0, hostPort.indexOf(':'));
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/** Media types a manifest GET accepts, most specific first (the order containerd sends them). */
export const MANIFEST_MEDIA_TYPES = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.dockerManifest,
] as const;

/** The `Accept` header of a manifest request. */
export function manifestAcceptHeader(): string {
  return [...MANIFEST_MEDIA_TYPES, '*/*;q=0.8'].join(', ');
}

export interface AuthChallenge {
  /** Lowercased scheme: `bearer`, `basic`. */
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` header (RFC 7235): one or more challenges, each a scheme followed by
 * comma-separated `key=value` parameters whose values may be quoted strings with backslash escapes.
 */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  let i = 0;
  const s = header;
  const skipWs = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < s.length && /[!#$%&'*+.^_`|~0-9A-Za-z/-]/.test(s[i])) i++;
    return s.slice(start, i);
  };
  let current: AuthChallenge | undefined;
  while (i < s.length) {
    skipWs();
    if (s[i] === ',') {
      i++;
      continue;
    }
    const start = i;
    const word = token();
    if (!word) {
      i++; // junk: skip it
      continue;
    }
    skipWs();
    if (s[i] === '=' && current && s[i + 1] !== '=') {
      i++;
      skipWs();
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i++];
        }
        i++;
      } else {
        const vs = i;
        while (i < s.length && s[i] !== ',' && s[i] !== ' ') i++;
        value = s.slice(vs, i);
      }
      current.params[word.toLowerCase()] = value;
      continue;
    }
    if (s[i] === '=') {
      // token68 (e.g. `Negotiate abc==`) belongs to the challenge before it
      while (i < s.length && s[i] === '=') i++;
      if (current) current.params.token68 = s.slice(start, i);
      continue;
    }
    current = { scheme: word.toLowerCase(), params: {} };
    out.push(current);
  }
  return out;
}

/** Parses `os/arch[/variant]` (or `arch`, meaning linux). */
export function parsePlatform(spec: string): ImportPlatform {
  const parts = spec.trim().split('/');
  if (parts.length === 1 && parts[0]) return normalizePlatform({ os: 'linux', architecture: parts[0] });
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !p))
    throw new Error(`invalid platform "${spec}": want os/arch[/variant], e.g. linux/amd64 or linux/arm/v7`);
  if (parts[0] !== 'linux') throw new Error(`invalid platform "${spec}": only linux images run here`);
  return normalizePlatform({ os: 'linux', architecture: parts[1], variant: parts[2] });
}

function normalizePlatform(p: ImportPlatform): ImportPlatform {
  const arch =
    ({ x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', i386: '386' } as Record<string, string>)[p.architecture] ?? p.architecture;
  return p.variant ? { os: 'linux', architecture: arch, variant: p.variant } : { os: 'linux', architecture: arch };
}

export function formatPlatform(p: { os: string; architecture: string; variant?: string }): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/**
 * The manifest of an index for `want`: an exact variant match first, then any compatible one (a variant-less
 * entry, or a request without a variant); attestation manifests (`unknown/unknown`) never match.
 */
export function selectPlatform(manifests: readonly OciDescriptor[], want: ImportPlatform): OciDescriptor | undefined {
  const ok = manifests.filter((m) => platformMatches(want, m.platform));
  if (want.variant) return ok.find((m) => m.platform?.variant === want.variant) ?? ok.find((m) => !m.platform?.variant) ?? ok[0];
  // no variant asked: for arm, prefer the newest one the host is likely to run
  if (ok.length > 1 && want.architecture === 'arm') {
    const rank = (v?: string) => ['v7', 'v6', 'v5'].indexOf(v ?? 'v7');
    return [...ok].sort((a, b) => rank(a.platform?.variant) - rank(b.platform?.variant))[0];
  }
  return ok[0];
}

// Image names as the kubelet writes them, normalised as docker (and kukeon's runtime) store them: a name without
// a registry is Docker Hub's (`busybox` -> `docker.io/library/busybox:latest`), a name without tag or digest `:latest`.

export function normalizeImageName(name: string): string {
  const at = name.indexOf('@');
  const digest = at >= 0 ? name.slice(at) : '';
  let rest = at >= 0 ? name.slice(0, at) : name;
  const slash = rest.indexOf('/');
  const head = slash >= 0 ? rest.slice(0, slash) : '';
  const hasDomain = slash >= 0 && (head.includes('.') || head.includes(':') || head === 'localhost');
  if (!hasDomain) rest = `docker.io/${rest.includes('/') ? rest : `library/${rest}`}`;
  else if (head === 'index.docker.io') rest = `docker.io${rest.slice(head.length)}`;
  const lastSlash = rest.lastIndexOf('/');
  const tagged = rest.slice(lastSlash + 1).includes(':');
  if (!tagged && !digest) rest = `${rest}:latest`;
  return `${rest}${digest}`;
}

/** `docker.io/library/busybox:1.28` -> repository `docker.io/library/busybox`, tag `1.28`. */
export function splitName(name: string): { repository: string; tag?: string; digest?: string } {
  const at = name.indexOf('@');
  const digest = at >= 0 ? name.slice(at + 1) : undefined;
  const rest = at >= 0 ? name.slice(0, at) : name;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) return { repository: rest.slice(0, colon), tag: rest.slice(colon + 1), digest };
  return { repository: rest, digest };
}

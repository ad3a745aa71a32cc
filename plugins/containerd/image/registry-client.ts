// A client for the pull half of the OCI distribution API, on Node's fetch:
//   GET /v2/<name>/manifests/<tag|digest>  (Accept: OCI index/manifest, Docker manifest list/schema 2)
//   GET /v2/<name>/blobs/<digest>          (streamed, digest-verified, `Range` to resume)
// Authentication follows the registry's 401 challenge: `Bearer` → a token from the challenge's realm for
// `service` and `scope=repository:<name>:pull`, anonymously or with basic credentials; `Basic` → the credentials.
// Tokens are cached per scope for the client's lifetime. HTTPS, except for loopback registries or with `insecure`.

import crypto from 'node:crypto';
import { DOCKER_HUB_API_HOST, DOCKER_HUB_DOMAIN, isLoopbackHost, manifestAcceptHeader, parseWwwAuthenticate } from './reference';
import type { AuthChallenge, ImageReference } from './reference';

export interface RegistryCredential {
  username: string;
  password: string;
  /** `host[:port]`, optionally with a scheme or path (`https://index.docker.io/v1/`). */
  serverAddress: string;
}

export interface RegistryClientOptions {
  credentials?: readonly RegistryCredential[];
  /** Allow plain HTTP to any registry (else only loopback ones). */
  insecure?: boolean;
  /** Registry host -> base URL (`http://127.0.0.1:5000`) its repositories are read from; names keep the host. */
  mirrors?: Readonly<Record<string, string>>;
  userAgent?: string;
  fetch?: typeof fetch;
}

/** A registry refused or failed: `status` is the HTTP status (0 for a network failure). */
export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** The host a credential is for, as the registry's API host (`docker.io` forms all mean Docker Hub). */
export function credentialHost(serverAddress: string): string {
  let h = serverAddress.trim().replace(/^[a-z]+:\/\//i, '');
  h = h.replace(/\/.*$/, '');
  if (h === DOCKER_HUB_DOMAIN || h === 'index.docker.io' || h === DOCKER_HUB_API_HOST) return DOCKER_HUB_API_HOST;
  return h;
}

export function findCredential(creds: readonly RegistryCredential[] | undefined, apiHost: string): RegistryCredential | undefined {
  return creds?.find((c) => credentialHost(c.serverAddress) === apiHost);
}

const basic = (c: RegistryCredential) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;

/** A registry's error body (`{"errors":[{"code","message"}]}`) as one line. */
async function errorText(res: Response): Promise<{ text: string; code?: string }> {
  const body = await res.text().catch(() => '');
  try {
    const j = JSON.parse(body) as { errors?: { code?: string; message?: string; detail?: unknown }[]; error?: string; details?: string };
    if (j.errors?.length)
      return { text: j.errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; '), code: j.errors[0].code };
    if (j.error || j.details) return { text: String(j.details ?? j.error) };
  } catch {
    // not JSON
  }
  return { text: body.trim().slice(0, 200) || res.statusText };
}

export interface FetchedManifest {
  mediaType: string;
  digest: string;
  size: number;
  bytes: Buffer;
}

export class RegistryClient {
  private readonly fetchFn: typeof fetch;
  /** Authorization header per `apiHost scope`. */
  private readonly auth = new Map<string, string>();

  constructor(private readonly opts: RegistryClientOptions = {}) {
    this.fetchFn = opts.fetch ?? fetch;
  }

  baseUrl(ref: ImageReference): string {
    const mirror = this.opts.mirrors?.[ref.domain] ?? this.opts.mirrors?.[ref.apiHost];
    if (mirror) return `${mirror.replace(/\/+$/, '')}/v2/${ref.path}`;
    const plain = this.opts.insecure || isLoopbackHost(ref.apiHost);
    return `${plain ? 'http' : 'https'}://${ref.apiHost}/v2/${ref.path}`;
  }

  /** A request with the cached authorization; a 401 runs the challenge once and retries. */
  private async request(
    ref: ImageReference,
    url: string,
    init: { method?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const scope = `repository:${ref.path}:pull`;
    const key = `${ref.apiHost} ${scope}`;
    const send = async (): Promise<Response> => {
      const headers: Record<string, string> = { 'User-Agent': this.opts.userAgent ?? 'kukeon', ...init.headers };
      const a = this.auth.get(key);
      if (a) headers.Authorization = a;
      try {
        return await this.fetchFn(url, { method: init.method ?? 'GET', headers, signal: init.signal, redirect: 'follow' });
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw err;
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new RegistryError(
          `${ref.apiHost}: ${cause?.code ?? ''} ${cause?.message ?? (err as Error).message}`.replace(/\s+/g, ' ').trim(),
          0,
        );
      }
    };
    let res = await send();
    if (res.status !== 401) return res;
    const challenges = parseWwwAuthenticate(res.headers.get('www-authenticate') ?? '');
    await res.body?.cancel().catch(() => undefined);
    const had = this.auth.get(key);
    await this.authenticate(ref, scope, challenges, init.signal);
    if (this.auth.get(key) === had)
      throw new RegistryError(
        `${ref.apiHost}: authentication required (no credentials for ${ref.apiHost}; use kuke login or the realm's spec.registryCredentials)`,
        401,
        'UNAUTHORIZED',
      );
    res = await send();
    if (res.status === 401) {
      const { text, code } = await errorText(res);
      throw new RegistryError(`${ref.apiHost}: unauthorized: ${text}`, 401, code ?? 'UNAUTHORIZED');
    }
    return res;
  }

  private async authenticate(ref: ImageReference, scope: string, challenges: AuthChallenge[], signal?: AbortSignal): Promise<void> {
    const key = `${ref.apiHost} ${scope}`;
    const cred = findCredential(this.opts.credentials, ref.apiHost);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer) {
      const realm = bearer.params.realm;
      if (!realm) throw new RegistryError(`${ref.apiHost}: bearer challenge without a realm`, 401);
      const u = new URL(realm);
      if (u.protocol === 'http:' && !this.opts.insecure && !isLoopbackHost(u.host))
        throw new RegistryError(`${ref.apiHost}: token realm ${realm} is plain HTTP (use --insecure to allow it)`, 401);
      if (bearer.params.service) u.searchParams.set('service', bearer.params.service);
      // the scope the registry asked for, plus ours (a registry may ask for a broader one)
      const scopes = new Set([bearer.params.scope, scope].filter((s): s is string => !!s));
      for (const s of scopes) u.searchParams.append('scope', s);
      const headers: Record<string, string> = { 'User-Agent': this.opts.userAgent ?? 'kukeon' };
      if (cred) headers.Authorization = basic(cred);
      let res: Response;
      try {
        res = await this.fetchFn(u, { headers, signal });
      } catch (err) {
        throw new RegistryError(`token server ${u.host}: ${(err as { cause?: Error }).cause?.message ?? (err as Error).message}`, 0);
      }
      if (!res.ok) {
        const { text, code } = await errorText(res);
        throw new RegistryError(
          `${ref.apiHost}: token server ${u.host} refused ${cred ? `user ${cred.username}` : 'an anonymous token'} (HTTP ${res.status}): ${text}`,
          res.status === 401 || res.status === 403 ? 401 : res.status,
          code ?? 'UNAUTHORIZED',
        );
      }
      const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string };
      const token = body.token ?? body.access_token;
      if (!token) throw new RegistryError(`${ref.apiHost}: token server ${u.host} answered without a token`, 401);
      this.auth.set(key, `Bearer ${token}`);
      return;
    }
    if (challenges.some((c) => c.scheme === 'basic') && cred) {
      this.auth.set(key, basic(cred));
      return;
    }
  }

  private async check(ref: ImageReference, res: Response, what: string): Promise<Response> {
    if (res.ok) return res;
    const { text, code } = await errorText(res);
    if (res.status === 404) throw new RegistryError(`${ref.name}: ${what} not found: ${text}`, 404, code ?? 'NOT_FOUND');
    throw new RegistryError(`${ref.name}: ${what}: HTTP ${res.status}: ${text}`, res.status, code);
  }

  /** A manifest or index by tag or digest; with a digest (or `expectDigest`) its bytes are verified. */
  async manifest(
    ref: ImageReference,
    reference: string = ref.digest ?? ref.tag ?? 'latest',
    signal?: AbortSignal,
  ): Promise<FetchedManifest> {
    const res = await this.check(
      ref,
      await this.request(ref, `${this.baseUrl(ref)}/manifests/${reference}`, { headers: { Accept: manifestAcceptHeader() }, signal }),
      `manifest ${reference}`,
    );
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > 4 << 20) throw new RegistryError(`${ref.name}: manifest ${reference} is larger than 4 MiB`, 0);
    const computed = `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
    const expected = reference.includes(':') ? reference : undefined;
    if (expected && expected !== computed)
      throw new RegistryError(`${ref.name}: manifest ${reference} does not match its digest (got ${computed})`, 0, 'DIGEST_INVALID');
    const header = res.headers.get('docker-content-digest');
    if (!expected && header && header.startsWith('sha256:') && header !== computed)
      throw new RegistryError(
        `${ref.name}: manifest ${reference}: Docker-Content-Digest ${header} does not match the body (${computed})`,
        0,
        'DIGEST_INVALID',
      );
    let mediaType = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    try {
      const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown; schemaVersion?: number };
      if (doc.schemaVersion === 1)
        throw new RegistryError(`${ref.name}: Docker schema 1 manifests are not supported`, 0, 'MANIFEST_UNSUPPORTED');
      if (doc.mediaType) mediaType = doc.mediaType;
      else if (!mediaType || mediaType === 'application/json' || mediaType === 'text/plain')
        mediaType = doc.manifests ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json';
    } catch (err) {
      if (err instanceof RegistryError) throw err;
      throw new RegistryError(`${ref.name}: manifest ${reference} is not JSON`, 0, 'MANIFEST_INVALID');
    }
    return { mediaType, digest: computed, size: bytes.length, bytes };
  }

  /** A small blob (a config) in memory, verified. */
  async blobBytes(ref: ImageReference, digest: string, signal?: AbortSignal): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const c of this.blob(ref, digest, { signal })) parts.push(c);
    return Buffer.concat(parts);
  }

  /**
   * A blob's bytes as they arrive, from `offset` (with `Range`). With offset 0 the digest is verified at the end
   * (a resumed read can't be: containerd verifies the whole blob on commit). `onBytes` counts what arrives.
   */
  async *blob(
    ref: ImageReference,
    digest: string,
    o: { offset?: number; size?: number; signal?: AbortSignal; onBytes?: (n: number) => void } = {},
  ): AsyncGenerator<Buffer> {
    const offset = o.offset ?? 0;
    const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-` } : {};
    const res = await this.check(
      ref,
      await this.request(ref, `${this.baseUrl(ref)}/blobs/${digest}`, { headers, signal: o.signal }),
      `blob ${digest}`,
    );
    let skip = 0;
    if (offset > 0 && res.status !== 206) skip = offset; // the registry ignored Range: drop what we have
    const hash = offset === 0 && digest.startsWith('sha256:') ? crypto.createHash('sha256') : undefined;
    let got = 0;
    if (!res.body) throw new RegistryError(`${ref.name}: blob ${digest}: empty response`, 0);
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      let b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (skip > 0) {
        const n = Math.min(skip, b.length);
        skip -= n;
        b = b.subarray(n);
        if (!b.length) continue;
      }
      hash?.update(b);
      got += b.length;
      o.onBytes?.(b.length);
      yield b;
    }
    if (o.size !== undefined && offset + got !== o.size)
      throw new RegistryError(`${ref.name}: blob ${digest}: got ${offset + got} bytes, the manifest says ${o.size}`, 0, 'SIZE_INVALID');
    if (hash) {
      const computed = `sha256:${hash.digest('hex')}`;
      if (computed !== digest)
        throw new RegistryError(`${ref.name}: blob ${digest} does not match its digest (got ${computed})`, 0, 'DIGEST_INVALID');
    }
  }
}

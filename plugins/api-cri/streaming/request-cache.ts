// Single-use tokens for the URLs the CRI Exec, Attach and PortForward calls return, as the kubelet's streaming
// server keeps them: a random token per request, valid for a minute, consumed by the first connection that
// presents it; at most a thousand in flight.

import { randomBytes } from 'node:crypto';
import { KukeonError } from '../../../sdk';

export const REQUEST_TOKEN_TTL_MS = 60_000;
const MAX_IN_FLIGHT = 1000;

export class RequestCache<T> {
  private readonly entries = new Map<string, { value: T; expires: number }>();

  constructor(
    private readonly ttlMs = REQUEST_TOKEN_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Stores `value` and returns its token (URL-safe, 8 random bytes as the kubelet's). */
  insert(value: T): string {
    this.evictExpired();
    if (this.entries.size >= MAX_IN_FLIGHT) {
      throw new KukeonError('KUKEON_E_BUSY', 'maximum number of in-flight streaming requests exceeded');
    }
    let token: string;
    do token = randomBytes(8).toString('base64url');
    while (this.entries.has(token));
    this.entries.set(token, { value, expires: this.now() + this.ttlMs });
    return token;
  }

  /** The value for `token`, removed; undefined when the token is unknown, used or expired. */
  consume(token: string): T | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    this.entries.delete(token);
    return entry.expires > this.now() ? entry.value : undefined;
  }

  private evictExpired(): void {
    const now = this.now();
    for (const [token, entry] of this.entries) if (entry.expires <= now) this.entries.delete(token);
  }
}

// Intent locks on subtrees, inside one process (the daemon serves many clients at once): a cascade delete or
// purge holds its resource exclusively while it removes the subtree; an apply or create under it holds each
// ancestor shared for its whole run. So an apply racing a cascade delete either finishes before the delete starts
// or waits until the delete is done (and then fails: its parent is gone); it never vanishes half-made with its
// containers running. Shared holders never wait for each other, so siblings are still applied in parallel.
// Writers are preferred: once a delete waits, new applies under it queue behind it. Order: intent locks are taken
// before any resource lock, by both sides, so the two kinds cannot deadlock.

interface Entry {
  shared: number;
  exclusive: boolean;
  /** Waiters in arrival order: each is woken when it may try again. */
  queue: { exclusive: boolean; wake: () => void }[];
}

export class IntentLocks {
  private readonly entries = new Map<string, Entry>();

  private entry(key: string): Entry {
    let e = this.entries.get(key);
    if (!e) this.entries.set(key, (e = { shared: 0, exclusive: false, queue: [] }));
    return e;
  }

  /** Granted at once when nothing conflicts and no one waits; else queued, and granted by release() in order. */
  private async acquire(key: string, exclusive: boolean): Promise<void> {
    const e = this.entry(key);
    const free = exclusive ? !e.exclusive && e.shared === 0 : !e.exclusive;
    if (e.queue.length === 0 && free) {
      if (exclusive) e.exclusive = true;
      else e.shared += 1;
      return;
    }
    await new Promise<void>((wake) => e.queue.push({ exclusive, wake }));
  }

  /** Releases, then grants waiters in order: one exclusive once nothing is held, or every shared up to the next exclusive. */
  private release(key: string, exclusive: boolean): void {
    const e = this.entry(key);
    if (exclusive) e.exclusive = false;
    else e.shared -= 1;
    while (e.queue.length && !e.exclusive) {
      const head = e.queue[0];
      if (head.exclusive && e.shared > 0) break;
      e.queue.shift();
      if (head.exclusive) e.exclusive = true;
      else e.shared += 1;
      head.wake();
    }
    if (!e.exclusive && e.shared === 0 && e.queue.length === 0) this.entries.delete(key);
  }

  /** Runs `fn` holding `path`'s subtree exclusively (a cascade delete or purge of that resource). */
  async exclusive<T>(path: readonly string[], fn: () => Promise<T>): Promise<T> {
    const key = path.join('/');
    await this.acquire(key, true);
    try {
      return await fn();
    } finally {
      this.release(key, true);
    }
  }

  /** Runs `fn` holding every ancestor of `path` (and `path` itself) shared: an apply or create under them. */
  async shared<T>(path: readonly string[], fn: () => Promise<T>): Promise<T> {
    const keys = path.map((_, i) => path.slice(0, i + 1).join('/'));
    const taken: string[] = [];
    try {
      for (const k of keys) {
        await this.acquire(k, false);
        taken.push(k);
      }
      return await fn();
    } finally {
      for (const k of taken.reverse()) this.release(k, false);
    }
  }
}

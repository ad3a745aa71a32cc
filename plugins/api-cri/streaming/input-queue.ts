// What the client sends (stdin bytes, its end, resizes) queued for the runtime, which reads it as an async
// iterable at its own pace; past a high-water mark the producer is told to pause its stream.

export class InputQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiter: ((result: IteratorResult<T>) => void) | undefined;
  private ended = false;
  private readonly drainListeners = new Set<() => void>();

  constructor(private readonly highWaterMark = 64) {}

  /** Queues `item`; false when the queue is full and the producer should wait for `onDrain`. */
  push(item: T): boolean {
    if (this.ended) return true;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter({ value: item, done: false });
      return true;
    }
    this.items.push(item);
    return this.items.length < this.highWaterMark;
  }

  /** Calls `listener` each time a full queue has been read down to empty. */
  onDrain(listener: () => void): void {
    this.drainListeners.add(listener);
  }

  /** No more items: the iteration ends once the queued ones are read. */
  end(): void {
    this.ended = true;
    if (this.items.length === 0 && this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) {
          if (this.items.length === 0) for (const listener of this.drainListeners) listener();
          return Promise.resolve({ value: item, done: false });
        }
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waiter = resolve;
        });
      },
      return: () => {
        // The reader stopped: drop what is queued and let the producer go on.
        this.items.length = 0;
        this.ended = true;
        for (const listener of this.drainListeners) listener();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

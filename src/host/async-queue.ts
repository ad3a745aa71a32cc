// A push-based AsyncIterable: producers push values, end (optionally with a last value) or fail; one consumer
// iterates. Unbounded: its producers (pull progress, watch events) are rate-limited by what they observe.

export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly values: T[] = [];
  private wake: (() => void) | undefined;
  private done = false;
  private error: unknown;

  push(value: T): void {
    if (this.done) return;
    this.values.push(value);
    this.notify();
  }

  end(last?: T): void {
    if (this.done) return;
    if (last !== undefined) this.values.push(last);
    this.done = true;
    this.notify();
  }

  fail(err: unknown): void {
    if (this.done) return;
    this.error = err ?? new Error('stream failed');
    this.done = true;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.values.length) {
        yield this.values.shift() as T;
        continue;
      }
      if (this.done) {
        if (this.error) throw this.error;
        return;
      }
      await new Promise<void>((r) => {
        this.wake = r;
      });
    }
  }
}

/**
 * Batches items (log lines) and writes them together, at most `intervalMs` after the first one
 * arrived, so a chatty build or container costs one database write per batch. Writes happen in
 * order, one at a time; a failed write is dropped (logs are best effort, the outcome is not).
 */
export class BatchWriter<T> {
  private buffer: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();

  /**
   * @param write stores one batch (called with at least one item).
   * @param intervalMs longest an item waits before its batch is written, in milliseconds.
   */
  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly intervalMs = 200,
  ) {}

  /** Queues one item. */
  add(item: T): void {
    this.buffer.push(item);
    this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
  }

  /** Writes what is queued now; resolves when every earlier batch is written too. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const items = this.buffer;
    this.buffer = [];
    if (items.length > 0) this.chain = this.chain.then(() => this.write(items)).catch(() => undefined);
    await this.chain;
  }
}

/** Cuts `text` to `max` characters, marking the cut with `…`. */
export function truncateLine(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

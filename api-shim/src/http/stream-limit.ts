// How many server-sent event streams (exec, logs, /events) each API key holds open: a stream
// holds a connection, a watch handler and possibly a command for as long as the client wants,
// so a key may hold only so many at once.
export class StreamLimiter {
  private readonly open = new Map<string, number>();
  readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** 0 when the key may open one more (it is counted), else the seconds to wait before retrying. */
  acquire(keyId: string): number {
    const held = this.open.get(keyId) ?? 0;
    if (held >= this.limit) return 5;
    this.open.set(keyId, held + 1);
    return 0;
  }

  release(keyId: string): void {
    const held = (this.open.get(keyId) ?? 0) - 1;
    if (held > 0) this.open.set(keyId, held);
    else this.open.delete(keyId);
  }

  held(keyId: string): number {
    return this.open.get(keyId) ?? 0;
  }
}

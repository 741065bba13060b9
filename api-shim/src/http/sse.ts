// Server-sent events on a hijacked Fastify reply: each event is a name, an optional id (for
// Last-Event-ID) and JSON data. A comment line every 15 s keeps idle proxies from closing the
// stream; `signal` aborts when the client goes away, so producers stop at once.
import type { FastifyReply, FastifyRequest } from 'fastify';

export class EventStream {
  readonly signal: AbortSignal;
  private readonly reply: FastifyReply;
  private readonly abort = new AbortController();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(request: FastifyRequest, reply: FastifyReply, heartbeatMs = 15_000) {
    this.reply = reply;
    this.signal = this.abort.signal;
    reply.hijack();
    // A stream may stay quiet between events: the idle connection timeout does not apply to it
    // (the keep-alive below holds proxies open; the client's going away ends it).
    // (An injected request's stand-in socket has no timer to switch off.)
    request.raw.socket?.setTimeout?.(0);
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': String(request.id),
    });
    reply.raw.flushHeaders();
    reply.raw.on('close', () => this.abort.abort(new Error('client disconnected')));
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), heartbeatMs);
    this.heartbeat.unref();
  }

  get closed(): boolean {
    return this.signal.aborted || this.reply.raw.writableEnded;
  }

  send(event: string, data: unknown, id?: string): void {
    const lines = [`event: ${event}`];
    if (id !== undefined) lines.push(`id: ${id}`);
    lines.push(`data: ${JSON.stringify(data)}`);
    this.write(`${lines.join('\n')}\n\n`);
  }

  /** Tells the client how long to wait before reconnecting. */
  retry(ms: number): void {
    this.write(`retry: ${ms}\n\n`);
  }

  end(): void {
    clearInterval(this.heartbeat);
    if (!this.reply.raw.writableEnded) this.reply.raw.end();
  }

  private write(text: string): void {
    if (!this.closed) this.reply.raw.write(text);
  }
}

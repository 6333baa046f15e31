import type { Request, Response } from 'express';
import type { Logger } from '../logger';
import type { Metrics } from '../observability/metrics';
import type { LoggedEvent } from '../streaming/bus';
import type { FollowSink } from '../streaming/follow';

/** The event streams a server has open, so shutdown can end them (they would hold `server.close()` open). */
export class OpenStreams {
  private readonly open = new Set<{ shutdown(): void }>();

  /** `metrics`, when given, counts the streams opened and open. */
  constructor(private readonly metrics?: Metrics) {}

  add(stream: { shutdown(): void }, res: Response): void {
    this.open.add(stream);
    this.metrics?.eventStreams.inc();
    this.metrics?.eventStreamsOpen.inc();
    res.on('close', () => {
      this.open.delete(stream);
      this.metrics?.eventStreamsOpen.dec();
    });
  }

  endAll(): void {
    for (const stream of this.open) stream.shutdown();
    this.open.clear();
  }
}

const SHUTTING_DOWN = {
  error: {
    message:
      'The server is shutting down. The run goes on: follow it with GET /v1/threads/{thread_id}/runs/{run_id}/events and Last-Event-ID.',
    type: 'server_error',
    param: null,
    code: null,
  },
};

/**
 * Server-sent events as the official SDKs parse them: `id:` (the log's seq, for Last-Event-ID), `event:`,
 * one line of JSON `data:`, a blank line; `: ping` comments on idle streams; `event: done` / `data: [DONE]`
 * last. Everything the stream holds is released when the client goes away; the run is not touched.
 */
export function openEventStream(req: Request, res: Response, logger: Logger, streams: OpenStreams) {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('Connection', 'keep-alive');
  // Reverse proxies (nginx) must pass each event on at once instead of buffering the response.
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  res.socket?.setNoDelay(true);

  const closed = new AbortController();
  // 'close' on the response fires when the socket goes away before end() as well as after it.
  res.on('close', () => closed.abort());
  streams.add(
    {
      // Stops the follower first, so nothing is written after the end; the client learns why.
      shutdown() {
        closed.abort();
        if (res.writableEnded) return;
        res.end(`event: error\ndata: ${JSON.stringify(SHUTTING_DOWN)}\n\nevent: done\ndata: [DONE]\n\n`);
      },
    },
    res,
  );

  const write = (frame: string): Promise<void> => {
    if (closed.signal.aborted || res.writableEnded) return Promise.resolve();
    if (res.write(frame)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  };

  const sink: FollowSink = {
    event: (e: LoggedEvent) => write(`id: ${e.seq}\nevent: ${e.event}\ndata: ${e.data}\n\n`),
    unlogged: (event, data) => write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`),
    keepAlive: () => write(': ping\n\n'),
  };

  return {
    sink,
    signal: closed.signal,
    /** Ends the stream with the terminator the SDKs wait for. */
    async done(): Promise<void> {
      await write('event: done\ndata: [DONE]\n\n');
      if (!res.writableEnded) res.end();
    },

    /** The client left (or the server is stopping): release the response if it is still open. */
    end(): void {
      if (!res.writableEnded) res.end();
    },
    /**
     * A fault after the stream started cannot become an HTTP status any more: it is sent as an `error` event
     * in the `{"error": {...}}` form every SDK version raises on, then `done`.
     */
    async fail(error: unknown): Promise<void> {
      logger.error({ err: error, path: req.path }, 'event stream failed');
      await this.error('The event stream failed on the server.', 'server_error');
    },

    /** An `error` event (`{"error": {...}}`), then `done`: the stream cannot end with a final run event. */
    async error(message: string, type: 'server_error' | 'invalid_request_error'): Promise<void> {
      const body = { error: { message, type, param: null, code: null } };
      await write(`event: error\ndata: ${JSON.stringify(body)}\n\n`);
      await this.done();
    },
  };
}

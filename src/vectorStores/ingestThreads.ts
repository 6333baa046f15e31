import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { TS_THREAD_BOOTSTRAP } from '../model/tokenPool';
import type { Chunk, ChunkingStrategy } from './chunking';
import { IngestError, type IngestErrorCode } from './extract/errors';
import type { ThreadJob, ThreadRequest, ThreadResponse, ThreadResult } from './ingestThread';

const ENTRY = path.join(__dirname, `ingestThread${path.extname(__filename)}`);

/** Threads at most: the machines this runs on have a few cores, and runs need theirs too. */
const POOL_SIZE = 2;

interface Pending {
  request: ThreadRequest;
  transfer: ArrayBuffer[];
  signal: AbortSignal | undefined;
  resolve(result: ThreadResult): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  busy: Pending | undefined;
}

/**
 * A small pool of long-lived ingestion threads, one job per thread at a time (the tokenizer and the PDF
 * library load once per thread, not per file). A job whose activity is cancelled terminates its thread; a
 * new one is started for the next job. Idle threads do not keep the process alive.
 */
class IngestPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;

  run(job: ThreadJob, transfer: ArrayBuffer[], signal?: AbortSignal): Promise<ThreadResult> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const pending: Pending = { request: { id: this.nextId++, job }, transfer, signal, resolve, reject };
      signal?.addEventListener('abort', () => this.abort(pending), { once: true });
      this.queue.push(pending);
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    for (const pending of this.queue.splice(0)) pending.reject(new Error('the ingestion threads are closing'));
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.busy === undefined);
      if (!slot && this.slots.length < POOL_SIZE) slot = this.start();
      if (!slot) return;
      const pending = this.queue.shift()!;
      slot.busy = pending;
      slot.worker.ref();
      slot.worker.postMessage(pending.request, pending.transfer);
    }
  }

  private start(): Slot {
    const worker = new Worker(TS_THREAD_BOOTSTRAP, { eval: true, workerData: { entry: ENTRY } });
    const slot: Slot = { worker, busy: undefined };
    worker.on('message', (response: ThreadResponse) => {
      const pending = slot.busy;
      if (!pending || pending.request.id !== response.id) return;
      slot.busy = undefined;
      worker.unref();
      pending.resolve(response.result);
      this.dispatch();
    });
    const lost = (error: Error) => {
      this.remove(slot);
      slot.busy?.reject(error);
      slot.busy = undefined;
      this.dispatch();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`the ingestion thread exited (code ${code})`)));
    this.slots.push(slot);
    return slot;
  }

  private remove(slot: Slot): void {
    const index = this.slots.indexOf(slot);
    if (index !== -1) this.slots.splice(index, 1);
  }

  /** A queued job leaves the queue; a running one takes its thread down with it (its work is abandoned). */
  private abort(pending: Pending): void {
    const queued = this.queue.indexOf(pending);
    if (queued !== -1) {
      this.queue.splice(queued, 1);
      pending.reject(abortError(pending.signal));
      return;
    }
    const slot = this.slots.find((s) => s.busy === pending);
    if (!slot) return;
    this.remove(slot);
    slot.busy = undefined;
    pending.reject(abortError(pending.signal));
    void slot.worker.terminate();
    this.dispatch();
  }
}

function abortError(signal: AbortSignal | undefined): Error {
  return signal?.reason instanceof Error ? signal.reason : new Error('aborted');
}

const pool = new IngestPool();

/** Stops the ingestion threads (the worker role's shutdown). */
export function closeIngestThreads(): Promise<void> {
  return pool.close();
}

function unwrap(result: ThreadResult): Exclude<ThreadResult, { ok: false }> {
  if (result.ok) return result;
  if (result.code) throw new IngestError(result.code as IngestErrorCode, result.message);
  throw new Error(result.message);
}

/** The file's text (see extract/index.ts), parsed off the event loop. Throws IngestError for bad files. */
export async function extractInThread(
  file: { filename: string; mimeType: string; bytes: Buffer },
  signal?: AbortSignal,
): Promise<string> {
  // A copy the thread can own (the Buffer may be a view into a shared pool).
  const bytes = new Uint8Array(file.bytes);
  const job: ThreadJob = { op: 'extract', filename: file.filename, mimeType: file.mimeType, bytes };
  return unwrap(await pool.run(job, [bytes.buffer], signal)).text ?? '';
}

export async function chunkInThread(text: string, strategy: ChunkingStrategy, signal?: AbortSignal): Promise<Chunk[]> {
  return unwrap(await pool.run({ op: 'chunk', text, strategy }, [], signal)).chunks ?? [];
}

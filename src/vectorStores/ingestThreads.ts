import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { TS_THREAD_BOOTSTRAP } from '../model/tokenPool';
import type { Chunk, ChunkingStrategy } from './chunking';
import { IngestError, type IngestErrorCode } from './extract/errors';
import type { ThreadJob, ThreadResult } from './ingestThread';

const ENTRY = path.join(__dirname, `ingestThread${path.extname(__filename)}`);

/** Runs one job on a fresh thread; an abort (the activity cancelled) terminates the thread. */
function inThread(job: ThreadJob, transfer: ArrayBuffer[], signal?: AbortSignal): Promise<ThreadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(TS_THREAD_BOOTSTRAP, {
      eval: true,
      workerData: { entry: ENTRY, job },
      transferList: transfer,
    });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
      void worker.terminate();
    };
    const onAbort = () => finish(() => reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted')));
    signal?.addEventListener('abort', onAbort);
    worker.once('message', (result: ThreadResult) => finish(() => resolve(result)));
    worker.once('error', (error) => finish(() => reject(error)));
    worker.once('exit', (code) =>
      finish(() => reject(new Error(`the ingestion thread exited (code ${code}) before answering`))),
    );
  });
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
  const result = unwrap(
    await inThread({ op: 'extract', filename: file.filename, mimeType: file.mimeType, bytes }, [bytes.buffer], signal),
  );
  return result.text ?? '';
}

export async function chunkInThread(text: string, strategy: ChunkingStrategy, signal?: AbortSignal): Promise<Chunk[]> {
  return unwrap(await inThread({ op: 'chunk', text, strategy }, [], signal)).chunks ?? [];
}

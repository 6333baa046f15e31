import { parentPort, workerData } from 'node:worker_threads';
import { chunkText, type ChunkingStrategy } from './chunking';
import { extractText, IngestError } from './extract';

/**
 * One ingestion step on a thread of its own (started by ingestThreads.ts): parsing a PDF or chunking a long
 * text takes CPU seconds that must not stall the worker's event loop (heartbeats of every run it holds).
 * A thread per call also runs unpdf's dynamic imports outside any module sandbox (jest's, in the tests).
 */
export type ThreadJob =
  | { op: 'extract'; filename: string; mimeType: string; bytes: Uint8Array }
  | { op: 'chunk'; text: string; strategy: ChunkingStrategy };

export type ThreadResult =
  | { ok: true; text?: string; chunks?: Array<{ text: string; tokens: number }> }
  | { ok: false; code: string | null; message: string };

async function run(job: ThreadJob): Promise<ThreadResult> {
  try {
    if (job.op === 'extract') {
      const bytes = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
      return { ok: true, text: await extractText({ filename: job.filename, mimeType: job.mimeType, bytes }) };
    }
    return { ok: true, chunks: await chunkText(job.text, job.strategy) };
  } catch (error) {
    if (error instanceof IngestError) return { ok: false, code: error.code, message: error.message };
    return { ok: false, code: null, message: error instanceof Error ? error.message : String(error) };
  }
}

const job = (workerData as { job?: ThreadJob } | undefined)?.job;
if (parentPort && job) {
  const port = parentPort;
  void run(job).then((result) => port.postMessage(result));
}

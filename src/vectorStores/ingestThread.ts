import { parentPort } from 'node:worker_threads';
import { chunkText, type ChunkingStrategy } from './chunking';
import { extractText, IngestError } from './extract';

/**
 * An ingestion thread (started by ingestThreads.ts): parsing a PDF or chunking a long text takes CPU seconds
 * that must not stall the worker's event loop (the heartbeats of every run it holds). Jobs arrive one at a
 * time; the thread keeps its parsers and tokenizer loaded between them. Threads also run unpdf's dynamic
 * imports outside any module sandbox (jest's, in the tests).
 */
export type ThreadJob =
  | { op: 'extract'; filename: string; mimeType: string; bytes: Uint8Array }
  | { op: 'chunk'; text: string; strategy: ChunkingStrategy };

export type ThreadResult =
  | { ok: true; text?: string; chunks?: Array<{ text: string; tokens: number }> }
  | { ok: false; code: string | null; message: string };

export interface ThreadRequest {
  id: number;
  job: ThreadJob;
}

export interface ThreadResponse {
  id: number;
  result: ThreadResult;
}

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

const port = parentPort;
if (port) {
  port.on('message', (request: ThreadRequest) => {
    void run(request.job).then((result) => port.postMessage({ id: request.id, result } satisfies ThreadResponse));
  });
}

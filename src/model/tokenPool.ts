import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CountRequest, CountResponse } from './tokenThread';

/**
 * Counts tokens on a thread of its own. BPE over a long text takes CPU time proportional to its length
 * (hundreds of milliseconds for a megabyte); on the main thread that stalls everything the process does —
 * HTTP in the all-in-one process, and the heartbeats of every run on the worker, which Temporal then times
 * out. The thread starts on the first count and is released when the worker role stops.
 */
export interface TokenCounter {
  /** Token counts of each text, in order. */
  count(texts: string[]): Promise<number[]>;
  close(): Promise<void>;
}

/**
 * Loads the thread's module. Built code (dist/) is JavaScript; when Threadline runs from its TypeScript
 * sources (the test suite), the thread compiles them as they load with @swc/core, as jest does.
 */
export const TS_THREAD_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
if (workerData.entry.endsWith('.ts')) {
  const fs = require('node:fs');
  const { transformSync } = require(require.resolve('@swc/core', { paths: [workerData.entry] }));
  require.extensions['.ts'] = (module, filename) => {
    const options = { filename, module: { type: 'commonjs' }, jsc: { target: 'es2022', parser: { syntax: 'typescript' } } };
    module._compile(transformSync(fs.readFileSync(filename, 'utf8'), options).code, filename);
  };
}
require(workerData.entry);
`;

export function createTokenCounter(): TokenCounter {
  const entry = path.join(__dirname, `tokenThread${path.extname(__filename)}`);
  let thread: Worker | undefined;
  let nextId = 1;
  const pending = new Map<number, { resolve(counts: number[]): void; reject(error: Error): void }>();

  const failAll = (error: Error) => {
    for (const request of pending.values()) request.reject(error);
    pending.clear();
  };

  function start(): Worker {
    const worker = new Worker(TS_THREAD_BOOTSTRAP, { eval: true, workerData: { entry } });
    worker.on('message', (response: CountResponse) => {
      const request = pending.get(response.id);
      if (!request) return;
      pending.delete(response.id);
      if ('error' in response) request.reject(new Error(`token count failed: ${response.error}`));
      else request.resolve(response.counts);
      // An idle thread must not keep the process alive.
      if (pending.size === 0) worker.unref();
    });
    worker.on('error', (error) => failAll(error));
    worker.on('exit', (code) => {
      if (thread === worker) thread = undefined; // the next count starts a fresh one
      failAll(new Error(`the token-counting thread exited (code ${code})`));
    });
    return worker;
  }

  return {
    count(texts: string[]): Promise<number[]> {
      if (texts.every((text) => text.length === 0)) return Promise.resolve(texts.map(() => 0));
      thread ??= start();
      thread.ref();
      const id = nextId++;
      const result = new Promise<number[]>((resolve, reject) => pending.set(id, { resolve, reject }));
      thread.postMessage({ id, texts } satisfies CountRequest);
      return result;
    },

    async close(): Promise<void> {
      const running = thread;
      thread = undefined;
      if (running) await running.terminate();
    },
  };
}

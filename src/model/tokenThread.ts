import { parentPort } from 'node:worker_threads';
import { countSlice } from './tokens';

/**
 * The token-counting thread (started by tokenPool.ts). Requests are counted a slice at a time, round-robin,
 * with a turn of the event loop between slices: a long text (1.5 M characters of tool output) does not make a
 * short one that arrives after it wait for the whole count.
 */
export interface CountRequest {
  id: number;
  texts: string[];
}

export type CountResponse = { id: number; counts: number[] } | { id: number; error: string };

/** Characters counted per turn: a few milliseconds of ordinary text, tens at worst (random CJK). */
const SLICE_CHARS = 16_384;

interface Job extends CountRequest {
  counts: number[];
  text: number;
  offset: number;
}

const port = parentPort;
if (port) {
  const jobs: Job[] = [];
  let scheduled = false;

  const step = () => {
    scheduled = false;
    const job = jobs.shift();
    if (!job) return;
    try {
      let budget = SLICE_CHARS;
      while (budget > 0 && job.text < job.texts.length) {
        const text = job.texts[job.text]!;
        const { tokens, end } = countSlice(text, job.offset, budget);
        job.counts[job.text] = (job.counts[job.text] ?? 0) + tokens;
        budget -= Math.max(1, end - job.offset);
        if (end >= text.length) {
          job.text++;
          job.offset = 0;
        } else {
          job.offset = end;
        }
      }
      if (job.text >= job.texts.length) port.postMessage({ id: job.id, counts: job.counts } satisfies CountResponse);
      else jobs.push(job);
    } catch (error) {
      port.postMessage({ id: job.id, error: error instanceof Error ? error.message : String(error) });
    }
    schedule();
  };
  const schedule = () => {
    if (scheduled || jobs.length === 0) return;
    scheduled = true;
    setImmediate(step);
  };

  port.on('message', (request: CountRequest) => {
    jobs.push({ ...request, counts: request.texts.map(() => 0), text: 0, offset: 0 });
    schedule();
  });
}

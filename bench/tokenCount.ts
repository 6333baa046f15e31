import { monitorEventLoopDelay } from 'node:perf_hooks';
import { countTokens } from 'gpt-tokenizer';
import { createTokenCounter } from '../src/model/tokenPool';
import { countText } from '../src/model/tokens';

/**
 * Token counting before and after bench/FINDINGS.md "Token counting": gpt-tokenizer's `countTokens` called
 * directly (what context building did), against `countText` (bounded pieces) inline, and against the
 * counting thread with the main event loop's longest stall while it counts.
 *
 *   npm run bench:tokens                 # every input; the direct call only where it finishes in minutes
 *   npm run bench:tokens -- --before-all # the direct call on every input, however long it takes
 */

/** Deterministic pseudo-random text (no Math.random: the figures must be reproducible). */
function randomText(length: number, alphabet: string[]): string {
  let seed = 42;
  let out = '';
  for (let i = 0; i < length; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    out += alphabet[seed % alphabet.length];
  }
  return out;
}

const CJK = Array.from({ length: 2000 }, (_, i) => String.fromCodePoint(0x4e00 + i));
const PROSE = 'Threadline runs every Assistants run as a durable workflow; this sentence stands for ordinary prose. ';

const INPUTS: Array<{ name: string; text: string; directIsSlow?: boolean }> = [
  { name: '100,000 × "o"', text: 'o'.repeat(100_000) },
  { name: '200,000 × "o"', text: 'o'.repeat(200_000) },
  { name: '100,000 × "中"', text: '中'.repeat(100_000) },
  { name: '256,000 random CJK (no cache hits)', text: randomText(256_000, CJK), directIsSlow: true },
  { name: '1,450,000 × "o" (tool output size)', text: 'o'.repeat(1_450_000), directIsSlow: true },
  { name: '1,000,000 characters of prose', text: PROSE.repeat(Math.ceil(1_000_000 / PROSE.length)) },
];

function time<T>(fn: () => T): { ms: number; value: T } {
  const start = process.hrtime.bigint();
  const value = fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

async function main(): Promise<void> {
  const beforeAll = process.argv.includes('--before-all');
  countTokens('warm up the tokenizer');
  const pool = createTokenCounter();
  await pool.count(['warm up the counting thread']);
  // The stall figure's floor: the same monitor over an idle main loop (timer and scheduling jitter).
  const idle = monitorEventLoopDelay({ resolution: 1 });
  idle.enable();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  idle.disable();
  const rows: string[] = [
    '| input | direct `countTokens` (before) | `countText` inline | counting thread: wall | main loop longest stall |',
    '| --- | --- | --- | --- | --- |',
    `| (nothing: the main loop idle for 1 s) | – | – | – | ${(idle.max / 1e6).toFixed(1)} ms |`,
  ];
  for (const input of INPUTS) {
    const before =
      input.directIsSlow && !beforeAll
        ? 'skipped (minutes; --before-all)'
        : `${time(() => countTokens(input.text, { disallowedSpecial: new Set() })).ms.toFixed(0)} ms`;
    const inline = time(() => countText(input.text));
    const stalls = monitorEventLoopDelay({ resolution: 1 });
    stalls.enable();
    const start = process.hrtime.bigint();
    const [counted] = await pool.count([input.text]);
    const wall = Number(process.hrtime.bigint() - start) / 1e6;
    stalls.disable();
    if (counted !== inline.value) throw new Error(`thread and inline disagree on ${input.name}`);
    rows.push(
      `| ${input.name} | ${before} | ${inline.ms.toFixed(0)} ms | ${wall.toFixed(0)} ms | ${(stalls.max / 1e6).toFixed(1)} ms |`,
    );
    process.stdout.write(`${rows[rows.length - 1]}\n`);
  }
  await pool.close();
  process.stdout.write(`\n${rows.join('\n')}\n`);
}

void main();

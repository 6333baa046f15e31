import type { Store } from '../store';
import type { Position } from '../store/pagination';
import type { MessageCost, MessageRow } from '../store/repositories/messages';
import type { RunRow } from '../store/repositories/runs';
import type { MemoryWindow } from './memory';

const COST_PAGE = 1_000;
/** Messages not counted yet are read for counting in batches of at most this many characters. */
const COUNT_BATCH_CHARS = 4_000_000;
/** A page with up to this many messages to count keeps their rows for the prompt (see newestThatFit). */
const KEEP_READ_ROWS = 100;

export interface ThreadWindow {
  /** The kept messages, oldest first. */
  rows: MessageRow[];
  /** What they cost together. */
  tokens: number;
  /** Whether the thread had any message for the prompt at all (kept or not). */
  sawAny: boolean;
}

/**
 * The newest messages of the run's thread that fit `budget` tokens and `maxMessages` (this run's own messages
 * aside: they come from its steps). The window is decided on stored costs alone, so a run on a thread of
 * 10,000 messages reads their sizes, not their text; only the kept messages' content is read, in one range
 * query. Messages not counted yet are counted with `cost` and their counts stored (not those still being
 * written), so each message is counted once.
 */
export async function newestThatFit(
  store: Store,
  run: RunRow,
  limits: { budget: number; maxMessages: number; memory?: MemoryWindow },
  cost: (rows: MessageRow[]) => Promise<number[]>,
): Promise<ThreadWindow> {
  let tokens = 0;
  let sawAny = false;
  let oldestKept: Position | undefined;
  let cursor: Position | undefined;
  const keptIds: string[] = []; // newest first, in the database's own order
  const counting: Counting = { read: new Map(), saves: [] };
  outer: while (keptIds.length < limits.maxMessages) {
    const page = await store.messages.costsNewestFirst(run.project_id, run.thread_id, COST_PAGE, cursor);
    const candidates = page.filter((m) => m.run_id !== run.id).slice(0, limits.maxMessages - keptIds.length);
    const costs = await costsOf(store, run.project_id, candidates, cost, counting);
    for (const [i, message] of candidates.entries()) {
      sawAny = true;
      if (tokens + costs[i]! > limits.budget) break outer;
      // Extension: a memory window's token cap keeps the newest message even when it alone is larger.
      if (keptIds.length > 0 && limits.memory && tokens + costs[i]! > limits.memory.maxTokens) break outer;
      tokens += costs[i]!;
      keptIds.push(message.id);
      oldestKept = { createdAt: message.created_at, id: message.id };
      if (limits.memory?.endsAt(message.role)) break outer;
    }
    const last = page[page.length - 1];
    if (!last || page.length < COST_PAGE) break;
    cursor = { createdAt: last.created_at, id: last.id };
  }
  // The kept messages are every message (not this run's) from the oldest kept on. When counting just read them
  // all (a new thread, a run right after the user's first message), they need not be read again.
  const allRead = keptIds.every((id) => counting.read.has(id));
  const [rows] = await Promise.all([
    !oldestKept
      ? []
      : allRead
        ? keptIds.map((id) => counting.read.get(id)!).reverse()
        : store.messages.since(run.project_id, run.thread_id, oldestKept, run.id),
    ...counting.saves,
  ]);
  return { rows, tokens, sawAny };
}

/** What counting read (message rows by id) and the writes of the counts, still in flight. */
interface Counting {
  read: Map<string, MessageRow>;
  saves: Promise<void>[];
}

/**
 * Stored costs, and for messages without one, counted now (their content read in bounded batches). The counts
 * are saved while the window is decided (`counting.saves`; the caller awaits them).
 */
async function costsOf(
  store: Store,
  projectId: string,
  messages: MessageCost[],
  cost: (rows: MessageRow[]) => Promise<number[]>,
  counting: Counting,
): Promise<number[]> {
  const costs = messages.map((m) => m.token_count);
  const missing = messages.flatMap((m, i) => (m.token_count === null ? [i] : []));
  for (let from = 0; from < missing.length; ) {
    let to = from;
    for (let chars = 0; to < missing.length && (to === from || chars < COUNT_BATCH_CHARS); to++) {
      chars += messages[missing[to]!]!.content_chars;
    }
    const batch = missing.slice(from, to);
    const rows = await store.messages.byIds(
      projectId,
      batch.map((i) => messages[i]!.id),
    );
    const counted = await cost(rows);
    const byId = new Map(rows.map((row, n) => [row.id, counted[n]!]));
    for (const i of batch) costs[i] = byId.get(messages[i]!.id) ?? 0; // deleted meanwhile: not in the prompt either
    // Only small batches are kept for the prompt: a huge thread's content is read again for the kept part only.
    if (missing.length <= KEEP_READ_ROWS) for (const row of rows) counting.read.set(row.id, row);
    const finished = rows.filter((row) => row.status !== 'in_progress');
    const save = store.messages.saveTokenCounts(finished.map((row) => ({ id: row.id, tokens: byId.get(row.id)! })));
    save.catch(() => undefined); // handled now, while later batches are awaited; its failure surfaces in newestThatFit
    counting.saves.push(save);
    from = to;
  }
  return costs.map((c) => c ?? 0);
}

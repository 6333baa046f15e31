/** One server-sent event as it came over the wire (`id` absent when the frame had none). */
export interface SseFrame {
  id?: string;
  event: string;
  data: string;
}

export interface SseResponse {
  status: number;
  headers: Headers;
  frames: SseFrame[];
  /** `: ping`-style comment lines seen between frames. */
  comments: string[];
  /** The raw body text read (for JSON error bodies and byte-level checks). */
  text: string;
}

/**
 * Reads an SSE response frame by frame, the way a strict client would: `id:`, `event:` and a single `data:`
 * line per frame. `stopWhen` closes the connection early (a client that goes away), e.g. after N frames.
 */
export async function readSse(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  stopWhen?: (frames: SseFrame[], comments: string[]) => boolean,
): Promise<SseResponse> {
  const abort = new AbortController();
  const headers: Record<string, string> = { 'OpenAI-Beta': 'assistants=v2', ...init.headers };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: abort.signal,
  });
  const frames: SseFrame[] = [];
  const comments: string[] = [];
  let text = '';
  let buffer = '';
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
      if (done) break;
      const chunk = decoder.decode(value, { stream: true });
      text += chunk;
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const frame: Partial<SseFrame> = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) comments.push(line);
          else if (line.startsWith('id: ')) frame.id = line.slice(4);
          else if (line.startsWith('event: ')) frame.event = line.slice(7);
          else if (line.startsWith('data: ')) {
            if (frame.data !== undefined) throw new Error(`two data lines in one frame: ${block}`);
            frame.data = line.slice(6);
          } else if (line !== '') throw new Error(`unexpected SSE line: ${JSON.stringify(line)}`);
        }
        if (frame.event !== undefined || frame.data !== undefined) {
          if (frame.event === undefined || frame.data === undefined) throw new Error(`incomplete frame: ${block}`);
          frames.push(frame as SseFrame);
        }
      }
      if (stopWhen?.(frames, comments)) {
        abort.abort();
        break;
      }
    }
  } catch (error) {
    if (!abort.signal.aborted) throw error;
  }
  return { status: response.status, headers: response.headers, frames, comments, text };
}

/** The frame names in order, `done` included. */
export const names = (frames: SseFrame[]) => frames.map((f) => f.event);

/** The parsed data of a frame (not for `done`). */
export const dataOf = <T = Record<string, unknown>>(frame: SseFrame): T => JSON.parse(frame.data) as T;

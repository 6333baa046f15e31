/** Wall-clock milliseconds with sub-millisecond resolution, comparable with the fake model's `receivedAt`. */
export const wallMs = () => performance.timeOrigin + performance.now();

export interface TimedEvent {
  name: string;
  at: number;
  data: string;
}

/**
 * POSTs (or GETs) and reads the SSE answer, stamping every frame with the time it arrived. Deltas keep no
 * data (only their time) to keep memory flat under load.
 */
export async function timedStream(
  url: string,
  body?: unknown,
): Promise<{ start: number; events: TimedEvent[]; status: number }> {
  const start = wallMs();
  const response = await fetch(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', 'OpenAI-Beta': 'assistants=v2' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status !== 200 || !response.headers.get('content-type')?.startsWith('text/event-stream')) {
    throw new Error(`stream refused: ${response.status} ${await response.text()}`);
  }
  const events: TimedEvent[] = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
    if (done) break;
    const at = wallMs();
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const name = /^event: (.*)$/m.exec(block)?.[1];
      if (!name) continue;
      const data = name.endsWith('.delta') ? '' : (/^data: (.*)$/m.exec(block)?.[1] ?? '');
      events.push({ name, at, data });
    }
  }
  return { start, events, status: response.status };
}

export const firstAt = (events: TimedEvent[], name: string) => events.find((e) => e.name === name)?.at;
export const lastOf = (events: TimedEvent[], name: string) => [...events].reverse().find((e) => e.name === name);

/** Streams a chat completion straight from the fake model: the physical limit a run is compared with. */
export async function directCall(modelBaseURL: string): Promise<{ firstToken: number; total: number }> {
  const start = wallMs();
  const response = await fetch(`${modelBaseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'bench', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let firstToken: number | undefined;
  for (;;) {
    const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (firstToken === undefined && (text.includes('"content":"') || text.includes('"tool_calls"'))) {
      firstToken = wallMs() - start;
    }
  }
  return { firstToken: firstToken ?? NaN, total: wallMs() - start };
}

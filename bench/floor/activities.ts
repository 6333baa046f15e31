import { performance } from 'node:perf_hooks';

/** When each floor workflow's activities ran (worker and client share the process, so one clock). */
export const marks = new Map<string, number[]>();

/**
 * The floor's activities. `model` streams a chat completion from the fake model, as Threadline's model activity
 * does (same endpoint, same pacing), and reads it to the end; the others do nothing.
 */
export function floorActivities(modelBaseURL?: string) {
  return {
    async model(withToolOutput: boolean, onFirstChunk?: (at: number) => void): Promise<void> {
      if (!modelBaseURL) return;
      const messages = [{ role: 'user', content: 'hi' }];
      if (withToolOutput) messages.push({ role: 'tool', content: 'ok' });
      const response = await fetch(`${modelBaseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'bench', stream: true, messages }),
      });
      const reader = response.body!.getReader();
      for (;;) {
        const { done } = await reader.read();
        if (done) break;
        onFirstChunk?.(performance.now());
      }
    },
    async noop(): Promise<void> {},
    async mark(key: string, i: number, pauseMs = 0): Promise<void> {
      const list = marks.get(key) ?? [];
      list[i] = performance.now();
      marks.set(key, list);
      // A pause inside the activity: the next one is scheduled long after the server's last queue read.
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    },
  };
}
export type FloorActivities = ReturnType<typeof floorActivities>;

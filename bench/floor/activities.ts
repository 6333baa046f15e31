import { performance } from 'node:perf_hooks';

/** When each floor workflow's activities ran (worker and client share the process, so one clock). */
export const marks = new Map<string, number[]>();

export function floorActivities() {
  return {
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

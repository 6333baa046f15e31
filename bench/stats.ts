/** Nearest-rank quantile of a sample (q in 0..1). */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
}

export function summarize(values: number[]): Summary {
  return { n: values.length, p50: quantile(values, 0.5), p99: quantile(values, 0.99) };
}

/** Milliseconds since an arbitrary origin, sub-millisecond. */
export const now = () => performance.now();

/** Runs `fn` for each item with at most `concurrency` in flight; results keep the items' order. */
export async function pool<T, R>(
  items: T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!, i);
      }
    }),
  );
  return results;
}

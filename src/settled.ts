/**
 * Independent steps run at once, failing as they would have one after another: with the first failure in the
 * order given, and only once every step has settled (none is left running behind the failure, e.g. a write).
 */
export async function allInOrder<T extends readonly unknown[]>(
  steps: readonly [...{ [K in keyof T]: Promise<T[K]> }],
): Promise<T> {
  const results = await Promise.allSettled(steps as readonly Promise<unknown>[]);
  for (const result of results) if (result.status === 'rejected') throw result.reason;
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

import { uuid4 } from '@temporalio/workflow';
import { formatId } from '../src/idFormat';

let counter = 0;

/**
 * Ids minted inside the workflow from workflow time and its seeded randomness: replay mints the same ids,
 * so every activity that writes rows keyed by them converges on the same rows however often it is retried.
 */
export function mintId(prefix: string): string {
  const hex = uuid4().replace(/-/g, '');
  const random = Array.from({ length: 12 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));
  counter = (counter + 1) % 46656;
  return formatId(prefix, Date.now(), counter, random);
}

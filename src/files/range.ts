import type { ByteRange } from './storage';

/**
 * One `Range: bytes=…` request against a file of `size` bytes (RFC 9110 §14.1.2): `a-b`, `a-` or the suffix
 * `-n`. Undefined means "send it all" (no header, another unit, or several ranges, which a server may ignore);
 * 'unsatisfiable' is a range entirely past the end (416).
 */
export function resolveRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : { start: Math.max(size - suffix, 0), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size) return 'unsatisfiable';
  if (end < start) return undefined;
  return { start, end };
}

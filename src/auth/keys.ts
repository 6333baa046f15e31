import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const KEY_PREFIX = 'sk-tl-';

/**
 * A new API key: `sk-tl-` and 43 base64url characters (32 random bytes, 256 bits). It is shown once and
 * only its hash is stored.
 */
export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * SHA-256 of the key, hex. A slow password hash (bcrypt, scrypt, argon2) exists to make guessing a
 * low-entropy secret expensive after a database leak; a key of 256 random bits cannot be guessed however
 * fast each guess is, so a fast hash loses nothing, and it keeps the lookup on every request one indexed
 * equality (a salted slow hash could not be looked up at all without scanning every key).
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * How a key is shown after creation and in error messages, as OpenAI does: `sk-tl-…abcd`. Anything else a
 * client sends as a bearer is shown by its first three and last four characters, or (when that would give
 * away half of it) its last two.
 */
export function redactKey(key: string): string {
  if (key.startsWith(KEY_PREFIX)) return `${KEY_PREFIX}…${key.slice(-4)}`;
  if (key.length > 12) return `${key.slice(0, 3)}…${key.slice(-4)}`;
  return key.length > 4 ? `…${key.slice(-2)}` : '…';
}

/** Compares two secrets in constant time (their hashes, so different lengths leak nothing either). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

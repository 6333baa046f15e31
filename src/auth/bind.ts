import net from 'node:net';
import type { Logger } from '../logger';
import type { Store } from '../store';
import { DEFAULT_PROJECT_ID } from '../store/projects';

/** Whether the API's bind address only serves this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

export class NoApiKeyError extends Error {
  override name = 'NoApiKeyError';
}

/**
 * A server reachable from other machines requires keys, and one started that way with no key at all could
 * answer nothing but 401: it refuses to start, saying how to make one. On loopback with
 * THREADLINE_REQUIRE_KEYS the admin API may still create the first key, so that only warns.
 */
export async function checkKeysExist(
  store: Store,
  settings: { host: string; requireKeys: boolean; loopback: boolean },
  logger: Logger,
): Promise<void> {
  if (!settings.requireKeys || (await store.apiKeys.anyActive())) return;
  const create = `threadline keys create --project ${DEFAULT_PROJECT_ID}`;
  if (settings.loopback) {
    logger.warn(
      { hint: create },
      'THREADLINE_REQUIRE_KEYS is set and no API key exists yet: every /v1 request will get 401 until one is created',
    );
    return;
  }
  throw new NoApiKeyError(
    `The API is bound to ${settings.host}, which other machines can reach, so every request needs an API key, and none exists yet.\n` +
      `Create one first (it is shown once; run it with this server's THREADLINE_DATABASE_URL / THREADLINE_DATA_DIR):\n\n` +
      `  ${create}\n\n` +
      `then start again. To serve only this machine without keys, bind HOST=127.0.0.1 instead.`,
  );
}

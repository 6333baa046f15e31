import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from './logger';

const current = new AsyncLocalStorage<Logger>();

/** Runs `fn` with `logger` (a request's child logger, carrying its request id) as the current one. */
export function withLogger<T>(logger: Logger, fn: () => T): T {
  return current.run(logger, fn);
}

/**
 * A logger that writes through whichever logger is current (`withLogger`), falling back to `root`. Services
 * are built once with this one and still log each line with the id of the request it belongs to.
 */
export function contextualLogger(root: Logger): Logger {
  return new Proxy(root, {
    get(target, property, receiver) {
      const active = current.getStore() ?? target;
      const value: unknown = Reflect.get(active, property, active === target ? receiver : active);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(active) : value;
    },
  });
}

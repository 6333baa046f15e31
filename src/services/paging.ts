import { badRequest } from '../errors';
import { millisFromId } from '../ids';
import type { PageRequest, Position } from '../store/pagination';
import type { ListQuery } from '../schemas/list';

/**
 * Turns the `after`/`before` ids of a list query into positions. A cursor whose object was deleted since the
 * previous page still works: its position is read from the id itself, so auto-pagination never breaks
 * halfway through a listing because something was deleted meanwhile.
 */
export async function pageRequest(
  query: ListQuery,
  prefix: string,
  lookup: (id: string) => Promise<Position | undefined>,
): Promise<PageRequest> {
  const resolve = async (param: 'after' | 'before', id: string | undefined): Promise<Position | undefined> => {
    if (id === undefined) return undefined;
    const found = await lookup(id);
    if (found) return found;
    const millis = millisFromId(id, prefix);
    if (millis === null) {
      throw badRequest(
        `Invalid '${param}': '${id}'. Expected the id of an object in this list (an ID that begins with '${prefix.replace(/[_-]$/, '')}').`,
        param,
        'invalid_value',
      );
    }
    return { createdAt: Math.floor(millis / 1000), id };
  };
  return {
    limit: query.limit,
    order: query.order,
    after: await resolve('after', query.after),
    before: await resolve('before', query.before),
  };
}

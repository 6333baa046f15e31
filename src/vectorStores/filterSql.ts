import { sql, type RawBuilder } from 'kysely';
import type { AttributeValue, ComparisonFilter, Filter } from './types';

/**
 * An attribute filter as a SQL condition on `f.attributes` (the file row's JSON text), for either dialect.
 * Keys and values are always bound parameters. A comparison only matches an attribute of the value's own
 * type (a number is never compared with a string); `ne` and `nin` also match files without the attribute.
 */
export function filterCondition(filter: Filter, postgres: boolean): RawBuilder<boolean> {
  if (filter.type === 'and' || filter.type === 'or') {
    if (filter.filters.length === 0) return filter.type === 'and' ? sql<boolean>`(1 = 1)` : sql<boolean>`(1 = 0)`;
    const parts = filter.filters.map((inner) => filterCondition(inner, postgres));
    return sql<boolean>`(${sql.join(parts, sql.raw(filter.type === 'and' ? ' AND ' : ' OR '))})`;
  }
  if (filter.type === 'in' || filter.type === 'nin') {
    const any =
      filter.value.length === 0
        ? sql<boolean>`(1 = 0)`
        : sql<boolean>`(${sql.join(
            filter.value.map((value) => comparison(filter.key, 'eq', value, postgres)),
            sql.raw(' OR '),
          )})`;
    return filter.type === 'in' ? any : sql<boolean>`(NOT ${any})`;
  }
  const { key, value, type } = filter as ComparisonFilter;
  if (type === 'ne') return sql<boolean>`(NOT ${comparison(key, 'eq', value, postgres)})`;
  return comparison(key, type, value, postgres);
}

const OPERATORS = { eq: '=', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

function comparison(
  key: string,
  type: keyof typeof OPERATORS,
  value: AttributeValue,
  postgres: boolean,
): RawBuilder<boolean> {
  const op = sql.raw(OPERATORS[type]);
  // Booleans have no order: only equality means anything.
  if (typeof value === 'boolean' && type !== 'eq') return sql<boolean>`(1 = 0)`;
  if (postgres) {
    // jsonb compares numbers numerically and strings as text; the type check keeps kinds apart.
    const kind = typeof value === 'string' ? 'string' : typeof value === 'number' ? 'number' : 'boolean';
    const attr = sql`(f.attributes::jsonb -> ${key}::text)`;
    return sql<boolean>`(f.attributes IS NOT NULL AND jsonb_typeof(${attr}) = ${kind} AND ${attr} ${op} ${JSON.stringify(value)}::jsonb)`;
  }
  // SQLite: json_each finds the key whatever characters it holds (a JSON path would need escaping).
  if (typeof value === 'boolean') {
    return sql<boolean>`EXISTS (SELECT 1 FROM json_each(f.attributes) a WHERE a.key = ${key} AND a.type = ${value ? 'true' : 'false'})`;
  }
  const types = typeof value === 'string' ? sql`('text')` : sql`('integer', 'real')`;
  return sql<boolean>`EXISTS (SELECT 1 FROM json_each(f.attributes) a WHERE a.key = ${key} AND a.type IN ${types} AND a.value ${op} ${value})`;
}

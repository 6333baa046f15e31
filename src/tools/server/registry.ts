import type { Store } from '../../store';
import { fromJson, toJson } from '../../store/json';
import type { ServerToolRow } from '../../store/repositories/serverTools';
import type { HostAllowList } from './hosts';
import { scheduleOf, type ServerToolRegistration } from './registration';
import type { ServerFunction } from '../serverFunctionTool';

/**
 * Every server-side tool this server knows: the tools file's (for every project, fixed at boot) and those
 * registered through the admin API (per project, in the database, so every API and worker process sees
 * them). A name the file defines cannot be registered through the API: one name, one tool.
 */
export interface ServerToolRegistry {
  readonly hosts: HostAllowList;
  /** The tool of this name for the project, secrets included (only the executing activity needs them). */
  get(projectId: string, name: string): Promise<ServerToolRegistration | undefined>;
  /** How the run offers and schedules the project's tools among `names` (the run's declared functions). */
  functionsNamed(projectId: string, names: readonly string[]): Promise<Map<string, ServerFunction>>;
  list(projectId: string): Promise<ServerToolRegistration[]>;
  fromFile(name: string): ServerToolRegistration | undefined;
}

export function serverToolRegistry(
  store: Store,
  fileTools: readonly ServerToolRegistration[],
  hosts: HostAllowList,
): ServerToolRegistry {
  const file = new Map(fileTools.map((tool) => [tool.definition.name, tool]));
  const fromRow = (row: ServerToolRow): ServerToolRegistration => ({
    definition: fromJson(row.definition),
    executor: fromJson(row.executor),
    source: 'admin',
    created_at: row.created_at,
  });
  return {
    hosts,
    async get(projectId, name) {
      const fixed = file.get(name);
      if (fixed) return fixed;
      const row = await store.serverTools.find(projectId, name);
      return row ? fromRow(row) : undefined;
    },
    async functionsNamed(projectId, names) {
      const found = new Map<string, ServerToolRegistration>();
      const rest = names.filter((name) => {
        const fixed = file.get(name);
        if (fixed) found.set(name, fixed);
        return !fixed;
      });
      for (const row of await store.serverTools.findNamed(projectId, rest)) found.set(row.name, fromRow(row));
      return new Map(
        [...found].map(([name, tool]) => [name, { definition: tool.definition, schedule: scheduleOf(tool.executor) }]),
      );
    },
    async list(projectId) {
      const rows = await store.serverTools.list(projectId);
      return [...file.values(), ...rows.filter((row) => !file.has(row.name)).map(fromRow)];
    },
    fromFile: (name) => file.get(name),
  };
}

/** A registry row for the admin API's write. */
export function registryRow(projectId: string, tool: Omit<ServerToolRegistration, 'source'>, now: number) {
  return {
    project_id: projectId,
    name: tool.definition.name,
    definition: toJson(tool.definition),
    executor: toJson(tool.executor),
    created_at: now,
    updated_at: now,
  };
}

import { badRequest, notFound } from '../errors';
import type { RegisterServerToolBody } from '../schemas/serverTools';
import { DEFAULT_PROJECT_ID } from '../store/projects';
import { registryRow } from '../tools/server/registry';
import { executorProblem, publicView } from '../tools/server/registration';
import { nowSeconds, type ServiceDeps } from './context';

/**
 * Extension: the admin API's server-side tool registry (per project, in the database). Tools of the tools
 * file are listed too, and cannot be changed here: one name, one tool. Nothing returns a header value or a
 * URL's query string.
 */
export function serverToolsService({ store, extensions }: ServiceDeps) {
  const registry = extensions.serverTools;

  async function shown(projectId: string, name: string) {
    const tool = await registry.get(projectId, name);
    if (!tool) throw notFound('server tool', name);
    return publicView(tool.source === 'config' ? null : projectId, tool);
  }

  function refuseFileTool(name: string): void {
    if (registry.fromFile(name)) {
      throw badRequest(
        `The server tool '${name}' is defined in the tools file (THREADLINE_SERVER_TOOLS_FILE); change it there.`,
        'function.name',
        'invalid_value',
      );
    }
  }

  return {
    /** Registers a tool, or replaces the project's tool of that name. */
    async register(body: RegisterServerToolBody) {
      const projectId = body.project_id ?? DEFAULT_PROJECT_ID;
      if (!(await store.projects.find(projectId))) throw notFound('project', projectId);
      const name = body.function.name;
      refuseFileTool(name);
      const problem = executorProblem(body.executor, registry.hosts);
      if (problem) throw badRequest(`Invalid 'executor.url': ${problem}`, 'executor.url', 'invalid_value');
      await store.serverTools.upsert(
        registryRow(projectId, { definition: body.function, executor: body.executor, created_at: null }, nowSeconds()),
      );
      return shown(projectId, name);
    },

    async list(projectId = DEFAULT_PROJECT_ID) {
      const tools = await registry.list(projectId);
      return {
        object: 'list' as const,
        data: tools.map((tool) => publicView(tool.source === 'config' ? null : projectId, tool)),
      };
    },

    retrieve: (name: string, projectId = DEFAULT_PROJECT_ID) => shown(projectId, name),

    async delete(name: string, projectId = DEFAULT_PROJECT_ID) {
      refuseFileTool(name);
      if (!(await store.serverTools.delete(projectId, name))) throw notFound('server tool', name);
      return { name, object: 'server_tool.deleted' as const, deleted: true as const };
    },
  };
}

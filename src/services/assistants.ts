import type { Updateable } from 'kysely';
import { notFound } from '../errors';
import { newObjectId } from '../ids';
import type { CreateAssistantBody, ModifyAssistantBody } from '../schemas/assistants';
import type { ListQuery } from '../schemas/list';
import { toJson } from '../store/json';
import type { AssistantRow } from '../store/repositories/assistants';
import type { AssistantTable } from '../store/schema';
import { assistantObject, deletedObject, listEnvelope } from '../wire/objects';
import type { RequestScope, ServiceDeps } from './context';
import { requireFiles, toolResourceRefs } from './fileRefs';
import { resolveFileSearchResources, vectorStoreMaker } from './fileSearchResources';
import { pageRequest } from './paging';
import { templateAssistantsService } from './templateAssistants';
import { mergeToolResources, toolResourcesJson } from './toolResources';

export function assistantsService(deps: ServiceDeps) {
  const { store } = deps;
  const repo = store.assistants;
  // Extension: template-made assistants show which version they follow, and modify keeps their overrides.
  const fromTemplate = templateAssistantsService(deps);
  const present = async (scope: RequestScope, row: AssistantRow) => (await fromTemplate.present(scope, [row]))[0]!;

  async function load(scope: RequestScope, id: string) {
    const row = await repo.find(scope.projectId, id);
    if (!row) throw notFound('assistant', id);
    return row;
  }

  return {
    async create(scope: RequestScope, body: CreateAssistantBody) {
      await requireFiles(store, scope, toolResourceRefs(body.tool_resources, 'tool_resources'));
      const resources = await resolveFileSearchResources(
        vectorStoreMaker(deps),
        scope,
        body.tool_resources,
        'tool_resources',
      );
      const { id, createdAt } = newObjectId('assistant');
      await repo.insert({
        project_id: scope.projectId,
        id,
        created_at: createdAt,
        model: body.model,
        name: body.name ?? null,
        description: body.description ?? null,
        instructions: body.instructions ?? null,
        tools: toJson(body.tools ?? []),
        tool_resources: toolResourcesJson(resources),
        metadata: toJson(body.metadata ?? {}),
        temperature: body.temperature ?? null,
        top_p: body.top_p ?? null,
        response_format: body.response_format == null ? null : toJson(body.response_format),
        reasoning_effort: body.reasoning_effort ?? null,
      });
      return assistantObject(await load(scope, id));
    },

    async retrieve(scope: RequestScope, id: string) {
      return present(scope, await load(scope, id));
    },

    /** Absent fields stay as they are; `null` clears a nullable field back to its default. */
    async modify(scope: RequestScope, id: string, body: ModifyAssistantBody) {
      const current = await load(scope, id);
      await requireFiles(store, scope, toolResourceRefs(body.tool_resources, 'tool_resources'));
      const templateMade = await fromTemplate.modify(scope, id, body);
      if (templateMade) return templateMade;
      const changes: Updateable<AssistantTable> = {};
      if (body.model !== undefined) changes.model = body.model;
      if (body.name !== undefined) changes.name = body.name;
      if (body.description !== undefined) changes.description = body.description;
      if (body.instructions !== undefined) changes.instructions = body.instructions;
      if (body.tools !== undefined) changes.tools = toJson(body.tools);
      if (body.tool_resources !== undefined) {
        changes.tool_resources = mergeToolResources(current.tool_resources, body.tool_resources);
      }
      if (body.metadata !== undefined) changes.metadata = toJson(body.metadata ?? {});
      if (body.temperature !== undefined) changes.temperature = body.temperature;
      if (body.top_p !== undefined) changes.top_p = body.top_p;
      if (body.response_format !== undefined) {
        changes.response_format = body.response_format === null ? null : toJson(body.response_format);
      }
      if (body.reasoning_effort !== undefined) changes.reasoning_effort = body.reasoning_effort;
      const row = await repo.update(scope.projectId, id, changes);
      if (!row) throw notFound('assistant', id);
      return present(scope, row);
    },

    async delete(scope: RequestScope, id: string) {
      if (!(await repo.delete(scope.projectId, id))) throw notFound('assistant', id);
      return deletedObject(id, 'assistant.deleted');
    },

    async list(scope: RequestScope, query: ListQuery) {
      const page = await pageRequest(query, 'asst_', (cursor) => repo.position(scope.projectId, cursor));
      const { rows, hasMore } = await repo.page(scope.projectId, page);
      return listEnvelope(await fromTemplate.present(scope, rows), hasMore);
    },
  };
}

import type { Updateable } from 'kysely';
import { badRequest, notFound } from '../errors';
import { newObjectId } from '../ids';
import type { ModifyAssistantBody } from '../schemas/assistants';
import type {
  ConfigureTemplateAssistantBody,
  CreateAssistantFromTemplateBody,
  UpgradeAssistantBody,
} from '../schemas/templates';
import { fromJson, toJson } from '../store/json';
import type { AssistantRow } from '../store/repositories/assistants';
import type { LinkChange } from '../store/repositories/templateLinks';
import type { AssistantTable } from '../store/schema';
import { applyTemplateVersion } from '../templates/apply';
import { effectiveColumns, versionColumns, type Overrides } from '../templates/effective';
import { assistantObject } from '../wire/objects';
import { assistantTemplateField, type TemplateMadeAssistant } from '../wire/templates';
import type { RequestScope, ServiceDeps } from './context';
import { requireFiles, toolResourceRefs } from './fileRefs';
import { noSuchVersion } from './templates';
import { mergeToolResources, toolResourcesJson } from './toolResources';

/**
 * Extension: assistants made from a template. Such an assistant is an ordinary assistant row (what runs and
 * every GET read) plus a link: the version it follows, its upgrade policy, its overrides and its
 * instructions addendum. The row always holds the effective configuration, recomputed on every change.
 */
export function templateAssistantsService({ store }: ServiceDeps) {
  /** Wire objects for assistant rows; template-made ones carry the `template` key, others are untouched. */
  async function present(scope: RequestScope, rows: AssistantRow[]): Promise<TemplateMadeAssistant[]> {
    const ids = rows.map((row) => row.id);
    const links = new Map(
      (await store.templateLinks.forAssistants(scope.projectId, ids)).map((link) => [link.assistant_id, link]),
    );
    return rows.map((row) => {
      const link = links.get(row.id);
      return link ? { ...assistantObject(row), template: assistantTemplateField(link) } : assistantObject(row);
    });
  }

  async function presentOne(scope: RequestScope, id: string): Promise<TemplateMadeAssistant> {
    const row = await store.assistants.find(scope.projectId, id);
    if (!row) throw notFound('assistant', id);
    return (await present(scope, [row]))[0]!;
  }

  /** The link of a template-made assistant; a plain assistant's id is a 400, an unknown one a 404. */
  async function requireLink(scope: RequestScope, id: string) {
    const link = await store.templateLinks.find(scope.projectId, id);
    if (link) return link;
    if (await store.assistants.find(scope.projectId, id)) {
      throw badRequest(`Assistant ${id} was not made from a template.`, 'assistant_id', 'invalid_value');
    }
    throw notFound('assistant', id);
  }

  /**
   * Rewrites a template-made assistant with changed overrides, addendum or policy: its template-owned settings
   * are recomputed from the version it follows. A result that would break a limit is a 400, nothing written.
   */
  async function rewrite(
    scope: RequestScope,
    id: string,
    edit: (
      overrides: Overrides,
      assistant: AssistantRow,
    ) => {
      own?: Updateable<AssistantTable>;
      addendum?: string | null;
      policy?: string;
    },
  ): Promise<TemplateMadeAssistant | undefined> {
    const outcome = await store.templateLinks.change(
      scope.projectId,
      id,
      async ({ link, assistant, version }): Promise<LinkChange<string | null>> => {
        // Parsed afresh on every attempt: `edit` changes it in place.
        const overrides = fromJson<Overrides>(link.overrides);
        const {
          own = {},
          addendum = link.instructions_addendum,
          policy = link.upgrade_policy,
        } = edit(overrides, assistant);
        const row = await version(link.version);
        if (!row) throw new Error(`version ${link.version} of ${link.template_id} is missing`);
        const effective = effectiveColumns(versionColumns(row), overrides, addendum);
        if ('problem' in effective) return { result: effective.problem };
        return {
          write: {
            assistant: { ...own, ...effective.columns },
            link: { overrides: toJson(overrides), instructions_addendum: addendum, upgrade_policy: policy },
          },
          result: null,
        };
      },
    );
    if (outcome === undefined) return undefined;
    if (outcome !== null) throw badRequest(outcome);
    return presentOne(scope, id);
  }

  /** Moves an assistant to a version of its template (an upgrade, or a rollback to an older one). */
  async function moveTo(scope: RequestScope, id: string, target: number): Promise<TemplateMadeAssistant> {
    const outcome = await applyTemplateVersion(store, {
      projectId: scope.projectId,
      assistantId: id,
      target,
      onlyIfOlder: false,
    });
    if (!outcome) throw notFound('assistant', id);
    if (outcome.kind === 'failed') throw badRequest(outcome.problem);
    return presentOne(scope, id);
  }

  return {
    present,

    async create(scope: RequestScope, body: CreateAssistantFromTemplateBody): Promise<TemplateMadeAssistant> {
      await requireFiles(store, scope, toolResourceRefs(body.tool_resources, 'tool_resources'));
      const template = await store.templates.find(scope.projectId, body.template_id);
      if (!template) throw notFound('assistant template', body.template_id);
      const number = body.template_version ?? template.latest_version;
      const version = await store.templates.version(scope.projectId, template.id, number);
      if (!version) throw noSuchVersion('template_version', template.id, number, template.latest_version);
      const overrides: Overrides = {};
      if (body.model !== undefined) overrides.model = body.model;
      if (typeof body.instructions === 'string') overrides.instructions = body.instructions;
      if (body.tools !== undefined) overrides.tools = toJson(body.tools);
      if (body.tool_resources) overrides.tool_resources = toolResourcesJson(body.tool_resources);
      if (body.response_format) overrides.response_format = toJson(body.response_format);
      if (body.metadata) overrides.metadata = toJson(body.metadata);
      const addendum = body.instructions_addendum ?? null;
      const effective = effectiveColumns(versionColumns(version), overrides, addendum);
      if ('problem' in effective) throw badRequest(effective.problem);
      const { id, createdAt } = newObjectId('assistant');
      await store.templateLinks.insert(
        {
          project_id: scope.projectId,
          id,
          created_at: createdAt,
          name: body.name ?? template.name,
          description: body.description ?? null,
          temperature: body.temperature ?? null,
          top_p: body.top_p ?? null,
          reasoning_effort: body.reasoning_effort ?? null,
          ...effective.columns,
        },
        {
          assistant_id: id,
          project_id: scope.projectId,
          template_id: template.id,
          version: number,
          previous_version: null,
          upgrade_policy: body.upgrade_policy ?? 'auto',
          overrides: toJson(overrides),
          instructions_addendum: addendum,
          last_upgrade_id: null,
          revision: 0,
        },
      );
      return presentOne(scope, id);
    },

    /**
     * The ordinary modify of a template-made assistant (undefined for any other): its own settings change as
     * usual; a template-owned setting given becomes an override that upgrades keep, and `null` drops the
     * override (the setting follows the template again). `metadata` overrides merge over the template's keys.
     */
    modify(scope: RequestScope, id: string, body: ModifyAssistantBody) {
      return rewrite(scope, id, (overrides, assistant) => {
        const own: Updateable<AssistantTable> = {};
        if (body.name !== undefined) own.name = body.name;
        if (body.description !== undefined) own.description = body.description;
        if (body.temperature !== undefined) own.temperature = body.temperature;
        if (body.top_p !== undefined) own.top_p = body.top_p;
        if (body.reasoning_effort !== undefined) own.reasoning_effort = body.reasoning_effort;
        const set = <K extends keyof Overrides>(key: K, value: Overrides[K] | null | undefined) => {
          if (value === undefined) return;
          if (value === null) delete overrides[key];
          else overrides[key] = value;
        };
        set('model', body.model);
        set('instructions', body.instructions);
        set('tools', body.tools === undefined ? undefined : toJson(body.tools));
        set(
          'tool_resources',
          body.tool_resources === undefined || body.tool_resources === null
            ? body.tool_resources
            : mergeToolResources(assistant.tool_resources, body.tool_resources),
        );
        set('response_format', body.response_format == null ? body.response_format : toJson(body.response_format));
        set('metadata', body.metadata == null ? body.metadata : toJson(body.metadata));
        return { own };
      });
    },

    /** `POST /v1/assistants/{id}/template`: upgrade policy, instructions addendum, dropping overrides. */
    async configure(scope: RequestScope, id: string, body: ConfigureTemplateAssistantBody) {
      await requireLink(scope, id);
      const result = await rewrite(scope, id, (overrides) => {
        for (const field of body.reset_overrides ?? []) delete overrides[field];
        return { addendum: body.instructions_addendum, policy: body.upgrade_policy };
      });
      if (!result) throw notFound('assistant', id);
      return result;
    },

    /** To the template's latest version or the one given; an older one is a rollback. */
    async upgrade(scope: RequestScope, id: string, body: UpgradeAssistantBody) {
      const link = await requireLink(scope, id);
      const target = body.version ?? link.latest_version;
      if (target > link.latest_version) throw noSuchVersion('version', link.template_id, target, link.latest_version);
      return moveTo(scope, id, target);
    },

    /** Back to the version followed before the last upgrade or rollback. */
    async rollback(scope: RequestScope, id: string) {
      const link = await requireLink(scope, id);
      if (link.previous_version === null) {
        throw badRequest(`Assistant ${id} has no earlier template version to roll back to.`);
      }
      return moveTo(scope, id, link.previous_version);
    },
  };
}

import { ApiError, badRequest, notFound } from '../errors';
import { newObjectId } from '../ids';
import type { ListQuery } from '../schemas/list';
import type { CreateTemplateBody, CreateTemplateVersionBody } from '../schemas/templates';
import { toJson } from '../store/json';
import type { AssistantTemplateVersionTable } from '../store/schemaExtensions';
import { NO_PROGRESS } from '../temporal/templateShared';
import { deletedObject, listEnvelope } from '../wire/objects';
import { templateObject, templateUpgradeObject, templateVersionObject } from '../wire/templates';
import { nowSeconds, type RequestScope, type ServiceDeps } from './context';
import { requireFiles, toolResourceRefs } from './fileRefs';
import { pageRequest } from './paging';
import { toolResourcesJson } from './toolResources';

/**
 * Extension: assistant templates and their immutable numbered versions. Publishing a version starts the
 * durable walk that upgrades the template's `auto` assistants (workflows/templateUpgrade.ts).
 */
export function templatesService({ store, extensions, logger }: ServiceDeps) {
  const repo = store.templates;

  async function load(scope: RequestScope, id: string) {
    const row = await repo.find(scope.projectId, id);
    if (!row) throw notFound('assistant template', id);
    return row;
  }

  function versionRow(
    scope: RequestScope,
    templateId: string,
    version: number,
    body: CreateTemplateVersionBody,
    upgradeId: string | null,
  ): AssistantTemplateVersionTable {
    const { id, createdAt } = newObjectId('templateVersion');
    return {
      project_id: scope.projectId,
      id,
      template_id: templateId,
      version,
      created_at: createdAt,
      model: body.model,
      instructions: body.instructions ?? null,
      tools: toJson(body.tools ?? []),
      tool_resources: toolResourcesJson(body.tool_resources),
      response_format: body.response_format == null ? null : toJson(body.response_format),
      metadata: toJson(body.metadata ?? {}),
      upgrade_id: upgradeId,
    };
  }

  async function retrieveVersion(scope: RequestScope, templateId: string, version: number) {
    await load(scope, templateId);
    const row = await repo.version(scope.projectId, templateId, version);
    if (!row) throw notFound('version', String(version));
    return templateVersionObject(row);
  }

  return {
    async create(scope: RequestScope, body: CreateTemplateBody) {
      await requireFiles(store, scope, toolResourceRefs(body.tool_resources, 'tool_resources'));
      const { name, description, ...version } = body;
      const { id, createdAt } = newObjectId('template');
      const template = {
        project_id: scope.projectId,
        id,
        created_at: createdAt,
        name: name ?? null,
        description: description ?? null,
        latest_version: 1,
      };
      await repo.insert(template, versionRow(scope, id, 1, version, null));
      return templateObject(await load(scope, id));
    },

    async retrieve(scope: RequestScope, id: string) {
      return templateObject(await load(scope, id));
    },

    async list(scope: RequestScope, query: ListQuery) {
      const page = await pageRequest(query, 'tmpl_', (cursor) => repo.position(scope.projectId, cursor));
      const { rows, hasMore } = await repo.page(scope.projectId, page);
      return listEnvelope(rows.map(templateObject), hasMore);
    },

    /** Its versions and upgrade records go with it; its assistants stay, as ordinary assistants. */
    async delete(scope: RequestScope, id: string) {
      if (!(await repo.delete(scope.projectId, id))) throw notFound('assistant template', id);
      return deletedObject(id, 'assistant_template.deleted');
    },

    /**
     * Publishes the next version and starts the walk that upgrades the template's `auto` assistants. If
     * Temporal refuses the start, the version is taken back (503, nothing changed) unless a later version was
     * published meanwhile: that one's walk upgrades the assistants, and this walk is recorded as failed.
     */
    async publish(scope: RequestScope, templateId: string, body: CreateTemplateVersionBody) {
      await requireFiles(store, scope, toolResourceRefs(body.tool_resources, 'tool_resources'));
      const upgrade = newObjectId('templateUpgrade');
      const number = await repo.publish(scope.projectId, templateId, (n) => ({
        row: versionRow(scope, templateId, n, body, upgrade.id),
        upgrade: {
          project_id: scope.projectId,
          id: upgrade.id,
          template_id: templateId,
          version: n,
          created_at: upgrade.createdAt,
          completed_at: null,
          ...NO_PROGRESS,
          failures: toJson(NO_PROGRESS.failures),
        },
      }));
      if (number === undefined) throw notFound('assistant template', templateId);
      try {
        await extensions.templateUpgrades.start({
          projectId: scope.projectId,
          templateId,
          upgradeId: upgrade.id,
          version: number,
        });
      } catch (error) {
        logger.error({ err: error, templateId, version: number }, 'could not start the template upgrade workflow');
        if (await repo.unpublish(scope.projectId, templateId, number)) {
          throw new ApiError(
            503,
            'The version could not be published: the workflow engine is unavailable. Please retry.',
            'server_error',
          );
        }
        const message = `The upgrade could not be started; a later version superseded version ${number}.`;
        await store.templateUpgrades.markFailed(upgrade.id, toJson([{ assistant_id: null, message }]), nowSeconds());
      }
      return retrieveVersion(scope, templateId, number);
    },

    retrieveVersion,

    async listVersions(scope: RequestScope, templateId: string, query: ListQuery) {
      await load(scope, templateId);
      const page = await pageRequest(query, 'tmplv_', (cursor) => repo.versionPosition(templateId, cursor));
      const { rows, hasMore } = await repo.versions(templateId, page);
      return listEnvelope(rows.map(templateVersionObject), hasMore);
    },

    async retrieveUpgrade(scope: RequestScope, templateId: string, upgradeId: string) {
      await load(scope, templateId);
      const row = await store.templateUpgrades.find(scope.projectId, upgradeId);
      if (!row || row.template_id !== templateId) throw notFound('assistant template upgrade', upgradeId);
      return templateUpgradeObject(row);
    },

    async listUpgrades(scope: RequestScope, templateId: string, query: ListQuery) {
      await load(scope, templateId);
      const upgrades = store.templateUpgrades;
      const page = await pageRequest(query, 'tupg_', (cursor) => upgrades.position(templateId, cursor));
      const { rows, hasMore } = await upgrades.page(templateId, page);
      return listEnvelope(rows.map(templateUpgradeObject), hasMore);
    },
  };
}

/** A version a request names that its template does not have. */
export function noSuchVersion(param: string, templateId: string, version: number, latest: number): ApiError {
  return badRequest(
    `Invalid '${param}': template ${templateId} has no version ${version} (its versions are 1 to ${latest}).`,
    param,
    'invalid_value',
  );
}

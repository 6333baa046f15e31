import type { Insertable, Selectable } from 'kysely';
import type { Db } from '../db';
import { keysetPage, type Page, type PageRequest, type Position } from '../pagination';
import type { AssistantTemplateTable, AssistantTemplateVersionTable, TemplateUpgradeTable } from '../schemaExtensions';

export type TemplateRow = Selectable<AssistantTemplateTable>;
export type TemplateVersionRow = Selectable<AssistantTemplateVersionTable>;

/** Assistant templates and their numbered versions (extension, migration 008). */
export function templatesRepository(db: Db) {
  const scoped = (projectId: string) =>
    db.selectFrom('assistant_templates').selectAll().where('project_id', '=', projectId);
  return {
    /** A template with its version 1, in one transaction. */
    async insert(template: Insertable<AssistantTemplateTable>, first: AssistantTemplateVersionTable): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('assistant_templates').values(template).execute();
        await trx.insertInto('assistant_template_versions').values(first).execute();
      });
    },

    find(projectId: string, id: string): Promise<TemplateRow | undefined> {
      return scoped(projectId).where('id', '=', id).executeTakeFirst();
    },

    async delete(projectId: string, id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('assistant_templates')
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    position(projectId: string, id: string): Promise<Position | undefined> {
      return db
        .selectFrom('assistant_templates')
        .select(['created_at as createdAt', 'id'])
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .executeTakeFirst();
    },

    page(projectId: string, page: PageRequest): Promise<Page<TemplateRow>> {
      return keysetPage(scoped(projectId), page);
    },

    /**
     * Publishes the next version: bumps the template's `latest_version` (the row lock orders concurrent
     * publishes), inserts that version and its upgrade walk's progress row, all in one transaction.
     * Returns the version number, or undefined when the template does not exist.
     */
    publish(
      projectId: string,
      templateId: string,
      version: (number: number) => { row: AssistantTemplateVersionTable; upgrade: TemplateUpgradeTable },
    ): Promise<number | undefined> {
      return db.transaction().execute(async (trx) => {
        const bumped = await trx
          .updateTable('assistant_templates')
          .set((eb) => ({ latest_version: eb('latest_version', '+', 1) }))
          .where('project_id', '=', projectId)
          .where('id', '=', templateId)
          .executeTakeFirst();
        if (bumped.numUpdatedRows === 0n) return undefined;
        const { latest_version } = await trx
          .selectFrom('assistant_templates')
          .select('latest_version')
          .where('id', '=', templateId)
          .executeTakeFirstOrThrow();
        const { row, upgrade } = version(latest_version);
        await trx.insertInto('assistant_template_versions').values(row).execute();
        await trx.insertInto('template_upgrades').values(upgrade).execute();
        return latest_version;
      });
    },

    /**
     * Takes back a publish whose upgrade walk could not be started, if it is still the latest version (a
     * later publish supersedes it instead). Returns whether it was taken back.
     */
    unpublish(projectId: string, templateId: string, version: number): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const lowered = await trx
          .updateTable('assistant_templates')
          .set({ latest_version: version - 1 })
          .where('project_id', '=', projectId)
          .where('id', '=', templateId)
          .where('latest_version', '=', version)
          .executeTakeFirst();
        if (lowered.numUpdatedRows === 0n) return false;
        const row = await trx
          .selectFrom('assistant_template_versions')
          .select('upgrade_id')
          .where('template_id', '=', templateId)
          .where('version', '=', version)
          .executeTakeFirst();
        await trx
          .deleteFrom('assistant_template_versions')
          .where('template_id', '=', templateId)
          .where('version', '=', version)
          .execute();
        if (row?.upgrade_id) await trx.deleteFrom('template_upgrades').where('id', '=', row.upgrade_id).execute();
        return true;
      });
    },

    version(projectId: string, templateId: string, version: number): Promise<TemplateVersionRow | undefined> {
      return db
        .selectFrom('assistant_template_versions')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('template_id', '=', templateId)
        .where('version', '=', version)
        .executeTakeFirst();
    },

    versionPosition(templateId: string, id: string): Promise<Position | undefined> {
      return db
        .selectFrom('assistant_template_versions')
        .select(['created_at as createdAt', 'id'])
        .where('template_id', '=', templateId)
        .where('id', '=', id)
        .executeTakeFirst();
    },

    versions(templateId: string, page: PageRequest): Promise<Page<TemplateVersionRow>> {
      return keysetPage(
        db.selectFrom('assistant_template_versions').selectAll().where('template_id', '=', templateId),
        page,
      );
    },
  };
}

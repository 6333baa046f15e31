import type { Selectable, Updateable } from 'kysely';
import type { Db } from '../db';
import { keysetPage, type Page, type PageRequest, type Position } from '../pagination';
import type { TemplateUpgradeTable } from '../schemaExtensions';

export type TemplateUpgradeRow = Selectable<TemplateUpgradeTable>;

/** The progress of upgrade walks, one row per publish (extension, migration 008). */
export function templateUpgradesRepository(db: Db) {
  return {
    find(projectId: string, id: string): Promise<TemplateUpgradeRow | undefined> {
      return db
        .selectFrom('template_upgrades')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .executeTakeFirst();
    },

    /**
     * Records a page's progress only if no attempt recorded this page yet (`pages` still `page`): a retried
     * page activity counts its assistants once. Returns whether this write was the one.
     */
    async recordPage(id: string, page: number, changes: Updateable<TemplateUpgradeTable>): Promise<boolean> {
      const result = await db
        .updateTable('template_upgrades')
        .set({ ...changes, pages: page + 1 })
        .where('id', '=', id)
        .where('pages', '=', page)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async markFailed(id: string, failures: string, at: number): Promise<void> {
      await db
        .updateTable('template_upgrades')
        .set({ status: 'failed', failures, completed_at: at })
        .where('id', '=', id)
        .execute();
    },

    position(templateId: string, id: string): Promise<Position | undefined> {
      return db
        .selectFrom('template_upgrades')
        .select(['created_at as createdAt', 'id'])
        .where('template_id', '=', templateId)
        .where('id', '=', id)
        .executeTakeFirst();
    },

    page(templateId: string, page: PageRequest): Promise<Page<TemplateUpgradeRow>> {
      return keysetPage(db.selectFrom('template_upgrades').selectAll().where('template_id', '=', templateId), page);
    },
  };
}

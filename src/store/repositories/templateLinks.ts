import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from '../db';
import type { AssistantTable } from '../schema';
import type { AssistantTemplateLinkTable } from '../schemaExtensions';
import type { AssistantRow } from './assistants';
import type { TemplateVersionRow } from './templates';

export type TemplateLinkRow = Selectable<AssistantTemplateLinkTable>;
/** A link with its template's newest version (whether an upgrade exists). */
export type TemplateLinkView = TemplateLinkRow & { latest_version: number };

/** What a change of a template-made assistant reads, and may write. */
export interface LinkedAssistant {
  link: TemplateLinkRow;
  assistant: AssistantRow;
  /** A version of the assistant's template, read in the same transaction. */
  version: (number: number) => Promise<TemplateVersionRow | undefined>;
}

export interface LinkChange<T> {
  write?: { assistant: Updateable<AssistantTable>; link: Updateable<AssistantTemplateLinkTable> };
  result: T;
}

class LinkMoved extends Error {}
const ATTEMPTS = 5;

/** Which template version each template-made assistant follows (extension, migration 008). */
export function templateLinksRepository(db: Db) {
  const withLatest = () =>
    db
      .selectFrom('assistant_template_links as l')
      .innerJoin('assistant_templates as t', 't.id', 'l.template_id')
      .selectAll('l')
      .select('t.latest_version');
  return {
    /** The assistant and its link, in one transaction: an assistant made from a template is never half made. */
    async insert(assistant: Insertable<AssistantTable>, link: AssistantTemplateLinkTable): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('assistants').values(assistant).execute();
        await trx.insertInto('assistant_template_links').values(link).execute();
      });
    },

    find(projectId: string, assistantId: string): Promise<TemplateLinkView | undefined> {
      return withLatest()
        .where('l.project_id', '=', projectId)
        .where('l.assistant_id', '=', assistantId)
        .executeTakeFirst();
    },

    /** The links of those of `assistantIds` that were made from a template (one read for a list page). */
    forAssistants(projectId: string, assistantIds: readonly string[]): Promise<TemplateLinkView[]> {
      if (assistantIds.length === 0) return Promise.resolve([]);
      return withLatest()
        .where('l.project_id', '=', projectId)
        .where('l.assistant_id', 'in', [...assistantIds])
        .execute();
    },

    /** The next page of a template's `auto` assistants after `after` (by id): the upgrade walk's keyset. */
    async autoPage(templateId: string, after: string | null, limit: number): Promise<string[]> {
      let query = db
        .selectFrom('assistant_template_links')
        .select('assistant_id')
        .where('template_id', '=', templateId)
        .where('upgrade_policy', '=', 'auto');
      if (after !== null) query = query.where('assistant_id', '>', after);
      const rows = await query.orderBy('assistant_id').limit(limit).execute();
      return rows.map((row) => row.assistant_id);
    },

    /**
     * Changes a template-made assistant: `decide` reads its link and row (and template versions) and says what
     * to write; both rows are written in one transaction, only if the link's revision did not move since it
     * was read (an upgrade walk and the user's own modify never interleave). Retried when it moved. Returns
     * undefined when the assistant is gone or not template-made.
     */
    async change<T>(
      projectId: string,
      assistantId: string,
      decide: (current: LinkedAssistant) => Promise<LinkChange<T>> | LinkChange<T>,
    ): Promise<T | undefined> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await db.transaction().execute(async (trx) => {
            const link = await trx
              .selectFrom('assistant_template_links')
              .selectAll()
              .where('project_id', '=', projectId)
              .where('assistant_id', '=', assistantId)
              .executeTakeFirst();
            const assistant = link
              ? await trx.selectFrom('assistants').selectAll().where('id', '=', assistantId).executeTakeFirst()
              : undefined;
            if (!link || !assistant) return undefined;
            const version = (number: number) =>
              trx
                .selectFrom('assistant_template_versions')
                .selectAll()
                .where('template_id', '=', link.template_id)
                .where('version', '=', number)
                .executeTakeFirst();
            const { write, result } = await decide({ link, assistant, version });
            if (!write) return result;
            const moved = await trx
              .updateTable('assistant_template_links')
              .set({ ...write.link, revision: link.revision + 1 })
              .where('assistant_id', '=', assistantId)
              .where('revision', '=', link.revision)
              .executeTakeFirst();
            if (moved.numUpdatedRows === 0n) throw new LinkMoved();
            if (Object.keys(write.assistant).length > 0) {
              await trx.updateTable('assistants').set(write.assistant).where('id', '=', assistantId).execute();
            }
            return result;
          });
        } catch (error) {
          if (!(error instanceof LinkMoved) || attempt >= ATTEMPTS) throw error;
        }
      }
    },
  };
}

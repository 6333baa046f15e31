import { Context } from '@temporalio/activity';
import { fromJson, toJson } from '../src/store/json';
import type { TemplateUpgradeRow } from '../src/store/repositories/templateUpgrades';
import { NO_PROGRESS, type UpgradeFailure, type UpgradeProgress } from '../src/temporal/templateShared';
import { applyTemplateVersion } from '../src/templates/apply';
import type { ActivityDeps } from './index';

/** How many failures an upgrade keeps the details of (it counts them all). */
const KEPT_FAILURES = 100;

export interface UpgradePageInput {
  projectId: string;
  templateId: string;
  upgradeId: string;
  version: number;
  /** Pages recorded before this one: only the attempt that records page `page` counts its assistants. */
  page: number;
  after: string | null;
  limit: number;
}

/** Extension: the template upgrade walk's work (see workflows/templateUpgrade.ts). */
export function templateActivities({ store }: ActivityDeps) {
  return {
    /**
     * Upgrades the next page of the template's `auto` assistants and records the page's counts. Each
     * assistant's upgrade is idempotent (it never moves an assistant past or back from the target), and the
     * page's counts are recorded only if no earlier attempt recorded this page: a retry after a crash upgrades
     * what the crash left and counts every assistant once.
     */
    async upgradeTemplatePage(input: UpgradePageInput): Promise<UpgradeProgress> {
      const stored = await store.templateUpgrades.find(input.projectId, input.upgradeId);
      // The template was deleted (its upgrades with it): nothing is left to walk.
      if (!stored) return progressOf(undefined, input);
      if (stored.pages !== input.page) return progressOf(stored, input);

      const ctx = Context.current();
      const ids = await store.templateLinks.autoPage(input.templateId, input.after, input.limit);
      const tally = { processed: 0, upgraded: 0, already_current: 0, failed: 0 };
      const failures: UpgradeFailure[] = [];
      for (const assistantId of ids) {
        ctx.heartbeat();
        const outcome = await applyTemplateVersion(store, {
          projectId: input.projectId,
          assistantId,
          target: input.version,
          onlyIfOlder: true,
          upgradeId: input.upgradeId,
        });
        if (!outcome) continue; // deleted since the page was read
        tally.processed += 1;
        if (outcome.kind === 'applied' || (outcome.kind === 'already_current' && outcome.byThisUpgrade)) {
          tally.upgraded += 1;
        } else if (outcome.kind === 'already_current') {
          tally.already_current += 1;
        } else {
          tally.failed += 1;
          failures.push({ assistant_id: assistantId, message: outcome.problem });
        }
      }
      const done = ids.length < input.limit;
      const kept = fromJson<UpgradeFailure[]>(stored.failures).concat(failures).slice(0, KEPT_FAILURES);
      await store.templateUpgrades.recordPage(input.upgradeId, input.page, {
        cursor: ids[ids.length - 1] ?? stored.cursor,
        processed: stored.processed + tally.processed,
        upgraded: stored.upgraded + tally.upgraded,
        already_current: stored.already_current + tally.already_current,
        failed: stored.failed + tally.failed,
        failures: toJson(kept),
        status: done ? 'completed' : 'in_progress',
        completed_at: done ? Math.floor(Date.now() / 1000) : null,
      });
      // Whichever attempt recorded the page, the row now says where the walk stands.
      return progressOf(await store.templateUpgrades.find(input.projectId, input.upgradeId), input);
    },
  };
}

function progressOf(row: TemplateUpgradeRow | undefined, input: UpgradePageInput): UpgradeProgress {
  if (!row) return { ...NO_PROGRESS, status: 'completed', pages: input.page, cursor: input.after };
  return {
    status: row.status as UpgradeProgress['status'],
    pages: row.pages,
    cursor: row.cursor,
    processed: row.processed,
    upgraded: row.upgraded,
    already_current: row.already_current,
    failed: row.failed,
    failures: fromJson<UpgradeFailure[]>(row.failures),
  };
}

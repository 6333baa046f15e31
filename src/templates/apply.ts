import type { Store } from '../store';
import { fromJson } from '../store/json';
import { effectiveColumns, versionColumns, type Overrides } from './effective';

export type ApplyOutcome =
  | { kind: 'applied'; from: number }
  /** Already at (or past) the target; `byThisUpgrade`: an earlier attempt of the same walk moved it. */
  | { kind: 'already_current'; byThisUpgrade: boolean }
  | { kind: 'failed'; problem: string };

/**
 * Moves one template-made assistant to `target`: its template-owned settings become that version's with the
 * assistant's overrides and addendum re-applied; its own settings stay. The change is one transaction, guarded
 * against a concurrent change of the same assistant. Upgrade walks pass `onlyIfOlder` (never move an assistant
 * back, e.g. past a newer publish's walk) and their upgrade id; a user's upgrade or rollback goes anywhere.
 * Returns undefined when the assistant is gone or no longer template-made.
 */
export function applyTemplateVersion(
  store: Store,
  input: { projectId: string; assistantId: string; target: number; onlyIfOlder: boolean; upgradeId?: string },
): Promise<ApplyOutcome | undefined> {
  return store.templateLinks.change<ApplyOutcome>(input.projectId, input.assistantId, async ({ link, version }) => {
    if (link.version === input.target || (input.onlyIfOlder && link.version > input.target)) {
      const byThisUpgrade = input.upgradeId !== undefined && link.last_upgrade_id === input.upgradeId;
      return { result: { kind: 'already_current', byThisUpgrade } };
    }
    const row = await version(input.target);
    if (!row) return { result: { kind: 'failed', problem: `Version ${input.target} of the template does not exist.` } };
    const effective = effectiveColumns(
      versionColumns(row),
      fromJson<Overrides>(link.overrides),
      link.instructions_addendum,
    );
    if ('problem' in effective) return { result: { kind: 'failed', problem: effective.problem } };
    return {
      write: {
        assistant: effective.columns,
        link: { version: input.target, previous_version: link.version, last_upgrade_id: input.upgradeId ?? null },
      },
      result: { kind: 'applied', from: link.version },
    };
  });
}

import { continueAsNew, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import {
  NO_PROGRESS,
  upgradeProgressQuery,
  type TemplateUpgradeInput,
  type UpgradeProgress,
} from '../src/temporal/templateShared';
import type { Activities } from './proxies';

/**
 * Extension: after a template version is published, moves every `auto` assistant of the template to it, a
 * page at a time (keyset by assistant id). Each page is one activity that upgrades its assistants and records
 * the progress in the database, so the walk resumes where it stopped after a worker dies and its progress is
 * readable after the workflow closed. It continues as new every `pagesPerRun` pages (or when Temporal suggests
 * it), so a template with any number of assistants never approaches the history limits.
 */
export async function templateUpgradeWorkflow(input: TemplateUpgradeInput): Promise<UpgradeProgress> {
  let progress = input.progress ?? NO_PROGRESS;
  setHandler(upgradeProgressQuery, () => progress);
  const { upgradeTemplatePage } = proxyActivities<Activities>({
    startToCloseTimeout: '5 minutes',
    // A worker that dies mid-page is noticed this fast; the page is retried and counts once.
    heartbeatTimeout: input.heartbeatTimeoutMs,
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
  });

  for (let page = 0; page < input.pagesPerRun; page++) {
    progress = await upgradeTemplatePage({
      projectId: input.projectId,
      templateId: input.templateId,
      upgradeId: input.upgradeId,
      version: input.version,
      page: progress.pages,
      after: progress.cursor,
      limit: input.pageSize,
    });
    if (progress.status !== 'in_progress') return progress;
    if (workflowInfo().continueAsNewSuggested) break;
    if (input.pauseMs > 0) await sleep(input.pauseMs);
  }
  return continueAsNew<typeof templateUpgradeWorkflow>({ ...input, progress });
}

import type { Client } from '@temporalio/client';
import { TEMPLATE_UPGRADE_WORKFLOW, type TemplateUpgradeInput } from './templateShared';

export interface TemplateUpgradeSettings {
  pageSize: number;
  pagesPerRun: number;
  pauseMs: number;
  heartbeatTimeoutMs: number;
}

/** Extension: how the API starts (and an operator queries) the upgrade walk a template publish begins. */
export function templateUpgradeEngine(client: Client, taskQueue: string, settings: TemplateUpgradeSettings) {
  return {
    async start(input: Pick<TemplateUpgradeInput, 'projectId' | 'templateId' | 'upgradeId' | 'version'>) {
      await client.workflow.start(TEMPLATE_UPGRADE_WORKFLOW, {
        workflowId: input.upgradeId,
        taskQueue,
        args: [{ ...input, ...settings } satisfies TemplateUpgradeInput],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
        workflowTaskTimeout: '4s',
        staticSummary: `Upgrade of ${input.templateId} to version ${input.version}`,
      });
    },
  };
}

export type TemplateUpgradeEngine = ReturnType<typeof templateUpgradeEngine>;

import { defineQuery } from '@temporalio/workflow';

/**
 * Extension: definitions the API and the template upgrade workflow share (pure values and types only;
 * workflow code imports this module).
 */
export const TEMPLATE_UPGRADE_WORKFLOW = 'templateUpgradeWorkflow';

export interface UpgradeFailure {
  assistant_id: string | null;
  message: string;
}

/** Where an upgrade walk stands; the same counts its database row shows. */
export interface UpgradeProgress {
  status: 'in_progress' | 'completed' | 'failed';
  /** Pages done (the key that makes a retried page count once). */
  pages: number;
  /** The last assistant id walked; the next page starts after it. */
  cursor: string | null;
  processed: number;
  upgraded: number;
  already_current: number;
  failed: number;
  failures: UpgradeFailure[];
}

export interface TemplateUpgradeInput {
  projectId: string;
  templateId: string;
  upgradeId: string;
  /** The version `auto` assistants are moved to. */
  version: number;
  pageSize: number;
  /** Pages per workflow run before it continues as new (bounded history however many assistants). */
  pagesPerRun: number;
  /** A pause between pages (0: none): paces a large walk. */
  pauseMs: number;
  heartbeatTimeoutMs: number;
  /** Where the previous run of this walk stopped (continue-as-new). */
  progress?: UpgradeProgress;
}

export const upgradeProgressQuery = defineQuery<UpgradeProgress>('progress');

export const NO_PROGRESS: UpgradeProgress = {
  status: 'in_progress',
  pages: 0,
  cursor: null,
  processed: 0,
  upgraded: 0,
  already_current: 0,
  failed: 0,
  failures: [],
};

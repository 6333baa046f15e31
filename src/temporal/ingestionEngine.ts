import type { Client } from '@temporalio/client';
import {
  BATCH_INGESTION_WORKFLOW,
  FILE_INGESTION_WORKFLOW,
  type BatchIngestionInput,
  type FileIngestionInput,
} from './ingestionShared';

/**
 * How the API starts ingestion workflows and cancels a batch's. A start comes before the rows it ingests are
 * written: a workflow whose rows never appear (the API died in between) ends having written nothing, while
 * rows written for a workflow that never started could only sit `in_progress` forever.
 */
export function ingestionEngine(client: Client, taskQueue: string) {
  return {
    async startFile(input: FileIngestionInput): Promise<void> {
      await client.workflow.start(FILE_INGESTION_WORKFLOW, {
        workflowId: input.ingestionId,
        taskQueue,
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        staticSummary: `Ingest ${input.fileId} into ${input.vectorStoreId}`,
      });
    },

    async startBatch(workflowId: string, input: BatchIngestionInput): Promise<void> {
      await client.workflow.start(BATCH_INGESTION_WORKFLOW, {
        workflowId,
        taskQueue,
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        staticSummary: `Ingest ${input.files.length} files into ${input.vectorStoreId}`,
      });
    },

    /**
     * Asks the batch's workflow to stop. Best effort: the files were already marked `cancelled`, and every step
     * of their ingestion checks that before writing, so a request that does not arrive (the workflow finished,
     * Temporal is unreachable) only lets a step that was running finish its work for nothing.
     */
    async cancelBatch(workflowId: string): Promise<boolean> {
      try {
        await client.workflow.getHandle(workflowId).cancel();
        return true;
      } catch {
        return false;
      }
    },
  };
}

export type IngestionEngine = ReturnType<typeof ingestionEngine>;

import {
  ActivityFailure,
  CancellationScope,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
} from '@temporalio/workflow';
import type { BatchIngestionInput, FileIngestionInput, IngestionOutcome } from '../src/temporal/ingestionShared';
import type { Activities } from './proxies';

/**
 * One file's ingestion into a vector store: claim → extract → chunk and index keywords → embed (when an
 * embeddings endpoint is configured) → complete. Every step is an activity that stores its result and whose
 * retry replaces what an earlier attempt stored (see activities/vectorStores.ts), so a worker killed at any
 * point costs a retry, never a duplicate. A step that fails for good ends the file `failed` (server_error); a
 * cancel (the batch's) ends it `cancelled`.
 */
export async function vectorStoreFileWorkflow(input: FileIngestionInput): Promise<IngestionOutcome> {
  const key = {
    projectId: input.projectId,
    vectorStoreId: input.vectorStoreId,
    fileId: input.fileId,
    ingestionId: input.ingestionId,
  };
  const steps = proxyActivities<Activities>({
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: input.heartbeatTimeoutMs,
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
  });
  // The API writes the file's row right after starting this workflow: wait for it up to about a minute.
  const claim = proxyActivities<Activities>({
    // One quick read: a worker that dies holding it is noticed within seconds.
    startToCloseTimeout: '5 seconds',
    retry: {
      initialInterval: '200 milliseconds',
      backoffCoefficient: 2,
      maximumInterval: '5 seconds',
      maximumAttempts: 16,
    },
  });
  const end = proxyActivities<Activities>({
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
  });

  try {
    if ((await claim.claimVectorStoreFile(key).catch(() => 'stop' as const)) === 'stop') return 'gone';
    if ((await steps.extractVectorStoreFile(key)) === 'stop') return 'ended';
    if ((await steps.chunkVectorStoreFile({ ...key, chunking: input.chunking })) === 'stop') return 'ended';
    if ((await steps.embedVectorStoreFile(key)) === 'stop') return 'gone';
    await steps.completeVectorStoreFile(key);
    return 'completed';
  } catch (error) {
    if (isCancellation(error)) {
      await CancellationScope.nonCancellable(() =>
        end.endVectorStoreFile({ ...key, status: 'cancelled', error: null }),
      );
      throw error;
    }
    const cause = error instanceof ActivityFailure && error.cause ? error.cause.message : String(error);
    await end.endVectorStoreFile({
      ...key,
      status: 'failed',
      error: { code: 'server_error', message: `The file could not be indexed: ${cause}` },
    });
    return 'failed';
  }
}

/**
 * A batch's files (or a new store's), each as a child workflow, `concurrency` at a time. A cancel stops the
 * children in flight (they end their files `cancelled`) and starts no more; the API has already marked the
 * batch's waiting files `cancelled`.
 */
export async function vectorStoreBatchWorkflow(input: BatchIngestionInput): Promise<Record<IngestionOutcome, number>> {
  const outcomes: Record<IngestionOutcome, number> = { completed: 0, ended: 0, failed: 0, cancelled: 0, gone: 0 };
  let next = 0;
  const lane = async () => {
    while (next < input.files.length) {
      const file = input.files[next++]!;
      try {
        const outcome = await executeChild(vectorStoreFileWorkflow, {
          workflowId: file.ingestionId,
          args: [
            {
              ...file,
              projectId: input.projectId,
              vectorStoreId: input.vectorStoreId,
              heartbeatTimeoutMs: input.heartbeatTimeoutMs,
              concurrency: input.concurrency,
            },
          ],
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          staticSummary: `Ingest ${file.fileId} into ${input.vectorStoreId}`,
        });
        outcomes[outcome] += 1;
      } catch (error) {
        if (isCancellation(error)) throw error;
        outcomes.failed += 1; // the child ended its file itself; the batch goes on
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(input.concurrency, input.files.length)) }, lane));
  return outcomes;
}

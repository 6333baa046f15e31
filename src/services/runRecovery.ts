import { fromJson } from '../store/json';
import { closeOpenRunItems } from '../store/runEnding';
import type { DueLaunch } from '../store/repositories/runLaunches';
import type { RunRow } from '../store/repositories/runs';
import { runStatus } from '../streaming/events';
import { TERMINAL_STATUSES, type RunState, type RunStatus, type RunWorkflowInput } from '../temporal/shared';
import { runObject } from '../wire/runs';
import { nowSeconds, type ServiceDeps } from './context';

/**
 * A new run's start is left to the process that created it for this long; after that (it died, or Temporal
 * did not answer) a sweeper starts it. Short enough that a run survives its API's crash by seconds.
 */
export const LAUNCH_GRACE_MS = 3_000;
const SWEEP_BATCH = 50;
const MAX_RETRY_MS = 30_000;

/**
 * What keeps every accepted run driven by a workflow, whatever crashed: starting the workflows of runs left in
 * the start outbox (their API died, or Temporal did not answer), and ending runs whose workflow closed or
 * vanished without finishing them, which would otherwise hold their thread forever.
 */
export function runRecovery(deps: ServiceDeps) {
  const { store, engine, runSettings, logger } = deps;

  function workflowInput(row: RunRow): RunWorkflowInput {
    return {
      projectId: row.project_id,
      runId: row.id,
      threadId: row.thread_id,
      assistantId: row.assistant_id,
      expiresAt: row.expires_at!,
      maxSteps: runSettings.maxSteps,
      modelRetry: runSettings.modelRetry,
      heartbeatTimeoutMs: runSettings.heartbeatTimeoutMs,
      codeInterpreter: runSettings.codeInterpreter,
    };
  }

  /** Starts the run's workflow (idempotently) and takes the run out of the outbox. */
  async function start(row: RunRow): Promise<void> {
    await engine.start(workflowInput(row));
    await store.runLaunches.done(row.id);
  }

  /** One due launch: claimed (so one sweeper tries it), then started, unless its run has gone or ended. */
  async function sweepOne(launch: DueLaunch): Promise<boolean> {
    const backoff = Math.min(MAX_RETRY_MS, 1_000 * 2 ** launch.attempts);
    if (!(await store.runLaunches.claim(launch, Date.now() + backoff))) return false;
    const row = await store.runs.findById(launch.projectId, launch.runId);
    // A run that ended (its workflow ran; only its outbox row was left) has nothing to start. A deleted run
    // takes its outbox row with it (foreign key), so `row` is there unless that raced this read.
    if (!row || TERMINAL_STATUSES.includes(row.status as RunStatus)) {
      await store.runLaunches.done(launch.runId);
      return false;
    }
    try {
      await start(row);
      logger.warn({ runId: row.id, attempts: launch.attempts + 1 }, 'started the workflow of a run left unstarted');
      return true;
    } catch (error) {
      logger.error({ err: error, runId: row.id, retryInMs: backoff }, 'could not start the workflow of a run');
      return false;
    }
  }

  /**
   * The run's workflow closed without finishing the run (terminated from the Temporal UI, timed out, or its
   * history gone past retention): the row would stay active and lock the thread forever. End it as failed,
   * with its open step and message, and return the row as it now is. A run still waiting in the start
   * outbox has no workflow yet and is left alone (the sweeper starts it).
   */
  async function reconcileClosed(row: RunRow): Promise<RunRow> {
    if (TERMINAL_STATUSES.includes(row.status as RunStatus)) return row;
    // The outbox first: a launch leaves it only after its workflow started, so a run found out of it whose
    // workflow is missing really lost it (asked the other way round, a start could land in between).
    if (await store.runLaunches.isPending(row.id)) return row;
    if ((await engine.workflowState(row.id)) === 'open') return row;
    const at = nowSeconds();
    const lastError = {
      code: 'server_error' as const,
      message: "The run's workflow ended in Temporal before the run finished.",
    };
    await closeOpenRunItems(store, {
      projectId: row.project_id,
      runId: row.id,
      stepStatus: 'failed',
      messageReason: 'run_failed',
      lastError,
      at,
    });
    const failed: RunState = {
      status: 'failed',
      version: row.version + 1,
      required_action: null,
      last_error: lastError,
      expires_at: null,
      started_at: row.started_at,
      cancelled_at: row.cancelled_at,
      failed_at: at,
      completed_at: row.completed_at,
      incomplete_details: null,
      usage: fromJson<RunState['usage']>(row.usage),
    };
    await store.runEvents.append(row.id, [runStatus(runObject(row, failed), failed.version)], {
      runState: { projectId: row.project_id, state: failed },
    });
    logger.warn({ runId: row.id }, 'run workflow closed without finishing the run; marked failed');
    return (await store.runs.findById(row.project_id, row.id)) ?? row;
  }

  return {
    start,
    reconcileClosed,

    /**
     * Whether the thread held by active run `runId` is free after all: true when that run's workflow had
     * closed or vanished and the run was ended here (see reconcileClosed).
     */
    async releasedBy(projectId: string, runId: string | undefined): Promise<boolean> {
      const row = runId === undefined ? undefined : await store.runs.findById(projectId, runId);
      return row !== undefined && TERMINAL_STATUSES.includes((await reconcileClosed(row)).status as RunStatus);
    },

    /** Starts the workflows of runs whose start is overdue; returns how many it started. */
    async sweep(): Promise<number> {
      let started = 0;
      for (const launch of await store.runLaunches.due(Date.now(), SWEEP_BATCH)) {
        if (await sweepOne(launch)) started++;
      }
      return started;
    },
  };
}

export type RunRecovery = ReturnType<typeof runRecovery>;

/**
 * Sweeps the start outbox every `intervalMs` until stopped. Every API process runs one; claims keep them from
 * trying the same start at once, and a start tried twice is harmless (workflow id = run id).
 */
export function startLaunchSweeper(recovery: RunRecovery, logger: ServiceDeps['logger'], intervalMs: number) {
  let sweeping: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (sweeping) return; // a slow sweep (Temporal unreachable) is not stacked up behind
    sweeping = recovery
      .sweep()
      .then(
        () => undefined,
        (error: unknown) => logger.error({ err: error }, 'run launch sweep failed'),
      )
      .finally(() => {
        sweeping = undefined;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop(): Promise<void> {
      clearInterval(timer);
      await sweeping;
    },
  };
}

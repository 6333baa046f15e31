import { createHash } from 'node:crypto';
import type { RunStep } from 'openai/resources/beta/threads/runs/steps';
import type { Insertable } from 'kysely';
import { badRequest, notFound } from '../errors';
import { newObjectId } from '../ids';
import { allInOrder } from '../settled';
import { memoryForNewRun } from '../model/memory';
import type { ListQuery } from '../schemas/list';
import type { CreateRunBody, CreateThreadAndRunBody, ModifyRunBody, SubmitToolOutputsBody } from '../schemas/runs';
import { toJson } from '../store/json';
import { insertLaunch, type RunLaunch } from '../store/runLaunch';
import type { AssistantRow } from '../store/repositories/assistants';
import type { ThreadRow } from '../store/repositories/threads';
import type { RunRow } from '../store/repositories/runs';
import type { RunStepRow } from '../store/repositories/runSteps';
import type { MessageTable, RunTable } from '../store/schema';
import { runCreated, runStatus, threadCreated } from '../streaming/events';
import { followRun, type FollowSink } from '../streaming/follow';
import { RunWorkflowClosed } from '../temporal/runEngine';
import { TERMINAL_STATUSES, type RunState, type RunStatus } from '../temporal/shared';
import { listEnvelope, threadObject } from '../wire/objects';
import { withoutResultContent } from '../tools/fileSearchResults';
import { runObject, runStepObject } from '../wire/runs';
import { nowSeconds, type RequestScope, type ServiceDeps } from './context';
import { newMessageRow } from './messages';
import { messagesRefs, requireFiles, toolResourceRefs } from './fileRefs';
import {
  addToThreadStore,
  fileSearchAttachments,
  resolveFileSearchResources,
  vectorStoreMaker,
} from './fileSearchResources';
import { pageRequest } from './paging';
import { assertRunCapacity } from './runQuota';
import { runRecovery, LAUNCH_GRACE_MS } from './runRecovery';
import { newThreadRows } from './threads';

type RunOverrides = Omit<CreateRunBody, 'additional_messages'>;

export function runsService(deps: ServiceDeps) {
  const { store, engine, runSettings } = deps;
  const recovery = runRecovery(deps);

  async function requireAssistant(scope: RequestScope, id: string): Promise<AssistantRow> {
    const assistant = await store.assistants.find(scope.projectId, id);
    if (!assistant) throw notFound('assistant', id);
    return assistant;
  }

  async function requireThread(scope: RequestScope, threadId: string): Promise<void> {
    if (!(await store.threads.find(scope.projectId, threadId))) throw notFound('thread', threadId);
  }

  async function load(scope: RequestScope, threadId: string, runId: string): Promise<RunRow> {
    const row = await store.runs.find(scope.projectId, threadId, runId);
    if (row) return row;
    await requireThread(scope, threadId);
    throw notFound('run', runId);
  }

  /** The run row: the assistant's settings with the request's overrides applied, as OpenAI reports them. */
  function runRow(
    scope: RequestScope,
    threadId: string,
    assistant: AssistantRow,
    body: RunOverrides,
  ): Insertable<RunTable> {
    const { id, createdAt } = newObjectId('run');
    return {
      project_id: scope.projectId,
      api_key_id: scope.apiKeyId ?? null,
      id,
      thread_id: threadId,
      assistant_id: assistant.id,
      created_at: createdAt,
      version: 0,
      status: 'queued',
      expires_at: createdAt + runSettings.expirySeconds,
      model: body.model ?? assistant.model,
      instructions: body.instructions ?? assistant.instructions ?? '',
      additional_instructions: body.additional_instructions ?? null,
      tools: body.tools ? toJson(body.tools) : assistant.tools,
      metadata: toJson(body.metadata ?? {}),
      temperature: body.temperature ?? assistant.temperature,
      top_p: body.top_p ?? assistant.top_p,
      reasoning_effort: body.reasoning_effort ?? assistant.reasoning_effort,
      max_prompt_tokens: body.max_prompt_tokens ?? null,
      max_completion_tokens: body.max_completion_tokens ?? null,
      truncation_strategy: toJson({ type: 'auto', last_messages: null, ...(body.truncation_strategy ?? {}) }),
      tool_choice: toJson(body.tool_choice ?? 'auto'),
      parallel_tool_calls: body.parallel_tool_calls === false ? 0 : 1,
      response_format: body.response_format
        ? toJson(body.response_format)
        : (assistant.response_format ?? toJson('auto')),
      memory: memoryForNewRun(body.metadata, assistant.metadata),
    };
  }

  /**
   * Writes the run — with its thread when it brings one, the messages it adds, its outbox entry and first
   * events — in one transaction (the thread lock is the database's unique index), then starts its workflow.
   * The run is accepted once written: if this process dies or Temporal does not answer before the start,
   * the launch sweeper starts it within seconds (runRecovery.ts), so the answer is the queued run either way.
   */
  async function launch(
    scope: RequestScope,
    row: Insertable<RunTable>,
    messages: Insertable<MessageTable>[],
    thread?: RunLaunch['thread'],
  ): Promise<RunRow> {
    const writes: RunLaunch = {
      thread,
      messages,
      run: row,
      startDueAt: Date.now() + LAUNCH_GRACE_MS,
      // `thread.created` first when the run brings its thread; the workflow's own start is `in_progress`.
      events: (run: RunRow, threadRow: ThreadRow | undefined) => {
        const created = runObject(run);
        return [
          ...(threadRow ? [threadCreated(threadObject(threadRow))] : []),
          runCreated(created),
          runStatus(created, run.version),
        ];
      },
    };
    let created = await insertLaunch(store, writes);
    if (!created) {
      const active = await store.runs.activeRunId(scope.projectId, row.thread_id);
      // A thread held by a run whose workflow no longer exists frees itself here rather than staying locked.
      if (await recovery.releasedBy(scope.projectId, active)) created = await insertLaunch(store, writes);
      if (!created) throw badRequest(`Thread ${row.thread_id} already has an active run ${active ?? 'in progress'}.`);
    }
    try {
      await recovery.start(created);
    } catch (error) {
      deps.logger.warn({ err: error, runId: created.id }, 'run workflow not started yet; the launch sweeper will');
    }
    return created;
  }

  /**
   * Writes an Update's resulting snapshot before answering (version-guarded, so it never overwrites a newer
   * one from the workflow): a client that polls right after a 200 must not read the state it just left.
   */
  async function applied(scope: RequestScope, runId: string, state: RunState): Promise<RunState> {
    await store.runs.applyState(scope.projectId, runId, state);
    return state;
  }

  /** Ends the run if its workflow closed or vanished without finishing it (see runRecovery). */
  async function reconcileClosed(scope: RequestScope, threadId: string, runId: string): Promise<RunRow> {
    return recovery.reconcileClosed(await load(scope, threadId, runId));
  }

  return {
    async create(scope: RequestScope, threadId: string, body: CreateRunBody) {
      // Both looked up at once; a missing thread is still the error reported first.
      const [, assistant] = await allInOrder([
        requireThread(scope, threadId),
        requireAssistant(scope, body.assistant_id),
      ]);
      await requireFiles(store, scope, messagesRefs(body.additional_messages, 'additional_messages'));
      await assertRunCapacity(store, scope);
      // Files attached for file_search go into the thread's store before the run can search it.
      const attached = fileSearchAttachments(body.additional_messages);
      await addToThreadStore(store, vectorStoreMaker(deps), scope, threadId, attached);
      const messages = (body.additional_messages ?? []).map((message) => newMessageRow(scope, threadId, message));
      const row = runRow(scope, threadId, assistant, body);
      return runObject(await launch(scope, row, messages));
    },

    /** The thread, its messages and the run are written in one transaction: never a thread without its run. */
    async createThreadAndRun(scope: RequestScope, body: CreateThreadAndRunBody) {
      const assistant = await requireAssistant(scope, body.assistant_id);
      await assertRunCapacity(store, scope);
      const { thread: threadBody, tool_resources, ...overrides } = body;
      // Checked here to name params as this request has them (`thread.messages[0]…`); nothing is written yet.
      await requireFiles(store, scope, [
        ...messagesRefs(threadBody?.messages, 'thread.messages'),
        ...toolResourceRefs(threadBody?.tool_resources, 'thread.tool_resources'),
        ...toolResourceRefs(tool_resources, 'tool_resources'),
      ]);
      const threadResources = await resolveFileSearchResources(
        vectorStoreMaker(deps),
        scope,
        threadBody?.tool_resources ?? tool_resources,
        threadBody?.tool_resources ? 'thread.tool_resources' : 'tool_resources',
        fileSearchAttachments(threadBody?.messages),
      );
      const thread = newThreadRows(scope, { ...(threadBody ?? {}), tool_resources: threadResources });
      const row = runRow(scope, thread.row.id, assistant, overrides);
      return runObject(await launch(scope, row, [], thread));
    },

    async retrieve(scope: RequestScope, threadId: string, runId: string) {
      return runObject(await load(scope, threadId, runId));
    },

    async modify(scope: RequestScope, threadId: string, runId: string, body: ModifyRunBody) {
      await load(scope, threadId, runId);
      if (body.metadata !== undefined) await store.runs.updateMetadata(scope.projectId, runId, body.metadata ?? {});
      return runObject(await load(scope, threadId, runId));
    },

    async list(scope: RequestScope, threadId: string, query: ListQuery) {
      await requireThread(scope, threadId);
      const page = await pageRequest(query, 'run_', (cursor) => store.runs.position(scope.projectId, threadId, cursor));
      const { rows, hasMore } = await store.runs.page(scope.projectId, threadId, page);
      return listEnvelope(
        rows.map((row) => runObject(row)),
        hasMore,
      );
    },

    async cancel(scope: RequestScope, threadId: string, runId: string) {
      // The stored status already rules some requests out: answer those without a Temporal round trip.
      const row = await load(scope, threadId, runId);
      const refuse = (status: string) => badRequest(`Cannot cancel run with status '${status}'.`);
      if (isTerminal(row.status) || row.status === 'cancelling') throw refuse(row.status);
      try {
        return runObject(row, await applied(scope, runId, await engine.cancel(runId)));
      } catch (error) {
        if (!(error instanceof RunWorkflowClosed)) throw error;
        throw refuse((await reconcileClosed(scope, threadId, runId)).status);
      }
    },

    /**
     * Only a finished run is refused from the stored status. An active one goes to the workflow, whose
     * validator has the last word: a client retrying the very same body after a lost response then gets the
     * first submission's answer (same update id) instead of a 400 for the `queued` run it caused.
     */
    async submitToolOutputs(scope: RequestScope, threadId: string, runId: string, body: SubmitToolOutputsBody) {
      const row = await load(scope, threadId, runId);
      const refuse = (status: string) => badRequest(`Runs in status "${status}" do not accept tool outputs.`);
      if (isTerminal(row.status)) throw refuse(row.status);
      // A streamed answer starts right after the `requires_action` these outputs answer, so it opens with that
      // tool_calls step completing; read before the submission moves the run on.
      const resumeAfter = body.stream ? await store.runEvents.lastSeqOf(runId, 'thread.run.requires_action') : 0;
      // The outputs go to the database first, under the submission's own key; the workflow gets only their call
      // ids and that key. Outputs far larger than a Temporal payload may be then resume the run like any other,
      // and an identical retry (same key) stores the same rows again and gets the first submission's answer.
      const submission = submissionKey(runId, body.tool_outputs);
      await store.toolOutputs.upsert(
        body.tool_outputs.map((o) => ({
          project_id: scope.projectId,
          run_id: runId,
          source: submission,
          call_id: o.tool_call_id,
          step_id: null,
          output: o.output,
          call: null,
          arguments: null,
          created_at: nowSeconds(),
        })),
      );
      try {
        const payload = {
          tool_outputs: body.tool_outputs.map((o) => ({ tool_call_id: o.tool_call_id })),
          stored_as: submission,
        };
        const state = await engine.submitToolOutputs(runId, payload, submission);
        return { run: runObject(row, await applied(scope, runId, state)), resumeAfter };
      } catch (error) {
        if (!(error instanceof RunWorkflowClosed)) throw error;
        throw refuse((await reconcileClosed(scope, threadId, runId)).status);
      }
    },

    /** Streams the run's log after `afterSeq` into `sink` until the run stops for the client (see followRun). */
    follow(
      scope: RequestScope,
      threadId: string,
      runId: string,
      afterSeq: number,
      sink: FollowSink,
      signal: AbortSignal,
    ) {
      return followRun({
        reconcile: async () => {
          await reconcileClosed(scope, threadId, runId);
        },
        store,
        bus: deps.bus,
        projectId: scope.projectId,
        runId,
        afterSeq,
        sink,
        signal,
        keepAliveMs: deps.streaming.keepAliveMs,
        pollMs: deps.streaming.pollMs,
      });
    },

    /** `includeContent`: `include[]=step_details.tool_calls[*].file_search.results[*].content` was asked. */
    async listSteps(scope: RequestScope, threadId: string, runId: string, query: ListQuery, includeContent = false) {
      await load(scope, threadId, runId);
      const page = await pageRequest(query, 'step_', (cursor) =>
        store.runSteps.position(scope.projectId, runId, cursor),
      );
      const { rows, hasMore } = await store.runSteps.page(scope.projectId, runId, page);
      return listEnvelope(
        rows.map((row) => stepShown(row, includeContent)),
        hasMore,
      );
    },

    async retrieveStep(scope: RequestScope, threadId: string, runId: string, stepId: string, includeContent = false) {
      await load(scope, threadId, runId);
      const row = await store.runSteps.find(scope.projectId, runId, stepId);
      if (!row) throw notFound('run step', stepId);
      return stepShown(row, includeContent);
    },
  };
}

/** A step as the API shows it: file_search results carry their text only when `include[]` asked for it. */
function stepShown(row: RunStepRow, includeContent: boolean): RunStep {
  const step = runStepObject(row);
  return includeContent ? step : { ...step, step_details: withoutResultContent(step.step_details) };
}

/**
 * A submission's key, from its run and its exact outputs: the Update id (Temporal answers a repeated id with
 * the first Update's result) and the key its stored outputs live under.
 */
function submissionKey(runId: string, outputs: SubmitToolOutputsBody['tool_outputs']): string {
  const hash = createHash('sha256').update(runId).update(JSON.stringify(outputs)).digest('hex').slice(0, 32);
  return `submit-${hash}`;
}

export function isTerminal(status: string): boolean {
  return TERMINAL_STATUSES.includes(status as RunStatus);
}

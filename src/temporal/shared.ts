import { defineSearchAttributeKey } from '@temporalio/common';
import type { CodeInterpreterSettings } from '../sandbox/shared';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

/**
 * Definitions both sides of Temporal share: the API that starts and messages run workflows, and the worker
 * that runs them. Pure values and types only (no Node built-ins): workflow code imports this module too.
 */
export const ThreadIdKey = defineSearchAttributeKey('ThreadId', 'KEYWORD');
export const AssistantIdKey = defineSearchAttributeKey('AssistantId', 'KEYWORD');
export const RunStatusKey = defineSearchAttributeKey('RunStatus', 'KEYWORD');
/** The run's project, so operators can filter one tenant's runs in the Temporal UI. */
export const ProjectIdKey = defineSearchAttributeKey('ProjectId', 'KEYWORD');

/** Registered on the embedded dev server at start (`--search-attribute Name=Type`) and by the compose setup. */
export const SEARCH_ATTRIBUTES = [ThreadIdKey, AssistantIdKey, RunStatusKey, ProjectIdKey] as const;

export const RUN_WORKFLOW = 'runWorkflow';

export type RunStatus =
  | 'queued'
  | 'in_progress'
  | 'requires_action'
  | 'cancelling'
  | 'cancelled'
  | 'failed'
  | 'completed'
  | 'incomplete'
  | 'expired';

export const ACTIVE_STATUSES: readonly RunStatus[] = ['queued', 'in_progress', 'requires_action', 'cancelling'];
export const TERMINAL_STATUSES: readonly RunStatus[] = ['cancelled', 'failed', 'completed', 'incomplete', 'expired'];

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface FunctionToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface RunError {
  code: 'server_error' | 'rate_limit_exceeded' | 'invalid_prompt';
  message: string;
}

/**
 * The part of a run the workflow owns. The workflow persists it on every transition with a higher
 * `version`; the API merges it with the settings it stored at creation to build the wire object.
 */
export interface RunState {
  status: RunStatus;
  version: number;
  required_action: { type: 'submit_tool_outputs'; submit_tool_outputs: { tool_calls: FunctionToolCall[] } } | null;
  last_error: RunError | null;
  expires_at: number | null;
  started_at: number | null;
  cancelled_at: number | null;
  failed_at: number | null;
  completed_at: number | null;
  incomplete_details: { reason: 'max_completion_tokens' | 'max_prompt_tokens' } | null;
  usage: Usage | null;
}

/** Workflow input: ids and small settings only, never message bodies (Temporal payloads are capped). */
export interface RunWorkflowInput {
  projectId: string;
  runId: string;
  threadId: string;
  assistantId: string;
  /** unix seconds; at this moment a run still working or waiting ends `expired`. */
  expiresAt: number;
  maxSteps: number;
  /**
   * Runs started before the tool seam listed the built-in tools they declared here and failed at once when it
   * was not empty; kept so those histories replay. New runs leave it out.
   */
  unsupportedTools?: string[];
  modelRetry: { maximumAttempts: number; initialIntervalMs: number };
  /** Where the code interpreter's sandbox workers poll, and how long to wait for them (absent in older runs). */
  codeInterpreter?: CodeInterpreterSettings;
  heartbeatTimeoutMs: number;
}

/** A call the server executes itself: a built-in tool, or (extension) a server-side function. */
export type ServerToolCall =
  | {
      id: string;
      type: 'code_interpreter' | 'file_search';
      /** The model's arguments (small: a search query, a cell of code). */
      arguments: string;
    }
  | { id: string; type: 'function'; name: string; arguments: string; executor: ServerFunctionSchedule };

/**
 * How the run workflow schedules a server-side function's call: the activity, its task queue and its own
 * retry policy and timeout. Never an endpoint or a secret: workflow histories are visible in the Temporal UI.
 */
export type ServerFunctionSchedule =
  | { kind: 'http'; timeoutMs: number; maxAttempts: number; initialRetryMs: number }
  | {
      kind: 'temporal_activity';
      activity: string;
      taskQueue: string;
      timeoutMs: number;
      maxAttempts: number;
      initialRetryMs: number;
    };

/**
 * The one argument an operator's Temporal activity receives for a call of its server-side tool (snake_case:
 * workers in any Temporal SDK read it). It returns the output: a string, or any JSON value (sent as its JSON).
 */
export interface ServerToolInvocation {
  tool: string;
  /** The model's arguments, parsed (the raw text when the model wrote something that is not JSON). */
  arguments: unknown;
  call_id: string;
  run_id: string;
  thread_id: string;
  assistant_id: string;
  project_id: string;
}

/**
 * Tool outputs for a run in `requires_action`. Callers that talk to Temporal directly (the Signal) send the REST
 * body as is, outputs inline. The API stores the outputs in the database first and sends only the call ids
 * with `stored_as`, the submission's key: outputs can be far larger than a Temporal payload may be.
 */
export interface ToolOutputsPayload {
  tool_outputs: Array<{ tool_call_id: string; output?: string }>;
  stored_as?: string;
}

/** A tool_calls step completing with the client's outputs (and the results the server already has). */
export interface ToolStepCompletion {
  projectId: string;
  /** Absent in runs recorded before built-in tools (their outputs all came inline). */
  runId?: string;
  stepId: string;
  /** The client's outputs when they came inline (the Signal, and runs recorded before stored outputs). */
  outputs: Array<{ tool_call_id: string; output: string }>;
  /** The key under which the API stored the client's outputs (see migration 007). */
  storedAs?: string;
  completedAt: number;
}

/** After tool outputs: the step completes, then the run's `queued` snapshot is written (`resumeRun`). */
export type ResumeRun = ToolStepCompletion & { runId: string; state: RunState };

export const getRunQuery = defineQuery<RunState>('getRun');
export const submitToolOutputsUpdate = defineUpdate<RunState, [ToolOutputsPayload]>('submitToolOutputs');
export const cancelRunUpdate = defineUpdate<RunState, []>('cancelRun');
/**
 * For callers that talk to Temporal directly (another workflow, the CLI, the UI). Same payload as the REST
 * body; an invalid one is logged and ignored.
 */
export const toolOutputsSignal = defineSignal<[ToolOutputsPayload]>('submit_tool_outputs');

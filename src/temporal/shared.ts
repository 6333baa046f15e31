import { defineSearchAttributeKey } from '@temporalio/common';
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
  /** Tool types the run declares that Threadline cannot execute yet; a non-empty list fails the run at once. */
  unsupportedTools: string[];
  modelRetry: { maximumAttempts: number; initialIntervalMs: number };
  heartbeatTimeoutMs: number;
}

/** The REST body of submit_tool_outputs, used as is for the Update and for the Signal. */
export interface ToolOutputsPayload {
  tool_outputs: Array<{ tool_call_id: string; output: string }>;
}

export const getRunQuery = defineQuery<RunState>('getRun');
export const submitToolOutputsUpdate = defineUpdate<RunState, [ToolOutputsPayload]>('submitToolOutputs');
export const cancelRunUpdate = defineUpdate<RunState, []>('cancelRun');
/**
 * For callers that talk to Temporal directly (another workflow, the CLI, the UI). Same payload as the REST
 * body; an invalid one is logged and ignored.
 */
export const toolOutputsSignal = defineSignal<[ToolOutputsPayload]>('submit_tool_outputs');

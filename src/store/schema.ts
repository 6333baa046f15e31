import type { Generated } from 'kysely';

/**
 * Table shapes as Kysely sees them. JSON columns are TEXT in both dialects and pass through `store/json.ts`;
 * timestamps are integer unix seconds; every row carries `project_id` so tenancy needs no data migration.
 */
export interface ProjectTable {
  id: string;
  name: string;
  created_at: number;
}

export interface AssistantTable {
  project_id: string;
  id: string;
  created_at: number;
  name: string | null;
  description: string | null;
  model: string;
  instructions: string | null;
  tools: string;
  tool_resources: string | null;
  metadata: string;
  temperature: number | null;
  top_p: number | null;
  response_format: string | null;
  reasoning_effort: string | null;
}

export interface ThreadTable {
  project_id: string;
  id: string;
  created_at: number;
  tool_resources: string | null;
  metadata: string;
}

export interface MessageTable {
  project_id: string;
  id: string;
  thread_id: string;
  created_at: number;
  role: string;
  status: string;
  content: string;
  attachments: string;
  metadata: string;
  assistant_id: string | null;
  run_id: string | null;
  completed_at: number | null;
  incomplete_at: number | null;
  incomplete_details: string | null;
  /** The model-activity attempt that wrote a run's message; null for messages created through the API. */
  attempt?: number | null;
  /**
   * What the message costs in a prompt, counted once by a run's context builder (migration 005). Only that
   * builder reads it: `MessageRow` leaves it out, so writers that build whole rows need not know about it.
   */
  token_count: Generated<number | null>;
}

export interface RunTable {
  project_id: string;
  id: string;
  thread_id: string;
  assistant_id: string;
  created_at: number;
  version: number;
  status: string;
  required_action: string | null;
  last_error: string | null;
  expires_at: number | null;
  started_at: number | null;
  cancelled_at: number | null;
  failed_at: number | null;
  completed_at: number | null;
  incomplete_details: string | null;
  usage: string | null;
  model: string;
  instructions: string;
  additional_instructions: string | null;
  tools: string;
  metadata: string;
  temperature: number | null;
  top_p: number | null;
  reasoning_effort: string | null;
  max_prompt_tokens: number | null;
  max_completion_tokens: number | null;
  truncation_strategy: string;
  tool_choice: string;
  /** 0 or 1: one integer type means the same in both dialects. */
  parallel_tool_calls: number;
  response_format: string;
  /** The run's event-log counter: the seq of its latest event (see run_events). */
  event_seq: Generated<number>;
  /** The latest retried model-call attempt (`<step id>#<attempt>`); earlier attempts' appends are dropped. */
  event_writer: string | null;
}

export interface RunStepTable {
  project_id: string;
  id: string;
  run_id: string;
  thread_id: string;
  assistant_id: string;
  created_at: number;
  type: string;
  status: string;
  step_details: string;
  last_error: string | null;
  expired_at: number | null;
  cancelled_at: number | null;
  failed_at: number | null;
  completed_at: number | null;
  metadata: string;
  usage: string | null;
  /** The model-activity attempt that wrote the step (see messages.attempt). */
  attempt?: number;
}

export interface Database {
  projects: ProjectTable;
  assistants: AssistantTable;
  threads: ThreadTable;
  messages: MessageTable;
  runs: RunTable;
  run_steps: RunStepTable;
  run_events: RunEventTable;
  run_launches: RunLaunchTable;
}

/** A run whose workflow is not known to be started yet (the outbox of migration 005). */
export interface RunLaunchTable {
  run_id: string;
  project_id: string;
  /** unix ms: a sweeper may (re)try the start from then on. */
  due_at: number;
  attempts: Generated<number>;
}

/** One SSE event of a run (see migration 003). `data` is the event's JSON, exactly as sent. */
export interface RunEventTable {
  run_id: string;
  seq: number;
  event: string;
  data: string;
  dedupe_key: string;
  created_at: number;
}

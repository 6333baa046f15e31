import type { Generated } from 'kysely';
import type { ExtensionTables } from './schemaExtensions';

/**
 * Table shapes as Kysely sees them. JSON columns are TEXT in both dialects and pass through `store/json.ts`;
 * timestamps are integer unix seconds; every row carries `project_id` so tenancy needs no data migration.
 */
export interface ProjectTable {
  id: string;
  name: string;
  created_at: number;
  /** Requests per minute for each of the project's keys; null: the server's setting (migration 006). */
  rpm_limit?: number | null;
  /** Concurrently active runs for each of the project's keys; null: the server's setting. */
  active_runs_limit?: number | null;
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
  /** Extension: the memory window the run started with (migration 008), normalised JSON; null = none. */
  memory?: string | null;
  /** The API key that started the run (null: no key, on a loopback bind); counts toward its run limit. */
  api_key_id?: string | null;
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

export interface Database extends ExtensionTables {
  projects: ProjectTable;
  assistants: AssistantTable;
  threads: ThreadTable;
  messages: MessageTable;
  runs: RunTable;
  run_steps: RunStepTable;
  run_events: RunEventTable;
  tool_outputs: ToolOutputTable;
  files: FileTable;
  file_chunks: FileChunkTable;
  api_keys: ApiKeyTable;
  rate_limit_windows: RateLimitWindowTable;
  model_providers: ModelProviderTable;
  sandbox_sessions: SandboxSessionTable;
  run_launches: RunLaunchTable;
  vector_stores: VectorStoreTable;
  vector_store_files: VectorStoreFileTable;
  vector_store_file_batches: VectorStoreFileBatchTable;
  vector_store_file_contents: VectorStoreFileContentTable;
  vector_store_chunks: VectorStoreChunkTable;
}

/** A vector store (migration 010). Counts, size and status are computed from its files on read. */
export interface VectorStoreTable {
  project_id: string;
  id: string;
  created_at: number;
  name: string | null;
  description: string | null;
  metadata: string;
  /** `expires_after.days` (anchor `last_active_at`); null: never expires. */
  expires_after_days: number | null;
  expires_at: number | null;
  last_active_at: number;
}

/** A file in a vector store; `id` is the File's id. JSON: `last_error`, `attributes`, `chunking_strategy`. */
export interface VectorStoreFileTable {
  project_id: string;
  vector_store_id: string;
  id: string;
  created_at: number;
  status: string;
  last_error: string | null;
  attributes: string | null;
  chunking_strategy: string;
  usage_bytes: number;
  batch_id: string | null;
  /** The workflow that owns this row's ingestion (a re-added file gets a new one). */
  ingestion_id: string;
}

export interface VectorStoreFileBatchTable {
  project_id: string;
  id: string;
  vector_store_id: string;
  created_at: number;
  /** `in_progress` until every file has ended, or `cancelled`; counts are computed from the files. */
  status: string;
}

/** The text extracted from a file in a store (what `GET …/files/{id}/content` returns). */
export interface VectorStoreFileContentTable {
  project_id: string;
  vector_store_id: string;
  file_id: string;
  text: string;
}

/** An indexed chunk; `id` = `<store>:<file>:<index>`; `seq` keys the keyword index. */
export interface VectorStoreChunkTable {
  seq: Generated<number>;
  id: string;
  project_id: string;
  vector_store_id: string;
  file_id: string;
  chunk_index: number;
  text: string;
  token_count: number;
}

/** An API key: only its SHA-256 is stored (migration 006). */
export interface ApiKeyTable {
  id: string;
  project_id: string;
  name: string | null;
  key_hash: string;
  /** `sk-tl-…abcd`: enough to recognise a key in a list, useless to call with. */
  redacted: string;
  created_at: number;
  revoked_at: number | null;
}

/** One key's requests in the current fixed one-minute window. */
export interface RateLimitWindowTable {
  bucket: string;
  window_start: number;
  count: number;
}

/** A model provider entry added through the admin API; `project_id` null serves every project. */
export interface ModelProviderTable {
  id: string;
  project_id: string | null;
  name: string | null;
  /** An exact model name or a glob (`*`, `?`). */
  model: string;
  base_url: string;
  api_key: string | null;
  context_window: number | null;
  /** 0 or 1; null: images are sent (the default). */
  vision: number | null;
  embeddings_model: string | null;
  created_at: number;
}

/** Where a thread's code interpreter session lives (see migration 009). */
export interface SandboxSessionTable {
  project_id: string;
  thread_id: string;
  task_queue: string | null;
  updated_at: number;
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

/** A tool call's result (see migration 007): a client's submitted output, or a built-in tool's result. */
export interface ToolOutputTable {
  project_id: string;
  run_id: string;
  /** The submission's key for client outputs; `server` for built-in tools. */
  source: string;
  call_id: string;
  step_id: string | null;
  /** What the model reads as the tool's answer. */
  output: string;
  /** A built-in call as the step shows it, results filled in (JSON). */
  call: string | null;
  /** The model's arguments where the step does not show them (JSON text, as the model wrote it). */
  arguments: string | null;
  /** What the call produced beyond what the step shows (JSON; see migration 011). */
  extras?: string | null;
  created_at: number;
}

/** An uploaded (or tool-written) file; see migration 004 for what `state` means. */
export interface FileTable {
  project_id: string;
  id: string;
  created_at: number;
  bytes: number;
  /** The name the client sent, kept as data: it never becomes part of a storage path. */
  filename: string;
  purpose: string;
  /** The content type the download answers with. */
  mime_type: string;
  state: 'uploading' | 'ready' | 'deleting';
  expires_at: number | null;
}

/** A slice of a file's bytes when they are stored in PostgreSQL (THREADLINE_FILE_STORAGE=postgres). */
export interface FileChunkTable {
  project_id: string;
  file_id: string;
  start_byte: number;
  data: Buffer;
}

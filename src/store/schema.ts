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
}

export interface Database {
  projects: ProjectTable;
  assistants: AssistantTable;
  threads: ThreadTable;
  messages: MessageTable;
}

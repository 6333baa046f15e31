/**
 * Tables of the extensions (migration 008), kept apart from the wire-exact API's tables in `schema.ts`.
 * JSON columns are TEXT and pass through `store/json.ts`, as everywhere.
 */

export interface AssistantTemplateTable {
  project_id: string;
  id: string;
  created_at: number;
  name: string | null;
  description: string | null;
  /** The newest published version; a publish bumps it and inserts that version in one transaction. */
  latest_version: number;
}

/** One immutable, numbered version: the configuration template-made assistants follow. */
export interface AssistantTemplateVersionTable {
  project_id: string;
  id: string;
  template_id: string;
  version: number;
  created_at: number;
  model: string;
  instructions: string | null;
  tools: string;
  tool_resources: string | null;
  response_format: string | null;
  metadata: string;
  /** The upgrade walk this version's publish started (none for version 1). */
  upgrade_id: string | null;
}

/** Which template version an assistant follows, how it upgrades, and what it overrides. */
export interface AssistantTemplateLinkTable {
  assistant_id: string;
  project_id: string;
  template_id: string;
  version: number;
  /** The version followed before the last change (what rollback returns to). */
  previous_version: number | null;
  upgrade_policy: string;
  /** Template-owned fields this assistant sets itself (JSON object); they survive upgrades. */
  overrides: string;
  instructions_addendum: string | null;
  /** The upgrade walk that last moved this assistant (tells "upgraded by this walk" from "already current"). */
  last_upgrade_id: string | null;
  revision: number;
}

/** The progress of one publish's upgrade walk, written page by page by its workflow. */
export interface TemplateUpgradeTable {
  project_id: string;
  id: string;
  template_id: string;
  version: number;
  status: string;
  created_at: number;
  completed_at: number | null;
  /** Pages done: the compare-and-set key that makes a retried page write its progress once. */
  pages: number;
  /** The last assistant id walked. */
  cursor: string | null;
  processed: number;
  upgraded: number;
  already_current: number;
  failed: number;
  /** The first failures (JSON array of `{assistant_id, message}`). */
  failures: string;
}

/** A server-side tool registered through the admin API (those of the tools file live in memory). */
export interface ServerToolTable {
  project_id: string;
  name: string;
  /** The function definition offered to the model (JSON). */
  definition: string;
  /** How it runs (JSON), secrets included: never returned by any API, never logged. */
  executor: string;
  created_at: number;
  updated_at: number;
}

export interface ExtensionTables {
  assistant_templates: AssistantTemplateTable;
  assistant_template_versions: AssistantTemplateVersionTable;
  assistant_template_links: AssistantTemplateLinkTable;
  template_upgrades: TemplateUpgradeTable;
  server_tools: ServerToolTable;
}

/**
 * Workflow definitions the worker hosts. This folder is deterministic code only: no Node built-ins, no
 * database, no `openai`, no wall clock (ESLint enforces the imports).
 *
 * The run workflow (one per Assistants run: model loop, tool calls via requires_action, cancel, expiry)
 * is registered here by the durable-runs work; until then the worker hosts no workflow types.
 */
export {};

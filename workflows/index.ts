/**
 * Workflow definitions the worker hosts. This folder is deterministic code only: no Node built-ins, no
 * database, no `openai`, no I/O (ESLint enforces the imports). `Date.now()` and `uuid4()` are Temporal's
 * replay-safe versions inside workflows.
 */
export { runWorkflow } from './run';
export { templateUpgradeWorkflow } from './templateUpgrade';
export { vectorStoreBatchWorkflow, vectorStoreFileWorkflow } from './vectorStoreIngestion';

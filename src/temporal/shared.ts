import { defineSearchAttributeKey } from '@temporalio/common';

/**
 * Definitions both sides of Temporal share: the API that starts and queries workflows, and the worker that
 * runs them. Pure values only (no Node built-ins), because workflow code imports this module too.
 */
export const ThreadIdKey = defineSearchAttributeKey('ThreadId', 'KEYWORD');
export const AssistantIdKey = defineSearchAttributeKey('AssistantId', 'KEYWORD');
export const RunStatusKey = defineSearchAttributeKey('RunStatus', 'KEYWORD');

/** Registered on the embedded dev server at start (`--search-attribute Name=Type`) and listed in the compose setup. */
export const SEARCH_ATTRIBUTES = [ThreadIdKey, AssistantIdKey, RunStatusKey] as const;

import { createHash } from 'node:crypto';
import type { ToolCallDelta } from 'openai/resources/beta/threads/runs/steps';
import type { Store } from '../../src/store';
import { fromJson } from '../../src/store/json';
import { callsKeyPrefix, textKeyPrefix } from '../../src/streaming/events';
import { kindOf } from '../../src/tools';
import type { StepIds } from './rows';

/** A call an earlier attempt of this step streamed: its id, type, name and the text sent so far. */
export interface StreamedCall {
  id: string;
  type: string;
  name: string;
  text: string;
}

/** What earlier attempts of this step already put in the run's log (deltas cannot be taken back). */
export interface AlreadyStreamed {
  text: string;
  calls: Array<StreamedCall | undefined>;
}

export const NOTHING_STREAMED: AlreadyStreamed = { text: '', calls: [] };

/** Reads back the deltas earlier attempts of this step logged. */
export async function alreadyStreamed(store: Store, ids: StepIds): Promise<AlreadyStreamed> {
  type TextDelta = { delta: { content: Array<{ text: { value: string } }> } };
  type CallDelta = { delta: { step_details: { tool_calls: ToolCallDelta[] } } };
  const text = (await store.runEvents.withKeyPrefix(ids.runId, textKeyPrefix(ids.messageId)))
    .map((e) => (JSON.parse(e.data) as TextDelta).delta.content[0]?.text.value ?? '')
    .join('');
  const calls: AlreadyStreamed['calls'] = [];
  for (const e of await store.runEvents.withKeyPrefix(ids.runId, callsKeyPrefix(ids.toolStepId))) {
    for (const delta of (JSON.parse(e.data) as CallDelta).delta.step_details.tool_calls) {
      const slot = (calls[delta.index] ??= { id: '', type: delta.type, name: '', text: '' });
      const { name, text } = kindOf(delta.type).readDelta(delta);
      if (delta.id) slot.id = delta.id;
      if (name) slot.name = name;
      if (text) slot.text += text;
    }
  }
  return { text, calls };
}

/** Ids of the tool calls earlier steps of this run already answered to. */
export async function callIdsUsedBefore(store: Store, ids: StepIds): Promise<Set<string>> {
  const used = new Set<string>();
  for (const step of await store.runSteps.listForRun(ids.projectId, ids.runId)) {
    if (step.type !== 'tool_calls' || step.id === ids.toolStepId) continue;
    for (const call of fromJson<{ tool_calls: Array<{ id: string }> }>(step.step_details).tool_calls) used.add(call.id);
  }
  return used;
}

/**
 * Tool-call ids the client will answer to must be unique within the run: some backends number calls
 * `call_0`, `call_1`… afresh every round, and others use no `call_` prefix. The model's id is kept when it
 * is usable (the model sees the same id echoed back in the next prompt either way); otherwise one is derived
 * from the step's id, so a retried attempt would choose the same.
 */
export function clientCallId(modelId: string, used: Set<string>, stepId: string, index: number): string {
  if (modelId.startsWith('call_') && !used.has(modelId)) return modelId;
  return `call_${createHash('sha256').update(`${stepId}:${index}`).digest('hex').slice(0, 24)}`;
}

import type { Message } from 'openai/resources/beta/threads/messages';
import type { ToolCall } from 'openai/resources/beta/threads/runs/steps';
import type { Store } from '../../src/store';
import { fromJson } from '../../src/store/json';
import { SERVER_SOURCE, type ToolOutputRow } from '../../src/store/repositories/toolOutputs';
import { messagePartsFor } from '../../src/tools';
import type { MessageExtras } from './messagePart';

/**
 * What the run's server-run tool calls so far give the message this step may write: the annotator for its
 * text, and the images no earlier message of the run has shown yet (a chart made in one step is shown in the
 * next message, whichever step writes it). `recorded`: the run's server results, when already read.
 */
export async function messageExtras(
  store: Store,
  projectId: string,
  runId: string,
  recorded?: readonly ToolOutputRow[],
): Promise<MessageExtras> {
  const rows = [...(recorded ?? (await store.toolOutputs.forSource(projectId, runId, SERVER_SOURCE)))];
  rows.sort((a, b) => a.created_at - b.created_at || (a.step_id ?? '').localeCompare(b.step_id ?? ''));
  const { annotate, images } = messagePartsFor(
    rows.map((row) => ({
      call: row.call ? fromJson<ToolCall>(row.call) : undefined,
      extras: row.extras ? fromJson<unknown>(row.extras) : null,
    })),
  );
  if (images.length === 0) return { annotate, images };
  const shown = new Set<string>();
  for (const message of await store.messages.forRun(projectId, runId)) {
    for (const part of fromJson<Message['content']>(message.content)) {
      if (part.type === 'image_file') shown.add(part.image_file.file_id);
    }
  }
  return { annotate, images: images.filter((id) => !shown.has(id)) };
}

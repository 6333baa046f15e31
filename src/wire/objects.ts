import type { Assistant } from 'openai/resources/beta/assistants';
import type { Message } from 'openai/resources/beta/threads/messages';
import type { Thread } from 'openai/resources/beta/threads/threads';
import { fromJson } from '../store/json';
import type { AssistantRow } from '../store/repositories/assistants';
import type { MessageRow } from '../store/repositories/messages';
import type { ThreadRow } from '../store/repositories/threads';

/**
 * Rows → the exact wire objects, typed against the official SDK's types so they cannot drift. Every
 * required-but-nullable field is present (strict clients in Java, Go and .NET fail on a missing key).
 */

export function assistantObject(row: AssistantRow): Assistant {
  return {
    id: row.id,
    object: 'assistant',
    created_at: row.created_at,
    name: row.name,
    description: row.description,
    model: row.model,
    instructions: row.instructions,
    tools: fromJson<Assistant['tools']>(row.tools),
    tool_resources: fromJson<Assistant.ToolResources>(row.tool_resources) ?? {},
    metadata: fromJson<Record<string, string>>(row.metadata),
    temperature: row.temperature ?? 1,
    top_p: row.top_p ?? 1,
    response_format: fromJson<Assistant['response_format']>(row.response_format) ?? 'auto',
  };
}

export function threadObject(row: ThreadRow): Thread {
  return {
    id: row.id,
    object: 'thread',
    created_at: row.created_at,
    tool_resources: fromJson<Thread.ToolResources>(row.tool_resources) ?? {},
    metadata: fromJson<Record<string, string>>(row.metadata),
  };
}

export function messageObject(row: MessageRow): Message {
  return {
    id: row.id,
    object: 'thread.message',
    created_at: row.created_at,
    thread_id: row.thread_id,
    status: row.status as Message['status'],
    incomplete_details: fromJson<Message.IncompleteDetails>(row.incomplete_details),
    completed_at: row.completed_at,
    incomplete_at: row.incomplete_at,
    role: row.role as Message['role'],
    content: fromJson<Message['content']>(row.content),
    assistant_id: row.assistant_id,
    run_id: row.run_id,
    attachments: fromJson<NonNullable<Message['attachments']>>(row.attachments),
    metadata: fromJson<Record<string, string>>(row.metadata),
  };
}

/** `{id, object, deleted: true}`; `object` is e.g. `assistant.deleted` or `thread.message.deleted`. */
export function deletedObject<O extends string>(id: string, object: O): { id: string; object: O; deleted: true } {
  return { id, object, deleted: true };
}

export interface ListEnvelope<T extends { id: string }> {
  object: 'list';
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export function listEnvelope<T extends { id: string }>(data: T[], hasMore: boolean): ListEnvelope<T> {
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data[data.length - 1]?.id ?? null,
    has_more: hasMore,
  };
}

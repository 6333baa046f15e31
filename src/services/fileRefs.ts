import type { ToolResources } from '../schemas/common';
import type { CreateMessageBody } from '../schemas/messages';
import type { Store } from '../store';
import type { RequestScope } from './context';
import { noSuchFile } from './files';

/** A file id a request names, and where (OpenAI's param notation), so a missing one can be pointed at. */
export interface FileRef {
  id: string;
  param: string;
}

const at = (base: string, rest: string) => (base === '' ? rest : `${base}.${rest}`);

export function toolResourceRefs(resources: ToolResources | null | undefined, base: string): FileRef[] {
  const ids = resources?.code_interpreter?.file_ids ?? [];
  const refs = ids.map((id, i) => ({ id, param: at(base, `code_interpreter.file_ids[${i}]`) }));
  // Files of vector stores made on the fly (create only; modify refuses `vector_stores` at validation).
  const inline = (resources?.file_search?.vector_stores ?? []) as Array<{ file_ids?: string[] } | null>;
  inline.forEach((store, s) =>
    (store?.file_ids ?? []).forEach((id, i) =>
      refs.push({ id, param: at(base, `file_search.vector_stores[${s}].file_ids[${i}]`) }),
    ),
  );
  return refs;
}

/** `attachments[].file_id` and `image_file` parts of one message. */
export function messageRefs(message: CreateMessageBody, base: string): FileRef[] {
  const refs: FileRef[] = (message.attachments ?? []).map((attachment, i) => ({
    id: attachment.file_id,
    param: at(base, `attachments[${i}].file_id`),
  }));
  if (typeof message.content !== 'string') {
    message.content.forEach((part, i) => {
      if (part.type === 'image_file') {
        refs.push({ id: part.image_file.file_id, param: at(base, `content[${i}].image_file.file_id`) });
      }
    });
  }
  return refs;
}

export function messagesRefs(messages: CreateMessageBody[] | null | undefined, base: string): FileRef[] {
  return (messages ?? []).flatMap((message, i) => messageRefs(message, `${base}[${i}]`));
}

/**
 * Every file a request names must be a file of the caller's project, checked with one query before anything
 * is written. The first missing one answers as OpenAI's file lookups did: 404 `No such File object: <id>`,
 * with `param` saying where in the request it was named.
 */
export async function requireFiles(store: Store, scope: RequestScope, refs: FileRef[]): Promise<void> {
  if (refs.length === 0) return;
  const present = await store.files.present(
    scope.projectId,
    refs.map((ref) => ref.id),
  );
  const missing = refs.find((ref) => !present.has(ref.id));
  if (missing) throw noSuchFile(missing.id, missing.param);
}

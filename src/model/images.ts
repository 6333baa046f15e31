import type { ChatCompletionContentPart, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { FileLibrary } from '../files';
import { sniffImageType } from '../files/mimeTypes';

/** OpenAI's limit for one image input; a bigger stored file is not sent to the model. */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;

/**
 * An `image_file` part stands in the prompt as an `image_url` part with this internal URL until the prompt is
 * final: truncation decides which messages are sent before any image is read from storage.
 */
const STORED_FILE_URL = 'threadline-file:';

type ImageDetail = 'auto' | 'low' | 'high';

export function storedImagePart(fileId: string, detail: ImageDetail | undefined): ChatCompletionContentPart {
  return { type: 'image_url', image_url: { url: `${STORED_FILE_URL}${fileId}`, detail: detail ?? 'auto' } };
}

/**
 * Replaces every stored-image part with a `data:` URL of the file's bytes and its image type, so a vision model
 * sees it. A file that is gone (deleted, expired), too large or not an image is left out, with a short note in
 * its place so the model knows something was there; the run goes on. Storage failing to return the bytes of a
 * file that exists is an error (the model call is retried).
 */
export async function inlineStoredImages(
  files: FileLibrary,
  projectId: string,
  messages: ChatCompletionMessageParam[],
): Promise<ChatCompletionMessageParam[]> {
  const out: ChatCompletionMessageParam[] = [];
  for (const message of messages) {
    if (message.role !== 'user' || typeof message.content === 'string') {
      out.push(message);
      continue;
    }
    const parts: ChatCompletionContentPart[] = [];
    for (const part of message.content) {
      if (part.type === 'image_url' && part.image_url.url.startsWith(STORED_FILE_URL)) {
        const fileId = part.image_url.url.slice(STORED_FILE_URL.length);
        parts.push(await storedImage(files, projectId, fileId, part.image_url.detail));
      } else {
        parts.push(part);
      }
    }
    out.push({ ...message, content: parts });
  }
  return out;
}

async function storedImage(
  files: FileLibrary,
  projectId: string,
  fileId: string,
  detail: ImageDetail | undefined,
): Promise<ChatCompletionContentPart> {
  const note = (why: string): ChatCompletionContentPart => ({
    type: 'text',
    text: `[An image was attached here (${fileId}), but ${why}.]`,
  });
  const found = await files.find(projectId, fileId);
  if (!found) return note('that file no longer exists');
  if (found.bytes > MAX_IMAGE_BYTES) return note(`it is larger than ${MAX_IMAGE_BYTES} bytes`);
  const opened = await files.open(projectId, fileId);
  if (!opened) return note('that file no longer exists');
  const chunks: Buffer[] = [];
  for await (const chunk of opened.stream) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  const type = found.mime_type.startsWith('image/') ? found.mime_type : sniffImageType(bytes);
  if (!type) return note('that file is not an image');
  return { type: 'image_url', image_url: { url: `data:${type};base64,${bytes.toString('base64')}`, detail } };
}

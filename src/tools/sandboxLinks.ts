import type { FilePathAnnotation } from 'openai/resources/beta/threads/messages';
import type { Annotator } from './annotations';

/** A file a code_interpreter call wrote: where the code saw it, and the stored file it became. */
export interface ProducedFile {
  path: string;
  fileId: string;
}

const LINK = /sandbox:(\/mnt\/data\/[^\s)\]"'<>`]+)/g;

/**
 * `sandbox:/mnt/data/<name>` links in the answer, as OpenAI rendered them: each link to a file the code wrote
 * becomes a `file_path` annotation whose `text` is the link and whose file id downloads what the code wrote.
 * A link to a path no call produced stays plain text. A later call that wrote the same path wins.
 */
export function sandboxLinkAnnotator(files: ProducedFile[]): Annotator {
  const byPath = new Map(files.map((file) => [file.path, file.fileId]));
  return (text) => {
    const found: FilePathAnnotation[] = [];
    for (const match of text.matchAll(LINK)) {
      const link = match[0].replace(/[.,;:!?]+$/, ''); // a sentence's full stop is not part of the name
      const fileId = byPath.get(decoded(link.slice('sandbox:'.length)));
      if (!fileId) continue;
      found.push({
        type: 'file_path',
        text: link,
        file_path: { file_id: fileId },
        start_index: match.index,
        end_index: match.index + link.length,
      });
    }
    return found;
  };
}

function decoded(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

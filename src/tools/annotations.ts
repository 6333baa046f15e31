import type { FileCitationAnnotation, FilePathAnnotation } from 'openai/resources/beta/threads/messages';

/** The annotations an assistant message's text can carry (reference §2.4). */
export type TextAnnotation = FileCitationAnnotation | FilePathAnnotation;

/** Finds the annotations a message text earns: each names a span of the text (`text` = what it covers). */
export type Annotator = (text: string) => TextAnnotation[];

/**
 * All annotators' findings, in text order. Spans never overlap in a message (clients replace each `text`
 * by its start and end index), so where two kinds claim overlapping spans the earlier one wins.
 */
export function combineAnnotators(annotators: Annotator[]): Annotator {
  return (text) => {
    const all = annotators.flatMap((annotate) => annotate(text)).sort((a, b) => a.start_index - b.start_index);
    const kept: TextAnnotation[] = [];
    for (const annotation of all) {
      const last = kept[kept.length - 1];
      if (!last || annotation.start_index >= last.end_index) kept.push(annotation);
    }
    return kept;
  };
}

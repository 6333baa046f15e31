import type { FileCitationAnnotation } from 'openai/resources/beta/threads/messages';
import type { Annotator } from './annotations';

/**
 * Citations for file_search, in the shape OpenAI rendered them: the model cites a result with a marker
 * `【{call}:{result}†{label}】` and the server turns each marker into a `file_citation` annotation.
 *
 * Numbering (ours, stable for the whole run):
 * - `{call}` is the file_search call's number in the run: the tool calls of every earlier tool_calls step of
 *   the run, plus the call's position in its own step (so parallel calls in one step get distinct numbers,
 *   and a later search never reuses an earlier one's number).
 * - `{result}` is the result's position in that call's results (0 = best).
 * - `{label}` is free text (we print `source`, as OpenAI did; any label is accepted back).
 * The tool output the model reads prints each result under its marker, so the model copies it verbatim.
 */

/** What a file_search call gave the run, enough to resolve its markers: its number and its results' files. */
export interface CitableCall {
  number: number;
  /** `fileIds[i]` is the file of result i. */
  fileIds: string[];
}

/** The marker the model is shown (and asked to copy) for result `result` of call `call`. */
export function citationMarker(call: number, result: number, label = 'source'): string {
  return `【${call}:${result}†${label}】`;
}

/** A marker's shape; the label may be anything but the closing bracket (clients strip `【…†…】` by regex). */
const MARKER = /【(\d{1,9}):(\d{1,9})†([^】\n]{0,200})】/g;

/**
 * Each marker that names a result some file_search call of the run returned becomes a `file_citation`
 * annotation (`text` = the marker, indices in UTF-16 code units, as JS strings and the SDKs index). A marker
 * for a call or result that does not exist (the model invented or garbled it) stays plain text.
 */
export function citationAnnotator(calls: CitableCall[]): Annotator {
  const byNumber = new Map(calls.map((call) => [call.number, call.fileIds]));
  return (text) => {
    const found: FileCitationAnnotation[] = [];
    for (const match of text.matchAll(MARKER)) {
      const fileId = byNumber.get(Number(match[1]))?.[Number(match[2])];
      if (fileId === undefined) continue;
      found.push({
        type: 'file_citation',
        text: match[0],
        file_citation: { file_id: fileId },
        start_index: match.index,
        end_index: match.index + match[0].length,
      });
    }
    return found;
  };
}

/**
 * The number of the call at `index` in step `stepId`, from the run's tool_calls steps (ids sort by creation,
 * see idFormat.ts): every call of the earlier steps counts before it.
 */
export function callNumber(steps: Array<{ id: string; callCount: number }>, stepId: string, index: number): number {
  const earlier = steps.filter((step) => step.id < stepId).reduce((sum, step) => sum + step.callCount, 0);
  return earlier + index;
}

/** One search result as the model reads it. */
export interface NumberedResult {
  fileName: string;
  score: number;
  text: string;
}

/**
 * The tool output the model reads: each result under its marker, best first, with its file name and score.
 * Says so plainly when there was nothing to search or nothing was found, so the model does not cite.
 */
export function searchOutputText(call: number, queries: string[], results: NumberedResult[], note?: string): string {
  if (note) return note;
  const asked = queries.map((q) => JSON.stringify(q)).join(', ');
  if (results.length === 0) return `No results found for ${asked}.`;
  const lines = [
    `Results for ${asked}. Cite a result you use by copying its marker right after the sentence it supports, ` +
      `e.g. ${citationMarker(call, 0)}.`,
  ];
  results.forEach((result, i) => {
    lines.push(
      '',
      `${citationMarker(call, i)} file: ${result.fileName} (score ${result.score.toFixed(3)})`,
      result.text,
    );
  });
  return lines.join('\n');
}

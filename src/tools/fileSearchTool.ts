import type { FileSearchToolCall } from 'openai/resources/beta/threads/runs/steps';
import { citationAnnotator, type CitableCall } from './citations';
import type { ToolKind } from './types';

/** What a file_search call recorded beyond its step (the `extras` of its result): what its markers resolve to. */
export type FileSearchExtras = CitableCall;

const DESCRIPTION =
  "Searches the files the user and the assistant provided (the assistant's and the conversation's vector " +
  'stores). Give one or more search queries (several phrasings of the question find more). Each result comes ' +
  'back under its marker, e.g. 【4:0†source】; when you use a result, cite it by copying its marker exactly.';

/** OpenAI's file_search: queries over the run's vector stores, executed on the server. */
export const fileSearchTool: ToolKind<FileSearchToolCall> = {
  type: 'file_search',
  executor: 'server',
  nameFor: () => 'file_search',
  offer: (_declared, name, available) =>
    available.has('file_search')
      ? {
          type: 'function',
          function: {
            name,
            description: DESCRIPTION,
            parameters: {
              type: 'object',
              properties: {
                queries: { type: 'array', items: { type: 'string' }, description: 'Search queries.' },
              },
              required: ['queries'],
            },
          },
        }
      : undefined,
  // Nothing streams while the model writes the queries: OpenAI's delta for this call is `file_search: {}`.
  streamedText: () => '',
  startDelta: (index, id) => ({ index, id, type: 'file_search', file_search: {} }),
  textDelta: (index) => ({ index, type: 'file_search', file_search: {} }),
  readDelta: () => ({}),
  stored: (call) => ({ id: call.id, type: 'file_search', file_search: {} }),
  toPrompt: (_call, _name, result) => ({ arguments: result?.arguments ?? '{}', output: result?.output ?? '' }),
  // The markers the model copied from the results become file_citation annotations (citations.ts).
  messageParts: (results) => ({
    annotate: citationAnnotator(
      results.map((r) => r.extras as FileSearchExtras | null).filter((e): e is FileSearchExtras => e !== null),
    ),
  }),
};

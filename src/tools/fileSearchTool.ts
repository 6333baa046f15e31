import type { FileSearchToolCall } from 'openai/resources/beta/threads/runs/steps';
import type { ToolKind } from './types';

const DESCRIPTION =
  "Searches the files the user and the assistant provided (the assistant's and the conversation's vector " +
  'stores). Give one or more search queries. Results come back numbered; cite a result you use with its ' +
  'marker, e.g. 【4:0†source】.';

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
};

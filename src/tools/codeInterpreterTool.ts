import type { CodeInterpreterToolCall, CodeInterpreterToolCallDelta } from 'openai/resources/beta/threads/runs/steps';
import { stringField } from './partialJson';
import { sandboxLinkAnnotator, type ProducedFile } from './sandboxLinks';
import type { ToolKind } from './types';

/** What a code_interpreter call produced beyond its step outputs (the `extras` of its recorded result). */
export interface CodeInterpreterExtras {
  files: ProducedFile[];
  images: string[];
}

const DESCRIPTION =
  'Runs Python 3 code in a stateful sandbox (like a Jupyter notebook: variables, imports and files persist ' +
  'between calls in this conversation) with numpy, pandas and matplotlib. The working directory is /mnt/data, ' +
  'where files the user attached are; files you write there can be linked in your answer as ' +
  'sandbox:/mnt/data/<name>. Charts shown with plt.show() or saved are returned to the user. There is no ' +
  'internet access. Prints and the value of the last expression are returned to you.';

/**
 * The code the model wrote: the `code` argument, or the raw arguments when a model sends bare code instead
 * of JSON (some open models do). Raw text streams at once; JSON streams once its `code` string begins.
 */
function codeOf(args: string): string {
  if (!args.trimStart().startsWith('{')) return args;
  return stringField(args, 'code') ?? '';
}

/** OpenAI's code_interpreter: Python in a sandbox, executed on the server. */
export const codeInterpreterTool: ToolKind<CodeInterpreterToolCall> = {
  type: 'code_interpreter',
  executor: 'server',
  nameFor: () => 'code_interpreter',
  offer: (_declared, name, available) =>
    available.has('code_interpreter')
      ? {
          type: 'function',
          function: {
            name,
            description: DESCRIPTION,
            parameters: {
              type: 'object',
              properties: { code: { type: 'string', description: 'The Python code to run.' } },
              required: ['code'],
            },
          },
        }
      : undefined,
  streamedText: codeOf,
  startDelta: (index, id) => ({ index, id, type: 'code_interpreter', code_interpreter: { input: '', outputs: [] } }),
  textDelta: (index, fragment) => ({ index, type: 'code_interpreter', code_interpreter: { input: fragment } }),
  resultDelta: (index, call) => ({
    index,
    type: 'code_interpreter',
    code_interpreter: { outputs: call.code_interpreter.outputs.map((output, i) => ({ index: i, ...output })) },
  }),
  readDelta: (delta) => ({ text: (delta as CodeInterpreterToolCallDelta).code_interpreter?.input ?? undefined }),
  stored: (call) => ({
    id: call.id,
    type: 'code_interpreter',
    code_interpreter: { input: codeOf(call.arguments), outputs: [] },
  }),
  toPrompt: (call, _name, result) => ({
    arguments: JSON.stringify({ code: call.code_interpreter.input }),
    output: result?.output ?? '',
  }),
  // Images the code displayed are shown in the answer as image_file parts; `sandbox:` links to files it wrote
  // become file_path annotations.
  messageParts: (results) => {
    const extras = results.map((r) => r.extras as CodeInterpreterExtras | null).filter((e) => e !== null);
    return {
      annotate: sandboxLinkAnnotator(extras.flatMap((e) => e.files)),
      images: extras.flatMap((e) => e.images),
    };
  },
};

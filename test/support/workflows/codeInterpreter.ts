import type { CodeInterpreterInput, CodeInterpreterOutput, CodeInterpreterSettings } from '../../../src/sandbox/shared';
import { runCodeInterpreter } from '../../../workflows/codeInterpreter';

/** Calls the code interpreter helper once per input, in order, as a run's steps would; returns every output. */
export async function codeInterpreterTestWorkflow(
  calls: CodeInterpreterInput[],
  settings: CodeInterpreterSettings,
): Promise<CodeInterpreterOutput[]> {
  const outputs: CodeInterpreterOutput[] = [];
  for (const call of calls) outputs.push(await runCodeInterpreter(call, settings));
  return outputs;
}

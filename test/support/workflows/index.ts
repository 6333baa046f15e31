/** Workflows only the tests run: each drives one piece of workflow-side code the way the run workflow will. */
export { codeInterpreterTestWorkflow } from './codeInterpreter';

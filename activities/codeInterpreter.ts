import { Context } from '@temporalio/activity';
import type { CodeInterpreterToolCall } from 'openai/resources/beta/threads/runs/steps';
import type { Attachment } from '../src/schemas/messages';
import { executeCode, type ExecutorDeps } from '../src/sandbox/executor';
import {
  toolResultText,
  type CodeInterpreterInput,
  type CodeInterpreterOutput,
  type SandboxActivities,
  type SandboxRoutingActivities,
} from '../src/sandbox/shared';
import type { Store } from '../src/store';
import { fromJson } from '../src/store/json';
import type { CodeInterpreterExtras } from '../src/tools/codeInterpreterTool';
import { findCall, record, type ServerCallTarget } from './tools';

const HEARTBEAT_MS = 1_000;

/**
 * The code interpreter's execution, served by sandbox workers only (`threadline sandbox`, or the sandbox role
 * of `threadline start`) on their shared task queue and on each worker's own queue.
 */
export function sandboxActivities(deps: ExecutorDeps): SandboxActivities {
  return {
    /**
     * Runs one code_interpreter call in the thread's session. Heartbeats all along, so a dead sandbox worker
     * is noticed within the heartbeat timeout and a cancelled run stops the code within about a second.
     */
    async executeCode(input) {
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat(), HEARTBEAT_MS);
      try {
        return await executeCode(deps, input, ctx.cancellationSignal);
      } finally {
        clearInterval(beat);
      }
    },
  };
}

/** Run-worker side of the routing: a database read, run as a local activity by `runCodeInterpreter`. */
export function sandboxRoutingActivities({ store }: { store: Store }): SandboxRoutingActivities {
  return {
    async locateSandboxSession({ projectId, threadId }) {
      const row = await store.sandboxSessions.find(projectId, threadId);
      return { known: row !== undefined, taskQueue: row?.task_queue ?? null };
    },
  };
}

/**
 * Run-worker side of a code_interpreter call (local activities, database only): what to run and with which
 * files, and recording what came back on the step.
 */
export function codeCallActivities({ store }: { store: Store }) {
  return {
    /**
     * The code the model wrote (from the step) and the files for /mnt/data: the assistant's and the thread's
     * `tool_resources.code_interpreter.file_ids`, then files attached to the thread's messages for the
     * code_interpreter tool. A file since deleted is left out (OpenAI kept dangling ids; the code just does not
     * find it).
     */
    async prepareCodeCall(target: ServerCallTarget): Promise<{ code: string; files: CodeInterpreterInput['files'] }> {
      const found = await findCall(store, target);
      const code = found?.call.type === 'code_interpreter' ? found.call.code_interpreter.input : '';
      const ids = await codeFileIds(store, target);
      const files: CodeInterpreterInput['files'] = [];
      for (const fileId of ids) {
        const row = await store.files.find(target.projectId, fileId);
        if (row) files.push({ fileId, filename: row.filename });
      }
      return { code, files };
    },

    /** Records the execution on the step: logs and images as outputs, files and images for the next message. */
    async recordCodeResult(target: ServerCallTarget & { output: CodeInterpreterOutput }): Promise<void> {
      const found = await findCall(store, target);
      if (found?.call.type !== 'code_interpreter') return; // the run was deleted with its thread
      const { output } = target;
      const outputs: CodeInterpreterToolCall.CodeInterpreter['outputs'] = [];
      if (output.logs !== '') outputs.push({ type: 'logs', logs: output.logs });
      for (const image of output.images) outputs.push({ type: 'image', image: { file_id: image.fileId } });
      const extras: CodeInterpreterExtras = {
        files: output.files.map((file) => ({ path: file.path, fileId: file.fileId })),
        images: output.images.map((image) => image.fileId),
      };
      await record(store, target, found.index, {
        output: toolResultText(output),
        call: { ...found.call, code_interpreter: { input: found.call.code_interpreter.input, outputs } },
        extras,
      });
    },
  };
}

/** Every file id the run's code should find, in order, once each. */
async function codeFileIds(store: Store, target: ServerCallTarget): Promise<string[]> {
  type Resources = { code_interpreter?: { file_ids?: string[] } } | null;
  const assistant = await store.assistants.find(target.projectId, target.assistantId);
  const thread = await store.threads.find(target.projectId, target.threadId);
  const ids = [
    ...(fromJson<Resources>(assistant?.tool_resources ?? null)?.code_interpreter?.file_ids ?? []),
    ...(fromJson<Resources>(thread?.tool_resources ?? null)?.code_interpreter?.file_ids ?? []),
  ];
  for (const list of await store.messages.attachmentsOf(target.projectId, target.threadId)) {
    for (const attachment of fromJson<Attachment[]>(list)) {
      if (attachment.tools.some((tool) => tool.type === 'code_interpreter')) ids.push(attachment.file_id);
    }
  }
  return [...new Set(ids)];
}

/**
 * What both sides of the code interpreter share: the run workflow (through `workflows/codeInterpreter.ts`)
 * and the sandbox workers that execute the code. Pure values, types and functions only — no Node built-ins —
 * because workflow code imports this module too.
 */

/** Prefix of stored file ids (the Files API's `file-…`). */
export const FILE_ID_PREFIX = 'file-';

/** One code_interpreter call, as the run hands it over. */
export interface CodeInterpreterInput {
  projectId: string;
  /** The session is the thread's: its interpreter state lives on between calls and between runs. */
  threadId: string;
  /** The tool call's id. A retried activity is recognised by it and does not run the code twice. */
  callId: string;
  code: string;
  /**
   * Stored files to have in `/mnt/data` under their filenames (the assistant's and the thread's
   * `tool_resources.code_interpreter.file_ids`, and message attachments with the code_interpreter tool).
   * Each is copied in once per session; the code may change or delete its copy.
   */
  files: Array<{ fileId: string; filename: string }>;
}

/** An image the code displayed (`plt.show()`, or a figure still open when it finished), stored as a PNG file. */
export interface SandboxImage {
  fileId: string;
  filename: string;
  bytes: number;
}

/** A file the code created or changed in `/mnt/data`, stored as a file. */
export interface SandboxOutputFile {
  fileId: string;
  /** Where the code sees it, e.g. `/mnt/data/out.csv`: what a `sandbox:/mnt/data/out.csv` link names. */
  path: string;
  filename: string;
  bytes: number;
}

export type SessionResetReason = 'idle_timeout' | 'limit_exceeded' | 'cancelled' | 'worker_lost' | 'evicted';

export type ExecutionOutcome =
  /** The code ran to its end. */
  | 'completed'
  /** The code raised (syntax error, exception, MemoryError, CPU limit…): the traceback is in the logs. */
  | 'error'
  /** The wall-clock limit stopped it; the session was killed. */
  | 'timeout'
  /** The interpreter process died (killed by a limit, crashed); the session is gone. */
  | 'crashed'
  /** The sandbox could not run anything (see `failure`). */
  | 'unavailable';

export interface CodeInterpreterOutput {
  /**
   * What the code printed (stdout and stderr interleaved, including subprocesses), then the traceback of an
   * exception or a note on the limit that stopped it; capped at the output setting with a truncation mark.
   * This is `outputs[].logs` of the step and most of what the model sees.
   */
  logs: string;
  images: SandboxImage[];
  files: SandboxOutputFile[];
  /** Set when earlier state was lost before this execution; the model must be told (see `toolResultText`). */
  sessionReset: { reason: SessionResetReason; message: string } | null;
  outcome: ExecutionOutcome;
  /** The tool itself failed (a missing sandbox dependency, a sandbox that cannot start); `logs` says the same. */
  failure: { code: 'sandbox_unavailable'; message: string } | null;
}

/**
 * What a run carries to call the code interpreter: where the sandbox workers poll and how long to wait.
 * Built from the settings by `codeInterpreterSettings(config)` (src/sandbox/settings.ts).
 */
export interface CodeInterpreterSettings {
  /** The sandbox workers' shared task queue (THREADLINE_SANDBOX_TASK_QUEUE). */
  taskQueue: string;
  heartbeatTimeoutMs: number;
  /** How long a call waits for the worker that holds its session before another worker starts a fresh one. */
  affinityWaitMs: number;
  /** One attempt's limit: the execution's wall clock plus room to move files in and out. */
  attemptTimeoutMs: number;
}

/** What the workflow learnt before executing: where the session should be and whether it existed. */
export type SessionExpectation = 'new' | 'existing' | 'lost';

export interface ExecuteCodeInput extends CodeInterpreterInput {
  session: SessionExpectation;
  /**
   * A file id minted by the workflow for this call; the ids of the files and images it produces derive from
   * it (`outputFileId`), so a retried attempt stores the same files instead of new ones.
   */
  outputIdBase: string;
}

/** Served by sandbox workers, on their shared task queue and on each worker's own queue. */
export interface SandboxActivities {
  executeCode(input: ExecuteCodeInput): Promise<CodeInterpreterOutput>;
}

export interface SessionLocation {
  /** A session was created for this thread before (so one that is gone now was lost). */
  known: boolean;
  /** The task queue of the worker holding it, or null when it is known to be gone. */
  taskQueue: string | null;
}

/** Served by the run worker as a local activity (a database read). */
export interface SandboxRoutingActivities {
  locateSandboxSession(input: { projectId: string; threadId: string }): Promise<SessionLocation>;
}

/** The task queue only one sandbox worker process polls: its sessions' calls go there. */
export function workerTaskQueue(sharedQueue: string, instanceId: string): string {
  return `${sharedQueue}@${instanceId}`;
}

/**
 * The id of something an execution produced (`key` names it: `image:1`, `file:out.csv`): the workflow-minted
 * base's time part, so ids still sort by creation, and a hash of base and key for the rest.
 */
export function outputFileId(outputIdBase: string, key: string): string {
  const body = outputIdBase.slice(FILE_ID_PREFIX.length);
  return FILE_ID_PREFIX + body.slice(0, 12) + hash36(`${outputIdBase}\u0000${key}`, 12);
}

/** 12 base-36 characters from two independent 32-bit FNV-1a style hashes (no Node crypto in workflows). */
function hash36(text: string, length: number): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  const high = (a >>> 0).toString(36).padStart(7, '0');
  const low = (b >>> 0).toString(36).padStart(7, '0');
  return (high + low).slice(-length);
}

export const RESET_MESSAGES: Record<SessionResetReason, string> = {
  idle_timeout: 'it was idle longer than the session timeout',
  limit_exceeded: 'the previous execution exceeded a limit or crashed, and the sandbox was stopped',
  cancelled: 'the previous execution was cancelled, and the sandbox was stopped',
  worker_lost: 'the sandbox host that held it is gone',
  evicted: 'the sandbox host needed room for other sessions',
};

export function resetNotice(reason: SessionResetReason): string {
  return (
    `The code interpreter session was reset (${RESET_MESSAGES[reason]}): variables, imports and files from ` +
    'earlier executions are gone; the attached files are back in /mnt/data.'
  );
}

/**
 * The tool result the model reads: the reset notice, the logs, and what the execution produced. The images
 * and files are stored already; the model links files as `sandbox:/mnt/data/<name>`.
 */
export function toolResultText(output: CodeInterpreterOutput): string {
  const parts: string[] = [];
  if (output.sessionReset) parts.push(`[${output.sessionReset.message}]`);
  parts.push(output.logs === '' ? '(no output)' : output.logs);
  if (output.images.length > 0) {
    parts.push(`[${output.images.length} image${output.images.length === 1 ? '' : 's'} displayed to the user]`);
  }
  for (const file of output.files) parts.push(`[file written: sandbox:${file.path} (${file.bytes} bytes)]`);
  return parts.join('\n');
}

import path from 'node:path';
import { Readable } from 'node:stream';
import { CancelledFailure } from '@temporalio/common';
import type { SandboxConfig } from '../config';
import type { Logger } from '../logger';
import { SandboxUnavailable } from './dependencies';
import { openProduced, stageFile, stagingName, type SandboxFiles } from './files';
import { MAX_FILES_PER_EXECUTION, MAX_IMAGES_PER_EXECUTION, sandboxIdentity } from './launch';
import { describeExit, type RawExecution } from './process';
import { SessionManager, type Session } from './sessions';
import {
  outputFileId,
  resetNotice,
  type CodeInterpreterOutput,
  type ExecuteCodeInput,
  type ExecutionOutcome,
  type SandboxImage,
  type SandboxOutputFile,
  type SessionResetReason,
} from './shared';

export interface ExecutorDeps {
  config: SandboxConfig;
  sessions: SessionManager;
  files: SandboxFiles;
  logger: Logger;
  /** Records that the thread's session now lives on this worker (the next call is routed here). */
  placeSession(projectId: string, threadId: string): Promise<void>;
}

/** An execution as the session remembers it: enough to answer a retry without running the code again. */
interface Executed {
  raw: RawExecution;
  notes: string[];
  reset: SessionResetReason | null;
}

/**
 * One code_interpreter call on this worker: find or start the thread's session, copy in the files it does
 * not have yet, run the code, store the images and files it produced. Anything the code does is a result;
 * this rejects only for infrastructure faults (storage), for Temporal to retry, and for cancellation.
 */
export async function executeCode(
  deps: ExecutorDeps,
  input: ExecuteCodeInput,
  signal: AbortSignal,
): Promise<CodeInterpreterOutput> {
  const key = SessionManager.keyOf(input.projectId, input.threadId);
  let acquired: Awaited<ReturnType<SessionManager['acquire']>>;
  try {
    acquired = await deps.sessions.acquire(key, input.session);
  } catch (error) {
    if (!(error instanceof SandboxUnavailable)) throw error;
    deps.logger.error({ err: error }, 'code interpreter unavailable');
    return {
      logs: error.message,
      images: [],
      files: [],
      sessionReset: null,
      outcome: 'unavailable',
      failure: { code: 'sandbox_unavailable', message: error.message },
    };
  }
  const { session } = acquired;
  session.busy += 1;
  try {
    return await session.exclusive(async () => {
      // Recorded before the code runs, and again by a retry if that write failed: the next call must come here.
      if (!session.placed) {
        await deps.placeSession(input.projectId, input.threadId);
        session.placed = true;
      }
      let executed = session.recall<Executed>(input.callId);
      if (!executed) {
        executed = await run(deps, session, input, acquired.reset, signal);
        session.remember(input.callId, executed);
      }
      if (executed.raw.status !== 'completed') {
        await deps.sessions.end(session, executed.raw.status === 'cancelled' ? 'cancelled' : 'limit_exceeded');
        if (executed.raw.status === 'cancelled') throw new CancelledFailure('the code interpreter call was cancelled');
      }
      return await finish(deps, session, input, executed);
    });
  } finally {
    session.busy -= 1;
    session.lastUsed = Date.now();
  }
}

async function run(
  deps: ExecutorDeps,
  session: Session,
  input: ExecuteCodeInput,
  reset: SessionResetReason | null,
  signal: AbortSignal,
): Promise<Executed> {
  // A call cancelled while it waited for the session's previous execution does not start at all.
  if (signal.aborted) throw new CancelledFailure('the code interpreter call was cancelled');
  const notes = await stageInputs(deps, session, input);
  const raw = await session.process.execute(input.code, {
    timeoutMs: deps.config.timeoutMs,
    cpuSeconds: deps.config.cpuSeconds,
    signal,
  });
  return { raw, notes, reset };
}

/** Copies in the call's files this session has not had yet, each under its own (de-duplicated) name. */
async function stageInputs(deps: ExecutorDeps, session: Session, input: ExecuteCodeInput): Promise<string[]> {
  const notes: string[] = [];
  const taken = new Set(session.staged.values());
  for (const file of input.files) {
    if (session.staged.has(file.fileId)) continue;
    const stored = await deps.files.read(input.projectId, file.fileId);
    if (!stored) {
      notes.push(`[${file.filename} (${file.fileId}) no longer exists and is not in /mnt/data.]`);
      continue;
    }
    let name = stagingName(file.filename, file.fileId);
    if (taken.has(name)) {
      const ext = path.extname(name);
      name = `${name.slice(0, name.length - ext.length)}-${file.fileId}${ext}`;
    }
    await stageFile(session.dir, name, stored.stream, sandboxIdentity(deps.config));
    session.staged.set(file.fileId, name);
    taken.add(name);
  }
  return notes;
}

/** Stores the produced images and files (by ids derived from the call, so a retry rewrites the same ones). */
async function finish(
  deps: ExecutorDeps,
  session: Session,
  input: ExecuteCodeInput,
  executed: Executed,
): Promise<CodeInterpreterOutput> {
  const { raw } = executed;
  const notes: string[] = [];
  const images: SandboxImage[] = [];
  for (const [i, png] of raw.images.entries()) {
    const filename = `image-${i + 1}.png`;
    const fileId = await deps.files.write(input.projectId, {
      id: outputFileId(input.outputIdBase, `image:${i}`),
      filename,
      purpose: 'assistants_output',
      body: Readable.from([png]),
    });
    images.push({ fileId, filename, bytes: png.length });
  }
  const files: SandboxOutputFile[] = [];
  for (const produced of raw.files) {
    let handle;
    try {
      handle = await openProduced(session.dir, produced.path);
    } catch {
      notes.push(`[/mnt/data/${produced.path} changed but is not a regular file any more; it was not saved.]`);
      continue;
    }
    try {
      const { size } = await handle.stat();
      const filename = path.posix.basename(produced.path);
      const fileId = await deps.files.write(input.projectId, {
        id: outputFileId(input.outputIdBase, `file:${produced.path}`),
        filename,
        purpose: 'assistants_output',
        body: handle.createReadStream({ autoClose: false }),
      });
      files.push({ fileId, path: `/mnt/data/${produced.path}`, filename, bytes: size });
    } finally {
      await handle.close();
    }
  }
  if (raw.imagesDropped > 0) {
    notes.push(
      `[${raw.imagesDropped} more figure(s) not captured: at most ${MAX_IMAGES_PER_EXECUTION} per execution.]`,
    );
  }
  if (raw.filesDropped > 0) {
    notes.push(
      `[${raw.filesDropped} more changed file(s) not saved: at most ${MAX_FILES_PER_EXECUTION} per execution.]`,
    );
  }
  const logs = [...executed.notes, raw.output.replace(/\n$/, ''), endingNote(deps.config, raw), ...notes]
    .filter((part) => part !== '')
    .join('\n');
  return {
    logs,
    images,
    files,
    sessionReset: executed.reset ? { reason: executed.reset, message: resetNotice(executed.reset) } : null,
    outcome: outcomeOf(raw),
    failure: null,
  };
}

function outcomeOf(raw: RawExecution): ExecutionOutcome {
  if (raw.status === 'timeout') return 'timeout';
  if (raw.status === 'died') return 'crashed';
  return raw.error ? 'error' : 'completed';
}

/** What the model is told when the sandbox stopped the code (an exception already printed its traceback). */
function endingNote(config: SandboxConfig, raw: RawExecution): string {
  const lost = "The sandbox was stopped: this session's variables and files are lost; the next execution starts fresh.";
  if (raw.status === 'timeout') {
    return `[Execution timed out after ${config.timeoutMs / 1000} s. ${lost}]`;
  }
  if (raw.status === 'died') {
    const how = raw.exit ? describeExit(raw.exit) : 'unknown';
    return (
      `[The Python process died (${how}): it exceeded a sandbox limit (CPU time, memory, processes) or ` +
      `crashed. ${lost}]`
    );
  }
  return '';
}

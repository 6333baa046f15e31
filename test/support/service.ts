import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { startThreadline, type Running } from '../../src/runtime';
import { createThrowawayDatabase } from './postgres';

export type Dialect = 'sqlite' | 'postgres';
export const DIALECTS: Dialect[] = ['sqlite', 'postgres'];

export interface TestService {
  dialect: Dialect;
  /** The server's root URL (`http://127.0.0.1:PORT`), for what lives outside /v1. */
  url: string;
  /** The settings the service runs with; a second worker (in-process or a child process) reuses them. */
  env: Record<string, string>;
  baseURL: string;
  /** The official SDK, pointed at this service: if its helpers break, the server is wrong. */
  openai: OpenAI;
  running: Running;
  /** Raw HTTP for what the SDK hides (status codes, headers, error envelopes). */
  http(method: string, pathAndQuery: string, body?: unknown, headers?: Record<string, string>): Promise<RawResponse>;
  stop(): Promise<void>;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

/**
 * Starts the real service (API + worker in one process, as `threadline start` does) on a fresh database of
 * the given dialect, against the shared Temporal dev server, on a task queue of its own.
 */
export async function startTestService(
  dialect: Dialect,
  env: Record<string, string> = {},
  options: { worker?: boolean; sandbox?: boolean; logger?: pino.Logger } = {},
): Promise<TestService> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-test-'));
  const pg = dialect === 'postgres' ? await createThrowawayDatabase() : undefined;
  const settings: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    THREADLINE_DATA_DIR: dataDir,
    THREADLINE_DATABASE_URL: pg?.url ?? path.join(dataDir, 'threadline.db'),
    TEMPORAL_ADDRESS: requiredEnv('THREADLINE_TEST_TEMPORAL_ADDRESS'),
    THREADLINE_TASK_QUEUE: `test-${path.basename(dataDir)}`,
    // Each suite's code_interpreter calls go to its own sandbox workers, never another suite's.
    THREADLINE_SANDBOX_TASK_QUEUE: `sandbox-${path.basename(dataDir)}`,
    LOG_LEVEL: 'warn',
    ...env,
  };
  const roles = { api: true, worker: options.worker ?? true, sandbox: options.sandbox ?? false, embedTemporal: false };
  const running = await startThreadline(loadConfig(settings), roles, options.logger ?? pino({ level: 'warn' }));
  const baseURL = `${running.url!}/v1`;
  return {
    dialect,
    url: running.url!,
    env: settings,
    baseURL,
    running,
    openai: new OpenAI({ baseURL, apiKey: 'test-key', maxRetries: 0 }),
    http: (method, pathAndQuery, body, headers) => rawRequest(baseURL, method, pathAndQuery, body, headers),
    async stop() {
      await running.stop();
      await pg?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function rawRequest(
  baseURL: string,
  method: string,
  pathAndQuery: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const init: RequestInit = { method, headers: { 'OpenAI-Beta': 'assistants=v2', ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers = { 'content-type': 'application/json', ...init.headers };
  }
  const response = await fetch(`${baseURL}${pathAndQuery}`, init);
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the tests must run through jest's globalSetup`);
  return value;
}

/** A worker alone (in this process) on the service's database and task queue; `stop()` drains it. */
export async function startTestWorker(svc: TestService): Promise<Running> {
  return startThreadline(
    loadConfig({ ...svc.env, PORT: '0' }),
    { api: false, worker: true, embedTemporal: false },
    pino({ level: 'warn' }),
  );
}

/** A pino logger that keeps every line (parsed) in `lines`, for tests about what gets logged. */
export function capturingLogger(level: pino.Level = 'info'): {
  logger: pino.Logger;
  lines: Array<Record<string, unknown>>;
} {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level },
    {
      write(chunk: string) {
        lines.push(JSON.parse(chunk) as Record<string, unknown>);
      },
    },
  );
  return { logger, lines };
}

/** Polls `check` until it returns a value other than undefined (tests wait on state, never on wall-clock sleeps). */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Polls a run until it has `status` (through the SDK, as a client would). */
export function waitForRunStatus(
  svc: TestService,
  threadId: string,
  runId: string,
  status: string,
  timeoutMs = 60_000,
) {
  return eventually(
    async () => {
      const run = await svc.openai.beta.threads.runs.retrieve(runId, { thread_id: threadId });
      return run.status === status ? run : undefined;
    },
    timeoutMs,
    `run ${runId} to be ${status}`,
  );
}

import type { z } from 'zod';
import type { FunctionDefinition } from '../../schemas/common';
import { ServerToolsFile, type ServerToolExecutor } from '../../schemas/serverTools';
import type { ServerFunctionSchedule } from '../../temporal/shared';
import type { HostAllowList } from './hosts';

/** A server-side tool as the server knows it, secrets included. */
export interface ServerToolRegistration {
  definition: z.infer<typeof FunctionDefinition>;
  executor: ServerToolExecutor;
  /** `config`: from the tools file (every project); `admin`: registered for one project. */
  source: 'config' | 'admin';
  created_at: number | null;
}

/** What the run workflow needs to schedule a call: never a URL, a header or a secret (histories are visible). */
export function scheduleOf(executor: ServerToolExecutor): ServerFunctionSchedule {
  const policy = {
    timeoutMs: Math.round(executor.timeout_seconds * 1000),
    maxAttempts: executor.max_attempts,
    initialRetryMs: Math.round(executor.initial_retry_seconds * 1000),
  };
  return executor.type === 'http'
    ? { kind: 'http', ...policy }
    : { kind: 'temporal_activity', activity: executor.activity, taskQueue: executor.task_queue, ...policy };
}

/** Why an executor cannot be registered here, or undefined. */
export function executorProblem(executor: ServerToolExecutor, hosts: HostAllowList): string | undefined {
  if (executor.type !== 'http' || hosts.allows(executor.url)) return undefined;
  return `the host of '${new URL(executor.url).host}' is not in THREADLINE_SERVER_TOOL_HOSTS.`;
}

/**
 * The registration as the admin API shows it: the URL without its query (which may carry a key), header
 * names without their values.
 */
export function publicView(projectId: string | null, registration: ServerToolRegistration) {
  const { executor } = registration;
  const shown =
    executor.type === 'http'
      ? {
          type: executor.type,
          url: withoutQuery(executor.url),
          header_names: Object.keys(executor.headers ?? {}),
          timeout_seconds: executor.timeout_seconds,
          max_attempts: executor.max_attempts,
          initial_retry_seconds: executor.initial_retry_seconds,
        }
      : executor;
  return {
    object: 'server_tool' as const,
    name: registration.definition.name,
    project_id: projectId,
    source: registration.source,
    created_at: registration.created_at,
    function: registration.definition,
    executor: shown,
  };
}

function withoutQuery(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/**
 * Reads the tools file: its entries, header values that name an environment variable resolved from `env`.
 * Throws an Error whose message says what is wrong and where.
 */
export function parseServerToolsFile(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  hosts: HostAllowList,
): ServerToolRegistration[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`not valid JSON (${(error as Error).message})`);
  }
  const parsed = ServerToolsFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${issue.path.join('.') || 'file'}: ${issue.message}`);
  }
  const seen = new Set<string>();
  return parsed.data.tools.map((entry, i) => {
    const name = entry.function.name;
    if (seen.has(name)) throw new Error(`tools.${i}: the name '${name}' is registered twice`);
    seen.add(name);
    let executor: ServerToolExecutor;
    if (entry.executor.type === 'http') {
      const headers: Record<string, string> = {};
      for (const [header, value] of Object.entries(entry.executor.headers ?? {})) {
        if (typeof value === 'string') headers[header] = value;
        else {
          const resolved = env[value.env];
          if (resolved === undefined) {
            throw new Error(`tools.${i} (${name}): header '${header}' names ${value.env}, which is not set`);
          }
          headers[header] = resolved;
        }
      }
      executor = { ...entry.executor, headers };
    } else {
      executor = entry.executor;
    }
    const problem = executorProblem(executor, hosts);
    if (problem) throw new Error(`tools.${i} (${name}): ${problem}`);
    return { definition: entry.function, executor, source: 'config', created_at: null };
  });
}

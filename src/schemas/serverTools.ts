import { z } from 'zod';
import { FunctionDefinition } from './common';

/**
 * Extension: server-side tools an operator registers (a tools file, or the admin API). Each is a function
 * definition plus how the server runs it: an HTTP endpoint, or a Temporal activity by name on a task queue
 * the operator's own workers serve. Assistants reference one like any function, by its name.
 */
const policy = {
  /** One attempt's limit. */
  timeout_seconds: z.number().positive().max(3600).default(30),
  /** Attempts in all; a tool that fails every one gives the model an error output. */
  max_attempts: z.number().int().min(1).max(20).default(3),
  /** First retry delay, doubling, at most 30 s (an HTTP endpoint's `retry-after` wins). */
  initial_retry_seconds: z.number().min(0.01).max(600).default(1),
};

const HeaderName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'not a valid HTTP header name');

export const HttpExecutor = z.strictObject({
  type: z.literal('http'),
  /** Receives the model's arguments as a JSON body (POST); its response body is the output. */
  url: z.url({ protocol: /^https?$/ }),
  /** Sent with every call and kept on the server: no API returns their values, nothing logs them. */
  headers: z.record(HeaderName, z.string()).optional(),
  ...policy,
});

export const ActivityExecutor = z.strictObject({
  type: z.literal('temporal_activity'),
  /** The activity type the operator's worker registers; it gets one argument (see `ServerToolInvocation`). */
  activity: z.string().min(1).max(200),
  task_queue: z.string().min(1).max(200),
  ...policy,
});

export const ServerToolExecutor = z.discriminatedUnion('type', [HttpExecutor, ActivityExecutor]);
export type ServerToolExecutor = z.infer<typeof ServerToolExecutor>;

/** `POST /admin/v1/server_tools`: registers a tool, or replaces the project's tool of that name. */
export const RegisterServerToolBody = z.strictObject({
  project_id: z.string().min(1).optional(),
  function: FunctionDefinition,
  executor: ServerToolExecutor,
});
export type RegisterServerToolBody = z.infer<typeof RegisterServerToolBody>;

/**
 * The tools file (`THREADLINE_SERVER_TOOLS_FILE`): the same entries, for every project; a header value may
 * name an environment variable (`{"env": "WEATHER_TOKEN"}`) so the secret stays out of the file.
 */
export const ServerToolsFile = z.strictObject({
  tools: z.array(
    z.strictObject({
      function: FunctionDefinition,
      executor: z.discriminatedUnion('type', [
        HttpExecutor.extend({
          headers: z.record(HeaderName, z.union([z.string(), z.strictObject({ env: z.string().min(1) })])).optional(),
        }),
        ActivityExecutor,
      ]),
    }),
  ),
});

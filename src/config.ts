import path from 'node:path';
import { z } from 'zod';

/**
 * Every setting Threadline reads, parsed once at boot. No other module reads `process.env`:
 * a typo or a bad value fails here with the setting's name instead of surfacing later as odd behaviour.
 */
const port = z.coerce.number().int().min(0).max(65535);
const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

/** A comma-separated list; blanks dropped. */
const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  );

/** Browser origins exactly as browsers send them (`https://app.example.com`, no path or trailing slash), or `*`. */
const origins = list.pipe(
  z.array(
    z.string().refine((o) => o === '*' || (URL.canParse(o) && new URL(o).origin === o), {
      message: 'expected origins such as https://app.example.com (scheme, host, optional port), or *',
    }),
  ),
);

const EnvSchema = z.object({
  PORT: port.default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  THREADLINE_DATA_DIR: z.string().min(1).default('./.threadline'),
  THREADLINE_DATABASE_URL: optionalString,
  THREADLINE_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(4 * 1024 * 1024),
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_CLI_PATH: optionalString,
  THREADLINE_TEMPORAL_PORT: port.default(7233),
  THREADLINE_TEMPORAL_UI_PORT: port.default(8233),
  THREADLINE_TASK_QUEUE: z.string().min(1).default('threadline-runs'),
  OPENAI_BASE_URL: optionalString.pipe(z.url().optional()),
  OPENAI_API_KEY: optionalString,
  THREADLINE_RUN_EXPIRY_SECONDS: z.coerce.number().int().min(1).default(600),
  THREADLINE_MAX_STEPS: z.coerce.number().int().min(1).max(1000).default(25),
  THREADLINE_MODEL_CONTEXT_TOKENS: z.coerce.number().int().min(1024).default(128_000),
  THREADLINE_MODEL_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(4),
  THREADLINE_MODEL_RETRY_INITIAL_MS: z.coerce.number().int().min(10).default(1000),
  THREADLINE_MODEL_HEARTBEAT_TIMEOUT_SECONDS: z.coerce.number().min(1).default(10),
  THREADLINE_MODEL_IDLE_TIMEOUT_SECONDS: z.coerce.number().min(1).default(60),
  THREADLINE_SSE_KEEPALIVE_SECONDS: z.coerce.number().min(0.05).max(3600).default(15),
  THREADLINE_CORS_ORIGINS: origins,
  THREADLINE_ALLOWED_HOSTS: list.pipe(z.array(z.string().regex(/^[a-z0-9.:[\]-]+$/i, 'expected host names'))),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type DatabaseConfig =
  | { dialect: 'sqlite'; filename: string }
  | { dialect: 'postgres'; connectionString: string };

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  database: DatabaseConfig;
  maxBodyBytes: number;
  /** Browser origins allowed to call the API (CORS); empty: none. */
  corsOrigins: string[];
  /** Host names the API answers to besides loopback ones (DNS rebinding guard, see api/exposure.ts). */
  allowedHosts: string[];
  temporal: {
    /** Set when Threadline should use an existing cluster; unset means "start the embedded dev server". */
    address: string | undefined;
    namespace: string;
    cliPath: string | undefined;
    /** PATH, searched for a `temporal` binary when TEMPORAL_CLI_PATH is unset. */
    searchPath: string | undefined;
    devServerPort: number;
    devServerUiPort: number;
    taskQueue: string;
  };
  model: {
    baseURL: string | undefined;
    apiKey: string | undefined;
    contextWindowTokens: number;
    maxAttempts: number;
    retryInitialMs: number;
    heartbeatTimeoutMs: number;
    idleTimeoutMs: number;
  };
  runExpirySeconds: number;
  maxSteps: number;
  /** Seconds between `: ping` comments on an idle event stream. */
  sseKeepAliveMs: number;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      return `  ${name}=${JSON.stringify(env[name] ?? '')}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid setting(s):\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.THREADLINE_DATA_DIR);
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    database: parseDatabaseUrl(e.THREADLINE_DATABASE_URL, dataDir),
    maxBodyBytes: e.THREADLINE_MAX_BODY_BYTES,
    corsOrigins: e.THREADLINE_CORS_ORIGINS,
    allowedHosts: e.THREADLINE_ALLOWED_HOSTS.map((host) => host.toLowerCase()),
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      cliPath: e.TEMPORAL_CLI_PATH,
      searchPath: env.PATH,
      devServerPort: e.THREADLINE_TEMPORAL_PORT,
      devServerUiPort: e.THREADLINE_TEMPORAL_UI_PORT,
      taskQueue: e.THREADLINE_TASK_QUEUE,
    },
    model: {
      baseURL: e.OPENAI_BASE_URL,
      apiKey: e.OPENAI_API_KEY,
      contextWindowTokens: e.THREADLINE_MODEL_CONTEXT_TOKENS,
      maxAttempts: e.THREADLINE_MODEL_MAX_ATTEMPTS,
      retryInitialMs: e.THREADLINE_MODEL_RETRY_INITIAL_MS,
      heartbeatTimeoutMs: Math.round(e.THREADLINE_MODEL_HEARTBEAT_TIMEOUT_SECONDS * 1000),
      idleTimeoutMs: Math.round(e.THREADLINE_MODEL_IDLE_TIMEOUT_SECONDS * 1000),
    },
    runExpirySeconds: e.THREADLINE_RUN_EXPIRY_SECONDS,
    maxSteps: e.THREADLINE_MAX_STEPS,
    sseKeepAliveMs: Math.round(e.THREADLINE_SSE_KEEPALIVE_SECONDS * 1000),
    logLevel: e.LOG_LEVEL,
  };
}

/**
 * `postgres://…` / `postgresql://…` selects PostgreSQL; `sqlite:<path>`, `file:<path>` or a bare path
 * selects SQLite; unset means `<data dir>/threadline.db`.
 */
export function parseDatabaseUrl(url: string | undefined, dataDir: string): DatabaseConfig {
  if (url === undefined) return { dialect: 'sqlite', filename: path.join(dataDir, 'threadline.db') };
  if (/^postgres(ql)?:\/\//i.test(url)) return { dialect: 'postgres', connectionString: url };
  const sqlitePath = url.replace(/^(sqlite|file):(\/\/)?/i, '');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(sqlitePath) || sqlitePath === '') {
    throw new ConfigError(
      `Invalid setting(s):\n  THREADLINE_DATABASE_URL=${JSON.stringify(url)}: expected postgres://…, sqlite:<path> or a file path`,
    );
  }
  return { dialect: 'sqlite', filename: sqlitePath === ':memory:' ? sqlitePath : path.resolve(sqlitePath) };
}

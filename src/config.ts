import os from 'node:os';
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
  THREADLINE_SANDBOX_TASK_QUEUE: z.string().min(1).default('threadline-sandbox'),
  THREADLINE_SANDBOX_BWRAP_PATH: z.string().min(1).default('/usr/bin/bwrap'),
  THREADLINE_SANDBOX_PYTHON_PATH: z
    .string()
    .regex(/^\/usr\//, 'must be under /usr (the only system directory the sandbox sees)')
    .default('/usr/bin/python3'),
  THREADLINE_SANDBOX_DIR: optionalString,
  THREADLINE_SANDBOX_UID: z.coerce.number().int().min(1).max(4294967294).default(65534),
  THREADLINE_SANDBOX_GID: z.coerce.number().int().min(1).max(4294967294).default(65534),
  THREADLINE_SANDBOX_CGROUPS: z.enum(['auto', 'off']).default('auto'),
  THREADLINE_SANDBOX_TIMEOUT_SECONDS: z.coerce.number().min(1).max(3600).default(120),
  THREADLINE_SANDBOX_CPU_SECONDS: z.coerce.number().int().min(1).max(3600).default(120),
  THREADLINE_SANDBOX_MEMORY_MB: z.coerce.number().int().min(128).default(2048),
  THREADLINE_SANDBOX_MAX_PROCESSES: z.coerce.number().int().min(8).max(4096).default(64),
  THREADLINE_SANDBOX_MAX_FILE_MB: z.coerce.number().int().min(1).default(512),
  THREADLINE_SANDBOX_TMP_MB: z.coerce.number().int().min(1).default(256),
  // The logs travel in the activity's result: well under Temporal's 2 MB payload limit.
  THREADLINE_SANDBOX_MAX_OUTPUT_BYTES: z.coerce.number().int().min(256).max(1_000_000).default(16_384),
  THREADLINE_SANDBOX_IDLE_TIMEOUT_SECONDS: z.coerce.number().min(1).default(3600),
  THREADLINE_SANDBOX_MAX_SESSIONS: z.coerce.number().int().min(1).default(32),
  THREADLINE_SANDBOX_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
  THREADLINE_SANDBOX_HEARTBEAT_TIMEOUT_SECONDS: z.coerce.number().min(1).default(10),
  THREADLINE_SANDBOX_AFFINITY_WAIT_SECONDS: z.coerce.number().min(0.5).default(5),
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
  sandbox: SandboxConfig;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
}

/** The code interpreter's sandbox: where sandbox workers poll, what they run, and every limit (README). */
export interface SandboxConfig {
  /** Shared task queue of the sandbox workers; each also polls `<taskQueue>/<its instance id>`. */
  taskQueue: string;
  bwrapPath: string;
  pythonPath: string;
  /** Parent of every sandbox worker's own directory; must be traversable by the sandbox uid. */
  dir: string;
  /** Host uid/gid the sandbox runs as when Threadline runs as root (otherwise Threadline's own). */
  uid: number;
  gid: number;
  /** Per-session memory and process cgroups when the host allows them (`auto`), or never (`off`). */
  cgroups: 'auto' | 'off';
  timeoutMs: number;
  cpuSeconds: number;
  memoryBytes: number;
  maxProcesses: number;
  maxFileBytes: number;
  tmpBytes: number;
  maxOutputBytes: number;
  idleTimeoutMs: number;
  maxSessions: number;
  concurrency: number;
  heartbeatTimeoutMs: number;
  affinityWaitMs: number;
}

const MIB = 1024 * 1024;

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
    sandbox: {
      taskQueue: e.THREADLINE_SANDBOX_TASK_QUEUE,
      bwrapPath: e.THREADLINE_SANDBOX_BWRAP_PATH,
      pythonPath: e.THREADLINE_SANDBOX_PYTHON_PATH,
      dir: path.resolve(e.THREADLINE_SANDBOX_DIR ?? path.join(os.tmpdir(), 'threadline-sandbox')),
      uid: e.THREADLINE_SANDBOX_UID,
      gid: e.THREADLINE_SANDBOX_GID,
      cgroups: e.THREADLINE_SANDBOX_CGROUPS,
      timeoutMs: Math.round(e.THREADLINE_SANDBOX_TIMEOUT_SECONDS * 1000),
      cpuSeconds: e.THREADLINE_SANDBOX_CPU_SECONDS,
      memoryBytes: e.THREADLINE_SANDBOX_MEMORY_MB * MIB,
      maxProcesses: e.THREADLINE_SANDBOX_MAX_PROCESSES,
      maxFileBytes: e.THREADLINE_SANDBOX_MAX_FILE_MB * MIB,
      tmpBytes: e.THREADLINE_SANDBOX_TMP_MB * MIB,
      maxOutputBytes: e.THREADLINE_SANDBOX_MAX_OUTPUT_BYTES,
      idleTimeoutMs: Math.round(e.THREADLINE_SANDBOX_IDLE_TIMEOUT_SECONDS * 1000),
      maxSessions: e.THREADLINE_SANDBOX_MAX_SESSIONS,
      concurrency: e.THREADLINE_SANDBOX_CONCURRENCY,
      heartbeatTimeoutMs: Math.round(e.THREADLINE_SANDBOX_HEARTBEAT_TIMEOUT_SECONDS * 1000),
      affinityWaitMs: Math.round(e.THREADLINE_SANDBOX_AFFINITY_WAIT_SECONDS * 1000),
    },
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

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { HostAllowList } from './tools/server/hosts';
import { parseServerToolsFile, type ServerToolRegistration } from './tools/server/registration';
import { defaultProvider, loadProviderFile, type LoadedProviderFile, type ProviderSpec } from './model/providerFile';

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
const flag = z
  .enum(['', 'true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .optional()
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
/** A flag that is on unless set to a false value. */
const flagOn = z
  .enum(['', 'true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .optional()
  .transform((v) => !(v === 'false' || v === '0' || v === 'no'));
const limit = z.coerce.number().int().min(0);

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
  THREADLINE_SQLITE_SYNCHRONOUS: optionalString.pipe(z.enum(['normal', 'full']).optional()),
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
  THREADLINE_EAGER_START: flagOn,
  THREADLINE_WORKFLOW_CACHE_SIZE: z.coerce.number().int().min(0).default(100),
  THREADLINE_WORKFLOW_TASK_TIMEOUT_SECONDS: z.coerce.number().min(1).max(60).default(2),
  THREADLINE_STICKY_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(60).default(1),
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
  THREADLINE_FILE_STORAGE: optionalString.pipe(z.enum(['local', 'postgres']).optional()),
  THREADLINE_FILE_DIR: optionalString,
  THREADLINE_MAX_FILE_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(512 * 1024 * 1024),
  THREADLINE_REQUIRE_KEYS: flag,
  THREADLINE_ADMIN_KEY: optionalString.pipe(
    z.string().min(16, 'the admin key must be at least 16 characters').optional(),
  ),
  THREADLINE_RATE_LIMIT_RPM: limit.default(0),
  THREADLINE_RATE_LIMIT_ACTIVE_RUNS: limit.default(0),
  THREADLINE_PROVIDERS_FILE: optionalString,
  THREADLINE_METRICS_PORT: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    port.optional(),
  ),
  THREADLINE_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  THREADLINE_OTLP_ENDPOINT: optionalString.pipe(z.url().optional()),
  THREADLINE_OTEL_SERVICE_NAME: z.string().min(1).default('threadline'),
  THREADLINE_CODE_INTERPRETER: z.enum(['on', 'off']).default('on'),
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
  THREADLINE_CORS_ORIGINS: origins,
  THREADLINE_ALLOWED_HOSTS: list.pipe(z.array(z.string().regex(/^[a-z0-9.:[\]-]+$/i, 'expected host names'))),
  // Vector search (README, "Vector stores"): no base URL = no embedder = keyword search alone.
  THREADLINE_EMBEDDINGS_BASE_URL: optionalString.pipe(
    z.url({ protocol: /^https?$/, message: 'expected an http(s) URL such as http://127.0.0.1:11434/v1' }).optional(),
  ),
  THREADLINE_EMBEDDINGS_API_KEY: optionalString,
  THREADLINE_EMBEDDINGS_MODEL: z.string().trim().min(1).default('text-embedding-3-small'),
  THREADLINE_EMBEDDINGS_DIMENSIONS: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    // sqlite-vec and pgvector's indexed `vector` type both stop at 2,000 dimensions for an HNSW index.
    z.coerce.number().int().min(1).max(2000).optional(),
  ),
  THREADLINE_EMBEDDINGS_BATCH_SIZE: z.coerce.number().int().min(1).max(2048).default(64),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type DatabaseConfig =
  | {
      dialect: 'sqlite';
      filename: string;
      /** WAL's `synchronous` pragma: `normal` (the default) syncs at checkpoints, `full` at every commit. */
      synchronous?: 'normal' | 'full';
    }
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
    /** Eager workflow start where the API and a worker share a process (`threadline start`). */
    eagerStart: boolean;
    /** Run workflows a worker keeps in memory between tasks (the rest replay from history when they resume). */
    workflowCacheSize: number;
    /** A run's workflow task timeout: how long a task held by a worker that died blocks its run. */
    workflowTaskTimeoutMs: number;
    /** How long a run's task waits for the worker that has it cached before any worker may take it. */
    stickyTimeoutMs: number;
  };
  model: {
    /** The context window of a provider entry that names none. */
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
  files: FilesConfig;
  sandbox: SandboxConfig;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  extensions: ExtensionsConfig;
  auth: {
    /** Keys required even on a loopback bind (they always are on any other interface). */
    requireKeys: boolean;
    /** Bearer token of the admin API and of /metrics on the API port; unset disables the admin API. */
    adminKey: string | undefined;
  };
  /** Per-key limits; 0 = none. Projects may override them. */
  rateLimits: { requestsPerMinute: number; activeRuns: number };
  providers: {
    /** The settings file the entries below came from, if any. */
    file: string | undefined;
    entries: ProviderSpec[];
    /** The catch-all: OPENAI_BASE_URL/OPENAI_API_KEY, or the file's `default`; null when the file removed it. */
    fallback: ProviderSpec | null;
  };
  /** A separate listener for /metrics, /healthz and /readyz (the only HTTP a `threadline worker` serves). */
  metrics: { port: number | undefined; host: string };
  tracing: { otlpEndpoint: string | undefined; serviceName: string };
  /** The OpenAI-compatible `/v1/embeddings` endpoint of vector search; undefined = keyword search only. */
  embeddings: EmbeddingsConfig | undefined;
}

export interface EmbeddingsConfig {
  /** e.g. `https://api.openai.com/v1` or Ollama's `http://127.0.0.1:11434/v1`. */
  baseURL: string;
  apiKey: string | undefined;
  model: string;
  /** Sent as `dimensions` when set (OpenAI's text-embedding-3 models shorten their vectors); otherwise the model's own. */
  dimensions: number | undefined;
  /** Texts per request. */
  batchSize: number;
}

/**
 * Where uploaded bytes live. `local`: a directory (one host, or a directory every API and worker host mounts);
 * `postgres`: chunks in the PostgreSQL database itself, reachable from every host that reaches the database.
 */
export interface FilesConfig {
  storage: 'local' | 'postgres';
  /** The `local` driver's directory. */
  dir: string;
  /** Largest file an upload (or a tool) may store; bigger ones are refused while they are read. */
  maxBytes: number;
}

/** The code interpreter's sandbox: where sandbox workers poll, what they run, and every limit (README). */
export interface SandboxConfig {
  /**
   * Whether runs offer code_interpreter to the model (when an assistant or run declares it): sandbox workers
   * must serve `taskQueue` (`threadline start` runs one; so does `threadline sandbox`).
   */
  offered: boolean;
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

function settingsError(error: z.ZodError, env: NodeJS.ProcessEnv): ConfigError {
  const lines = error.issues.map((issue) => {
    const name = String(issue.path[0] ?? 'environment');
    return `  ${name}=${JSON.stringify(env[name] ?? '')}: ${issue.message}`;
  });
  return new ConfigError(`Invalid setting(s):\n${lines.join('\n')}`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) throw settingsError(parsed.error, env);
  const e = parsed.data;
  const extensions = loadExtensionsConfig(env);
  const dataDir = path.resolve(e.THREADLINE_DATA_DIR);
  const url = parseDatabaseUrl(e.THREADLINE_DATABASE_URL, dataDir);
  const database =
    url.dialect === 'sqlite' ? { ...url, synchronous: e.THREADLINE_SQLITE_SYNCHRONOUS ?? 'normal' } : url;
  const envDefault = defaultProvider(e.OPENAI_BASE_URL, e.OPENAI_API_KEY);
  let file: LoadedProviderFile | undefined;
  try {
    if (e.THREADLINE_PROVIDERS_FILE) file = loadProviderFile(path.resolve(e.THREADLINE_PROVIDERS_FILE), env);
  } catch (error) {
    throw new ConfigError(`Invalid setting(s):\n  ${(error as Error).message}`);
  }
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    database,
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
      eagerStart: e.THREADLINE_EAGER_START,
      workflowCacheSize: e.THREADLINE_WORKFLOW_CACHE_SIZE,
      workflowTaskTimeoutMs: Math.round(e.THREADLINE_WORKFLOW_TASK_TIMEOUT_SECONDS * 1000),
      stickyTimeoutMs: Math.round(e.THREADLINE_STICKY_TIMEOUT_SECONDS * 1000),
    },
    model: {
      contextWindowTokens: e.THREADLINE_MODEL_CONTEXT_TOKENS,
      maxAttempts: e.THREADLINE_MODEL_MAX_ATTEMPTS,
      retryInitialMs: e.THREADLINE_MODEL_RETRY_INITIAL_MS,
      heartbeatTimeoutMs: Math.round(e.THREADLINE_MODEL_HEARTBEAT_TIMEOUT_SECONDS * 1000),
      idleTimeoutMs: Math.round(e.THREADLINE_MODEL_IDLE_TIMEOUT_SECONDS * 1000),
    },
    runExpirySeconds: e.THREADLINE_RUN_EXPIRY_SECONDS,
    maxSteps: e.THREADLINE_MAX_STEPS,
    sseKeepAliveMs: Math.round(e.THREADLINE_SSE_KEEPALIVE_SECONDS * 1000),
    files: {
      storage: fileStorageFor(e.THREADLINE_FILE_STORAGE, database),
      dir: path.resolve(e.THREADLINE_FILE_DIR ?? path.join(dataDir, 'files')),
      maxBytes: e.THREADLINE_MAX_FILE_BYTES,
    },
    sandbox: {
      offered: e.THREADLINE_CODE_INTERPRETER === 'on',
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
    extensions,
    auth: { requireKeys: e.THREADLINE_REQUIRE_KEYS, adminKey: e.THREADLINE_ADMIN_KEY },
    rateLimits: { requestsPerMinute: e.THREADLINE_RATE_LIMIT_RPM, activeRuns: e.THREADLINE_RATE_LIMIT_ACTIVE_RUNS },
    providers: {
      file: file ? path.resolve(e.THREADLINE_PROVIDERS_FILE!) : undefined,
      entries: file?.entries ?? [],
      fallback: file && file.fallback !== undefined ? file.fallback : envDefault,
    },
    metrics: { port: e.THREADLINE_METRICS_PORT, host: e.THREADLINE_METRICS_HOST },
    tracing: { otlpEndpoint: e.THREADLINE_OTLP_ENDPOINT, serviceName: e.THREADLINE_OTEL_SERVICE_NAME },
    embeddings:
      e.THREADLINE_EMBEDDINGS_BASE_URL === undefined
        ? undefined
        : {
            baseURL: e.THREADLINE_EMBEDDINGS_BASE_URL.replace(/\/+$/, ''),
            apiKey: e.THREADLINE_EMBEDDINGS_API_KEY,
            model: e.THREADLINE_EMBEDDINGS_MODEL,
            dimensions: e.THREADLINE_EMBEDDINGS_DIMENSIONS,
            batchSize: e.THREADLINE_EMBEDDINGS_BATCH_SIZE,
          },
  };
}

/** Settings of the extensions beyond OpenAI's API (README, "Extensions"). */
const ExtensionsEnvSchema = z.object({
  THREADLINE_SERVER_TOOLS_FILE: optionalString,
  THREADLINE_SERVER_TOOL_HOSTS: optionalString,
  THREADLINE_TEMPLATE_UPGRADE_PAGE_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  THREADLINE_TEMPLATE_UPGRADE_PAGES_PER_RUN: z.coerce.number().int().min(1).max(1000).default(50),
  THREADLINE_TEMPLATE_UPGRADE_PAUSE_MS: z.coerce.number().int().min(0).max(3_600_000).default(0),
});

export interface ExtensionsConfig {
  /** Server-side tools from the tools file (every project), header secrets resolved from the environment. */
  serverTools: ServerToolRegistration[];
  serverToolHosts: HostAllowList;
  templateUpgrade: { pageSize: number; pagesPerRun: number; pauseMs: number };
}

function loadExtensionsConfig(env: NodeJS.ProcessEnv): ExtensionsConfig {
  const parsed = ExtensionsEnvSchema.safeParse(env);
  if (!parsed.success) throw settingsError(parsed.error, env);
  const e = parsed.data;
  let hosts: HostAllowList;
  try {
    hosts = HostAllowList.parse(e.THREADLINE_SERVER_TOOL_HOSTS);
  } catch {
    throw new ConfigError(
      `Invalid setting(s):\n  THREADLINE_SERVER_TOOL_HOSTS=${JSON.stringify(e.THREADLINE_SERVER_TOOL_HOSTS)}: expected host[:port],…`,
    );
  }
  let serverTools: ServerToolRegistration[] = [];
  if (e.THREADLINE_SERVER_TOOLS_FILE !== undefined) {
    const file = e.THREADLINE_SERVER_TOOLS_FILE;
    try {
      serverTools = parseServerToolsFile(fs.readFileSync(file, 'utf8'), env, hosts);
    } catch (error) {
      throw new ConfigError(
        `Invalid setting(s):\n  THREADLINE_SERVER_TOOLS_FILE=${JSON.stringify(file)}: ${(error as Error).message}`,
      );
    }
  }
  return {
    serverTools,
    serverToolHosts: hosts,
    templateUpgrade: {
      pageSize: e.THREADLINE_TEMPLATE_UPGRADE_PAGE_SIZE,
      pagesPerRun: e.THREADLINE_TEMPLATE_UPGRADE_PAGES_PER_RUN,
      pauseMs: e.THREADLINE_TEMPLATE_UPGRADE_PAUSE_MS,
    },
  };
}

/**
 * On PostgreSQL the default is the database itself: API and worker processes on different hosts all reach it,
 * while a directory would only be seen by the host that wrote it (a worker could not show an uploaded image
 * to the model). On SQLite everything runs on one host, and a directory is the simplest store.
 */
function fileStorageFor(setting: 'local' | 'postgres' | undefined, database: DatabaseConfig): FilesConfig['storage'] {
  if (setting === 'postgres' && database.dialect !== 'postgres') {
    throw new ConfigError(
      'Invalid setting(s):\n  THREADLINE_FILE_STORAGE="postgres": needs a PostgreSQL THREADLINE_DATABASE_URL (the files are stored in that database)',
    );
  }
  return setting ?? (database.dialect === 'postgres' ? 'postgres' : 'local');
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

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { ConfigError, loadConfig, parseDatabaseUrl } from '../../src/config';
import { createDb } from '../../src/store/db';

describe('settings', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      dataDir: path.resolve('.threadline'),
      database: { dialect: 'sqlite', filename: path.resolve('.threadline/threadline.db'), synchronous: 'normal' },
      maxBodyBytes: 4 * 1024 * 1024,
      temporal: {
        address: undefined,
        namespace: 'default',
        taskQueue: 'threadline-runs',
        devServerPort: 7233,
        devServerUiPort: 8233,
        eagerStart: true,
        workflowCacheSize: 100,
        workflowTaskTimeoutMs: 2000,
        stickyTimeoutMs: 1000,
      },
      model: { contextWindowTokens: 128_000 },
      runExpirySeconds: 600,
      files: { storage: 'local', dir: path.resolve('.threadline/files'), maxBytes: 512 * 1024 * 1024 },
      corsOrigins: [],
      allowedHosts: [],
      logLevel: 'info',
      auth: { requireKeys: false, adminKey: undefined },
      rateLimits: { requestsPerMinute: 0, activeRuns: 0 },
      providers: {
        file: undefined,
        entries: [],
        // OPENAI_BASE_URL / OPENAI_API_KEY are the catch-all entry of the provider table.
        fallback: { id: 'default', model: '*', baseURL: 'https://api.openai.com/v1', apiKey: undefined },
      },
      metrics: { port: undefined, host: '127.0.0.1' },
      tracing: { otlpEndpoint: undefined, serviceName: 'threadline' },
      embeddings: undefined,
    });
  });

  it('configures an embeddings endpoint only when its base URL is set, and validates its settings', () => {
    expect(loadConfig({ THREADLINE_EMBEDDINGS_MODEL: 'nomic-embed-text' }).embeddings).toBeUndefined();
    expect(
      loadConfig({
        THREADLINE_EMBEDDINGS_BASE_URL: 'http://127.0.0.1:11434/v1/',
        THREADLINE_EMBEDDINGS_MODEL: 'nomic-embed-text',
      }).embeddings,
    ).toEqual({
      baseURL: 'http://127.0.0.1:11434/v1',
      apiKey: undefined,
      model: 'nomic-embed-text',
      dimensions: undefined,
      batchSize: 64,
    });
    expect(
      loadConfig({
        THREADLINE_EMBEDDINGS_BASE_URL: 'https://api.openai.com/v1',
        THREADLINE_EMBEDDINGS_API_KEY: 'sk-test',
        THREADLINE_EMBEDDINGS_DIMENSIONS: '256',
      }).embeddings,
    ).toMatchObject({ model: 'text-embedding-3-small', apiKey: 'sk-test', dimensions: 256 });
    expect(() => loadConfig({ THREADLINE_EMBEDDINGS_BASE_URL: 'localhost:11434' })).toThrow(
      /THREADLINE_EMBEDDINGS_BASE_URL="localhost:11434"/,
    );
    expect(() => loadConfig({ THREADLINE_EMBEDDINGS_DIMENSIONS: '0' })).toThrow(/THREADLINE_EMBEDDINGS_DIMENSIONS="0"/);
    expect(() => loadConfig({ THREADLINE_EMBEDDINGS_DIMENSIONS: '4096' })).toThrow(
      /THREADLINE_EMBEDDINGS_DIMENSIONS="4096"/,
    );
  });

  it('keeps files in PostgreSQL by default when the database is PostgreSQL, and refuses that on SQLite', () => {
    expect(loadConfig({ THREADLINE_DATABASE_URL: 'postgres://h/db' }).files.storage).toBe('postgres');
    expect(
      loadConfig({ THREADLINE_DATABASE_URL: 'postgres://h/db', THREADLINE_FILE_STORAGE: 'local' }).files.storage,
    ).toBe('local');
    expect(() => loadConfig({ THREADLINE_FILE_STORAGE: 'postgres' })).toThrow(/THREADLINE_FILE_STORAGE="postgres"/);
    expect(() => loadConfig({ THREADLINE_FILE_STORAGE: 's3' })).toThrow(/THREADLINE_FILE_STORAGE="s3"/);
  });

  it('reads the key, limit, provider, metrics and tracing settings', () => {
    const config = loadConfig({
      THREADLINE_REQUIRE_KEYS: 'true',
      THREADLINE_ADMIN_KEY: 'a-long-enough-admin-key',
      THREADLINE_RATE_LIMIT_RPM: '60',
      THREADLINE_RATE_LIMIT_ACTIVE_RUNS: '3',
      OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
      OPENAI_API_KEY: 'ollama',
      THREADLINE_METRICS_PORT: '9464',
      THREADLINE_OTLP_ENDPOINT: 'http://collector:4318',
    });
    expect(config.auth).toEqual({ requireKeys: true, adminKey: 'a-long-enough-admin-key' });
    expect(config.rateLimits).toEqual({ requestsPerMinute: 60, activeRuns: 3 });
    expect(config.providers.fallback).toMatchObject({ baseURL: 'http://127.0.0.1:11434/v1', apiKey: 'ollama' });
    expect(config.metrics.port).toBe(9464);
    expect(config.tracing.otlpEndpoint).toBe('http://collector:4318');
    expect(() => loadConfig({ THREADLINE_ADMIN_KEY: 'short' })).toThrow(
      /THREADLINE_ADMIN_KEY="short": the admin key must be at least 16 characters/,
    );
    expect(() => loadConfig({ THREADLINE_REQUIRE_KEYS: 'maybe' })).toThrow(
      /THREADLINE_REQUIRE_KEYS="maybe": expected true or false/,
    );
  });

  it('reads the CORS origins and allowed hosts as comma-separated lists, and refuses origins with a path', () => {
    const config = loadConfig({
      THREADLINE_CORS_ORIGINS: 'https://app.example.com, http://localhost:3000',
      THREADLINE_ALLOWED_HOSTS: 'API.internal,threadline',
    });
    expect(config.corsOrigins).toEqual(['https://app.example.com', 'http://localhost:3000']);
    expect(config.allowedHosts).toEqual(['api.internal', 'threadline']);
    expect(() => loadConfig({ THREADLINE_CORS_ORIGINS: 'https://app.example.com/' })).toThrow(
      /THREADLINE_CORS_ORIGINS/,
    );
  });

  it('selects PostgreSQL from a postgres:// URL and SQLite from anything path-like', () => {
    expect(parseDatabaseUrl('postgres://u@h:5432/db', '/d')).toEqual({
      dialect: 'postgres',
      connectionString: 'postgres://u@h:5432/db',
    });
    expect(parseDatabaseUrl('postgresql://h/db', '/d')).toEqual({
      dialect: 'postgres',
      connectionString: 'postgresql://h/db',
    });
    expect(parseDatabaseUrl('sqlite:/var/lib/t.db', '/d')).toEqual({ dialect: 'sqlite', filename: '/var/lib/t.db' });
    expect(parseDatabaseUrl('/abs/file.db', '/d')).toEqual({ dialect: 'sqlite', filename: '/abs/file.db' });
    expect(parseDatabaseUrl(undefined, '/d')).toEqual({ dialect: 'sqlite', filename: '/d/threadline.db' });
    expect(() => parseDatabaseUrl('mysql://h/db', '/d')).toThrow(/THREADLINE_DATABASE_URL/);
  });

  it("takes SQLite's synchronous mode, and applies it to a new database file as to an existing one", async () => {
    expect(loadConfig({ THREADLINE_SQLITE_SYNCHRONOUS: 'full' }).database).toMatchObject({ synchronous: 'full' });
    expect(loadConfig({ THREADLINE_SQLITE_SYNCHRONOUS: '' }).database).toMatchObject({ synchronous: 'normal' });
    expect(() => loadConfig({ THREADLINE_SQLITE_SYNCHRONOUS: 'off' })).toThrow(/THREADLINE_SQLITE_SYNCHRONOUS="off"/);
    // PostgreSQL has no such pragma: the setting is not carried over.
    expect(loadConfig({ THREADLINE_DATABASE_URL: 'postgres://h/db' }).database).not.toHaveProperty('synchronous');

    // A connection that switched a new file to WAL itself used to stay at FULL (2); one reopening it got NORMAL.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-sync-'));
    const filename = path.join(dir, 'new.db');
    const modeOf = async (synchronous: 'normal' | 'full') => {
      const db = createDb({ dialect: 'sqlite', filename, synchronous });
      try {
        const { rows } = await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(db);
        return rows[0]?.synchronous;
      } finally {
        await db.destroy();
      }
    };
    try {
      expect(await modeOf('normal')).toBe(1);
      expect(await modeOf('full')).toBe(2);
      expect(await modeOf('normal')).toBe(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('turns eager workflow start off only when told to, and takes the workflow cache size', () => {
    expect(loadConfig({ THREADLINE_EAGER_START: 'false' }).temporal.eagerStart).toBe(false);
    expect(loadConfig({ THREADLINE_EAGER_START: '' }).temporal.eagerStart).toBe(true);
    expect(loadConfig({ THREADLINE_WORKFLOW_CACHE_SIZE: '0' }).temporal.workflowCacheSize).toBe(0);
    expect(() => loadConfig({ THREADLINE_WORKFLOW_CACHE_SIZE: '-1' })).toThrow(/THREADLINE_WORKFLOW_CACHE_SIZE/);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ TEMPORAL_ADDRESS: '', OPENAI_BASE_URL: '' }).temporal.address).toBeUndefined();
  });

  it('names every bad setting in one error', () => {
    const attempt = () => loadConfig({ PORT: '99999', LOG_LEVEL: 'loud', OPENAI_BASE_URL: 'not a url' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/PORT="99999"/);
    expect(attempt).toThrow(/LOG_LEVEL="loud"/);
    expect(attempt).toThrow(/OPENAI_BASE_URL="not a url"/);
  });

  it('has the sandbox defaults, and refuses a sandbox Python outside /usr', () => {
    expect(loadConfig({}).sandbox).toMatchObject({
      taskQueue: 'threadline-sandbox',
      bwrapPath: '/usr/bin/bwrap',
      pythonPath: '/usr/bin/python3',
      uid: 65534,
      gid: 65534,
      cgroups: 'auto',
      timeoutMs: 120_000,
      cpuSeconds: 120,
      memoryBytes: 2048 * 1024 * 1024,
      maxProcesses: 64,
      maxFileBytes: 512 * 1024 * 1024,
      maxOutputBytes: 16_384,
      idleTimeoutMs: 3_600_000,
      affinityWaitMs: 5_000,
    });
    expect(() => loadConfig({ THREADLINE_SANDBOX_PYTHON_PATH: '/root/.pyenv/shims/python3' })).toThrow(
      /THREADLINE_SANDBOX_PYTHON_PATH="\/root\/.pyenv\/shims\/python3": must be under \/usr/,
    );
  });
});

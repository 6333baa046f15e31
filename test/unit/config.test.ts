import path from 'node:path';
import { ConfigError, loadConfig, parseDatabaseUrl } from '../../src/config';

describe('settings', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      dataDir: path.resolve('.threadline'),
      database: { dialect: 'sqlite', filename: path.resolve('.threadline/threadline.db') },
      maxBodyBytes: 4 * 1024 * 1024,
      temporal: {
        address: undefined,
        namespace: 'default',
        taskQueue: 'threadline-runs',
        devServerPort: 7233,
        devServerUiPort: 8233,
      },
      model: { baseURL: undefined, apiKey: undefined },
      runExpirySeconds: 600,
      corsOrigins: [],
      allowedHosts: [],
      logLevel: 'info',
    });
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
});

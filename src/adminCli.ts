import { parseArgs } from 'node:util';
import type { Config } from './config';
import { ApiError } from './errors';
import { parseRequest } from './api/validation';
import { CreateApiKeyBody, CreateProjectBody } from './schemas/admin';
import { adminService } from './services/admin';
import { fileStoreOptions } from './files';
import { createStore } from './store';
import { createDb } from './store/db';
import { migrateToLatest } from './store/migrate';

export const ADMIN_USAGE = `  projects create --name <name> [--rpm <n>] [--active-runs <n>]
                        a new project (limits override THREADLINE_RATE_LIMIT_*; 0 = none)
  projects list         every project
  keys create --project <project id> [--name <name>]
                        a new API key for the project; printed once, only its hash is kept
  keys list [--project <project id>]
  keys revoke <key id>  the key stops working at its next request
  (add --json to any of these for machine-readable output)`;

type Out = (line: string) => void;

/**
 * `threadline projects …` and `threadline keys …`: the admin service run straight on the database (migrated
 * first), so the first key can be made before any server runs, and a locked-out operator needs no HTTP.
 */
export async function runAdminCommand(config: Config, argv: string[], out: Out, err: Out): Promise<number> {
  const [noun, verb, ...rest] = argv;
  let args: ReturnType<typeof parse>;
  try {
    args = parse(rest);
  } catch (error) {
    err(`threadline ${noun} ${verb ?? ''}: ${(error as Error).message}`);
    return 1;
  }
  const db = createDb(config.database);
  try {
    await migrateToLatest(db);
    const admin = adminService({
      store: createStore(db, undefined, fileStoreOptions(config.files, db)),
      providerFile: config.providers,
    });
    const print = (value: unknown, text: () => string[]) => {
      for (const line of args.values.json ? [JSON.stringify(value)] : text()) out(line);
    };
    const command = `${noun} ${verb}`;
    switch (command) {
      case 'projects create': {
        const body = parseRequest(CreateProjectBody, {
          name: args.values.name,
          rate_limits: {
            requests_per_minute: optionalInt(args.values.rpm, '--rpm'),
            active_runs: optionalInt(args.values['active-runs'], '--active-runs'),
          },
        });
        const project = await admin.createProject(body);
        print(project, () => [`Created project ${project.id} (${project.name}).`]);
        return 0;
      }
      case 'projects list': {
        const { data } = await admin.listProjects();
        print(data, () =>
          data.map(
            (p) =>
              `${p.id}  ${p.name}  rpm=${p.rate_limits.requests_per_minute ?? 'default'}  active_runs=${p.rate_limits.active_runs ?? 'default'}`,
          ),
        );
        return 0;
      }
      case 'keys create': {
        if (!args.values.project) throw new ApiError(400, 'keys create needs --project <project id>.');
        const key = await admin.createApiKey(
          args.values.project,
          parseRequest(CreateApiKeyBody, { name: args.values.name }),
        );
        print(key, () => [
          `Created API key ${key.id} for project ${key.project_id}${key.name ? ` (${key.name})` : ''}:`,
          '',
          `  ${key.value}`,
          '',
          'This is the only time the key is shown: store it now.',
        ]);
        return 0;
      }
      case 'keys list': {
        const { data } = await admin.listApiKeys(args.values.project);
        print(data, () =>
          data.map(
            (k) =>
              `${k.id}  ${k.project_id}  ${k.redacted_value}  ${k.revoked_at === null ? 'active' : 'revoked'}${k.name ? `  ${k.name}` : ''}`,
          ),
        );
        return 0;
      }
      case 'keys revoke': {
        const id = args.positionals[0];
        if (!id) throw new ApiError(400, 'keys revoke needs the key id (key_…; see `threadline keys list`).');
        const key = await admin.revokeApiKey(id);
        print(key, () => [`Revoked API key ${key.id} (${key.redacted_value}).`]);
        return 0;
      }
      default:
        err(`Unknown command 'threadline ${argv.join(' ')}'.\n\n${ADMIN_USAGE}`);
        return 1;
    }
  } catch (error) {
    if (error instanceof ApiError) {
      err(`threadline ${noun} ${verb}: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await db.destroy();
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      project: { type: 'string' },
      rpm: { type: 'string' },
      'active-runs': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
}

function optionalInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new ApiError(400, `${flag} expects a whole number, got '${value}'.`);
  return Number(value);
}

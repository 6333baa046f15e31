import { PostgresAdapter } from 'kysely';
import { fileLibrary, type FileLibraryOptions } from '../files/library';
import type { RunEventBus } from '../streaming/bus';
import type { Db } from './db';
import { apiKeysRepository } from './repositories/apiKeys';
import { assistantsRepository } from './repositories/assistants';
import { messagesRepository } from './repositories/messages';
import { projectsRepository } from './repositories/projects';
import { providersRepository } from './repositories/providers';
import { rateLimitsRepository } from './repositories/rateLimits';
import { runEventsRepository } from './repositories/runEvents';
import { runLaunchesRepository } from './repositories/runLaunches';
import { runStepsRepository } from './repositories/runSteps';
import { runsRepository } from './repositories/runs';
import { serverToolsRepository } from './repositories/serverTools';
import { templateLinksRepository } from './repositories/templateLinks';
import { templatesRepository } from './repositories/templates';
import { templateUpgradesRepository } from './repositories/templateUpgrades';
import { sandboxSessionsRepository } from './repositories/sandboxSessions';
import { threadsRepository } from './repositories/threads';
import { toolOutputsRepository } from './repositories/toolOutputs';
import { vectorStoresRepository } from './repositories/vectorStores';

/**
 * All repositories over one database handle; services receive this, never the raw handle. The bus, when
 * given, hears every event appended in this process (the in-process fast path of streaming). `files` is the
 * file library: rows plus the bytes in their storage, which the API and the worker's activities both use.
 */
export function createStore(db: Db, bus: RunEventBus | undefined, files: FileLibraryOptions) {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  return {
    db,
    assistants: assistantsRepository(db),
    threads: threadsRepository(db),
    messages: messagesRepository(db),
    runs: runsRepository(db),
    runSteps: runStepsRepository(db),
    runEvents: runEventsRepository(db, bus, postgres),
    toolOutputs: toolOutputsRepository(db),
    serverTools: serverToolsRepository(db),
    templates: templatesRepository(db),
    templateLinks: templateLinksRepository(db),
    templateUpgrades: templateUpgradesRepository(db),
    files: fileLibrary(db, files),
    projects: projectsRepository(db),
    apiKeys: apiKeysRepository(db),
    rateLimits: rateLimitsRepository(db),
    providers: providersRepository(db),
    sandboxSessions: sandboxSessionsRepository(db),
    runLaunches: runLaunchesRepository(db),
    vectorStores: vectorStoresRepository(db, postgres),
  };
}

export type Store = ReturnType<typeof createStore>;

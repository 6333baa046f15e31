import { PostgresAdapter } from 'kysely';
import type { RunEventBus } from '../streaming/bus';
import type { Db } from './db';
import { assistantsRepository } from './repositories/assistants';
import { messagesRepository } from './repositories/messages';
import { runEventsRepository } from './repositories/runEvents';
import { runLaunchesRepository } from './repositories/runLaunches';
import { runStepsRepository } from './repositories/runSteps';
import { runsRepository } from './repositories/runs';
import { threadsRepository } from './repositories/threads';

/**
 * All repositories over one database handle; services receive this, never the raw handle. The bus, when
 * given, hears every event appended in this process (the in-process fast path of streaming).
 */
export function createStore(db: Db, bus?: RunEventBus) {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  return {
    db,
    assistants: assistantsRepository(db),
    threads: threadsRepository(db),
    messages: messagesRepository(db),
    runs: runsRepository(db),
    runSteps: runStepsRepository(db),
    runEvents: runEventsRepository(db, bus, postgres),
    runLaunches: runLaunchesRepository(db),
  };
}

export type Store = ReturnType<typeof createStore>;

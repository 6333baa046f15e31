import type { Db } from './db';
import { assistantsRepository } from './repositories/assistants';
import { messagesRepository } from './repositories/messages';
import { runStepsRepository } from './repositories/runSteps';
import { runsRepository } from './repositories/runs';
import { threadsRepository } from './repositories/threads';

/** All repositories over one database handle; services receive this, never the raw handle. */
export function createStore(db: Db) {
  return {
    db,
    assistants: assistantsRepository(db),
    threads: threadsRepository(db),
    messages: messagesRepository(db),
    runs: runsRepository(db),
    runSteps: runStepsRepository(db),
  };
}

export type Store = ReturnType<typeof createStore>;

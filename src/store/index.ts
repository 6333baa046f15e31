import type { Db } from './db';
import { assistantsRepository } from './repositories/assistants';
import { messagesRepository } from './repositories/messages';
import { threadsRepository } from './repositories/threads';

/** All repositories over one database handle; services receive this, never the raw handle. */
export function createStore(db: Db) {
  return {
    db,
    assistants: assistantsRepository(db),
    threads: threadsRepository(db),
    messages: messagesRepository(db),
  };
}

export type Store = ReturnType<typeof createStore>;

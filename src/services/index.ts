import { assistantsService } from './assistants';
import type { ServiceDeps } from './context';
import { messagesService } from './messages';
import { modelsService } from './models';
import { runsService } from './runs';
import { threadsService } from './threads';

export function createServices(deps: ServiceDeps) {
  return {
    assistants: assistantsService(deps),
    threads: threadsService(deps),
    messages: messagesService(deps),
    runs: runsService(deps),
    models: modelsService(deps.providers),
  };
}

export type Services = ReturnType<typeof createServices>;

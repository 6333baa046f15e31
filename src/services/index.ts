import { assistantsService } from './assistants';
import type { ServiceDeps } from './context';
import { filesService } from './files';
import { messagesService } from './messages';
import { modelsService } from './models';
import { runsService } from './runs';
import { serverToolsService } from './serverTools';
import { templateAssistantsService } from './templateAssistants';
import { templatesService } from './templates';
import { threadsService } from './threads';
import { vectorStoreDeps } from './vectorStoreIngest';
import { vectorStoresService } from './vectorStores';

export function createServices(deps: ServiceDeps) {
  return {
    assistants: assistantsService(deps),
    threads: threadsService(deps),
    messages: messagesService(deps),
    runs: runsService(deps),
    // Extensions (README, "Extensions").
    templates: templatesService(deps),
    templateAssistants: templateAssistantsService(deps),
    serverTools: serverToolsService(deps),
    files: filesService(deps),
    vectorStores: vectorStoresService(vectorStoreDeps(deps)),
    models: modelsService(deps.providers),
  };
}

export type Services = ReturnType<typeof createServices>;

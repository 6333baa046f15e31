import type { Model } from 'openai/resources/models';
import { ApiError } from '../errors';
import type { ProviderRegistry } from '../model/providers';
import type { RequestScope } from './context';

/** `GET /v1/models`: what the caller's project can run, from its view of the provider table. */
export function modelsService(providers: ProviderRegistry) {
  const toModel = (m: { id: string; created: number; owned_by: string }): Model => ({
    id: m.id,
    object: 'model',
    created: m.created,
    owned_by: m.owned_by,
  });

  return {
    async list(scope: RequestScope) {
      const data = (await providers.listModels(scope.projectId)).map(toModel);
      return { object: 'list' as const, data };
    },

    async retrieve(scope: RequestScope, id: string): Promise<Model> {
      const found = (await providers.listModels(scope.projectId)).find((m) => m.id === id);
      if (!found) {
        throw new ApiError(
          404,
          `The model \`${id}\` does not exist or you do not have access to it.`,
          'invalid_request_error',
          null,
          'model_not_found',
        );
      }
      return toModel(found);
    },
  };
}

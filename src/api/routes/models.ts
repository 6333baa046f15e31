import { Router } from 'express';
import type { Services } from '../../services';
import { scopeOf } from '../http';

export function modelsRouter({ models }: Services): Router {
  const router = Router();
  router.get('/models', async (_req, res) => {
    res.json(await models.list(scopeOf(res)));
  });
  // Model names may contain slashes (`meta-llama/Llama-3.1-8B`), as OpenAI's fine-tune names contain colons.
  router.get('/models/*model', async (req, res) => {
    const parts = (req.params as { model?: string[] | string }).model;
    const id = Array.isArray(parts) ? parts.join('/') : String(parts ?? '');
    res.json(await models.retrieve(scopeOf(res), id));
  });
  return router;
}

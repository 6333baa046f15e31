import { Router } from 'express';
import { CreateAssistantBody, ModifyAssistantBody } from '../../schemas/assistants';
import { ListQuery } from '../../schemas/list';
import { CreateAssistantFromTemplateBody } from '../../schemas/templates';
import type { Services } from '../../services';
import { idParam, scopeOf } from '../http';
import { parseRequest } from '../validation';

export function assistantsRouter({ assistants, templateAssistants }: Services): Router {
  const router = Router();
  const assistantId = (req: Parameters<typeof idParam>[0]) => idParam(req, 'assistant_id', 'asst');

  router.post('/assistants', async (req, res) => {
    const body: unknown = req.body ?? {};
    // Extension: with `template_id` the assistant is made from a template (its own schema and service).
    if (typeof body === 'object' && body !== null && 'template_id' in body) {
      res.json(await templateAssistants.create(scopeOf(res), parseRequest(CreateAssistantFromTemplateBody, body)));
      return;
    }
    res.json(await assistants.create(scopeOf(res), parseRequest(CreateAssistantBody, body)));
  });
  router.get('/assistants', async (req, res) => {
    res.json(await assistants.list(scopeOf(res), parseRequest(ListQuery, req.query)));
  });
  router.get('/assistants/:assistant_id', async (req, res) => {
    res.json(await assistants.retrieve(scopeOf(res), assistantId(req)));
  });
  router.post('/assistants/:assistant_id', async (req, res) => {
    const id = assistantId(req);
    res.json(await assistants.modify(scopeOf(res), id, parseRequest(ModifyAssistantBody, req.body ?? {})));
  });
  router.delete('/assistants/:assistant_id', async (req, res) => {
    res.json(await assistants.delete(scopeOf(res), assistantId(req)));
  });
  return router;
}

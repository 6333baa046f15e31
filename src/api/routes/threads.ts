import { Router } from 'express';
import { ListQuery } from '../../schemas/list';
import { CreateThreadBody, ModifyThreadBody } from '../../schemas/threads';
import type { Services } from '../../services';
import { idParam, scopeOf } from '../http';
import { parseRequest } from '../validation';

export function threadsRouter({ threads }: Services): Router {
  const router = Router();
  const threadId = (req: Parameters<typeof idParam>[0]) => idParam(req, 'thread_id', 'thread');

  router.post('/threads', async (req, res) => {
    res.json(await threads.create(scopeOf(res), parseRequest(CreateThreadBody, req.body ?? {})));
  });
  // Extension: OpenAI never listed threads; same list parameters and envelope as every other list.
  router.get('/threads', async (req, res) => {
    res.json(await threads.list(scopeOf(res), parseRequest(ListQuery, req.query)));
  });
  router.get('/threads/:thread_id', async (req, res) => {
    res.json(await threads.retrieve(scopeOf(res), threadId(req)));
  });
  router.post('/threads/:thread_id', async (req, res) => {
    const id = threadId(req);
    res.json(await threads.modify(scopeOf(res), id, parseRequest(ModifyThreadBody, req.body ?? {})));
  });
  router.delete('/threads/:thread_id', async (req, res) => {
    res.json(await threads.delete(scopeOf(res), threadId(req)));
  });
  return router;
}

import { Router, type Request } from 'express';
import { ListMessagesQuery } from '../../schemas/list';
import { CreateMessageBody, ModifyMessageBody } from '../../schemas/messages';
import type { Services } from '../../services';
import { idParam, scopeOf } from '../http';
import { parseRequest } from '../validation';

export function messagesRouter({ messages }: Services): Router {
  const router = Router();
  const threadId = (req: Request) => idParam(req, 'thread_id', 'thread');
  const messageId = (req: Request) => idParam(req, 'message_id', 'msg');
  const base = '/threads/:thread_id/messages';

  router.post(base, async (req, res) => {
    const thread = threadId(req);
    res.json(await messages.create(scopeOf(res), thread, parseRequest(CreateMessageBody, req.body ?? {})));
  });
  router.get(base, async (req, res) => {
    const thread = threadId(req);
    res.json(await messages.list(scopeOf(res), thread, parseRequest(ListMessagesQuery, req.query)));
  });
  router.get(`${base}/:message_id`, async (req, res) => {
    res.json(await messages.retrieve(scopeOf(res), threadId(req), messageId(req)));
  });
  router.post(`${base}/:message_id`, async (req, res) => {
    const [thread, message] = [threadId(req), messageId(req)];
    res.json(await messages.modify(scopeOf(res), thread, message, parseRequest(ModifyMessageBody, req.body ?? {})));
  });
  router.delete(`${base}/:message_id`, async (req, res) => {
    res.json(await messages.delete(scopeOf(res), threadId(req), messageId(req)));
  });
  return router;
}

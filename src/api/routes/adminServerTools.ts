import { Router, type Request } from 'express';
import { RegisterServerToolBody } from '../../schemas/serverTools';
import type { Services } from '../../services';
import { parseRequest } from '../validation';

/**
 * Extension: the operator's server-side tool registry, part of the admin API (`/admin/v1`, outside `/v1`,
 * guarded by `Authorization: Bearer <THREADLINE_ADMIN_KEY>` in app.ts). README, "Server-side tools".
 */
export function adminServerToolsRouter({ serverTools }: Services): Router {
  const router = Router();
  const projectOf = (req: Request) => (typeof req.query.project_id === 'string' ? req.query.project_id : undefined);

  router.post('/server_tools', async (req, res) => {
    res.json(await serverTools.register(parseRequest(RegisterServerToolBody, req.body ?? {})));
  });
  router.get('/server_tools', async (req, res) => {
    res.json(await serverTools.list(projectOf(req)));
  });
  router.get('/server_tools/:name', async (req, res) => {
    res.json(await serverTools.retrieve(String(req.params.name), projectOf(req)));
  });
  router.delete('/server_tools/:name', async (req, res) => {
    res.json(await serverTools.delete(String(req.params.name), projectOf(req)));
  });
  return router;
}

import { Router, type Request } from 'express';
import {
  CreateApiKeyBody,
  CreateProjectBody,
  CreateProviderBody,
  ListApiKeysQuery,
  ModifyProjectBody,
  ModifyProviderBody,
} from '../../schemas/admin';
import type { AdminService } from '../../services/admin';
import { idParam } from '../http';
import { parseRequest } from '../validation';

/** `/admin/v1`: projects, their API keys and the model provider table (guarded by the admin key). */
export function adminRouter(admin: AdminService): Router {
  const router = Router();
  const projectId = (req: Request) => idParam(req, 'project_id', 'proj');
  const keyId = (req: Request) => idParam(req, 'key_id', 'key');
  const providerId = (req: Request) => String(req.params.provider_id ?? '');

  router.post('/projects', async (req, res) => {
    res.json(await admin.createProject(parseRequest(CreateProjectBody, req.body ?? {})));
  });
  router.get('/projects', async (_req, res) => {
    res.json(await admin.listProjects());
  });
  router.get('/projects/:project_id', async (req, res) => {
    res.json(await admin.retrieveProject(projectId(req)));
  });
  router.post('/projects/:project_id', async (req, res) => {
    const id = projectId(req);
    res.json(await admin.modifyProject(id, parseRequest(ModifyProjectBody, req.body ?? {})));
  });
  router.post('/projects/:project_id/api_keys', async (req, res) => {
    const id = projectId(req);
    res.json(await admin.createApiKey(id, parseRequest(CreateApiKeyBody, req.body ?? {})));
  });
  router.get('/projects/:project_id/api_keys', async (req, res) => {
    res.json(await admin.listApiKeys(projectId(req)));
  });
  router.get('/api_keys', async (req, res) => {
    res.json(await admin.listApiKeys(parseRequest(ListApiKeysQuery, req.query).project_id));
  });
  router.post('/api_keys/:key_id/revoke', async (req, res) => {
    res.json(await admin.revokeApiKey(keyId(req)));
  });

  router.get('/providers', async (_req, res) => {
    res.json(await admin.listProviders());
  });
  router.post('/providers', async (req, res) => {
    res.json(await admin.createProvider(parseRequest(CreateProviderBody, req.body ?? {})));
  });
  router.get('/providers/:provider_id', async (req, res) => {
    res.json(await admin.retrieveProvider(providerId(req)));
  });
  router.post('/providers/:provider_id', async (req, res) => {
    const id = providerId(req);
    res.json(await admin.modifyProvider(id, parseRequest(ModifyProviderBody, req.body ?? {})));
  });
  router.delete('/providers/:provider_id', async (req, res) => {
    res.json(await admin.deleteProvider(providerId(req)));
  });
  return router;
}

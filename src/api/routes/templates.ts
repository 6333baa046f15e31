import { Router, type Request } from 'express';
import { badRequest } from '../../errors';
import { ListQuery } from '../../schemas/list';
import {
  ConfigureTemplateAssistantBody,
  CreateTemplateBody,
  CreateTemplateVersionBody,
  RollbackAssistantBody,
  UpgradeAssistantBody,
} from '../../schemas/templates';
import type { Services } from '../../services';
import { idParam, scopeOf } from '../http';
import { parseRequest } from '../validation';

/**
 * Extension: assistant templates, their versions and upgrade walks, and the template actions of a
 * template-made assistant (README, "Assistant templates"). Creating an assistant from a template is
 * `POST /v1/assistants` with `template_id` (assistants router).
 */
export function templatesRouter({ templates, templateAssistants }: Services): Router {
  const router = Router();
  const templateId = (req: Request) => idParam(req, 'template_id', 'tmpl');
  const assistantId = (req: Request) => idParam(req, 'assistant_id', 'asst');

  router.post('/assistant_templates', async (req, res) => {
    res.json(await templates.create(scopeOf(res), parseRequest(CreateTemplateBody, req.body ?? {})));
  });
  router.get('/assistant_templates', async (req, res) => {
    res.json(await templates.list(scopeOf(res), parseRequest(ListQuery, req.query)));
  });
  router.get('/assistant_templates/:template_id', async (req, res) => {
    res.json(await templates.retrieve(scopeOf(res), templateId(req)));
  });
  router.delete('/assistant_templates/:template_id', async (req, res) => {
    res.json(await templates.delete(scopeOf(res), templateId(req)));
  });

  router.post('/assistant_templates/:template_id/versions', async (req, res) => {
    const id = templateId(req);
    res.json(await templates.publish(scopeOf(res), id, parseRequest(CreateTemplateVersionBody, req.body ?? {})));
  });
  router.get('/assistant_templates/:template_id/versions', async (req, res) => {
    res.json(await templates.listVersions(scopeOf(res), templateId(req), parseRequest(ListQuery, req.query)));
  });
  router.get('/assistant_templates/:template_id/versions/:version', async (req, res) => {
    res.json(await templates.retrieveVersion(scopeOf(res), templateId(req), versionParam(req)));
  });

  router.get('/assistant_templates/:template_id/upgrades', async (req, res) => {
    res.json(await templates.listUpgrades(scopeOf(res), templateId(req), parseRequest(ListQuery, req.query)));
  });
  router.get('/assistant_templates/:template_id/upgrades/:upgrade_id', async (req, res) => {
    const upgradeId = idParam(req, 'upgrade_id', 'tupg');
    res.json(await templates.retrieveUpgrade(scopeOf(res), templateId(req), upgradeId));
  });

  router.post('/assistants/:assistant_id/template', async (req, res) => {
    const body = parseRequest(ConfigureTemplateAssistantBody, req.body ?? {});
    res.json(await templateAssistants.configure(scopeOf(res), assistantId(req), body));
  });
  router.post('/assistants/:assistant_id/upgrade', async (req, res) => {
    const body = parseRequest(UpgradeAssistantBody, req.body ?? {});
    res.json(await templateAssistants.upgrade(scopeOf(res), assistantId(req), body));
  });
  router.post('/assistants/:assistant_id/rollback', async (req, res) => {
    parseRequest(RollbackAssistantBody, req.body ?? {});
    res.json(await templateAssistants.rollback(scopeOf(res), assistantId(req)));
  });
  return router;
}

function versionParam(req: Request): number {
  const value = String(req.params.version ?? '');
  if (!/^[1-9][0-9]{0,8}$/.test(value)) {
    throw badRequest(`Invalid 'version': '${value}'. Expected a version number (1, 2, …).`, 'version', 'invalid_value');
  }
  return Number(value);
}

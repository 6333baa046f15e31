import { Router, type Request, type Response } from 'express';
import type { Run } from 'openai/resources/beta/threads/runs/runs';
import { badRequest } from '../../errors';
import { ListQuery } from '../../schemas/list';
import {
  CreateRunBody,
  CreateThreadAndRunBody,
  IncludeQuery,
  ModifyRunBody,
  SubmitToolOutputsBody,
} from '../../schemas/runs';
import type { Services } from '../../services';
import { isTerminal } from '../../services/runs';
import { idParam, scopeOf } from '../http';
import { parseRequest } from '../validation';

/** How long SDK pollers wait between GETs of a live run (they default to 5 s without it). */
const POLL_AFTER_MS = '200';

export function runsRouter({ runs }: Services): Router {
  const router = Router();
  const threadId = (req: Request) => idParam(req, 'thread_id', 'thread');
  const runId = (req: Request) => idParam(req, 'run_id', 'run');
  const base = '/threads/:thread_id/runs';

  const sendRun = (res: Response, run: Run) => {
    if (!isTerminal(run.status)) res.setHeader('openai-poll-after-ms', POLL_AFTER_MS);
    res.json(run);
  };
  // Streaming arrives with its own work; until then say so plainly instead of ignoring the flag.
  const refuseStream = (body: { stream?: boolean | null | undefined }) => {
    if (body.stream === true)
      throw badRequest(
        'Streaming runs (stream: true) are not supported by this server yet.',
        'stream',
        'unsupported_value',
      );
  };

  router.post('/threads/runs', async (req, res) => {
    const body = parseRequest(CreateThreadAndRunBody, req.body ?? {});
    refuseStream(body);
    sendRun(res, await runs.createThreadAndRun(scopeOf(res), body));
  });
  router.post(base, async (req, res) => {
    const thread = threadId(req);
    parseRequest(IncludeQuery, req.query);
    const body = parseRequest(CreateRunBody, req.body ?? {});
    refuseStream(body);
    sendRun(res, await runs.create(scopeOf(res), thread, body));
  });
  router.get(base, async (req, res) => {
    const thread = threadId(req);
    res.json(await runs.list(scopeOf(res), thread, parseRequest(ListQuery, req.query)));
  });
  router.get(`${base}/:run_id`, async (req, res) => {
    sendRun(res, await runs.retrieve(scopeOf(res), threadId(req), runId(req)));
  });
  router.post(`${base}/:run_id`, async (req, res) => {
    const [thread, run] = [threadId(req), runId(req)];
    sendRun(res, await runs.modify(scopeOf(res), thread, run, parseRequest(ModifyRunBody, req.body ?? {})));
  });
  router.post(`${base}/:run_id/cancel`, async (req, res) => {
    sendRun(res, await runs.cancel(scopeOf(res), threadId(req), runId(req)));
  });
  router.post(`${base}/:run_id/submit_tool_outputs`, async (req, res) => {
    const [thread, run] = [threadId(req), runId(req)];
    const body = parseRequest(SubmitToolOutputsBody, req.body ?? {});
    refuseStream(body);
    sendRun(res, await runs.submitToolOutputs(scopeOf(res), thread, run, body));
  });
  router.get(`${base}/:run_id/steps`, async (req, res) => {
    const [thread, run] = [threadId(req), runId(req)];
    parseRequest(IncludeQuery, req.query);
    res.json(await runs.listSteps(scopeOf(res), thread, run, parseRequest(ListQuery, req.query)));
  });
  router.get(`${base}/:run_id/steps/:step_id`, async (req, res) => {
    const [thread, run, step] = [threadId(req), runId(req), idParam(req, 'step_id', 'step')];
    parseRequest(IncludeQuery, req.query);
    res.json(await runs.retrieveStep(scopeOf(res), thread, run, step));
  });
  return router;
}

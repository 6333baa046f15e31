import { Router, type Request, type Response } from 'express';
import type { Run } from 'openai/resources/beta/threads/runs/runs';
import { badRequest } from '../../errors';
import type { Logger } from '../../logger';
import { ListQuery } from '../../schemas/list';
import {
  CreateRunBody,
  CreateThreadAndRunBody,
  IncludeQuery,
  includesResultContent,
  ModifyRunBody,
  SubmitToolOutputsBody,
} from '../../schemas/runs';
import type { Services } from '../../services';
import { isTerminal } from '../../services/runs';
import { idParam, scopeOf } from '../http';
import type { FollowSink } from '../../streaming/follow';
import { withoutResultContent } from '../../tools/fileSearchResults';
import { openEventStream, type OpenStreams } from '../sse';
import { parseRequest } from '../validation';

/** How long SDK pollers wait between GETs of a live run (they default to 5 s without it). */
const POLL_AFTER_MS = '200';

export function runsRouter({ runs }: Services, logger: Logger, streams: OpenStreams): Router {
  const router = Router();
  const threadId = (req: Request) => idParam(req, 'thread_id', 'thread');
  const runId = (req: Request) => idParam(req, 'run_id', 'run');
  const base = '/threads/:thread_id/runs';

  const sendRun = (res: Response, run: Run) => {
    if (!isTerminal(run.status)) res.setHeader('openai-poll-after-ms', POLL_AFTER_MS);
    res.json(run);
  };
  /**
   * Answers with the run's events after `afterSeq` as server-sent events, until the run stops for the
   * client. Called only once the request has been accepted: anything refused earlier is a JSON error.
   */
  const streamEvents = async (req: Request, res: Response, run: Run, afterSeq: number, includeContent = false) => {
    const stream = openEventStream(req, res, logger, streams);
    try {
      const sink = includeContent ? stream.sink : withoutSearchContent(stream.sink);
      const end = await runs.follow(scopeOf(res), run.thread_id, run.id, afterSeq, sink, stream.signal);
      if (end === 'final') await stream.done();
      else if (end === 'gone')
        await stream.error(`Run ${run.id} was deleted with its thread.`, 'invalid_request_error');
      else stream.end();
    } catch (error) {
      await stream.fail(error);
    }
  };

  router.post('/threads/runs', async (req, res) => {
    const body = parseRequest(CreateThreadAndRunBody, req.body ?? {});
    const run = await runs.createThreadAndRun(scopeOf(res), body);
    if (body.stream) await streamEvents(req, res, run, 0);
    else sendRun(res, run);
  });
  router.post(base, async (req, res) => {
    const thread = threadId(req);
    const includeContent = includesResultContent(parseRequest(IncludeQuery, req.query));
    const body = parseRequest(CreateRunBody, req.body ?? {});
    const run = await runs.create(scopeOf(res), thread, body);
    if (body.stream) await streamEvents(req, res, run, 0, includeContent);
    else sendRun(res, run);
  });
  // Extension: a run's event log as a stream, from the start or from Last-Event-ID, followed live.
  router.get(`${base}/:run_id/events`, async (req, res) => {
    const [thread, run] = [threadId(req), runId(req)];
    const afterSeq = lastEventId(req);
    await streamEvents(req, res, await runs.retrieve(scopeOf(res), thread, run), afterSeq);
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
    const { run: resumed, resumeAfter } = await runs.submitToolOutputs(scopeOf(res), thread, run, body);
    if (body.stream) await streamEvents(req, res, resumed, resumeAfter);
    else sendRun(res, resumed);
  });
  router.get(`${base}/:run_id/steps`, async (req, res) => {
    const [thread, run] = [threadId(req), runId(req)];
    const includeContent = includesResultContent(parseRequest(IncludeQuery, req.query));
    res.json(await runs.listSteps(scopeOf(res), thread, run, parseRequest(ListQuery, req.query), includeContent));
  });
  router.get(`${base}/:run_id/steps/:step_id`, async (req, res) => {
    const [thread, run, step] = [threadId(req), runId(req), idParam(req, 'step_id', 'step')];
    const includeContent = includesResultContent(parseRequest(IncludeQuery, req.query));
    res.json(await runs.retrieveStep(scopeOf(res), thread, run, step, includeContent));
  });
  return router;
}

/**
 * The stream as shown without `include[]`: run step events carry file_search results without their text (the
 * log keeps it, for a client that asked). Only step events holding a file_search call are rewritten.
 */
function withoutSearchContent(sink: FollowSink): FollowSink {
  return {
    ...sink,
    event: (e) => {
      if (!e.event.startsWith('thread.run.step.') || !e.data.includes('"file_search"')) return sink.event(e);
      const step = JSON.parse(e.data) as { step_details?: unknown };
      if (step.step_details === undefined) return sink.event(e);
      return sink.event({
        ...e,
        data: JSON.stringify({ ...step, step_details: withoutResultContent(step.step_details) }),
      });
    },
  };
}

/** Where to resume: the `Last-Event-ID` header (what EventSource sends), or `?last_event_id=`; else 0. */
function lastEventId(req: Request): number {
  const header = req.get('last-event-id');
  const query = typeof req.query.last_event_id === 'string' ? req.query.last_event_id : undefined;
  const raw = header ?? query;
  if (raw === undefined || raw === '') return 0;
  if (!/^\d{1,15}$/.test(raw.trim())) {
    throw badRequest(
      `Invalid 'Last-Event-ID': expected the non-negative integer id of an event from this stream, got ${JSON.stringify(raw)}.`,
      'last_event_id',
      'invalid_value',
    );
  }
  return Number(raw.trim());
}

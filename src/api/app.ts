import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { ApiError } from '../errors';
import { newId } from '../ids';
import type { Logger } from '../logger';
import type { Services } from '../services';
import { DEFAULT_PROJECT_ID } from '../store/projects';
import { jsonBody } from './body';
import { cors, hostGuard } from './exposure';
import { queryCheck } from './inspect';
import { OpenStreams } from './sse';
import { assistantsRouter } from './routes/assistants';
import { messagesRouter } from './routes/messages';
import { runsRouter } from './routes/runs';
import { threadsRouter } from './routes/threads';

export interface AppOptions {
  services: Services;
  logger: Logger;
  maxBodyBytes: number;
  /** Browser origins allowed to call the API (CORS); none when not given. */
  corsOrigins?: string[];
  /** Host header names the API answers to; any when not given (see exposure.ts). */
  allowedHosts?: string[] | undefined;
  /** Where the app registers its open event streams (ended on shutdown); a fresh set when not given. */
  streams?: OpenStreams;
}

/** The HTTP facade: parse, call one service function, serialise. No business logic lives here. */
export function createApp({
  services,
  logger,
  maxBodyBytes,
  corsOrigins = [],
  allowedHosts,
  streams = new OpenStreams(),
}: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // `include[]=…` must arrive as a key the run-step routes can read; the simple parser keeps brackets verbatim.
  app.set('query parser', 'simple');

  app.use(requestContext(logger));
  app.use(hostGuard(allowedHosts));
  app.use(cors(corsOrigins));
  app.use(betaHeader);
  app.use(queryCheck);

  const v1 = express.Router();
  // Routers that read a body of another kind (multipart uploads) are mounted here, before the JSON reader;
  // everything after it accepts JSON bodies only.
  v1.use(jsonBody(maxBodyBytes));
  v1.use(assistantsRouter(services));
  // Before the threads router: `/threads/runs` must not be read as a thread id.
  v1.use(runsRouter(services, logger, streams));
  v1.use(threadsRouter(services));
  v1.use(messagesRouter(services));
  app.use('/v1', v1);

  app.use((req, _res, next) => {
    next(new ApiError(404, `Invalid URL (${req.method} ${req.path})`));
  });
  app.use(errorHandler());
  return app;
}

function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const requestId = newId('request');
    const started = process.hrtime.bigint();
    const log = logger.child({ requestId });
    res.locals.logger = log;
    res.locals.scope = { projectId: DEFAULT_PROJECT_ID };
    res.setHeader('x-request-id', requestId);
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.info(
        {
          method: req.method,
          path: req.originalUrl.split('?')[0],
          status: res.statusCode,
          ms: Math.round(ms * 10) / 10,
        },
        'request',
      );
    });
    next();
  };
}

/**
 * `OpenAI-Beta: assistants=v2` (what the SDKs send) and no header at all are both accepted. `assistants=v1`
 * is refused as OpenAI refused it: its clients expect v1 shapes this server does not produce.
 */
const betaHeader: RequestHandler = (req, _res, next) => {
  const beta = req.get('openai-beta') ?? '';
  if (/assistants=v1\b/.test(beta)) {
    next(
      new ApiError(
        400,
        "The v1 Assistants API has been deprecated. Please try again by setting the header 'OpenAI-Beta: assistants=v2'.",
        'invalid_request_error',
        null,
        'invalid_beta',
      ),
    );
    return;
  }
  next();
};

function errorHandler(): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    const apiError = toApiError(err);
    if (apiError.status >= 500) (res.locals.logger as Logger | undefined)?.error({ err }, 'unhandled error');
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(apiError.status).set(apiError.headers).json(apiError.toWire());
  };
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  // The router could not percent-decode a path parameter (`/v1/assistants/asst_%`): the URL is malformed.
  if (err instanceof URIError) {
    return new ApiError(400, 'Invalid URL: a path segment is not valid percent-encoding.', 'invalid_request_error');
  }
  // Never leak a stack trace: the details go to the log, the client gets OpenAI's generic server error.
  return new ApiError(500, 'The server had an error while processing your request. Sorry about that!', 'server_error');
}

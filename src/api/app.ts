import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { ApiError } from '../errors';
import { contextualLogger } from '../logContext';
import type { Logger } from '../logger';
import type { HealthSources } from '../observability/health';
import type { Metrics } from '../observability/metrics';
import type { Services } from '../services';
import type { AdminService } from '../services/admin';
import type { Store } from '../store';
import { adminGuard, authenticate, type AuthSettings } from './auth';
import { jsonBody } from './body';
import { rateLimit } from './rateLimit';
import { bindRequestContext, requestContext } from './requestContext';
import { cors, hostGuard } from './exposure';
import { queryCheck } from './inspect';
import { OpenStreams } from './sse';
import { adminRouter } from './routes/admin';
import { adminServerToolsRouter } from './routes/adminServerTools';
import { assistantsRouter } from './routes/assistants';
import { filesRouter } from './routes/files';
import { messagesRouter } from './routes/messages';
import { modelsRouter } from './routes/models';
import { operatorRouter } from './routes/operator';
import { runsRouter } from './routes/runs';
import { templatesRouter } from './routes/templates';
import { threadsRouter } from './routes/threads';
import { vectorStoresRouter } from './routes/vectorStores';

export interface AppOptions {
  services: Services;
  logger: Logger;
  maxBodyBytes: number;
  /** The per-file cap of uploads (multipart bodies are not subject to maxBodyBytes). */
  maxFileBytes: number;
  /** Browser origins allowed to call the API (CORS); none when not given. */
  corsOrigins?: string[];
  /** Host header names the API answers to; any when not given (see exposure.ts). */
  allowedHosts?: string[] | undefined;
  /** Where the app registers its open event streams (ended on shutdown); a fresh set when not given. */
  streams?: OpenStreams;
  store: Store;
  auth: AuthSettings;
  admin: AdminService;
  metrics: Metrics;
  health: HealthSources;
}

/** The HTTP facade: parse, call one service function, serialise. No business logic lives here. */
export function createApp({
  services,
  logger,
  maxBodyBytes,
  maxFileBytes,
  corsOrigins = [],
  allowedHosts,
  streams = new OpenStreams(),
  store,
  auth,
  admin,
  metrics,
  health,
}: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // `include[]=…` must arrive as a key the run-step routes can read; the simple parser keeps brackets verbatim.
  app.set('query parser', 'simple');

  app.use(requestContext(logger, metrics));
  app.use(hostGuard(allowedHosts));
  app.use(cors(corsOrigins));
  // Outside /v1 and without API keys; /metrics with the admin key unless the server is local-only and has none.
  const metricsGuard =
    auth.requireKeys || auth.adminKey
      ? adminGuard(
          auth.adminKey,
          '/metrics on the API port needs THREADLINE_ADMIN_KEY on a server that requires API keys; set it, or serve metrics on their own port with THREADLINE_METRICS_PORT.',
        )
      : undefined;
  app.use(operatorRouter(health, metrics, metricsGuard));
  // Who is asking, and may they, before anything of the request is read.
  app.use('/v1', authenticate(store, auth), rateLimit(store));
  app.use('/admin', adminGuard(auth.adminKey));
  app.use(betaHeader);
  app.use(queryCheck);

  app.use('/admin/v1', jsonBody(maxBodyBytes), bindRequestContext);
  app.use('/admin/v1', adminRouter(admin));
  app.use('/admin/v1', adminServerToolsRouter(services)); // extension: the operator's server-side tools
  const v1 = express.Router();
  v1.use(modelsRouter(services));
  // Uploads (multipart) are read by their own router, before the JSON reader; everything after it accepts
  // JSON bodies only.
  v1.use(filesRouter(services, maxFileBytes));
  v1.use(jsonBody(maxBodyBytes));
  // Body events run outside the request's async context: enter it again for the handlers' log lines.
  v1.use(bindRequestContext);
  v1.use(assistantsRouter(services));
  // Before the threads router: `/threads/runs` must not be read as a thread id.
  v1.use(runsRouter(services, contextualLogger(logger), streams));
  v1.use(threadsRouter(services));
  v1.use(messagesRouter(services));
  v1.use(vectorStoresRouter(services));
  v1.use(templatesRouter(services)); // extension: assistant templates
  app.use('/v1', v1);

  app.use((req, _res, next) => {
    next(new ApiError(404, `Invalid URL (${req.method} ${req.path})`));
  });
  app.use(errorHandler());
  return app;
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

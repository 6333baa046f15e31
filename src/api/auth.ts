import type { RequestHandler } from 'express';
import { hashApiKey, redactKey, secretsEqual } from '../auth/keys';
import { ApiError } from '../errors';
import type { RequestScope } from '../services/context';
import type { Store } from '../store';
import { DEFAULT_PROJECT_ID } from '../store/projects';

export interface AuthSettings {
  /** Keys required: THREADLINE_REQUIRE_KEYS, or a bind to anything but loopback. */
  requireKeys: boolean;
  adminKey: string | undefined;
  /** The server's per-key limits (0 = none); projects may override them. */
  limits: { requestsPerMinute: number; activeRuns: number };
}

/** The limits that apply to this request's key, after its project's overrides. */
export interface KeyLimits {
  requestsPerMinute: number;
  activeRuns: number;
  /** What the rate-limit counter is kept under: the key, or the project for requests without one. */
  bucket: string;
}

const NO_KEY =
  "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). Create one with `threadline keys create --project <project id>` or the admin API.";

function unauthorized(message: string, code: string | null): ApiError {
  return new ApiError(401, message, 'invalid_request_error', null, code);
}

function bearerOf(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/**
 * Resolves `Authorization: Bearer <key>` to the key's project and puts it in `res.locals.scope`, which every
 * service scopes its queries by. A known key always selects its project. Without required keys (a loopback
 * bind, THREADLINE_REQUIRE_KEYS unset), any other bearer or none belongs to the default project — the SDKs
 * refuse to start without some `apiKey`, so a newcomer's "anything" must keep working there. A revoked key
 * is refused even then: it was shut off on purpose, and its holder should hear so.
 *
 * `OpenAI-Organization` is accepted and ignored (one organization per server). `OpenAI-Project`, when sent,
 * must name the project the key belongs to: a key is bound to one project and never reaches another.
 */
export function authenticate(store: Store, settings: AuthSettings): RequestHandler {
  return async (req, res, next) => {
    const bearer = bearerOf(req.get('authorization'));
    const key = bearer === undefined ? undefined : await store.apiKeys.findByHash(hashApiKey(bearer));
    if (key?.revoked_at !== undefined && key.revoked_at !== null) {
      throw unauthorized(
        `Incorrect API key provided: ${redactKey(bearer!)}. This key has been revoked.`,
        'invalid_api_key',
      );
    }
    let scope: RequestScope;
    let overrides: { rpm_limit?: number | null; active_runs_limit?: number | null } | undefined;
    if (key) {
      scope = { projectId: key.project_id, apiKeyId: key.id };
      overrides = key;
    } else if (settings.requireKeys) {
      throw bearer === undefined
        ? unauthorized(NO_KEY, null)
        : unauthorized(`Incorrect API key provided: ${redactKey(bearer)}.`, 'invalid_api_key');
    } else {
      scope = { projectId: DEFAULT_PROJECT_ID, apiKeyId: null };
      overrides = await store.projects.find(DEFAULT_PROJECT_ID);
    }
    const asked = req.get('openai-project')?.trim();
    if (asked && asked !== scope.projectId) {
      throw unauthorized(
        `This API key does not belong to project '${asked}'. A Threadline key selects its own project: leave out OpenAI-Project, or send the key's project.`,
        'invalid_project',
      );
    }
    const limits: KeyLimits = {
      requestsPerMinute: overrides?.rpm_limit ?? settings.limits.requestsPerMinute,
      activeRuns: overrides?.active_runs_limit ?? settings.limits.activeRuns,
      bucket: scope.apiKeyId ? `key:${scope.apiKeyId}` : `project:${scope.projectId}`,
    };
    scope.maxActiveRuns = limits.activeRuns;
    res.locals.scope = scope;
    res.locals.limits = limits;
    next();
  };
}

const ADMIN_API_DISABLED =
  'The admin API is disabled: set THREADLINE_ADMIN_KEY to enable it (or use the `threadline projects` and `threadline keys` commands).';

/**
 * The admin API answers only to `Authorization: Bearer $THREADLINE_ADMIN_KEY`, and not at all without one
 * set (`disabled` says what to do instead). /metrics on the API's port uses the same guard.
 */
export function adminGuard(adminKey: string | undefined, disabled = ADMIN_API_DISABLED): RequestHandler {
  return (req, _res, next) => {
    if (adminKey === undefined) {
      throw new ApiError(403, disabled, 'invalid_request_error', null, 'admin_key_not_configured');
    }
    const bearer = bearerOf(req.get('authorization'));
    if (bearer === undefined)
      throw unauthorized('This endpoint needs `Authorization: Bearer <THREADLINE_ADMIN_KEY>`.', null);
    if (!secretsEqual(bearer, adminKey)) {
      throw unauthorized(`Incorrect admin key provided: ${redactKey(bearer)}.`, 'invalid_api_key');
    }
    next();
  };
}

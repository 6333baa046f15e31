import OpenAI from 'openai';
import { rawRequest, type RawResponse, type TestService } from './service';

/** The admin key test services that manage projects over HTTP start with (THREADLINE_ADMIN_KEY). */
export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';

/** A project with one API key, and the official SDK authenticated with it. */
export interface Tenant {
  projectId: string;
  keyId: string;
  key: string;
  openai: OpenAI;
  /** Raw HTTP under /v1 with this tenant's key. */
  http(method: string, pathAndQuery: string, body?: unknown, headers?: Record<string, string>): Promise<RawResponse>;
}

/** Raw HTTP to the admin API (`/admin/v1/…`) with the test admin key. */
export function admin(svc: TestService, method: string, path: string, body?: unknown): Promise<RawResponse> {
  return rawRequest(`${svc.url}/admin/v1`, method, path, body, { authorization: `Bearer ${ADMIN_KEY}` });
}

/** Creates a project and a key through the admin API. */
export async function createTenant(svc: TestService, name: string, rateLimits?: object): Promise<Tenant> {
  const project = await admin(svc, 'POST', '/projects', { name, ...(rateLimits ? { rate_limits: rateLimits } : {}) });
  if (project.status !== 200) throw new Error(`could not create project: ${project.text}`);
  const projectId = (project.body as { id: string }).id;
  return addKey(svc, projectId);
}

/** A further key for an existing project (the default project included). */
export async function addKey(svc: TestService, projectId: string): Promise<Tenant> {
  const created = await admin(svc, 'POST', `/projects/${projectId}/api_keys`, { name: 'test' });
  if (created.status !== 200) throw new Error(`could not create key: ${created.text}`);
  const { id, value } = created.body as { id: string; value: string };
  return tenantFor(svc, projectId, id, value);
}

export function tenantFor(svc: TestService, projectId: string, keyId: string, key: string): Tenant {
  return {
    projectId,
    keyId,
    key,
    openai: new OpenAI({ baseURL: svc.baseURL, apiKey: key, maxRetries: 0 }),
    http: (method, pathAndQuery, body, headers = {}) =>
      rawRequest(svc.baseURL, method, pathAndQuery, body, { authorization: `Bearer ${key}`, ...headers }),
  };
}

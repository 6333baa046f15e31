import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI, { AuthenticationError } from 'openai';
import { killLeftoverCliProcesses, spawnCli } from '../support/cli';
import { freePort } from '../support/ports';
import { createThrowawayDatabase } from '../support/postgres';
import { DIALECTS, rawRequest } from '../support/service';

async function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawnCli(args, env);
  const { code } = await child.exited;
  return { code, output: child.output() };
}

afterEach(() => killLeftoverCliProcesses());

describe.each(DIALECTS)('threadline projects | keys, straight on the database (%s)', (dialect) => {
  let env: Record<string, string>;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-admin-cli-'));
    const pg = dialect === 'postgres' ? await createThrowawayDatabase() : undefined;
    env = {
      THREADLINE_DATA_DIR: dataDir,
      THREADLINE_DATABASE_URL: pg?.url ?? path.join(dataDir, 'threadline.db'),
      TEMPORAL_ADDRESS: process.env.THREADLINE_TEST_TEMPORAL_ADDRESS!,
      THREADLINE_TASK_QUEUE: `admin-cli-${path.basename(dataDir)}`,
    };
    cleanup = async () => {
      await pg?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    };
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it('creates and lists projects, then creates, lists and revokes keys, showing each key once', async () => {
    const created = await cli(['projects', 'create', '--name', 'acme', '--rpm', '30', '--json'], env);
    expect(created.code).toBe(0);
    const project = JSON.parse(created.output) as { id: string; name: string; rate_limits: object };
    expect(project).toMatchObject({
      id: expect.stringMatching(/^proj_/),
      name: 'acme',
      rate_limits: { requests_per_minute: 30, active_runs: null },
    });

    const projects = await cli(['projects', 'list'], env);
    expect(projects.code).toBe(0);
    expect(projects.output).toMatch(/^proj_default {2}Default project {2}rpm=default {2}active_runs=default$/m);
    expect(projects.output).toContain(`${project.id}  acme  rpm=30  active_runs=default`);

    const key = await cli(['keys', 'create', '--project', project.id, '--name', 'ci'], env);
    expect(key.code).toBe(0);
    const value = /^ {2}(sk-tl-[A-Za-z0-9_-]{43})$/m.exec(key.output)?.[1];
    expect(value).toBeDefined();
    expect(key.output).toMatch(/^Created API key key_\w+ for project proj_\w+ \(ci\):$/m);
    expect(key.output).toContain('This is the only time the key is shown: store it now.');
    const keyId = /Created API key (key_\w+)/.exec(key.output)![1]!;

    const listed = await cli(['keys', 'list', '--project', project.id], env);
    expect(listed.output.trim()).toBe(`${keyId}  ${project.id}  sk-tl-…${value!.slice(-4)}  active  ci`);
    expect(listed.output).not.toContain(value);

    const revoked = await cli(['keys', 'revoke', keyId], env);
    expect(revoked.code).toBe(0);
    expect(revoked.output.trim()).toBe(`Revoked API key ${keyId} (sk-tl-…${value!.slice(-4)}).`);
    expect((await cli(['keys', 'list', '--json'], env)).output).toContain('"revoked_at":');
  });

  it('explains what is wrong and exits 1', async () => {
    const noProject = await cli(['keys', 'create'], env);
    expect(noProject.code).toBe(1);
    expect(noProject.output).toMatch(/keys create needs --project <project id>/);
    const unknown = await cli(['keys', 'create', '--project', 'proj_nothere'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.output).toMatch(/No project found with id 'proj_nothere'\./);
    const noName = await cli(['projects', 'create'], env);
    expect(noName.code).toBe(1);
    expect(noName.output).toMatch(/Missing required parameter: 'name'\./);
    const badRpm = await cli(['projects', 'create', '--name', 'x', '--rpm', 'lots'], env);
    expect(badRpm.output).toMatch(/--rpm expects a whole number, got 'lots'/);
    const unknownVerb = await cli(['keys', 'rotate'], env);
    expect(unknownVerb.code).toBe(1);
    expect(unknownVerb.output).toMatch(/Unknown command 'threadline keys rotate'/);
  });
});

describe('threadline api bound to a non-loopback interface', () => {
  it('refuses to start without any key, says how to make one, then requires it', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-admin-cli-'));
    const port = await freePort();
    const env = {
      THREADLINE_DATA_DIR: dataDir,
      TEMPORAL_ADDRESS: process.env.THREADLINE_TEST_TEMPORAL_ADDRESS!,
      HOST: '0.0.0.0',
      PORT: String(port),
    };
    const refused = await cli(['api'], env);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/The API is bound to 0\.0\.0\.0, which other machines can reach/);
    expect(refused.output).toMatch(/^ {2}threadline keys create --project proj_default$/m);
    expect(refused.output).toMatch(/bind HOST=127\.0\.0\.1/);

    const made = await cli(['keys', 'create', '--project', 'proj_default', '--json'], env);
    const { id, value } = JSON.parse(made.output) as { id: string; value: string };
    const api = spawnCli(['api'], env);
    await api.waitFor(/API listening/);
    expect(api.output()).toMatch(/"keys":"required"/);
    const baseURL = `http://127.0.0.1:${port}/v1`;
    const openai = new OpenAI({ baseURL, apiKey: value, maxRetries: 0 });
    expect((await openai.beta.assistants.create({ model: 'gpt-4o' })).object).toBe('assistant');
    expect((await rawRequest(baseURL, 'GET', '/assistants')).status).toBe(401);
    expect(
      (await rawRequest(baseURL, 'GET', '/assistants', undefined, { authorization: 'Bearer test-key' })).status,
    ).toBe(401);
    // Revoked from the CLI while the server runs: refused at the key's next request.
    expect((await cli(['keys', 'revoke', id], env)).code).toBe(0);
    expect(await openai.beta.assistants.list().catch((e: unknown) => e)).toBeInstanceOf(AuthenticationError);

    api.child.kill('SIGTERM');
    expect((await api.exited).code).toBe(0);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
});

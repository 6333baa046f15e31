import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { memoryWindow, memoryForNewRun } from '../../src/model/memory';
import { MetadataWithMemory } from '../../src/schemas/memory';
import { effectiveColumns } from '../../src/templates/effective';
import { toolbox, type ServerFunction } from '../../src/tools';
import { HostAllowList } from '../../src/tools/server/hosts';
import { parseServerToolsFile, publicView, scheduleOf } from '../../src/tools/server/registration';

const weather: ServerFunction = {
  definition: { name: 'weather', description: 'Registered', parameters: { type: 'object' } },
  schedule: { kind: 'http', timeoutMs: 5000, maxAttempts: 2, initialRetryMs: 100 },
};

describe('toolbox with server-side functions', () => {
  it('offers a declared function the operator registered with its registered definition, run on the server', () => {
    const box = toolbox(
      [
        { type: 'function', function: { name: 'weather' } },
        { type: 'function', function: { name: 'ask' } },
      ],
      new Set(),
      new Map([['weather', weather]]),
    );
    expect(box.chatTools).toEqual([
      { type: 'function', function: weather.definition },
      { type: 'function', function: { name: 'ask' } },
    ]);
    const kind = box.kindOfCall('weather');
    expect(kind).toMatchObject({ type: 'function', executor: 'server' });
    expect(kind.serverCall?.({ id: 'call_1', name: 'weather', arguments: '{}' })).toEqual({
      id: 'call_1',
      type: 'function',
      name: 'weather',
      arguments: '{}',
      executor: weather.schedule,
    });
    expect(box.kindOfCall('ask').executor).toBe('client');
    // A registered tool the run does not declare is not offered.
    expect(toolbox([], new Set(), new Map([['weather', weather]])).chatTools).toEqual([]);
  });

  it("streams a server call's output once as a function delta", () => {
    const kind = toolbox(
      [{ type: 'function', function: { name: 'weather' } }],
      new Set(),
      new Map([['weather', weather]]),
    ).kindOfCall('weather');
    const call = { id: 'c', type: 'function' as const, function: { name: 'weather', arguments: '{}', output: '21C' } };
    expect(kind.resultDelta?.(3, call)).toEqual({ index: 3, type: 'function', function: { output: '21C' } });
    expect(kind.resultDelta?.(3, { ...call, function: { ...call.function, output: null } })).toBeUndefined();
  });
});

describe('server tool registrations', () => {
  const hosts = HostAllowList.parse('tools.internal, 127.0.0.1:9000');

  it('allows exactly the listed hosts (and ports)', () => {
    expect(hosts.allows('https://tools.internal/x')).toBe(true);
    expect(hosts.allows('http://TOOLS.internal:8080/x')).toBe(true);
    expect(hosts.allows('http://127.0.0.1:9000/x')).toBe(true);
    expect(hosts.allows('http://127.0.0.1:9001/x')).toBe(false);
    expect(hosts.allows('http://tools.internal.evil.com/x')).toBe(false);
    expect(hosts.allows('ftp://tools.internal/x')).toBe(false);
    expect(HostAllowList.parse(undefined).allows('http://127.0.0.1/')).toBe(false);
  });

  it('reads the tools file, secrets from the environment, and refuses what it cannot run', () => {
    const file = (tools: unknown[]) => JSON.stringify({ tools });
    const entry = (executor: object, name = 'w') => ({ function: { name }, executor });
    const [tool] = parseServerToolsFile(
      file([entry({ type: 'http', url: 'https://tools.internal/w', headers: { Authorization: { env: 'TOKEN' } } })]),
      { TOKEN: 'Bearer s' },
      hosts,
    );
    expect(tool?.executor).toMatchObject({
      headers: { Authorization: 'Bearer s' },
      timeout_seconds: 30,
      max_attempts: 3,
    });
    expect(scheduleOf(tool!.executor)).toEqual({
      kind: 'http',
      timeoutMs: 30_000,
      maxAttempts: 3,
      initialRetryMs: 1000,
    });
    expect(JSON.stringify(publicView(null, tool!))).not.toContain('Bearer s');
    expect(() => parseServerToolsFile('{', {}, hosts)).toThrow(/not valid JSON/);
    expect(() =>
      parseServerToolsFile(file([entry({ type: 'http', url: 'https://elsewhere.com/w' })]), {}, hosts),
    ).toThrow(/THREADLINE_SERVER_TOOL_HOSTS/);
    expect(() =>
      parseServerToolsFile(
        file([entry({ type: 'http', url: 'https://tools.internal/w', headers: { A: { env: 'MISSING' } } })]),
        {},
        hosts,
      ),
    ).toThrow(/MISSING, which is not set/);
    const activity = { type: 'temporal_activity', activity: 'a', task_queue: 'q' };
    expect(() => parseServerToolsFile(file([entry(activity), entry(activity)]), {}, hosts)).toThrow(/registered twice/);
    expect(() => parseServerToolsFile(file([entry({ type: 'smtp' })]), {}, hosts)).toThrow(/executor/);
  });

  it('stops the process at boot on a bad tools file, naming the setting', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-unit-'));
    const file = path.join(dir, 'tools.json');
    fs.writeFileSync(file, '{"tools": [{"function": {"name": "x"}}]}');
    const attempt = () => loadConfig({ THREADLINE_SERVER_TOOLS_FILE: file });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/THREADLINE_SERVER_TOOLS_FILE=.*tools\.0\.executor/);
    expect(() => loadConfig({ THREADLINE_SERVER_TOOLS_FILE: path.join(dir, 'missing.json') })).toThrow(/ENOENT/);
    expect(() => loadConfig({ THREADLINE_TEMPLATE_UPGRADE_PAGE_SIZE: '0' })).toThrow(/PAGE_SIZE="0"/);
    expect(loadConfig({}).extensions).toMatchObject({
      serverTools: [],
      templateUpgrade: { pageSize: 100, pagesPerRun: 50, pauseMs: 0 },
    });
  });
});

describe('memory windows', () => {
  it('normalises object memory to its JSON text and snapshots the effective config for a run', () => {
    const parsed = MetadataWithMemory.parse({ memory: { type: 'window', window_size: 2 }, other: 'x' });
    expect(parsed).toEqual({ memory: '{"type":"window","window_size":2}', other: 'x' });
    expect(memoryForNewRun(undefined, JSON.stringify(parsed))).toBe(
      '{"type":"window","window_size":2,"max_token_size":4000}',
    );
    expect(memoryForNewRun({ memory: '{"type":"zero"}' }, JSON.stringify(parsed))).toBe('{"type":"zero"}');
    expect(memoryForNewRun(undefined, '{"memory":"stored before the extension"}')).toBeNull();
    expect(memoryWindow(null)).toMatchObject({ maxMessages: Infinity, maxTokens: Infinity });
    expect(memoryWindow('{"type":"window","window_size":2,"max_token_size":9}')).toMatchObject({
      maxMessages: 2,
      maxTokens: 9,
    });
    expect(memoryWindow('{"type":"zero"}').endsAt('user')).toBe(true);
  });
});

describe("a template-made assistant's effective configuration", () => {
  const version = {
    model: 'gpt-4o',
    instructions: 'Rules.',
    tools: '[]',
    tool_resources: null,
    response_format: null,
    metadata: '{"a":"1","b":"2"}',
  };

  it('takes overrides over the version, merges metadata and appends the addendum', () => {
    expect(effectiveColumns(version, { model: 'mini', metadata: '{"b":"x","c":"3"}' }, 'Be nice.')).toEqual({
      columns: { ...version, model: 'mini', instructions: 'Rules.\n\nBe nice.', metadata: '{"a":"1","b":"x","c":"3"}' },
    });
    expect(effectiveColumns({ ...version, instructions: null }, {}, null)).toEqual({
      columns: { ...version, instructions: null },
    });
    expect(effectiveColumns(version, { instructions: 'Mine.' }, null)).toMatchObject({
      columns: { instructions: 'Mine.' },
    });
  });

  it('says why a combination breaks a limit', () => {
    expect(effectiveColumns(version, {}, 'x'.repeat(256_000))).toEqual({ problem: expect.stringMatching(/256000/) });
    const many = JSON.stringify(Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${i}`, 'v'])));
    expect(effectiveColumns(version, { metadata: many }, null)).toEqual({ problem: expect.stringMatching(/17 pairs/) });
  });
});

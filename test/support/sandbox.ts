import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import pino from 'pino';
import { sandboxRoutingActivities } from '../../activities/codeInterpreter';
import { loadConfig } from '../../src/config';
import { codeInterpreterSettings } from '../../src/sandbox/settings';
import type { CodeInterpreterInput, CodeInterpreterOutput } from '../../src/sandbox/shared';
import { DEFAULT_PROJECT_ID } from '../../src/store/projects';
import { startThreadline, type Running } from '../../src/runtime';
import { installTemporalRuntime } from '../../src/temporal/worker';
import { DirectoryFiles } from './sandboxFiles';

export interface SandboxHarness {
  /** The settings every process of this harness runs with (a `threadline sandbox` child reuses them). */
  env: Record<string, string>;
  files: DirectoryFiles;
  client: Client;
  /** The in-process sandbox worker, when the harness started one. */
  sandbox: Running | undefined;
  /** Executes calls in order through the workflow-side helper, in one workflow; returns their outputs. */
  run(calls: Array<Call>): Promise<CodeInterpreterOutput[]>;
  /** Executes one call in a workflow of its own. */
  exec(call: Call): Promise<CodeInterpreterOutput>;
  /** Starts the workflow without waiting (for tests that act while it runs). */
  start(calls: Array<Call>): Promise<{ workflowId: string; result(): Promise<CodeInterpreterOutput[]> }>;
  /** The JSON log lines the harness's processes wrote (warnings and errors). */
  logs(): string[];
  /** A thread id no other test uses. */
  thread(): string;
  stop(): Promise<void>;
}

export type Call = Partial<CodeInterpreterInput> & { threadId: string; code: string };

/**
 * The code interpreter below the run seam, for real: a sandbox worker (in this process, or `threadline
 * sandbox` children the test spawns), a Temporal worker hosting a test workflow that calls the
 * workflow-side helper exactly as the run workflow will, the shared Temporal dev server and a SQLite file.
 * Files move through a directory standing in for the Files API.
 */
export async function startSandboxHarness(
  env: Record<string, string> = {},
  options: { sandbox?: boolean } = {},
): Promise<SandboxHarness> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-sandbox-test-'));
  const name = path.basename(dataDir);
  const settings: Record<string, string> = {
    THREADLINE_DATA_DIR: dataDir,
    THREADLINE_DATABASE_URL: path.join(dataDir, 'threadline.db'),
    TEMPORAL_ADDRESS: process.env.THREADLINE_TEST_TEMPORAL_ADDRESS ?? '',
    THREADLINE_TASK_QUEUE: `test-${name}`,
    THREADLINE_SANDBOX_TASK_QUEUE: `sandbox-${name}`,
    THREADLINE_SANDBOX_HEARTBEAT_TIMEOUT_SECONDS: '2',
    THREADLINE_SANDBOX_AFFINITY_WAIT_SECONDS: '2',
    LOG_LEVEL: 'warn',
    ...env,
  };
  if (!settings.TEMPORAL_ADDRESS) throw new Error('the tests must run through jest globalSetup');
  const config = loadConfig(settings);
  const files = new DirectoryFiles(path.join(dataDir, 'files'));
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
  // Migrates the database, and runs the sandbox role when asked.
  const running = await startThreadline(
    config,
    { api: false, worker: false, sandbox: options.sandbox ?? true, embedTemporal: false },
    logger,
    { sandboxFiles: files },
  );

  installTemporalRuntime(logger);
  const workerConnection = await NativeConnection.connect({ address: settings.TEMPORAL_ADDRESS });
  const taskQueue = config.temporal.taskQueue;
  const worker = await Worker.create({
    connection: workerConnection,
    taskQueue,
    workflowsPath: require.resolve('./workflows'),
    activities: sandboxRoutingActivities({ store: running.store }),
  });
  const workerRun = worker.run();
  const connection = await Connection.connect({ address: settings.TEMPORAL_ADDRESS });
  const client = new Client({ connection });
  const callSettings = codeInterpreterSettings(config);

  const toInputs = (calls: Call[]): CodeInterpreterInput[] =>
    calls.map((call) => ({
      projectId: DEFAULT_PROJECT_ID,
      callId: `call_${randomBytes(8).toString('hex')}`,
      files: [],
      ...call,
    }));
  const start = async (calls: Call[]) => {
    const workflowId = `ci-test-${randomBytes(6).toString('hex')}`;
    const handle = await client.workflow.start('codeInterpreterTestWorkflow', {
      taskQueue,
      workflowId,
      args: [toInputs(calls), callSettings],
    });
    return { workflowId, result: () => handle.result() as Promise<CodeInterpreterOutput[]> };
  };
  const run = async (calls: Call[]) => (await start(calls)).result();

  return {
    env: settings,
    files,
    client,
    sandbox: options.sandbox === false ? undefined : running,
    run,
    exec: async (call) => (await run([call]))[0]!,
    start,
    logs: () => [...lines],
    thread: () => `thread_${randomBytes(8).toString('hex')}`,
    async stop() {
      worker.shutdown();
      await workerRun;
      await workerConnection.close();
      await connection.close();
      await running.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Decodes a PNG far enough to know it is one: the signature, the IHDR chunk (and its CRC), and the image data
 * inflated to exactly the rows its size and pixel format need, each with a valid filter byte.
 */
export function decodePng(png: Buffer): { width: number; height: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!png.subarray(0, 8).equals(signature)) throw new Error('not a PNG signature');
  let offset = 8;
  let header: { width: number; height: number; depth: number; colour: number; interlace: number } | undefined;
  const data: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.subarray(offset + 4, offset + 8).toString('ascii');
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (crc32(png.subarray(offset + 4, offset + 8 + length)) !== png.readUInt32BE(offset + 8 + length)) {
      throw new Error(`${type} chunk CRC mismatch`);
    }
    if (type === 'IHDR') {
      header = {
        width: body.readUInt32BE(0),
        height: body.readUInt32BE(4),
        depth: body[8]!,
        colour: body[9]!,
        interlace: body[12]!,
      };
    }
    if (type === 'IDAT') data.push(body);
    if (type === 'IEND') break;
    offset += 12 + length;
  }
  if (!header) throw new Error('no IHDR');
  if (header.interlace !== 0) throw new Error('interlaced PNGs are not checked here');
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[header.colour];
  if (!channels) throw new Error(`unknown colour type ${header.colour}`);
  const rowBytes = Math.ceil((header.width * channels * header.depth) / 8) + 1;
  const pixels = zlib.inflateSync(Buffer.concat(data));
  if (pixels.length !== rowBytes * header.height) throw new Error('image data does not match the size');
  for (let row = 0; row < header.height; row++) {
    if (pixels[row * rowBytes]! > 4) throw new Error(`bad filter byte on row ${row}`);
  }
  return { width: header.width, height: header.height };
}

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

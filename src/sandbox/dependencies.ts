import { types } from 'node:util';
import type { LaunchSpec } from './launch';

/** Everything the sandbox needs from Debian, in one install line. */
export const DEBIAN_PACKAGES = ['bubblewrap', 'python3', 'python3-numpy', 'python3-pandas', 'python3-matplotlib'];
const INSTALL = `apt-get install ${DEBIAN_PACKAGES.join(' ')}`;

const MODULE_PACKAGES: Record<string, string> = {
  numpy: 'python3-numpy',
  pandas: 'python3-pandas',
  matplotlib: 'python3-matplotlib',
};

/**
 * The sandbox cannot run code at all on this host. It is not the code's fault and not a reason to crash the
 * worker: the tool call gets it as its failure result, and the worker logs it at boot.
 */
export class SandboxUnavailable extends Error {
  override name = 'SandboxUnavailable';
  constructor(reason: string) {
    super(`The code interpreter's sandbox cannot run on this host: ${reason}`);
  }
}

export function missingModulesError(spec: LaunchSpec, modules: string[]): SandboxUnavailable {
  const packages = modules.map((m) => MODULE_PACKAGES[m] ?? m);
  return new SandboxUnavailable(
    `${pythonOf(spec)} has no ${modules.join(', ')}. Install the Debian packages ${packages.join(', ')} (${INSTALL}).`,
  );
}

/** Why bwrap or Python did not come up, in words that say what to install or allow. */
export function launchError(
  spec: LaunchSpec,
  cause: Error | { code: number | null; signal: NodeJS.Signals | null },
  stderr: string,
): SandboxUnavailable {
  // isNativeError, not instanceof: spawn errors may come from another realm (a test runner's sandbox).
  if (types.isNativeError(cause)) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      return new SandboxUnavailable(
        `bubblewrap was not found at ${spec.file}. Install the Debian package bubblewrap (${INSTALL}), or point THREADLINE_SANDBOX_BWRAP_PATH at bwrap.`,
      );
    }
    return new SandboxUnavailable(`${spec.file} could not be started (${cause.message}).`);
  }
  const said = stderr.trim().split('\n').slice(-3).join(' ').slice(0, 500);
  if (/execvp .*: No such file or directory/.test(said)) {
    return new SandboxUnavailable(
      `Python was not found at ${pythonOf(spec)}. Install the Debian packages python3, python3-numpy, python3-pandas and python3-matplotlib (${INSTALL}), or point THREADLINE_SANDBOX_PYTHON_PATH at a python3 under /usr.`,
    );
  }
  if (/namespace|uid map|Operation not permitted/i.test(said)) {
    return new SandboxUnavailable(
      `bubblewrap could not create the sandbox's namespaces (${said}). The kernel must allow unprivileged user namespaces (sysctl user.max_user_namespaces > 0); in a container, run with --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined.`,
    );
  }
  if (/Can't find source path|Permission denied/.test(said)) {
    return new SandboxUnavailable(
      `bubblewrap could not reach the session directory (${said}). THREADLINE_SANDBOX_DIR and every directory above it must be traversable by the sandbox user (uid ${spec.uid ?? 'of Threadline'}).`,
    );
  }
  const how = cause.signal ?? `exit code ${cause.code}`;
  return new SandboxUnavailable(`the sandbox exited before it was ready (${how})${said ? `: ${said}` : ''}.`);
}

function pythonOf(spec: LaunchSpec): string {
  // The interpreter is the argument after the last bwrap option: the one just before `-I`.
  const at = spec.args.indexOf('-I');
  return at > 0 ? (spec.args[at - 1] ?? 'python3') : 'python3';
}

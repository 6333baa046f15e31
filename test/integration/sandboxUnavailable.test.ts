import { killLeftoverCliProcesses, spawnCli } from '../support/cli';
import { startSandboxHarness, type SandboxHarness } from '../support/sandbox';

/**
 * A host without the sandbox's dependencies: the worker still starts and polls, says what to install at boot,
 * and every call gets that as the tool's failure result — no hang waiting for a worker, no crash.
 */
jest.setTimeout(120_000);

const PACKAGES = /bubblewrap.*python3-numpy.*python3-pandas.*python3-matplotlib/;

describe.each([
  [
    'bubblewrap',
    { THREADLINE_SANDBOX_BWRAP_PATH: '/nonexistent/bwrap' },
    /bubblewrap was not found at \/nonexistent\/bwrap/,
  ],
  [
    'Python',
    { THREADLINE_SANDBOX_PYTHON_PATH: '/usr/bin/python3-not-installed' },
    /Python was not found at \/usr\/bin\/python3-not-installed/,
  ],
])('a sandbox worker without %s', (_what, env, reason) => {
  let h: SandboxHarness;

  beforeAll(async () => {
    h = await startSandboxHarness(env);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('says at boot what is missing and which Debian packages to install', async () => {
    const problem = await h.sandbox!.sandbox!.check;
    expect(problem?.message).toMatch(reason);
    expect(problem?.message).toMatch(PACKAGES);
    expect(h.logs().some((line) => reason.test(line) && /"level":50/.test(line))).toBe(true);
  });

  it('answers every call with the failure, and keeps answering', async () => {
    const threadId = h.thread();
    const outputs = await h.run([
      { threadId, code: 'print(1)' },
      { threadId, code: 'print(2)' },
    ]);
    for (const out of outputs) {
      expect(out).toEqual({
        logs: expect.stringMatching(reason),
        images: [],
        files: [],
        sessionReset: null,
        outcome: 'unavailable',
        failure: { code: 'sandbox_unavailable', message: expect.stringMatching(PACKAGES) },
      });
    }
  });
});

describe('threadline sandbox without bubblewrap', () => {
  afterEach(() => killLeftoverCliProcesses());

  it('logs the problem at boot and keeps running', async () => {
    const h = await startSandboxHarness({}, { sandbox: false });
    try {
      const child = spawnCli(['sandbox'], {
        ...h.env,
        LOG_LEVEL: 'info',
        THREADLINE_SANDBOX_BWRAP_PATH: '/nonexistent/bwrap',
      });
      await child.waitFor(/sandbox worker polling/);
      await child.waitFor(/cannot run on this host: bubblewrap was not found/);
      const out = await h.exec({ threadId: h.thread(), code: 'print(1)' });
      expect(out.outcome).toBe('unavailable');
      expect(child.child.exitCode).toBeNull();
      child.child.kill('SIGTERM');
      expect((await child.exited).code).toBe(0);
    } finally {
      await h.stop();
    }
  });
});

import { DEFAULT_PROJECT_ID } from '../../src/store/projects';
import { decodePng, startSandboxHarness, type SandboxHarness } from '../support/sandbox';

jest.setTimeout(120_000);

describe('code interpreter: executions in a sandbox session', () => {
  let h: SandboxHarness;

  beforeAll(async () => {
    h = await startSandboxHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('returns what a computation prints, and the value of a final expression', async () => {
    const out = await h.exec({ threadId: h.thread(), code: 'import math\nprint(sum(range(101)))\nmath.factorial(10)' });
    expect(out).toEqual({
      logs: '5050\n3628800',
      images: [],
      files: [],
      sessionReset: null,
      outcome: 'completed',
      failure: null,
    });
  });
});

import { DEFAULT_PROJECT_ID } from '../../src/store/projects';
import { eventually } from '../support/service';
import { decodePng, startSandboxHarness, type SandboxHarness } from '../support/sandbox';

/**
 * The code interpreter below the run seam: code executed by a real sandbox worker (bubblewrap, Debian's
 * Python) through the workflow-side helper in a real workflow, files moving through the file seam.
 */
jest.setTimeout(120_000);

describe('code interpreter: executions in a sandbox session', () => {
  let h: SandboxHarness;

  beforeAll(async () => {
    h = await startSandboxHarness({ THREADLINE_SANDBOX_MAX_OUTPUT_BYTES: '2000' });
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

  it('reports an exception and a syntax error as logs with the traceback, and the session goes on', async () => {
    const threadId = h.thread();
    const [raised, syntax, after] = await h.run([
      { threadId, code: 'kept = 7\nprint("before")\n{}["missing"]' },
      { threadId, code: 'def broken(:\n    pass' },
      { threadId, code: 'print(kept * 6)' },
    ]);
    expect(raised?.outcome).toBe('error');
    expect(raised?.logs).toMatch(/^before\nTraceback \(most recent call last\):\n {2}File "<cell \d+>", line 3/);
    expect(raised?.logs).toMatch(/\{\}\["missing"\]\n.*KeyError: 'missing'$/s);
    expect(raised?.logs).not.toMatch(/driver\.py/);
    expect(syntax?.outcome).toBe('error');
    expect(syntax?.logs).toMatch(/SyntaxError/);
    expect(after).toMatchObject({ outcome: 'completed', logs: '42', sessionReset: null });
  });

  it('interleaves stdout, stderr and subprocess output in the order they were written', async () => {
    const out = await h.exec({
      threadId: h.thread(),
      code: [
        'import sys, subprocess',
        'print("one")',
        'print("two", file=sys.stderr)',
        'subprocess.run(["/bin/echo", "three"])',
        'print("four")',
      ].join('\n'),
    });
    expect(out.logs).toBe('one\ntwo\nthree\nfour');
  });

  it('has the thread’s files in /mnt/data under their names, and reads a CSV with pandas', async () => {
    const csv = 'region,amount\nnorth,10.5\nsouth,20\nnorth,4.5\n';
    const fileId = h.files.put(DEFAULT_PROJECT_ID, 'sales.csv', csv);
    const out = await h.exec({
      threadId: h.thread(),
      files: [{ fileId, filename: 'sales.csv' }],
      code: [
        'import os, pandas as pd',
        'print(os.getcwd(), sorted(os.listdir("/mnt/data")))',
        'df = pd.read_csv("sales.csv")',
        'print(df.groupby("region")["amount"].sum().to_dict())',
      ].join('\n'),
    });
    expect(out.logs).toBe("/mnt/data ['sales.csv']\n{'north': 15.0, 'south': 20.0}");
    // Staging a file is not producing one.
    expect(out.files).toEqual([]);
  });

  it('returns a figure shown with plt.show() as a stored PNG image', async () => {
    const out = await h.exec({
      threadId: h.thread(),
      code: 'import matplotlib.pyplot as plt\nplt.plot([1, 4, 9, 16])\nplt.title("squares")\nplt.show()\nprint("shown")',
    });
    expect(out.outcome).toBe('completed');
    expect(out.logs).toBe('shown');
    expect(out.images).toHaveLength(1);
    const image = out.images[0]!;
    const stored = h.files.get(DEFAULT_PROJECT_ID, image.fileId);
    expect(stored).toMatchObject({ filename: 'image-1.png', purpose: 'assistants_output' });
    expect(stored!.bytes.length).toBe(image.bytes);
    const { width, height } = decodePng(stored!.bytes);
    expect(width).toBeGreaterThan(100);
    expect(height).toBeGreaterThan(100);
  });

  it('returns a chart saved with savefig as a stored file, and a figure left open as an image', async () => {
    const out = await h.exec({
      threadId: h.thread(),
      code: [
        'import matplotlib.pyplot as plt',
        'fig, ax = plt.subplots()',
        'ax.bar(["a", "b"], [3, 5])',
        'fig.savefig("/mnt/data/chart.png")',
      ].join('\n'),
    });
    expect(out.files).toEqual([
      {
        fileId: expect.stringMatching(/^file-/),
        path: '/mnt/data/chart.png',
        filename: 'chart.png',
        bytes: expect.any(Number),
      },
    ]);
    const saved = h.files.get(DEFAULT_PROJECT_ID, out.files[0]!.fileId)!;
    expect(saved.purpose).toBe('assistants_output');
    expect(decodePng(saved.bytes)).toEqual({ width: 640, height: 480 });
    // Like a notebook, the figure still open at the end is shown too.
    expect(out.images).toHaveLength(1);
    decodePng(h.files.get(DEFAULT_PROJECT_ID, out.images[0]!.fileId)!.bytes);
    expect(out.images[0]!.fileId).not.toBe(out.files[0]!.fileId);
  });

  it('returns a file the code wrote, byte for byte, named where it was written', async () => {
    const out = await h.exec({
      threadId: h.thread(),
      code: [
        'import os',
        'os.makedirs("reports", exist_ok=True)',
        'data = bytes(range(256)) * 1000',
        'open("reports/out.bin", "wb").write(data)',
        'open("untouched.txt", "w").close()',
      ].join('\n'),
    });
    const byPath = Object.fromEntries(out.files.map((f) => [f.path, f]));
    expect(Object.keys(byPath).sort()).toEqual(['/mnt/data/reports/out.bin', '/mnt/data/untouched.txt']);
    const written = h.files.get(DEFAULT_PROJECT_ID, byPath['/mnt/data/reports/out.bin']!.fileId)!;
    const expected = Buffer.alloc(256_000);
    for (let i = 0; i < expected.length; i++) expected[i] = i % 256;
    expect(written.bytes.equals(expected)).toBe(true);
    expect(written.filename).toBe('out.bin');
  });

  it('keeps variables, imports and files between executions of a session and across workflows', async () => {
    const threadId = h.thread();
    const [first, second] = await h.run([
      { threadId, code: 'import statistics as st\nx = 41\nopen("notes.txt", "w").write("remember me")' },
      { threadId, code: 'print(x + 1, st.mean([1, 3]))' },
    ]);
    expect(first?.outcome).toBe('completed');
    expect(second?.logs).toBe('42 2');
    // A later run is a new workflow: the session is found where it lives.
    const later = await h.exec({ threadId, code: 'print(x + 2, open("notes.txt").read())' });
    expect(later).toMatchObject({ logs: '43 remember me', sessionReset: null, outcome: 'completed' });
  });

  it('caps what an execution prints, keeping its start and end around a truncation mark', async () => {
    const out = await h.exec({
      threadId: h.thread(),
      code: 'print("FIRST")\nfor i in range(100000):\n    print(i)\nprint("LAST")',
    });
    expect(out.outcome).toBe('completed');
    expect(out.logs.startsWith('FIRST\n0\n1\n')).toBe(true);
    expect(out.logs.endsWith('99999\nLAST')).toBe(true);
    expect(out.logs).toMatch(
      /\[… output truncated: \d+ of 588901 bytes omitted here \(the limit is 2000 bytes per execution\) …\]/,
    );
    expect(Buffer.byteLength(out.logs)).toBeLessThan(2000 + 200);
  });
});

describe('code interpreter: a session that is gone', () => {
  let h: SandboxHarness;

  beforeAll(async () => {
    h = await startSandboxHarness({
      THREADLINE_SANDBOX_IDLE_TIMEOUT_SECONDS: '1',
      THREADLINE_SANDBOX_TIMEOUT_SECONDS: '3',
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const sessions = () => h.sandbox!.sandbox!.sessions;

  it('starts clean after the idle timeout, says so, and has the thread’s files back', async () => {
    const fileId = h.files.put(DEFAULT_PROJECT_ID, 'data.txt', 'original');
    const threadId = h.thread();
    const files = [{ fileId, filename: 'data.txt' }];
    const first = await h.exec({ threadId, files, code: 'x = 1\nopen("data.txt", "w").write("changed")' });
    expect(first.sessionReset).toBeNull();
    await eventually(
      () => Promise.resolve(sessions().size === 0 ? true : undefined),
      20_000,
      'the idle session to end',
    );
    const next = await h.exec({ threadId, files, code: 'print(open("data.txt").read())\nprint(x)' });
    expect(next.sessionReset).toEqual({
      reason: 'idle_timeout',
      message: expect.stringMatching(/session was reset \(it was idle longer than the session timeout\)/),
    });
    expect(next.logs).toMatch(/^original\nTraceback[\s\S]*NameError: name 'x' is not defined$/);
  });

  it('stops an execution at the wall-clock limit, and the next one starts clean and says so', async () => {
    const threadId = h.thread();
    const [stopped, next] = await h.run([
      { threadId, code: 'import time\ny = 5\nprint("sleeping", flush=True)\ntime.sleep(60)' },
      { threadId, code: 'print("y" in globals())' },
    ]);
    expect(stopped?.outcome).toBe('timeout');
    expect(stopped?.logs).toMatch(/^sleeping\n\[Execution timed out after 3 s\. The sandbox was stopped/);
    expect(next?.sessionReset?.reason).toBe('limit_exceeded');
    expect(next?.logs).toBe('False');
  });
});

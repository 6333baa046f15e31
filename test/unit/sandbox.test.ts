import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { openProduced, stageFile, stagingName } from '../../src/sandbox/files';
import { OutputCapture, OutputDemux } from '../../src/sandbox/output';
import { outputFileId, resetNotice, toolResultText } from '../../src/sandbox/shared';

describe('OutputCapture', () => {
  it('keeps everything within the budget', () => {
    const capture = new OutputCapture(100);
    capture.add(Buffer.from('hello '));
    capture.add(Buffer.from('world'));
    expect(capture.text()).toBe('hello world');
    expect(capture.truncated).toBe(false);
  });

  it('keeps the first three quarters and the last quarter of a long output, and says how much it dropped', () => {
    const capture = new OutputCapture(40);
    for (let i = 0; i < 100; i++) capture.add(Buffer.from(String(i % 10)));
    const text = capture.text();
    expect(text.startsWith('012345678901234567890123456789\n')).toBe(true);
    expect(text.endsWith('\n0123456789')).toBe(true);
    expect(text).toContain(
      '[… output truncated: 60 of 100 bytes omitted here (the limit is 40 bytes per execution) …]',
    );
  });
});

describe('OutputDemux', () => {
  it('ends an execution’s output at its mark, even when the mark arrives in pieces', async () => {
    const demux = new OutputDemux(1000);
    demux.push(Buffer.from('from before\n'));
    const done = demux.until('<<END>>');
    for (const piece of ['hello\n<<E', 'N', 'D>>after']) demux.push(Buffer.from(piece));
    expect(await done).toBe('from before\nhello\n');
    const next = demux.until('<<END>>');
    demux.push(Buffer.from(' more<<END>>'));
    expect(await next).toBe('after more');
  });

  it('ends with whatever was printed when the process goes away', async () => {
    const demux = new OutputDemux(1000);
    const done = demux.until('<<END>>');
    demux.push(Buffer.from('partial <<E'));
    demux.end();
    expect(await done).toBe('partial <<E');
  });
});

describe('output file ids', () => {
  const base = 'file-0mabcdefg00012345abcdef';

  it('derive from the workflow-minted base and a key: the same call gets the same ids, others differ', () => {
    const image = outputFileId(base, 'image:0');
    expect(image).toMatch(/^file-[0-9a-z]{24}$/);
    expect(image.slice(0, 17)).toBe(base.slice(0, 17));
    expect(outputFileId(base, 'image:0')).toBe(image);
    expect(outputFileId(base, 'image:1')).not.toBe(image);
    expect(outputFileId(base, 'file:out.csv')).not.toBe(outputFileId(base, 'file:out.cs'));
    expect(outputFileId('file-0mabcdefg00012345abcdeg', 'image:0')).not.toBe(image);
  });
});

describe('the tool result text', () => {
  it('puts the reset notice first, then the logs, then what was produced', () => {
    expect(
      toolResultText({
        logs: 'hi',
        images: [{ fileId: 'file-1', filename: 'image-1.png', bytes: 10 }],
        files: [{ fileId: 'file-2', path: '/mnt/data/out.csv', filename: 'out.csv', bytes: 5 }],
        sessionReset: { reason: 'idle_timeout', message: resetNotice('idle_timeout') },
        outcome: 'completed',
        failure: null,
      }),
    ).toBe(
      [
        `[${resetNotice('idle_timeout')}]`,
        'hi',
        '[1 image displayed to the user]',
        '[file written: sandbox:/mnt/data/out.csv (5 bytes)]',
      ].join('\n'),
    );
  });
});

describe('moving files in and out of a session directory', () => {
  let dir: string;
  let outside: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-session-'));
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'threadline-outside-'));
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'host secret');
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it('names staged files by their base name only', () => {
    expect(stagingName('../../etc/passwd', 'file-x')).toBe('passwd');
    expect(stagingName('C:\\data\\sales.csv', 'file-x')).toBe('sales.csv');
    expect(stagingName('..', 'file-x')).toBe('file-x');
    expect(stagingName('a\u0000b\n.txt', 'file-x')).toBe('ab.txt');
  });

  it('replaces a symlink the code left under a staged name instead of writing through it', async () => {
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'data.csv'));
    await stageFile(dir, 'data.csv', Readable.from([Buffer.from('a,b\n')]), { uid: undefined, gid: undefined });
    expect(fs.readFileSync(path.join(outside, 'secret.txt'), 'utf8')).toBe('host secret');
    expect(fs.lstatSync(path.join(dir, 'data.csv')).isSymbolicLink()).toBe(false);
    expect(fs.readFileSync(path.join(dir, 'data.csv'), 'utf8')).toBe('a,b\n');
    expect(fs.readdirSync(dir)).toEqual(['data.csv']);
  });

  it('reads a produced file, but never through a symlink, a symlinked directory or a FIFO', async () => {
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', 'real.txt'), 'produced');
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'link.txt'));
    fs.symlinkSync(outside, path.join(dir, 'linkdir'));
    const handle = await openProduced(dir, 'sub/real.txt');
    expect((await handle.readFile()).toString()).toBe('produced');
    await handle.close();
    await expect(openProduced(dir, 'link.txt')).rejects.toThrow(/ELOOP/);
    await expect(openProduced(dir, 'linkdir/secret.txt')).rejects.toThrow(/ELOOP|ENOTDIR/);
    await expect(openProduced(dir, '../secret.txt')).rejects.toThrow(/not a path inside/);
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [path.join(dir, 'pipe')]);
    await expect(openProduced(dir, 'pipe')).rejects.toThrow(/not a regular file/);
  });
});

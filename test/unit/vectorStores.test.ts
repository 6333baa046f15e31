import { countText } from '../../src/model/tokens';
import { AUTO_CHUNKING, chunkPieces, chunkText, piecesOf } from '../../src/vectorStores/chunking';
import { IngestError } from '../../src/vectorStores/extract';
import { chunkInThread, extractInThread } from '../../src/vectorStores/ingestThreads';
import { fuseRankings } from '../../src/vectorStores/fusion';
import { ftsMatchExpression, queryTerms } from '../../src/vectorStores/queryTerms';
import { makeDocx, makePdf } from '../support/documents';

const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i % 97} `).join('');

describe('chunking by tokens', () => {
  it('keeps every chunk within the size, overlapping the previous one by at most the overlap', async () => {
    const text = words(5000);
    const chunks = await chunkText(text, AUTO_CHUNKING);
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) {
      expect(chunk.tokens).toBeLessThanOrEqual(800);
      expect(countText(chunk.text)).toBe(chunk.tokens);
    }
    // Consecutive chunks share text (the overlap), and together they cover the whole text.
    for (let i = 1; i < chunks.length; i++) {
      const tail = chunks[i - 1]!.text.slice(-40);
      expect(chunks[i]!.text.includes(tail.trim().split(' ')[0]!)).toBe(true);
    }
    expect(text.startsWith(chunks[0]!.text)).toBe(true);
    expect(text.endsWith(chunks.at(-1)!.text)).toBe(true);
  });

  it('chunks without overlap when asked, tiling the text exactly', async () => {
    const text = words(3000);
    const chunks = await chunkText(text, { maxChunkSizeTokens: 100, chunkOverlapTokens: 0 });
    // Only the trailing blank is left out (a chunk of whitespace alone is not kept).
    expect(chunks.map((c) => c.text).join('')).toBe(text.trimEnd());
    for (const chunk of chunks) expect(chunk.tokens).toBeLessThanOrEqual(100);
  });

  it('cuts long unbroken runs into bounded pieces (linear counting) and still respects the chunk size', () => {
    const text = 'o'.repeat(50_000) + ' ' + '中'.repeat(20_000);
    const { pieces } = piecesOf(text);
    for (const piece of pieces) expect(piece.end - piece.start).toBeLessThanOrEqual(256);
    const chunks = chunkPieces(text, pieces, { maxChunkSizeTokens: 100, chunkOverlapTokens: 50 });
    for (const chunk of chunks) expect(chunk.tokens).toBeLessThanOrEqual(100);
    expect(chunks.length).toBeGreaterThan(10);
  });

  it('chunks on a thread of its own as it does in place', async () => {
    const text = words(2000);
    expect(await chunkInThread(text, AUTO_CHUNKING)).toEqual(await chunkText(text, AUTO_CHUNKING));
  });

  it('abandons a job whose activity is cancelled, and the next job still runs', async () => {
    const controller = new AbortController();
    const long = chunkInThread(words(200_000), AUTO_CHUNKING, controller.signal);
    setTimeout(() => controller.abort(new Error('activity cancelled')), 20);
    await expect(long).rejects.toThrow('activity cancelled');
    expect(await chunkInThread('after the cancel', AUTO_CHUNKING)).toEqual([{ text: 'after the cancel', tokens: 3 }]);
  });

  it('has no chunks for empty or blank text', async () => {
    expect(await chunkText('', AUTO_CHUNKING)).toEqual([]);
    expect(await chunkText(' \n\n \t', AUTO_CHUNKING)).toEqual([]);
  });
});

describe('text extraction', () => {
  const extract = (filename: string, bytes: Buffer | string, mimeType = 'application/octet-stream') =>
    extractInThread({ filename, mimeType, bytes: Buffer.from(bytes) });
  const failure = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IngestError);
    return error as IngestError;
  };

  it('reads text, markdown, JSON, CSV and code as they are', async () => {
    expect(await extract('a.txt', '\ufeffhello')).toBe('hello');
    expect(await extract('a.md', '# Title\n\nbody')).toBe('# Title\n\nbody');
    expect(await extract('a.json', '{"a": 1}')).toBe('{"a": 1}');
    expect(await extract('a.csv', 'x,y\n1,2')).toBe('x,y\n1,2');
    expect(await extract('main.py', 'print("hi")')).toBe('print("hi")');
    expect(await extract('Dockerfile', 'FROM node')).toBe('FROM node');
    expect(await extract('notes', 'plain', 'text/plain')).toBe('plain');
  });

  it('strips HTML to its text, without scripts, styles or URLs', async () => {
    const text = await extract(
      'page.html',
      '<html><head><style>p{color:red}</style><script>alert(1)</script></head><body><h1>Whales</h1><p>The <b>white</b> whale &amp; <a href="http://x.example/">Ahab</a>.</p></body></html>',
    );
    expect(text).toContain('Whales');
    expect(text).toContain('The white whale & Ahab.');
    expect(text).not.toMatch(/alert|color|http|<|>/);
  });

  it('reads PDF and DOCX through their libraries', async () => {
    expect(await extract('doc.pdf', makePdf(['Hello PDF world', 'Second line (here)']))).toBe(
      'Hello PDF world\nSecond line (here)',
    );
    expect(await extract('doc.docx', await makeDocx(['First paragraph.', 'Second & last.']))).toBe(
      'First paragraph.\n\nSecond & last.',
    );
  });

  it('refuses unknown types as unsupported, and unreadable or binary content as invalid', async () => {
    expect((await failure(extract('picture.png', Buffer.from([0x89, 0x50])))).code).toBe('unsupported_file');
    expect((await failure(extract('archive', Buffer.from([1, 2]), 'application/zip'))).code).toBe('unsupported_file');
    const pdf = await failure(extract('broken.pdf', '%PDF-1.4 this is not a pdf'));
    expect(pdf.code).toBe('invalid_file');
    expect(pdf.message).toContain('broken.pdf');
    expect((await failure(extract('broken.docx', 'PK not a zip'))).code).toBe('invalid_file');
    expect((await failure(extract('bin.txt', Buffer.from([0xff, 0xfe, 0x00, 0x41])))).code).toBe('invalid_file');
    expect((await failure(extract('nul.txt', Buffer.from('a\u0000b')))).code).toBe('invalid_file');
  });
});

describe('query terms and fusion', () => {
  it('keeps only words, so no query can break the index syntax', () => {
    expect(queryTerms('What is "Moby-Dick"?? NEAR(x) a*b OR ')).toEqual(['moby', 'dick', 'near', 'x', 'b']);
    // Stop words go, unless they are all there is.
    expect(queryTerms('to be or not to be')).toEqual(['to', 'be', 'or', 'not']);
    expect(ftsMatchExpression(['a', 'or'])).toBe('"a" OR "or"');
    expect(queryTerms('Größe café 東京')).toEqual(['größe', 'café', '東京']);
  });

  it('fuses rankings by reciprocal rank into scores in 0..1', () => {
    const fused = fuseRankings([
      ['a', 'b', 'c'],
      ['b', 'a'],
    ]);
    expect(fused.map((hit) => hit.id)).toEqual(['a', 'b', 'c']);
    expect(fused[0]!.score).toBe(1);
    expect(fused[2]!.score).toBeCloseTo(61 / 63);
    // With two lists per query (keyword and vector), first in both is 1 and first in one is about half.
    const hybrid = fuseRankings([['a', 'b'], ['a']], 2);
    expect(hybrid[0]).toEqual({ id: 'a', score: 1 });
    expect(hybrid[1]!.score).toBeCloseTo(61 / 62 / 2);
    expect(fuseRankings([])).toEqual([]);
  });
});

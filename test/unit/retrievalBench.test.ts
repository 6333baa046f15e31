import { buildCorpus } from '../../bench/retrieval/corpus';
import { answers, figures, firstHit, locate } from '../../bench/retrieval/quality';

/** The retrieval bench's labelled set and scoring: wrong here, every figure in bench/RETRIEVAL.md is wrong. */
describe('retrieval bench', () => {
  const long = 'x'.repeat(250);
  const header = `
/*
** CAPI3REF: Opening A New Database Connection
** METHOD: sqlite3
**
** These routines open an [SQLite database file] as specified by the
** [sqlite3_open_v2|filename argument]. <b>${long}</b>
*/
int sqlite3_open(const char*);
/*
** Not a documentation section.
*/
/*
** CAPI3REF: Tiny
** Too short to be an answer.
*/
/*
** CAPI3REF: Opening A New Database Connection
** A repeated title is asked once. ${long}
*/`;

  it('asks each documented title once, against its section with the title, markup and tags removed', () => {
    const corpus = buildCorpus(header);
    expect(corpus.files).toHaveLength(1);
    const text = corpus.files[0]!.text;
    expect(text).not.toMatch(/CAPI3REF|METHOD|Opening A New|<b>|\[/);
    expect(corpus.questions).toEqual([
      {
        query: 'Opening A New Database Connection',
        file: 'sqlite3-api-01.txt',
        start: 0,
        end: expect.any(Number) as number,
      },
    ]);
    const q = corpus.questions[0]!;
    expect(text.slice(q.start, q.end)).toMatch(
      /^These routines open an SQLite database file as specified by the\nfilename argument\./,
    );
    expect(text.slice(q.start, q.end).endsWith(long)).toBe(true);
  });

  it('counts a unit as an answer only when it holds 200 characters of the passage (or all of a short one)', () => {
    const q = { query: 'q', file: 'a', start: 1000, end: 2000 };
    expect(answers({ file: 'a', start: 0, end: 1199 }, q)).toBe(false);
    expect(answers({ file: 'a', start: 0, end: 1200 }, q)).toBe(true);
    expect(answers({ file: 'b', start: 0, end: 5000 }, q)).toBe(false);
    const short = { query: 'q', file: 'a', start: 100, end: 150 };
    expect(answers({ file: 'a', start: 120, end: 500 }, short)).toBe(false);
    expect(answers({ file: 'a', start: 0, end: 150 }, short)).toBe(true);
  });

  it('scores recall@5 and MRR over the first 20, and the text the first 5 carry', () => {
    const q = { query: 'q', file: 'a', start: 0, end: 300 };
    const miss = { file: 'b', start: 0, end: 100 };
    const hit = { file: 'a', start: 0, end: 300 };
    expect(firstHit([miss, hit], q)).toBe(2);
    const result = figures([
      { question: q, ranked: [hit] },
      { question: q, ranked: [miss, miss, miss, miss, miss, hit] },
      { question: q, ranked: [...Array<typeof miss>(20).fill(miss), hit] },
    ]);
    expect(result.recallAt5).toBeCloseTo(1 / 3);
    expect(result.mrr).toBeCloseTo((1 + 1 / 6) / 3);
    expect(result.charsInTop5).toBe(Math.round((300 + 500 + 500) / 3));
  });

  it('locates overlapping chunks as ranges of their text', () => {
    expect(locate('abcabcd', ['abc', 'cabc', 'cd'])).toEqual([
      { start: 0, end: 3 },
      { start: 2, end: 6 },
      { start: 5, end: 7 },
    ]);
    expect(() => locate('abc', ['zz'])).toThrow(/not a slice/);
  });
});

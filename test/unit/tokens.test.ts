import fs from 'node:fs';
import path from 'node:path';
import { countTokens } from 'gpt-tokenizer';
import { countSlice, countText, MAX_PIECE_CHARS } from '../../src/model/tokens';

/** No lone surrogate (String.prototype.isWellFormed is newer than this project's TypeScript lib). */
const wellFormed = (text: string) => !/\p{Cs}/u.test(text);

const README = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
// The README's prose, without its tables (their padding and rulers are pieces longer than MAX_PIECE_CHARS).
const PROSE = README.split('\n')
  .filter((line) => !line.startsWith('|'))
  .join('\n');
const CODE = fs.readFileSync(path.join(__dirname, '../../src/model/tokens.ts'), 'utf8');
const AS_TEXT = { disallowedSpecial: new Set<string>() };

describe('token counting', () => {
  it('counts ordinary text exactly as the tokenizer does', () => {
    for (const text of [
      'Hello, world!',
      "It's 3.14159 o'clock; don't panic.\n\n  Indented\tand tabbed.",
      'Mixed 中文 text, émigré café, Ελληνικά, русский, عربى, 😀🎉 emoji.',
      CODE,
      PROSE,
    ]) {
      expect(countText(text)).toBe(countTokens(text, AS_TEXT));
    }
  });

  it('counts special-token text as ordinary text instead of throwing', () => {
    expect(() => countTokens('quoted <|endoftext|> here')).toThrow(/Disallowed special token/);
    expect(countText('quoted <|endoftext|> here')).toBeGreaterThan(5);
  });

  it('counts a long unbroken piece in bounded chunks, close to the whole', () => {
    // One regex piece each: runs of one letter class, punctuation, whitespace.
    for (const piece of ['o'.repeat(5 * MAX_PIECE_CHARS), 'ab'.repeat(3 * MAX_PIECE_CHARS), '-'.repeat(1000)]) {
      const whole = countTokens(piece);
      expect(Math.abs(countText(piece) - whole)).toBeLessThanOrEqual(Math.ceil(piece.length / MAX_PIECE_CHARS));
    }
  });

  it('never splits a surrogate pair', () => {
    // One piece (punctuation and emoji are one class) whose pairs straddle every multiple of MAX_PIECE_CHARS.
    const piece = `!${'😀'.repeat(MAX_PIECE_CHARS)}`;
    // Chunks of MAX_PIECE_CHARS units, one shorter wherever that would end inside a pair.
    const chunks: string[] = [];
    for (let at = 0; at < piece.length; at += chunks[chunks.length - 1]!.length) {
      const chunk = piece.slice(at, at + MAX_PIECE_CHARS);
      chunks.push(wellFormed(chunk) ? chunk : chunk.slice(0, -1));
    }
    expect(chunks.every((chunk) => wellFormed(chunk))).toBe(true);
    expect(countText(piece)).toBe(chunks.reduce((n, chunk) => n + countTokens(chunk), 0));
  });

  it('adds up to the same count slice by slice as in one go', () => {
    const text = `${README}${'中'.repeat(3000)}${'o'.repeat(3000)}`;
    let total = 0;
    let steps = 0;
    for (let at = 0; at < text.length; steps++) {
      const { tokens, end } = countSlice(text, at, 1000);
      expect(end).toBeGreaterThan(at);
      total += tokens;
      at = end;
    }
    expect(steps).toBeGreaterThan(10);
    expect(total).toBe(countText(text));
  });
});

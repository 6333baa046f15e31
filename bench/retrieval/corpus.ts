import fs from 'node:fs';
import path from 'node:path';

/**
 * The labelled set of the retrieval-quality bench, built from SQLite's C API header (`sqlite3.h`, shipped in
 * the better-sqlite3 npm package, so every checkout has it). SQLite is in the public domain: the header opens
 * with the blessing in place of a copyright notice ("The author disclaims copyright to this source code").
 *
 * Each `CAPI3REF: <title>` comment is a documentation section written by SQLite's authors: its title is the
 * question, its prose the answer passage. The title is removed from the indexed text, so a question never
 * finds its answer by repeating it word for word: "Number Of SQL Parameters" must find the passage about
 * `sqlite3_bind_parameter_count()`, a real vocabulary gap. Consecutive sections are grouped into files of
 * SECTIONS_PER_FILE, so files are long (tens of thousands of characters), as real uploaded documents are.
 */
export const SOURCE = 'node_modules/better-sqlite3/deps/sqlite3/sqlite3.h';
const SECTIONS_PER_FILE = 8;
/** Sections shorter than this carry no answer worth retrieving (a constant's one-liner). */
const MIN_SECTION_CHARS = 200;

export interface CorpusFile {
  name: string;
  text: string;
}

export interface Question {
  query: string;
  file: string;
  /** The answer passage's character range in its file's text. */
  start: number;
  end: number;
}

export interface Corpus {
  files: CorpusFile[];
  questions: Question[];
}

export function loadCorpus(root: string): Corpus {
  return buildCorpus(fs.readFileSync(path.join(root, SOURCE), 'utf8'));
}

interface Section {
  title: string;
  body: string;
}

export function buildCorpus(header: string): Corpus {
  const sections = [...header.matchAll(/\/\*\*?([\s\S]*?)\*\//g)]
    .map((m) => parseSection(m[1]!))
    .filter((s): s is Section => s !== undefined);
  const files: CorpusFile[] = [];
  const questions: Question[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < sections.length; i += SECTIONS_PER_FILE) {
    const name = `sqlite3-api-${String(files.length + 1).padStart(2, '0')}.txt`;
    let text = '';
    for (const section of sections.slice(i, i + SECTIONS_PER_FILE)) {
      const start = text.length;
      text += section.body + '\n\n';
      const key = section.title.toLowerCase();
      if (section.body.length >= MIN_SECTION_CHARS && !seen.has(key)) {
        seen.add(key);
        questions.push({ query: section.title, file: name, start, end: start + section.body.length });
      }
    }
    files.push({ name, text });
  }
  return { files, questions };
}

function parseSection(comment: string): Section | undefined {
  const lines = comment.split('\n').map((line) => line.replace(/^\s*\*\*? ?/, ''));
  const at = lines.findIndex((line) => line.startsWith('CAPI3REF:'));
  if (at < 0) return undefined;
  const title = lines[at]!.replace('CAPI3REF:', '').trim();
  const body = lines
    .slice(at + 1)
    .filter((line) => !/^(KEYWORDS|METHOD|CONSTRUCTOR|DESTRUCTOR|EXPERIMENTAL)\b/.test(line.trim()))
    .join('\n')
    .replace(/<[^>]+>/g, ' ') // HTML of the generated docs
    .replace(/\[([^\]|]+)\|([^\]]+)\]/g, '$2') // [target|text] links
    .replace(/\[([^\]]+)\]/g, '$1') // [target] links
    .replace(/[ \t]+/g, ' ')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return title && body ? { title, body } : undefined;
}

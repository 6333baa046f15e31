import { convert } from 'html-to-text';
import mammoth from 'mammoth';
import { IngestError } from './errors';
import { extensionOf, extractorFor } from './kinds';

export { IngestError, type IngestErrorCode } from './errors';

/**
 * The text of a file, as file_search indexes it and `GET …/files/{id}/content` shows it: plain text as it is
 * (UTF-8, a byte-order mark dropped), HTML without its tags, scripts and styles, PDF page by page (unpdf, the
 * text layer: scanned pages without one have no text), DOCX's paragraphs (mammoth). Never throws anything but
 * an `IngestError`: a type with no extractor is `unsupported_file`, bytes its extractor cannot read
 * `invalid_file`.
 */
export async function extractText(file: { filename: string; mimeType: string; bytes: Buffer }): Promise<string> {
  const kind = extractorFor(file.filename, file.mimeType);
  if (!kind) {
    const ext = extensionOf(file.filename);
    throw new IngestError(
      'unsupported_file',
      ext === file.filename.toLowerCase()
        ? `The file ${file.filename} has no extension and its type (${file.mimeType}) is not supported for file search.`
        : `Files with extensions [.${ext}] are not supported for file search.`,
    );
  }
  switch (kind) {
    case 'text':
      return decodeText(file.bytes, file.filename);
    case 'html':
      return htmlText(decodeText(file.bytes, file.filename));
    case 'pdf':
      return pdfText(file.bytes, file.filename);
    case 'docx':
      return docxText(file.bytes, file.filename);
  }
}

/** Strict UTF-8: a file that is not (binary under a text name) is refused rather than indexed as garbage. */
export function decodeText(bytes: Buffer, filename: string): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new IngestError('invalid_file', `The file ${filename} is not valid UTF-8 text.`);
  }
  if (text.includes('\u0000')) throw new IngestError('invalid_file', `The file ${filename} is binary, not text.`);
  return text;
}

export function htmlText(html: string): string {
  return convert(html, {
    wordwrap: false,
    selectors: [
      // Links and images as their text only: URLs are noise to a keyword index and to the model.
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'script', format: 'skip' },
      { selector: 'style', format: 'skip' },
      { selector: 'noscript', format: 'skip' },
      // Headings keep their case (html-to-text upper-cases them by default).
      ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
      { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
    ],
  }).trim();
}

async function pdfText(bytes: Buffer, filename: string): Promise<string> {
  // unpdf is ESM with a CommonJS build; loaded on first use (it brings pdf.js, a few MB).
  const { extractText: extractPdf, getDocumentProxy } = await import('unpdf');
  let pages: string[];
  try {
    // verbosity 0: pdf.js would print its warnings about damaged files straight to the console.
    const pdf = await getDocumentProxy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
      verbosity: 0,
    });
    try {
      ({ text: pages } = await extractPdf(pdf, { mergePages: false }));
    } finally {
      await pdf.destroy();
    }
  } catch (error) {
    throw new IngestError('invalid_file', `The file ${filename} could not be read as a PDF: ${messageOf(error)}`);
  }
  return pages
    .map((page) => page.trim())
    .filter((page) => page.length > 0)
    .join('\n\n');
}

async function docxText(bytes: Buffer, filename: string): Promise<string> {
  try {
    const result = await mammoth.extractRawText({ buffer: bytes });
    return result.value.replace(/\n{3,}/g, '\n\n').trim();
  } catch (error) {
    throw new IngestError(
      'invalid_file',
      `The file ${filename} could not be read as a DOCX document: ${messageOf(error)}`,
    );
  }
}

function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}

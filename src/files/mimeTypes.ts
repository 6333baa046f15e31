/**
 * Content types for downloads and image inputs. The table covers the file types OpenAI listed for Assistants,
 * vision and batch; other extensions fall back to what the client declared, then to octet-stream.
 */
const BY_EXTENSION: Record<string, string> = {
  c: 'text/x-c',
  cpp: 'text/x-c++',
  cs: 'text/x-csharp',
  css: 'text/css',
  csv: 'text/csv',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  gif: 'image/gif',
  go: 'text/x-golang',
  html: 'text/html',
  java: 'text/x-java',
  jpeg: 'image/jpeg',
  jpg: 'image/jpeg',
  js: 'text/javascript',
  json: 'application/json',
  jsonl: 'application/jsonl',
  md: 'text/markdown',
  pdf: 'application/pdf',
  php: 'text/x-php',
  pkl: 'application/octet-stream',
  png: 'image/png',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  py: 'text/x-python',
  rb: 'text/x-ruby',
  sh: 'application/x-sh',
  tar: 'application/x-tar',
  tex: 'text/x-tex',
  ts: 'application/typescript',
  txt: 'text/plain',
  webp: 'image/webp',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  xml: 'application/xml',
  zip: 'application/zip',
};

const GENERIC = 'application/octet-stream';
const TYPE_SHAPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;

/** The type a file is served with: by its name's extension, else as declared by the uploader, else generic. */
export function mimeTypeFor(filename: string, declared: string | undefined): string {
  const extension = /\.([A-Za-z0-9]+)$/.exec(filename)?.[1]?.toLowerCase();
  const known = extension === undefined ? undefined : BY_EXTENSION[extension];
  if (known) return known;
  const type = declared?.toLowerCase().trim();
  return type && TYPE_SHAPE.test(type) ? type : GENERIC;
}

/**
 * The image type of some leading bytes (PNG, JPEG, GIF, WebP: the formats vision models take), for images whose
 * name says nothing, such as Python's raw-bytes upload named `upload`.
 */
export function sniffImageType(head: Buffer): string | undefined {
  if (head.length >= 8 && head.readUInt32BE(0) === 0x89504e47) return 'image/png';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
  if (head.length >= 6 && /^GIF8[79]a$/.test(head.subarray(0, 6).toString('latin1'))) return 'image/gif';
  if (head.length >= 12 && head.subarray(0, 4).toString('latin1') === 'RIFF') {
    if (head.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  }
  return undefined;
}

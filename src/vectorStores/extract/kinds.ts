/**
 * Which extractor reads a file, by its extension (as OpenAI decided: its list of supported files was by
 * extension), then by its declared content type for files without a known extension.
 */
export type ExtractorKind = 'text' | 'html' | 'pdf' | 'docx';

/** Plain text as it is: prose, markup read as text, data formats, source code. */
const TEXT_EXTENSIONS = [
  'txt',
  'text',
  'md',
  'markdown',
  'mdx',
  'rst',
  'adoc',
  'org',
  'tex',
  'log',
  'json',
  'jsonl',
  'ndjson',
  'csv',
  'tsv',
  'xml',
  'yaml',
  'yml',
  'toml',
  'ini',
  'cfg',
  'conf',
  'env',
  'properties',
  'c',
  'h',
  'cc',
  'cpp',
  'cxx',
  'hpp',
  'hh',
  'cs',
  'css',
  'scss',
  'less',
  'go',
  'java',
  'kt',
  'kts',
  'scala',
  'groovy',
  'js',
  'mjs',
  'cjs',
  'jsx',
  'ts',
  'mts',
  'cts',
  'tsx',
  'vue',
  'svelte',
  'py',
  'pyi',
  'rb',
  'php',
  'pl',
  'pm',
  'sh',
  'bash',
  'zsh',
  'fish',
  'ps1',
  'bat',
  'sql',
  'r',
  'jl',
  'lua',
  'rs',
  'swift',
  'm',
  'mm',
  'dart',
  'ex',
  'exs',
  'erl',
  'hs',
  'ml',
  'fs',
  'clj',
  'elm',
  'zig',
  'nim',
  'proto',
  'graphql',
  'gql',
  'tf',
  'dockerfile',
  'makefile',
  'cmake',
  'gradle',
  'ipynb',
  'srt',
  'vtt',
];

const BY_EXTENSION: Record<string, ExtractorKind> = {
  ...Object.fromEntries(TEXT_EXTENSIONS.map((ext) => [ext, 'text' as const])),
  html: 'html',
  htm: 'html',
  xhtml: 'html',
  pdf: 'pdf',
  docx: 'docx',
};

export function extensionOf(filename: string): string {
  const base = filename.slice(filename.lastIndexOf('/') + 1).toLowerCase();
  const dot = base.lastIndexOf('.');
  // `Dockerfile`, `Makefile`: the whole name is the type.
  return dot === -1 ? base : base.slice(dot + 1);
}

export function extractorFor(filename: string, mimeType: string): ExtractorKind | undefined {
  const byName = BY_EXTENSION[extensionOf(filename)];
  if (byName) return byName;
  const type = mimeType.toLowerCase().split(';')[0]!.trim();
  if (type === 'text/html' || type === 'application/xhtml+xml') return 'html';
  if (type === 'application/pdf') return 'pdf';
  if (type === 'application/vnd.openxmlformats-officedocument.wordprocessingml.document') return 'docx';
  if (type.startsWith('text/') || type === 'application/json') return 'text';
  return undefined;
}

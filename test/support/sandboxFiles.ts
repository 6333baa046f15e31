import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { SandboxFiles } from '../../src/sandbox/files';

export interface StoredTestFile {
  filename: string;
  purpose: string;
  bytes: Buffer;
}

/**
 * The sandbox's file seam over a plain directory (the Files API is another branch's work): one file per id,
 * with its name and purpose beside it. Counts writes, so tests can see a retried call store nothing twice.
 */
export class DirectoryFiles implements SandboxFiles {
  writes = 0;

  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  /** Uploads a file as a client would, returning its new id. */
  put(projectId: string, filename: string, bytes: Buffer | string): string {
    const id = `file-${randomBytes(12).toString('hex')}`;
    this.save(projectId, id, { filename, purpose: 'assistants', bytes: Buffer.from(bytes) });
    return id;
  }

  get(projectId: string, id: string): StoredTestFile | undefined {
    const base = this.pathOf(projectId, id);
    if (!fs.existsSync(`${base}.json`)) return undefined;
    const meta = JSON.parse(fs.readFileSync(`${base}.json`, 'utf8')) as { filename: string; purpose: string };
    return { ...meta, bytes: fs.readFileSync(base) };
  }

  read(projectId: string, fileId: string): Promise<{ filename: string; stream: Readable } | null> {
    const base = this.pathOf(projectId, fileId);
    if (!fs.existsSync(base)) return Promise.resolve(null);
    const meta = JSON.parse(fs.readFileSync(`${base}.json`, 'utf8')) as { filename: string };
    return Promise.resolve({ filename: meta.filename, stream: fs.createReadStream(base) });
  }

  async write(
    projectId: string,
    file: { id: string; filename: string; purpose: 'assistants_output'; body: Readable },
  ): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of file.body) chunks.push(Buffer.from(chunk as Buffer));
    this.writes += 1;
    this.save(projectId, file.id, { filename: file.filename, purpose: file.purpose, bytes: Buffer.concat(chunks) });
    return file.id;
  }

  private save(projectId: string, id: string, file: StoredTestFile): void {
    const base = this.pathOf(projectId, id);
    fs.mkdirSync(path.dirname(base), { recursive: true });
    fs.writeFileSync(base, file.bytes);
    fs.writeFileSync(`${base}.json`, JSON.stringify({ filename: file.filename, purpose: file.purpose }));
  }

  private pathOf(projectId: string, id: string): string {
    if (!/^[\w-]+$/.test(projectId) || !/^[\w-]+$/.test(id)) throw new Error(`bad id ${projectId}/${id}`);
    return path.join(this.dir, projectId, id);
  }
}

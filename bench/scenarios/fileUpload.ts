import { wallMs } from '../client';
import { rssMb, sampleRss } from '../procs';
import { summarize } from '../stats';
import { downloadDigest, hashing, patternBytes, streamUpload } from '../uploads';
import type { Row, ScenarioContext } from '../types';

const MB = 1024 * 1024;

/**
 * 8. File uploads: the API process's resident memory while it takes one large upload (streamed by the client,
 * chunked), against its memory just before; upload and download throughput. Storage is the deployment's
 * default: a directory with SQLite, PostgreSQL chunks with PostgreSQL. Memory that grows with the file's size
 * would mean the API holds uploads in memory; it must stay flat from the smallest size to the largest.
 */
export async function fileUpload(ctx: ScenarioContext): Promise<Row[]> {
  const { dep } = ctx;
  const storage = dep.dialect === 'postgres' ? 'postgres chunks' : 'local directory';
  const rows: Row[] = [];
  // Warm-up: code paths, pools and the first allocations are not what is measured.
  await streamUpload(dep.baseURL, patternBytes(MB), 'warmup.bin', 'user_data');
  for (const sizeMb of ctx.pick([10, 100, 512], [10, 100, 512], [2])) {
    const size = sizeMb * MB;
    const content = hashing(patternBytes(size));
    const baselineMb = rssMb(dep.api.pid);
    const sampler = sampleRss(dep.api.pid);
    const started = wallMs();
    const file = await streamUpload(dep.baseURL, content.chunks, `bench-${sizeMb}.bin`, 'user_data');
    const uploadSeconds = (wallMs() - started) / 1000;
    const { peakMb, samples } = sampler.stop();
    const downloadStarted = wallMs();
    const download = await downloadDigest(dep.baseURL, file.id);
    const downloadSeconds = (wallMs() - downloadStarted) / 1000;
    if (file.bytes !== size || download.bytes !== size || download.sha256 !== content.digest()) {
      throw new Error(`the ${sizeMb} MB file did not come back byte-exact`);
    }
    await fetch(`${dep.baseURL}/files/${file.id}`, { method: 'DELETE' });

    const base = { scenario: '8. file upload', dialect: dep.dialect, case: `${sizeMb} MB, ${storage}` };
    const one = (value: number) => ({ ...summarize([value]), p99: NaN });
    rows.push({
      ...base,
      metric: 'API RSS growth during the upload',
      unit: 'MB',
      value: one(peakMb - baselineMb),
      note: `RSS ${baselineMb.toFixed(0)} → peak ${peakMb.toFixed(0)} MB (${samples} samples)`,
      target: '≤ 64 MB at any size',
      meets: peakMb - baselineMb <= 64,
    });
    rows.push({ ...base, metric: 'upload throughput', unit: 'MB/s', value: one(sizeMb / uploadSeconds) });
    rows.push({ ...base, metric: 'download throughput', unit: 'MB/s', value: one(sizeMb / downloadSeconds) });
    ctx.log(
      `file upload ${sizeMb} MB: RSS ${baselineMb.toFixed(0)} → ${peakMb.toFixed(0)} MB, ` +
        `up ${(sizeMb / uploadSeconds).toFixed(0)} MB/s, down ${(sizeMb / downloadSeconds).toFixed(0)} MB/s`,
    );
  }
  return rows;
}

import { ApplicationFailure } from '@temporalio/common';
import { batches, HttpEmbedder, parseEmbeddings } from '../../src/vectorStores/embeddings';
import { startFakeEmbeddings, type FakeEmbeddings } from '../support/fakeEmbeddings';
import { hashEmbedding } from '../support/hashEmbedding';

function cosine(a: number[], b: number[]): number {
  return a.reduce((sum, x, i) => sum + x * b[i]!, 0);
}

describe('embeddings client', () => {
  let fake: FakeEmbeddings;
  beforeAll(async () => {
    fake = await startFakeEmbeddings();
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.close());

  const embedder = (over: Partial<ConstructorParameters<typeof HttpEmbedder>[0]> = {}) =>
    new HttpEmbedder({
      baseURL: fake.baseURL,
      apiKey: 'k-1',
      model: 'fake-embed',
      dimensions: 64,
      batchSize: 3,
      ...over,
    });

  it('batches inputs, sends model, dimensions and key, and returns vectors in input order', async () => {
    const texts = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta'];
    const vectors = await embedder().embed(texts);
    expect(fake.requests.map((r) => r.input)).toEqual([texts.slice(0, 3), texts.slice(3, 6), texts.slice(6)]);
    expect(fake.requests[0]).toMatchObject({ model: 'fake-embed', dimensions: 64 });
    expect(fake.requests[0]!.headers.authorization).toBe('Bearer k-1');
    expect(vectors).toEqual(texts.map((t) => hashEmbedding(t, 64)));
  });

  it("omits dimensions when unset and learns the model's size from its first answer", async () => {
    const client = embedder({ dimensions: undefined });
    expect(client.dimensions).toBe(0);
    const [vector] = await client.embed(['hello']);
    expect(fake.requests[0]!.dimensions).toBeUndefined();
    expect(vector).toHaveLength(256);
    expect(client.dimensions).toBe(256);
  });

  it('classifies faults: 429 and 5xx are retried (with retry-after), 400 and 401 are not', async () => {
    const failure = async (status: number, retryAfter?: number) => {
      fake.fail({ status, retryAfter });
      return (await embedder()
        .embed(['x'])
        .catch((e: unknown) => e)) as ApplicationFailure;
    };
    const limited = await failure(429, 3);
    expect(limited).toBeInstanceOf(ApplicationFailure);
    expect(limited).toMatchObject({ type: 'EmbeddingsRateLimited', nonRetryable: false, nextRetryDelay: 3000 });
    expect(await failure(503)).toMatchObject({ type: 'EmbeddingsServerError', nonRetryable: false });
    expect(await failure(400)).toMatchObject({ type: 'EmbeddingsRejected', nonRetryable: true });
    const refused = await failure(401);
    expect(refused).toMatchObject({ nonRetryable: true });
    expect(refused.message).toMatch(/THREADLINE_EMBEDDINGS_API_KEY/);
  });

  it('retries once at once when the connection is dropped unanswered, then leaves it to Temporal', async () => {
    fake.fail({ reset: true });
    expect(await embedder().embed(['x'])).toEqual([hashEmbedding('x', 64)]);
    expect(fake.requests).toHaveLength(2);
    fake.reset();
    fake.fail({ reset: true }, 2);
    await expect(embedder().embed(['x'])).rejects.toMatchObject({ type: 'EmbeddingsUnreachable', nonRetryable: false });
  });

  it('treats an unreachable endpoint as retryable', async () => {
    const client = new HttpEmbedder({
      baseURL: 'http://127.0.0.1:1/v1',
      apiKey: undefined,
      model: 'm',
      dimensions: undefined,
      batchSize: 8,
    });
    await expect(client.embed(['x'])).rejects.toMatchObject({ type: 'EmbeddingsUnreachable', nonRetryable: false });
  });

  it('refuses answers that do not fit the request', () => {
    expect(() => parseEmbeddings('<html>', 1)).toThrow(/other than JSON/);
    expect(() => parseEmbeddings(JSON.stringify({ data: [{ index: 0, embedding: [1] }] }), 2)).toThrow(
      /1 usable vectors for 2/,
    );
    const reordered = JSON.stringify({
      data: [
        { index: 1, embedding: [2] },
        { index: 0, embedding: [1] },
      ],
    });
    expect(parseEmbeddings(reordered, 2)).toEqual([[1], [2]]);
  });

  it('cuts batches by count and by characters', () => {
    expect(batches(['aaaa', 'bb', 'cc', 'd'], 10, 5)).toEqual([['aaaa'], ['bb', 'cc', 'd']]);
    expect(batches(['a', 'b', 'c'], 2, 100)).toEqual([['a', 'b'], ['c']]);
    expect(batches([], 2, 100)).toEqual([]);
  });

  it('gives the fake vectors lexical signal: a misspelling stays close, an unrelated text does not', () => {
    const right = hashEmbedding('photosynthesis in green plants', 256);
    const typo = hashEmbedding('photosynthsis', 256);
    const other = hashEmbedding('the history of naval warfare', 256);
    expect(cosine(right, typo)).toBeGreaterThan(0.3);
    expect(cosine(right, typo)).toBeGreaterThan(cosine(right, other) + 0.2);
  });
});

import type { ProviderSpec } from '../../src/model/providerFile';
import { modelMatches, orderEntries } from '../../src/model/providers';

function entry(id: string, model: string, more: Partial<ProviderSpec> = {}): ProviderSpec {
  return {
    id,
    source: 'file',
    name: id,
    projectId: null,
    model,
    baseURL: `http://${id}.test/v1`,
    apiKey: undefined,
    contextWindow: undefined,
    vision: undefined,
    embeddingsModel: undefined,
    createdAt: 0,
    ...more,
  };
}

describe('the provider table', () => {
  it('matches exact names and globs (* any run, ? one character, everything else literal)', () => {
    expect(modelMatches('gpt-4o', 'gpt-4o')).toBe(true);
    expect(modelMatches('gpt-4o', 'gpt-4o-mini')).toBe(false);
    expect(modelMatches('gpt-*', 'gpt-4o-mini')).toBe(true);
    expect(modelMatches('gpt-*', 'gpt-')).toBe(true);
    expect(modelMatches('llama3.?', 'llama3.2')).toBe(true);
    expect(modelMatches('llama3.?', 'llama3x2')).toBe(false); // the dot is literal
    expect(modelMatches('*', 'anything/at:all')).toBe(true);
    expect(modelMatches('meta-llama/*', 'meta-llama/Llama-3.1-8B')).toBe(true);
    expect(modelMatches('a+b', 'aab')).toBe(false);
  });

  it('tries project entries, then exact names, then admin entries before file ones, then the catch-all', () => {
    const fallback = entry('default', '*', { source: 'default' });
    const ordered = orderEntries(
      [
        entry('file-glob', 'gpt-*'),
        entry('admin-glob', 'gpt-*', { source: 'admin' }),
        entry('file-exact', 'gpt-4o'),
        entry('project-glob', 'gpt-*', { projectId: 'proj_a' }),
        entry('admin-exact', 'gpt-4o', { source: 'admin' }),
        entry('project-exact', 'gpt-4o', { projectId: 'proj_a', source: 'admin' }),
      ],
      fallback,
    );
    expect(ordered.map((e) => e.id)).toEqual([
      'project-exact',
      'project-glob',
      'admin-exact',
      'file-exact',
      'admin-glob',
      'file-glob',
      'default',
    ]);
    expect(orderEntries([entry('a', 'x'), entry('b', 'x')], null).map((e) => e.id)).toEqual(['a', 'b']);
  });
});

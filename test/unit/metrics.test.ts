import { Metrics } from '../../src/observability/metrics';

describe('metrics labels', () => {
  it('keeps the model label set bounded however many names clients send', () => {
    const metrics = new Metrics();
    for (let i = 0; i < 200; i++) expect(metrics.modelLabel(`model-${i}`)).toBe(`model-${i}`);
    expect(metrics.modelLabel('one-too-many')).toBe('other');
    expect(metrics.modelLabel('model-7')).toBe('model-7');
  });
});

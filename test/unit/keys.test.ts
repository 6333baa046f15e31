import { generateApiKey, hashApiKey, redactKey, secretsEqual } from '../../src/auth/keys';
import { isLoopbackHost } from '../../src/auth/bind';

describe('API keys', () => {
  it('are sk-tl- plus 256 random bits, different every time, stored as SHA-256', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a).toMatch(/^sk-tl-[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(hashApiKey(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey(a)).toBe(hashApiKey(a));
    expect(hashApiKey(a)).not.toBe(hashApiKey(b));
  });

  it('are shown redacted as OpenAI shows them, never more than a few characters', () => {
    expect(redactKey('sk-tl-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG')).toBe('sk-tl-…DEFG');
    expect(redactKey('some-other-long-token')).toBe('som…oken');
    expect(redactKey('test-key')).toBe('…ey');
    expect(redactKey('abc')).toBe('…');
  });

  it('compares secrets whatever their lengths', () => {
    expect(secretsEqual('admin-key-123456', 'admin-key-123456')).toBe(true);
    expect(secretsEqual('admin-key-123456', 'admin-key-12345')).toBe(false);
    expect(secretsEqual('', 'x')).toBe(false);
  });

  it('are optional only on loopback binds', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(host)).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'example.com', '192.168.1.10']) {
      expect(isLoopbackHost(host)).toBe(false);
    }
  });
});
